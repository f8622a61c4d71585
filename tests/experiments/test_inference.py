"""gamlib.experiments.inference: the generation and memory-read benchmarks write readable records."""
import pytest

from gamlib.experiments.inference import (
    LAYOUT_MODES,
    find_benchmark,
    run_generation_benchmark,
    run_memory_read_benchmark,
)
from gamlib.experiments.measure import gam_block_flops, measure_memory_read
from gamlib.records import load_records


def test_generation_record_has_every_model_layout_mode_and_context(tmp_path):
    record = run_generation_benchmark("quick", contexts=(4, 64, 70), repeats=1, warmup=0, step_burst=1,
                                      results_root=tmp_path)
    assert find_benchmark("generation", "quick", results_root=tmp_path) == record
    every = {(r["model"], r["layout"], r["mode"], r["context"]): r for r in record["rows"]}
    assert len(every) == len(record["rows"]) == 3 * sum(len(modes) for modes in LAYOUT_MODES.values()) * 3
    for (model, layout, mode, c), row in every.items():  # the layout changes the time, not what is computed
        same = every[model, "default", mode, c]
        assert (row["state_bytes"], row["window"], row["params"]) == (same["state_bytes"], same["window"],
                                                                     same["params"])
    rows = {(model, mode, c): r for (model, layout, mode, c), r in every.items() if layout == "default"}
    L, K, C = 2, 3, 64  # the quick preset
    assert rows["gam", "step", 4]["state_bytes"] == rows["gam", "step", 64]["state_bytes"] == 4 * L * (K - 1) * C
    assert rows["transformer", "step", 64]["state_bytes"] == 16 * rows["transformer", "step", 4]["state_bytes"]
    assert rows["gam", "step", 70]["window"] == L * (K - 1) + 1 and rows["gam", "step", 70]["state_bytes"] is None
    assert rows["transformer", "step", 70]["window"] == rows["gam", "recompute", 70]["window"] == 64
    assert all(r["median_ms"] > 0 and r["peak_bytes"] > 0 for r in record["rows"])
    assert load_records(tmp_path, kind="benchmark")["benchmark"].tolist() == ["generation"]


def test_memory_read_record_and_flop_count(tmp_path):
    record = run_memory_read_benchmark((64, 128), n_embd=16, num_slots=32, warmup=0, iters=1, preset="quick",
                                       results_root=tmp_path)
    assert [(r["seq_len"], r["read"]) for r in record["rows"]] == [(64, "explicit"), (64, "fused"),
                                                                    (128, "explicit"), (128, "fused")]
    assert [m["seq_len"] for m in record["matmul"]] == [64, 128]
    C, S, K = 16, 32, 3
    by_hand = 3 * 64 * (20 * C * C + 4 * S * C + 2 * K * C)  # forward + twice for backward, 64 tokens
    assert record["rows"][0]["flops"] == gam_block_flops(1, 64, C, S)["total"] == by_hand
    with pytest.raises(ValueError, match="unknown read"):
        measure_memory_read(64, "flash")
