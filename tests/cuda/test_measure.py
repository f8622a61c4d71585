"""gamlib.experiments.measure/scaling on a CUDA GPU: timing, peak memory, out-of-memory handling."""
import math
import statistics

import pytest
import torch

from gamlib.experiments import scaling
from gamlib.experiments.measure import measure_block

pytestmark = pytest.mark.cuda

SMALL = dict(batch_size=2, n_embd=64, n_head=4, warmup=1, iters=3)


@pytest.mark.parametrize("model, variant", [("gam", "full"), ("transformer", "naive"), ("transformer", "sdpa"),
                                            ("mamba", "paper")])
def test_cuda_point_is_timed_and_its_peak_memory_read(cuda, model, variant):
    row = measure_block(model, variant, 128, device="cuda", **SMALL)
    assert row["status"] == "ok" and row["device"] == "cuda" and row["precision"] == "fp16"  # the paper's autocast
    assert row["device_name"] == torch.cuda.get_device_name(0) and row["memory_measure"] == "cuda_max_allocated"
    assert len(row["times_ms"]) == SMALL["iters"] and all(t > 0 for t in row["times_ms"])
    assert row["median_ms"] == statistics.median(row["times_ms"]) and row["peak_mb"] > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_every_precision_measures(cuda, precision):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    row = measure_block("gam", "full", 64, device="cuda", precision=precision, **SMALL)
    assert row["status"] == "ok" and row["precision"] == precision


def test_naive_attention_memory_grows_quadratically_and_gam_linearly(cuda):
    settings = dict(batch_size=4, n_embd=64, n_head=8, warmup=1, iters=2, dropout=0.0)
    peaks = {(m, v): [measure_block(m, v, n, device="cuda", **settings)["peak_mb"] for n in (1024, 2048)]
             for m, v in (("transformer", "naive"), ("gam", "full"))}
    naive, gam = (b / a for a, b in peaks.values())
    assert naive > 2.6, peaks  # the T x T scores dominate: close to 4x for 2x the length
    assert gam < 2.3, peaks    # linear: close to 2x


def test_timing_waits_for_the_gpu(cuda):
    """The paper's settings: 8x the length through naive attention is about 8x the linear work and 64x the
    T x T work; a timer that did not wait for the GPU would see launch times of about the same size."""
    settings = dict(batch_size=16, n_embd=512, n_head=8, warmup=2, iters=5)
    short = measure_block("transformer", "naive", 256, device="cuda", **settings)["median_ms"]
    long = measure_block("transformer", "naive", 2048, device="cuda", **settings)["median_ms"]
    assert long > 3 * short, (short, long)


def oom_length(batch: int, heads: int) -> int:
    """A length whose fp16 T x T attention scores alone need twice the GPU's memory."""
    total = torch.cuda.get_device_properties(0).total_memory
    return 1024 * math.ceil(math.sqrt(2 * total / (batch * heads * 2)) / 1024)


def test_out_of_memory_is_a_status_and_frees_the_memory(cuda):
    length = oom_length(16, 8)
    before = torch.cuda.memory_allocated(cuda)
    row = measure_block("transformer", "naive", length, device="cuda", batch_size=16, n_embd=64, n_head=8,
                        warmup=0, iters=1)
    assert row["status"] == "oom" and str(length) in row["reason"] and row["median_ms"] is None
    assert torch.cuda.memory_allocated(cuda) <= before + 2**20  # nothing of the failed point is held
    assert measure_block("gam", "full", 64, device="cuda", **SMALL)["status"] == "ok"  # and the GPU still works


def test_cuda_sweep_stops_a_series_at_its_first_oom(cuda, tmp_path):
    length = oom_length(16, 8)
    settings = dict(batch_size=16, n_embd=64, n_head=8, warmup=0, iters=1, precision="fp16",
                    seq_lens=(128, 256, length, 2 * length))
    series = [dict(model="transformer", variant="naive"), dict(model="gam", variant="full", max_seq_len=256)]
    record = scaling.run_scaling("colab", "cuda", tmp_path, settings=settings, series=series)
    assert (tmp_path / "colab" / "scaling" / "table2-cuda.json").exists() and record["device"] == "cuda"
    statuses = [(r["series"], r["seq_len"], r["status"]) for r in record["rows"]]
    assert statuses == [("transformer naive", 128, "ok"), ("transformer naive", 256, "ok"),
                        ("transformer naive", length, "oom"), ("transformer naive", 2 * length, "skipped"),
                        ("gam full", 128, "ok"), ("gam full", 256, "ok")]


def test_the_cuda_sweep_goes_beyond_the_papers_8192_with_naive_and_fused_attention():
    lengths = scaling.SCALING_SETTINGS["cuda"]["seq_lens"]
    assert max(lengths) > 8192 and lengths == tuple(sorted(lengths))
    variants = {(s["model"], s["variant"]) for s in scaling.SCALING_SERIES["cuda"]}
    assert {("transformer", "naive"), ("transformer", "sdpa"), ("gam", "full"), ("mamba", "paper")} <= variants
