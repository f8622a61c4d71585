"""scripts/gpu_check.py and scripts/study.py where there is no GPU: a clear refusal, and an estimate that is
arithmetic on stated assumptions (these run the scripts as a user would, on a CPU)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gamlib.experiments.cost import GPU_CLASSES

ROOT = Path(__file__).resolve().parents[1]
NO_GPU_ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # hides any GPU from torch


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
    assert only.returncode == 0 and all(f"  {g} (assumed" in only.stdout for g in GPU_CLASSES)


def test_unknown_models_are_named():
    result = script("study", "--preset", "cpu", "--models", "gam:nope", "--estimate-only")
    assert result.returncode == 2 and "--models gam:nope: not in the tables" in result.stderr
