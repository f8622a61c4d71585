"""The official Mamba kernels on this GPU: built from their source releases against the installed torch, checked
against mambapy, and timed, as one record. The GPU session's job 7 (gamlib.experiments.gpu_session).

    run_kernels_job(preset, sources=None)   build causal-conv1d, then mamba-ssm, from their source releases
                                            (pip install --no-build-isolation --no-deps of the unpacked release,
                                            against the installed torch), each build timed; then the
                                            mamba_ssm-vs-mambapy parity tests (tests/cuda) and Mamba's training
                                            tokens/s on both backends beside GAM's

Only this GPU's architecture is compiled: TORCH_CUDA_ARCH_LIST is set, but both projects' setup.py append a fixed
list of nine `-gencode` flags (on CUDA 13) that overrides it, so the unpacked setup.py is rewritten to this GPU's
one pair (one_architecture); the projects' FORCE_BUILD switches make setup.py compile instead of fetching a
prebuilt wheel.

`sources`: a folder holding the two source releases (the offline bundle's, gamlib.experiments.offline_bundle)
for a machine without internet; None fetches them from the package index. The record is
results/<preset>/benchmarks/mamba-kernels-cuda.json; it counts as finished only when both builds and the
parity tests passed. Nothing here runs without CUDA.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
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
DOWNLOAD_ENV = {"MAMBA_SKIP_CUDA_BUILD": "TRUE", "CAUSAL_CONV1D_SKIP_CUDA_BUILD": "TRUE"}
GENCODE = re.compile(r'^(?P<indent>[ \t]*)cc_flag\.append\("-gencode"\)\n'
                     r'[ \t]*cc_flag\.append\("arch=compute_\d+,code=sm_\d+"\)\n', re.MULTILINE)
TIMED = (("mamba", "paper"), ("mamba", "standard"))


def build_environment(capability: tuple[int, int], environ=os.environ) -> dict:
    """The build's environment: this GPU's architecture, a source build forced, every core used."""
    return {**environ, "TORCH_CUDA_ARCH_LIST": f"{capability[0]}.{capability[1]}", "MAX_JOBS": str(os.cpu_count()),
            **{switch: "TRUE" for switch in FORCE_BUILD.values()}}


def download_command(dest) -> list[str]:
    """pip fetching the two source releases into `dest` (run with DOWNLOAD_ENV: metadata only, nothing compiled)."""
    return [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--no-build-isolation",
            "-d", str(dest), *(f"{package}=={version}" for package, version in KERNEL_PACKAGES.items())]


def release_file(package: str) -> str:
    """The file name of a package's source release: causal_conv1d-1.7.0.tar.gz."""
    return f"{package.replace('-', '_')}-{KERNEL_PACKAGES[package]}.tar.gz"


def one_architecture(setup_py: str, capability: tuple[int, int]) -> str:
    """setup.py compiling for this GPU's architecture only. Both projects' setup.py append a fixed list of
    `-gencode arch=compute_XX,code=sm_XX` flags (nine on CUDA 13), which overrides TORCH_CUDA_ARCH_LIST; the first
    pair becomes this GPU's and the others `pass`."""
    pairs = list(GENCODE.finditer(setup_py))
    if not pairs:
        raise ValueError("setup.py has no `cc_flag.append(\"-gencode\")` pairs: its layout changed; build this "
                         "release by hand, or pin KERNEL_PACKAGES to a release whose setup.py has them")
    arch = f"{capability[0]}{capability[1]}"
    for index, pair in reversed(list(enumerate(pairs))):
        indent = pair.group("indent")
        line = (f'{indent}cc_flag.append("-gencode")\n{indent}cc_flag.append("arch=compute_{arch},code=sm_{arch}")\n'
                if index == 0 else f"{indent}pass\n")
        setup_py = setup_py[:pair.start()] + line + setup_py[pair.end():]
    return setup_py


def unpack_for_this_gpu(archive: Path, capability: tuple[int, int], workdir: Path) -> Path:
    """The source release unpacked into `workdir`, its setup.py set to this GPU's architecture; its folder."""
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    folder = workdir / archive.name.removesuffix(".tar.gz")
    setup_py = folder / "setup.py"
    setup_py.write_text(one_architecture(setup_py.read_text(), capability))
    return folder


def build_kernels(capability: tuple[int, int], sources=None, run=subprocess.run, timeout: int = 3600,
                  workdir=None) -> list[dict]:
    """Build each package (KERNEL_PACKAGES order) from its source release (in `sources`, else downloaded), for this
    GPU's architecture, each timed; stops at the first failure. One row per package tried."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="mamba-kernels-"))
    if sources is None:
        run(download_command(workdir), env={**os.environ, **DOWNLOAD_ENV}, capture_output=True, text=True,
            timeout=timeout)
    rows = []
    for package in KERNEL_PACKAGES:
        archive, started, tail = Path(sources or workdir) / release_file(package), time.perf_counter(), []
        try:
            folder = unpack_for_this_gpu(archive, capability, workdir)
            result = run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                          "--no-cache-dir", str(folder)], env=build_environment(capability), capture_output=True,
                         text=True, timeout=timeout)
            status = "ok" if result.returncode == 0 else f"pip exit {result.returncode}"
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        except (OSError, tarfile.TarError, ValueError) as error:  # no release there, or a setup.py we cannot adapt
            status = f"{type(error).__name__}: {error}"
        except subprocess.TimeoutExpired:
            status = f"not built in {timeout} s"
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
        fields = settings.model_fields()
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
