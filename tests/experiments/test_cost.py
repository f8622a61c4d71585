"""gamlib.experiments.cost and the study's printed estimate: arithmetic on stated assumptions, checked term by term."""
from __future__ import annotations

import math

import pytest

from gamlib.experiments import cost
from gamlib.experiments.study import first_table, gpu_estimate_lines
from gamlib.plan import Run, planned_runs
from gamlib.presets import get_preset


def test_token_counts_are_the_measured_ones():
    paper = get_preset("paper")
    assert (cost.chunks(paper, "wikitext2", "train"), cost.chunks(paper, "wikitext2", "val")) == (9_800, 1_041)
    assert cost.chunks(get_preset("colab"), "tinystories", "train") == 10_000  # the colab preset's cap


def test_a_run_is_six_n_per_token_plus_the_stated_terms():
    paper = get_preset("paper")
    run = cost.estimate_run(paper, "gam", "full", "wikitext2")
    L, C, S = paper.model.n_layer, paper.model.n_embd, paper.model.gam.num_memory_slots
    forward = 2 * run.params + 2 * L * S * C
    train, val = 9_800 * 256 * 5, 1_041 * 256 * 6
    assert run.params == 22_599_680 and run.train_tokens == train and run.steps == math.ceil(9_800 / 32) * 5
    assert run.flops == pytest.approx(3 * forward * train + forward * val)
    assert run.bytes == pytest.approx(2 * cost.TRAIN_BYTES[("paper", "gam", "full")] * (train + val / 3))
    gpu = cost.GPU_CLASSES["A100"]
    assert cost.run_seconds(run, gpu, "fp32") == pytest.approx(
        run.flops / gpu.fp32 + run.bytes / gpu.bandwidth + run.steps * gpu.step_overhead_s)
    naive = cost.estimate_run(paper, "transformer", "naive", "wikitext2")
    T = paper.model.block_size
    fields = paper.model_fields()
    forward = cost.forward_flops_per_token("transformer", "naive", fields, naive.params)
    assert forward == 2 * naive.params + 4 * L * T * C


def test_block_parameters_are_counted_without_allocating():
    C = 512
    assert cost.block_params("transformer", "naive", 65_536, C, 8) == 12 * C * C + 13 * C  # a T x T mask never built
    assert cost.block_params("gam", "full", 256, C, 8) > 10 * C * C + C * C  # + the 512-slot bank


def test_table3_reuses_table1s_full_runs():
    paper = get_preset("paper")
    runs = planned_runs(paper, ("table1", "table3"))
    assert len(runs) == 5 * 2 * 3 + 3 * 3 and len(set(runs)) == len(runs)
    assert first_table(paper, Run("gam", "full", "wikitext2", 0), ("table1", "table3")) == "table1"
    assert first_table(paper, Run("gam", "full", "wikitext2", 0), ("table3",)) == "table3"


def test_the_colab_preset_fits_a_free_t4_session_by_this_estimate():
    """README states notebook 07 (Table 1, 30 runs) at about 1.1 h on a T4 by this method."""
    colab = get_preset("colab")
    _, totals = gpu_estimate_lines(colab, planned_runs(colab, ("table1",)), ("table1",), ["T4"], "mambapy")
    assert 0.8 * 3600 < totals["T4"] < 1.5 * 3600


def test_byte_counts_are_reproducible():
    """The tables were counted with torch 2.13 on a CPU; other builds allocate a little differently."""
    counted = cost.count_train_bytes("colab", "gam", "local_only")
    assert counted[0] == pytest.approx(cost.TRAIN_BYTES[("colab", "gam", "local_only")], rel=0.25)
    assert counted[1] == pytest.approx(cost.PEAK_BYTES[("colab", "gam", "local_only")], rel=0.25)


@pytest.mark.parametrize("name, expected", [("Tesla T4", "T4"), ("NVIDIA L4", "L4"), ("NVIDIA A100-SXM4-80GB", "A100"),
                                            ("NVIDIA H100 80GB HBM3", "H100"), ("NVIDIA H200", "H100"),
                                            ("NVIDIA GeForce RTX 4090", None)])
def test_gpu_classes_are_recognised_by_name(monkeypatch, name, expected):
    monkeypatch.setattr(cost.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(cost.torch.cuda, "get_device_name", lambda index=0: name)
    assert cost.detect_gpu_class() == expected
