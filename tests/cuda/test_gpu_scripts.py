"""scripts/gpu_check.py and scripts/study.py where there is no GPU: a clear refusal, and an
estimate that is arithmetic on stated assumptions (these tests run on a CPU; they are not marked cuda)."""
from __future__ import annotations

import importlib.util
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gamlib import get_preset

ROOT = Path(__file__).resolve().parents[2]
NO_GPU_ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # hides any GPU from torch


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


estimate = load("study")


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / f"{name}.py"), *args], cwd=ROOT, env=NO_GPU_ENV,
                          capture_output=True, text=True, timeout=600)


def test_gpu_check_without_a_gpu_says_so_and_exits_non_zero():
    result = script("gpu_check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no CUDA GPU is visible" in result.stderr and "nothing was run" in result.stderr
    assert "training at the paper configuration" not in result.stdout


def test_a_gpu_study_without_a_gpu_prints_the_estimate_and_starts_nothing():
    result = script("study", "--preset", "paper", "--gpu", "A100", "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith("TIME ESTIMATE (not a measurement): preset 'paper', seeds (0, 1, 2)")
    assert "assumed 13.0 TFLOP/s fp32" in result.stdout and "peaks 19.5 TFLOP/s fp32" in result.stdout
    assert "no CUDA GPU is visible, so nothing was started" in result.stderr
    only = script("study", "--estimate-only", "--preset", "colab")
    assert only.returncode == 0 and all(f"  {g} (assumed" in only.stdout for g in estimate.GPU_CLASSES)


def test_token_counts_are_the_measured_ones():
    paper = get_preset("paper")
    assert (estimate.chunks(paper, "wikitext2", "train"), estimate.chunks(paper, "wikitext2", "val")) == (9_800, 1_041)
    assert estimate.chunks(get_preset("colab"), "tinystories", "train") == 10_000  # the colab preset's cap


def test_a_run_is_six_n_per_token_plus_the_stated_terms():
    paper = get_preset("paper")
    run = estimate.estimate_run(paper, "gam", "full", "wikitext2")
    L, C, S = paper.model["n_layer"], paper.model["n_embd"], paper.model["num_memory_slots"]
    forward = 2 * run.params + 2 * L * S * C
    train, val = 9_800 * 256 * 5, 1_041 * 256 * 6
    assert run.params == 22_599_680 and run.train_tokens == train and run.steps == math.ceil(9_800 / 32) * 5
    assert run.flops == pytest.approx(3 * forward * train + forward * val)
    assert run.bytes == pytest.approx(2 * estimate.TRAIN_BYTES[("paper", "gam", "full")] * (train + val / 3))
    gpu = estimate.GPU_CLASSES["A100"]
    assert estimate.run_seconds(run, gpu, "fp32") == pytest.approx(
        run.flops / gpu.fp32 + run.bytes / gpu.bandwidth + run.steps * gpu.step_overhead_s)
    naive = estimate.estimate_run(paper, "transformer", "naive", "wikitext2")
    T = paper.model["block_size"]
    assert estimate.forward_flops_per_token("transformer", "naive", paper.model, naive.params) == 2 * naive.params + 4 * L * T * C


def test_table3_reuses_table1s_full_runs():
    runs = estimate.training_runs("paper", (0, 1, 2), ("table1", "table3"))
    assert len(runs) == 5 * 2 * 3 + 3 * 3 and len(set(runs)) == len(runs)


def test_the_colab_preset_fits_a_free_t4_session_by_this_estimate():
    """README states notebook 07 (Table 1, 30 runs) at about 1.1 h on a T4 by this method."""
    totals = estimate.print_estimate("colab", (0, 1, 2), ("table1",), ["T4"], "mambapy", out=io.StringIO())
    assert 0.8 * 3600 < totals["T4"] < 1.5 * 3600


def test_byte_counts_are_reproducible():
    """The tables were counted with torch 2.13 on a CPU; other builds allocate a little differently."""
    counted = estimate.count_train_bytes("colab", "gam", "local_only")
    assert counted[0] == pytest.approx(estimate.TRAIN_BYTES[("colab", "gam", "local_only")], rel=0.25)
    assert counted[1] == pytest.approx(estimate.PEAK_BYTES[("colab", "gam", "local_only")], rel=0.25)


@pytest.mark.parametrize("name, expected", [("Tesla T4", "T4"), ("NVIDIA L4", "L4"), ("NVIDIA A100-SXM4-80GB", "A100"),
                                            ("NVIDIA H100 80GB HBM3", "H100"), ("NVIDIA H200", "H100"),
                                            ("NVIDIA GeForce RTX 4090", None)])
def test_gpu_classes_are_recognised_by_name(monkeypatch, name, expected):
    monkeypatch.setattr(estimate.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(estimate.torch.cuda, "get_device_name", lambda index=0: name)
    assert estimate.detect_gpu_class() == expected


def test_an_lr_sweep_trains_the_first_seed_of_each_table1_model_at_each_rate():
    runs = estimate.lr_sweep_runs("cpu", (1e-3, 4e-3), seed=0)
    assert len(runs) == 4 * 3 and {r[4] for r in runs} == {1e-3, None, 4e-3}  # None: the preset's own lr
    assert [r[0] for r in runs][-6:] == ["mamba"] * 6 and {r[2:4] for r in runs} == {("wikitext2", 0)}
    assert estimate.lr_sweep_runs("cpu", (2e-3,), 0, models=[("gam", "full")]) == [("gam", "full", "wikitext2", 0, None)]
