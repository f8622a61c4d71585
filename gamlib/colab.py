"""Google Colab: the set-up cell every notebook starts with, and what that cell calls once gamlib is installed.

Floor 1 of the package: the standard library only at import time (torch is imported inside the one
function that needs it), because the set-up cell imports this module right after `pip install`.

    SETUP_MARKER, setup_cell(repo, branch)   the set-up cell's source: ONE text for every notebook;
                                             scripts/publish.py writes it (and the repository URL) into them
    parse_setup_cell(source)                 -> (repo, branch) as a set-up cell names them
    setup(results, mamba_kernels)            on Colab, after the install: a persistent results folder
                                             (Google Drive) when asked, the official Mamba kernels when asked
    results_folder(results)                  where run records and figures go for a `results` choice
    release_wheel_urls(...)                  the Mamba projects' prebuilt wheels for this torch/CUDA/Python
    install_mamba_kernels(choice)            prebuilt wheels only (pip --only-binary=:all:), never a source build

In JupyterLab (no `google.colab` module loaded) the set-up cell does nothing: the project is
installed there once (`make lab` or `pip install -e .`).
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# The set-up cell (one source). Its first line marks it; tests/test_colab.py checks that every
# notebook's set-up cell equals setup_cell(...) with the URL it names, so the copies cannot drift.
# `python scripts/publish.py --repo https://github.com/OWNER/REPO` writes REPO and BRANCH;
# `python scripts/publish.py --sync` rewrites the cells after a change here, keeping their URL.
# ---------------------------------------------------------------------------------------------
SETUP_MARKER = "# Set-up: on Google Colab, install this project; anywhere, check that gamlib is installed."

SETUP_TEMPLATE = '''{marker}
# The same cell, collapsed, starts every notebook (source: gamlib/colab.py). On Colab it clones and installs
# the project, then applies colab_results and colab_mamba_kernels; anywhere it checks that gamlib is installed.
REPO = {repo}  # written by `python scripts/publish.py --repo <GitHub URL>`
BRANCH = {branch}
import importlib.util
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    if not REPO:
        raise RuntimeError(
            "This copy of the notebooks does not name its repository yet. In a clone of the project run "
            "`python scripts/publish.py --repo https://github.com/OWNER/REPO`, push, and open the notebook "
            "from there (its 'Open in Colab' badge); or set REPO above to the git URL of a copy of the project.")
    checkout = os.environ.get("GAMLIB_CHECKOUT", "/content/" + REPO.rstrip("/").split("/")[-1].removesuffix(".git"))
    if not os.path.exists(os.path.join(checkout, "pyproject.toml")):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", BRANCH, REPO, checkout], check=True)
    if importlib.util.find_spec("gamlib") is None:  # a fresh runtime: install the project and its dependencies
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", checkout], check=True)
        sys.path.insert(0, checkout)  # this running kernel does not read the new install's .pth file
        importlib.invalidate_caches()
    from gamlib.colab import setup

    setup(results=colab_results, mamba_kernels=colab_mamba_kernels)
elif importlib.util.find_spec("gamlib") is None:
    raise ModuleNotFoundError("gamlib is not installed: run `pip install -e .` in the repository root")'''  \
    # noqa: E501 (the cell's text, in every notebook)

UNPUBLISHED = None  # REPO before scripts/publish.py has run
DEFAULT_BRANCH = "main"
SETUP_PARAMETERS = ("colab_results", "colab_mamba_kernels")  # every parameters cell defines them, as these lines:
SETUP_PARAMETER_LINES = (
    'colab_results: "Optional[str]" = None  # Colab only: None (runtime disk, lost at its end) | "drive" | a folder',
    "colab_mamba_kernels: bool = False  # Colab only: True tries the official Mamba kernels' wheels; else mambapy",
)


def setup_cell(repo: str | None = UNPUBLISHED, branch: str = DEFAULT_BRANCH) -> str:
    """The set-up cell's source, naming `repo` (a git URL; None = not published yet) and `branch`."""
    return SETUP_TEMPLATE.format(marker=SETUP_MARKER, repo=repr(repo), branch=repr(branch))


_REPO_LINE = re.compile(r"^REPO = (None|'[^'\n]*'|\"[^\"\n]*\")(?:  #.*)?$", re.MULTILINE)
_BRANCH_LINE = re.compile(r"^BRANCH = ('[^'\n]*'|\"[^\"\n]*\")$", re.MULTILINE)


def parse_setup_cell(source: str) -> tuple[str | None, str]:
    """(repo, branch) as written in a set-up cell; ValueError if `source` is not one."""
    if not source.startswith(SETUP_MARKER):
        raise ValueError(f"not a set-up cell: it does not start with {SETUP_MARKER!r}")
    repo, branch = _REPO_LINE.search(source), _BRANCH_LINE.search(source)
    if repo is None or branch is None:
        raise ValueError("the set-up cell lacks its `REPO = ...` or `BRANCH = ...` line")
    literal = repo.group(1)
    return (None if literal == "None" else literal[1:-1]), branch.group(1)[1:-1]


