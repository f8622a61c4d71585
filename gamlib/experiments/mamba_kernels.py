"""The official Mamba kernels on this GPU: built from their source releases against the installed torch, checked
against mambapy, and timed, as one record. The GPU session's job 7 (gamlib.experiments.gpu_session).

    run_kernels_job(preset, sources=None)   build causal-conv1d, then mamba-ssm (pip --no-build-isolation
                                            --no-binary :all:, only this GPU's architecture through
                                            TORCH_CUDA_ARCH_LIST, the projects' FORCE_BUILD switches so their
                                            setup.py compiles instead of fetching a prebuilt wheel), each build
                                            timed; then the mamba_ssm-vs-mambapy parity tests (tests/cuda) and
                                            Mamba's training tokens/s on both backends beside GAM's

`sources`: a folder holding the two source releases (the offline bundle's, gamlib.experiments.offline_bundle)
for a machine without internet; None fetches them from the package index. The record is
results/<preset>/benchmarks/mamba-kernels-cuda.json; it counts as finished only when both builds and the
parity tests passed. Nothing here runs without CUDA.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from ..models.mamba import mamba_ssm_available
from ..presets import get_preset
from ..records import find_or_measure
from ..runtime import device_name
from .gpu_check import run_tests
from .inference import benchmark_path
from .throughput import measure_training_steps

# The source releases built, in this order (mamba-ssm's build uses causal-conv1d); pinned so that the offline
# bundle carries the same ones.
KERNEL_PACKAGES = {"causal-conv1d": "1.7.0", "mamba-ssm": "2.3.2.post1"}
FORCE_BUILD = {"causal-conv1d": "CAUSAL_CONV1D_FORCE_BUILD", "mamba-ssm": "MAMBA_FORCE_BUILD"}
PARITY_TESTS = "tests/cuda/test_mamba_parity.py"
TIMED = (("mamba", "paper"), ("mamba", "standard"))


def build_environment(capability: tuple[int, int], environ=os.environ) -> dict:
    """The build's environment: this GPU's architecture only, a source build forced, every core used."""
    return {**environ, "TORCH_CUDA_ARCH_LIST": f"{capability[0]}.{capability[1]}", "MAX_JOBS": str(os.cpu_count()),
            **{switch: "TRUE" for switch in FORCE_BUILD.values()}}


def build_command(package: str, sources=None) -> list[str]:
    """pip building one package from its source release against the installed torch."""
    where = ["--no-index", "--find-links", str(sources)] if sources else []
    return [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-binary", ":all:",
            "--no-cache-dir", *where, f"{package}=={KERNEL_PACKAGES[package]}"]


def build_kernels(capability: tuple[int, int], sources=None, run=subprocess.run, timeout: int = 3600) -> list[dict]:
    """Build each package (KERNEL_PACKAGES order), timed; stops at the first failure. One row per package tried."""
    rows = []
    for package in KERNEL_PACKAGES:
        started = time.perf_counter()
        try:
            result = run(build_command(package, sources), env=build_environment(capability), capture_output=True,
                         text=True, timeout=timeout)
            status = "ok" if result.returncode == 0 else f"pip exit {result.returncode}"
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        except subprocess.TimeoutExpired:
            status, tail = f"not built in {timeout} s", []
        rows.append(dict(package=package, version=KERNEL_PACKAGES[package], status=status,
                         build_s=time.perf_counter() - started, output_tail=tail))
        if status != "ok":
            break
    return rows


def kernels_record(preset, sources, steps: int, test_timeout: int) -> dict:
    """Build (unless the kernels already import), check, time: the record's content."""
    settings = get_preset(preset)
    capability = torch.cuda.get_device_capability(0)
    if mamba_ssm_available():
        builds = [dict(package=p, version=v, status="already installed", build_s=0.0) for p, v in
                  KERNEL_PACKAGES.items()]
    else:
        builds = build_kernels(capability, sources)
        importlib.invalidate_caches()  # the new install is importable by this process
    built = all(b["status"] in ("ok", "already installed") for b in builds) and mamba_ssm_available()
    parity, summary = run_tests(test_timeout, PARITY_TESTS) if built else (False, ["not run: no working build"])
    rows = []
    if built:
        fields = {**settings.model, "vocab_size": settings.vocab_size}
        models = [("gam", "full")] + [(*m, {"backend": b}) for m in TIMED for b in ("mamba_ssm", "mambapy")]
        rows = measure_training_steps(models, fields, settings.train.batch_size, steps=steps, device="cuda")
    return {"kind": "benchmark", "benchmark": "mamba-kernels", "preset": settings.name,
            "arch": f"{capability[0]}.{capability[1]}", "builds": builds, "built": built, "parity_passed": parity,
            "parity_tests": summary, "rows": rows}


def run_kernels_job(preset: str = "paper", sources=None, steps: int = 10, test_timeout: int = 900,
                    results_root=None, force: bool = False, lookup_only: bool = False) -> dict | None:
    """The kernels job as a record; reused only when its builds and parity tests passed. Needs CUDA, except
    lookup_only=True (the finished record or None)."""
    settings = get_preset(preset)
    spec = {"benchmark": "mamba-kernels", "preset": settings.name, "packages": KERNEL_PACKAGES, "steps": steps,
            "torch": torch.__version__, "device": "cuda"}

    def measure() -> tuple[dict, str]:
        if not torch.cuda.is_available():
            raise RuntimeError("the Mamba kernels job needs a CUDA GPU; nothing was built")
        return kernels_record(settings, Path(sources) if sources else None, steps, test_timeout), \
            device_name(torch.device("cuda"))

    return find_or_measure(benchmark_path("mamba-kernels", settings.name, "cuda", results_root), spec, measure,
                           force=force, reusable=lambda record: record.get("built") and record.get("parity_passed"),
                           lookup_only=lookup_only)