# ---------------------------------------------------------------------------------------------
# What the cell calls on Colab, once gamlib is importable.
# ---------------------------------------------------------------------------------------------
CONTENT = Path("/content")
DRIVE_MOUNT = CONTENT / "drive"
DRIVE_FOLDER = DRIVE_MOUNT / "MyDrive" / "gam-notebooks"   # results="drive" keeps records and figures here


def on_colab() -> bool:
    """True inside a Colab runtime (its kernel has loaded the google.colab module)."""
    return "google.colab" in sys.modules


def results_folder(results) -> Path | None:
    """The folder that will hold results/ and figures/ for a `results` choice (None: keep the default).

    "drive": DRIVE_FOLDER on Google Drive (mounted first); a path: that folder (on Drive when it lies
    under DRIVE_MOUNT). Anything else is a ValueError that says what is accepted.
    """
    if results is None:
        return None
    if results == "drive":
        return DRIVE_FOLDER
    if isinstance(results, (str, os.PathLike)) and str(results).strip():
        return Path(results).expanduser()
    raise ValueError(f"colab_results must be None, 'drive' or a folder path, got {results!r}")


def mount_drive(drive=None) -> None:
    """Mount Google Drive at DRIVE_MOUNT (Colab asks the user to allow it); a no-op if mounted."""
    if (DRIVE_MOUNT / "MyDrive").is_dir():
        return
    if drive is None:
        from google.colab import drive  # only inside Colab
    drive.mount(str(DRIVE_MOUNT))


def use_results_folder(results, drive=None, environ=os.environ) -> Path | None:
    """Point GAMLIB_RESULTS_DIR and GAMLIB_FIGURES_DIR into the chosen folder; return it (None: unchanged)."""
    folder = results_folder(results)
    if folder is None:
        return None
    if folder == DRIVE_MOUNT or DRIVE_MOUNT in folder.parents:
        mount_drive(drive)
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    environ["GAMLIB_RESULTS_DIR"] = str(folder / "results")
    environ["GAMLIB_FIGURES_DIR"] = str(folder / "figures")
    return folder


def setup(results=None, mamba_kernels=False, *, drive=None, run=subprocess.run, environ=os.environ) -> dict:
    """Finish a Colab set-up: results folder, optional Mamba kernels, widgets; print one short report.

    results: None (records under the checkout on the runtime's disk: they vanish with the runtime),
    "drive" (Google Drive, DRIVE_FOLDER) or a folder path. mamba_kernels: False (the pure-PyTorch
    mambapy backend), True (try the official kernels' prebuilt wheels) or a list of wheel URLs/paths.
    Returns what was done, for tests: {"results": folder or None, "mamba": status or None}.
    """
    done = {"results": use_results_folder(results, drive, environ), "mamba": None}
    if done["results"] is not None:
        print(f"Colab: run records -> {environ['GAMLIB_RESULTS_DIR']}, figures -> {environ['GAMLIB_FIGURES_DIR']} "
              "(kept after the runtime ends; finished runs are reused, interrupted ones resume)")
    elif environ.get("GAMLIB_RESULTS_DIR"):
        print(f"Colab: run records -> {environ['GAMLIB_RESULTS_DIR']} (GAMLIB_RESULTS_DIR)")
    else:
        print("Colab: run records go to the runtime's disk and vanish when it ends; to keep them, set "
              "colab_results = \"drive\" in the parameters cell (Google Drive) and run this cell again.")
    if mamba_kernels:
        done["mamba"] = install_mamba_kernels(mamba_kernels, run=run)
        print(f"Colab: official Mamba kernels: {done['mamba']}")
    print(f"Colab: {describe_device()}")
    enable_widgets()
    return done


def describe_device() -> str:
    """Which device the notebooks will use, and what preset 'auto' means on it."""
    import torch  # already imported by gamlib when this runs

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}: preset 'auto' runs 'colab'"
    return ("no GPU in this runtime: preset 'auto' runs 'quick' (for a GPU: Runtime > Change runtime type > "
            "T4 GPU, then run the notebook again)")


def enable_widgets() -> None:
    """Colab renders ipywidgets 7 itself; for ipywidgets 8 it needs its custom widget manager turned on."""
    try:
        from importlib.metadata import version

        if int(version("ipywidgets").split(".")[0]) >= 8 and on_colab():
            from google.colab import output

            output.enable_custom_widget_manager()
    except Exception:  # no ipywidgets, or an older Colab: the widgets then show as text, nothing breaks
        pass


# ---------------------------------------------------------------------------------------------
# The official Mamba kernels: opt-in, prebuilt wheels only.
# mamba-ssm and causal-conv1d publish no wheels on PyPI, only source archives whose build compiles
# CUDA code (often for an hour, often failing on Colab). Their setup.py instead downloads a
# prebuilt wheel from the project's GitHub release when one matches torch, CUDA, Python and the C++
# ABI; release_wheel_urls names those files the same way, for the versions below, and pip installs
# them with --only-binary=:all: so that nothing, dependencies included, is ever built from source.
# ---------------------------------------------------------------------------------------------
# package: (version, release URL); wheels built for torch 2.6-2.10, CUDA 11.8/12/13, Python 3.10-3.13
MAMBA_RELEASES = {
    "mamba_ssm": ("2.3.2.post1", "https://github.com/state-spaces/mamba/releases/download/v{version}/{wheel}"),
    "causal_conv1d": ("1.6.1.post4", "https://github.com/Dao-AILab/causal-conv1d/releases/download/v{version}/{wheel}"),
}
ONLY_WHEELS = ("--only-binary=:all:",)
VERIFY_KERNELS = "import selective_scan_cuda, mamba_ssm; from mamba_ssm import Mamba"


def release_wheel_name(package: str, version: str, torch_version: str, cuda_version: str, python: str,
                       cxx11_abi: bool, machine: str = "x86_64") -> str:
    """The file name the project's setup.py looks for, e.g.
    mamba_ssm-2.3.2.post1+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl (CUDA: major version only)."""
    torch_mm = ".".join(torch_version.split("+")[0].split(".")[:2])
    cuda_major = cuda_version.split(".")[0]
    tag = f"cp{python.replace('.', '')}"
    return (f"{package}-{version}+cu{cuda_major}torch{torch_mm}cxx11abi{str(bool(cxx11_abi)).upper()}"
            f"-{tag}-{tag}-linux_{machine}.whl")


def release_wheel_urls(torch_version: str, cuda_version: str | None, python: str, cxx11_abi: bool,
                       machine: str = "x86_64") -> list[str]:
    """URLs of the prebuilt mamba-ssm and causal-conv1d wheels for this environment ([] without CUDA)."""
    if not cuda_version:
        return []
    return [url.format(version=version, wheel=release_wheel_name(package, version, torch_version, cuda_version,
                                                                 python, cxx11_abi, machine))
            for package, (version, url) in MAMBA_RELEASES.items()]


def this_environment() -> dict:
    """torch version, its CUDA version, Python 'X.Y', C++ ABI and machine: what the wheel names depend on."""
    import torch  # already imported by gamlib when this runs

    return dict(torch_version=torch.__version__, cuda_version=torch.version.cuda,
                python=f"{sys.version_info.major}.{sys.version_info.minor}",
                cxx11_abi=bool(torch._C._GLIBCXX_USE_CXX11_ABI), machine=platform.machine())


def _pip(run, *args) -> bool:
    return run([sys.executable, "-m", "pip", "install", "--quiet", *ONLY_WHEELS, *args]).returncode == 0


def install_mamba_kernels(choice=True, run=subprocess.run, environment: dict | None = None) -> str:
    """Install the official Mamba CUDA kernels from prebuilt wheels only; return a one-line status.

    choice True: first whatever wheels the configured package indexes offer (none on PyPI today,
    so this fails in seconds), then the projects' GitHub release wheels for this environment.
    choice a list of wheel URLs or paths: exactly those. Every pip call has --only-binary=:all:.
    The result is checked in a fresh Python (the CUDA extension must import); if it does not import,
    the packages are uninstalled again, so that gamlib keeps to the pure-PyTorch mambapy backend.
    """
    environment = environment or this_environment()
    if not environment.get("cuda_version"):
        return ("not installed: this PyTorch has no CUDA (Runtime > Change runtime type > a GPU); "
                "using the pure-PyTorch recurrent scan")
    if choice is True:
        attempts = [("mamba-ssm", "causal-conv1d"), tuple(release_wheel_urls(**environment))]
    elif isinstance(choice, (list, tuple)) and choice and all(isinstance(c, (str, os.PathLike)) for c in choice):
        attempts = [tuple(str(c) for c in choice)]
    else:
        raise ValueError(f"colab_mamba_kernels must be False, True or a list of wheel URLs/paths, got {choice!r}")
    for wheels in attempts:
        if wheels and _pip(run, *wheels):
            check = run([sys.executable, "-c", VERIFY_KERNELS])
            if check.returncode == 0:
                return f"installed from {', '.join(wheels)}; the Mamba baseline uses backend 'mamba_ssm'"
            run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "mamba-ssm", "causal-conv1d"])
            return ("installed but the CUDA extension does not import (a wheel for another torch/CUDA?); "
                    "uninstalled again: using mambapy")
    names = ", ".join(release_wheel_urls(**environment)) or "(none for this environment)"
    return (f"no prebuilt wheel fits torch {environment['torch_version']}, CUDA {environment['cuda_version']}, "
            f"Python {environment['python']}: using mambapy (same model, pure PyTorch, slower). "
            f"Looked for: {names}. Wheels for other versions: give their URLs as colab_mamba_kernels = [...]")
