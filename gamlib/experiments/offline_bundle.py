"""An offline bundle for a GPU machine without internet (an air-gapped node, a locked-down lab GPU): one folder,
packed here, that travels with the checkout and lets the GPU session (gamlib.experiments.gpu_session) run there.

    python -m gamlib.experiments.offline_bundle --python-version 3.12 --platform manylinux_2_28_x86_64
    make offline-bundle PYTHON_VERSION=3.12 PLATFORM=manylinux_2_28_x86_64

It fills offline/ of the checkout (git-ignored; --out elsewhere) with
    wheels/  the wheels the target lacks, for its Python version and platform (pip download --only-binary=:all:
             --no-deps, at the versions installed here): the distributions that the session imports (gamlib and
             its jobs) and the jobs' tools (mambapy, pytest for the CUDA tests, with all they require), reached from
             gamlib's declared dependencies through declared requirements, minus a plain CUDA PyTorch image (torch
             and what torch requires);
    sdist/   the source releases of causal-conv1d and mamba-ssm that the kernels job builds (mamba_kernels);
    data/    copies of the train and validation splits the queued training runs read, from $GAMLIB_DATA_DIR
             (or --data-dir), laid out as that folder (the records' data fingerprints need the same bytes);
and prints its size and the one line to run on the target first (install_line).
"""
from __future__ import annotations

import argparse
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..data.sources import DATASETS, candidate_data_dirs
from ..paths import project_root
from ..plan import session_runs
from ..presets import get_preset
from .mamba_kernels import DOWNLOAD_ENV, download_command

BUNDLE = "offline"   # under the checkout; .gitignore names it
SOURCES = "sdist"    # the source releases' folder in the bundle (the GPU session looks for BUNDLE/SOURCES)
SESSION_MODULES = ("gamlib", "gamlib.experiments.gpu_session", "mambapy", "pytest")
JOB_NEEDS = ("mambapy", "pytest")   # what the jobs need besides gamlib's own imports (Mamba, the CUDA tests)
PLAIN_IMAGE = ("torch",)            # a plain CUDA PyTorch image: these and what they require
SIZE_LIMIT_MB = 60                  # it travels with the checkout


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def loaded_distributions(modules=SESSION_MODULES) -> set[str]:
    """The distributions whose modules a fresh interpreter has loaded after importing `modules`."""
    code = ("import importlib, importlib.metadata as m, sys\n"
            f"for name in {list(modules)!r}: importlib.import_module(name)\n"
            "found = m.packages_distributions()\n"
            "print('\\n'.join({d for mod in list(sys.modules) for d in found.get(mod.split('.')[0], [])}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project_root() or ""),
                                                                     os.environ.get("PYTHONPATH", "")]))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    return {normalize(name) for name in out.split()}


def marker_environment(python_version: str) -> dict:
    """Where requirement markers are evaluated: the target's Python on Linux, no extras."""
    return {"python_version": python_version, "python_full_version": f"{python_version}.0", "sys_platform": "linux",
            "platform_system": "Linux", "os_name": "posix", "extra": ""}


def requirements(distribution: str, environment: dict) -> set[str]:
    """The distributions `distribution` declares it requires on `environment` (extras left out)."""
    from packaging.requirements import Requirement  # pip's own parser; needed only to pack a bundle

    try:
        declared = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return set()
    found = set()
    for text in declared:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            found.add(normalize(requirement.name))
    return found


def closure(roots, environment: dict, within: set[str] | None = None) -> set[str]:
    """`roots` and everything they require, transitively; only distributions in `within` when given."""
    seen, todo = set(), [normalize(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen or (within is not None and name not in within):
            continue
        seen.add(name)
        todo.extend(requirements(name, environment))
    return seen


def wheels_needed(python_version: str, loaded: set[str] | None = None) -> list[str]:
    """name==version (the installed version) of every wheel the target lacks (the module's docstring says which)."""
    environment = marker_environment(python_version)
    loaded = loaded_distributions() if loaded is None else loaded
    within = loaded | closure(JOB_NEEDS, environment)  # the jobs' tools whole: pytest loads some parts late
    roots = (requirements("gamlib", environment) | set(JOB_NEEDS)) & within
    needed = closure(roots, environment, within=within) - closure(PLAIN_IMAGE, environment) - {"gamlib"}
    return sorted(f"{name}=={metadata.version(name)}" for name in needed)


def platforms(platform: str) -> list[str]:
    """pip matches a platform tag exactly: manylinux_2_28_x86_64 also takes every older manylinux tag it covers."""
    match = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform)
    if not match:
        return [platform]
    glibc, arch = int(match.group(1)), match.group(2)
    return ([f"manylinux_2_{n}_{arch}" for n in range(glibc, 4, -1)]
            + [f"manylinux{tag}_{arch}" for tag in ("2014", "2010", "1")])


def wheel_command(specs: list[str], python_version: str, platform: str, dest) -> list[str]:
    tags = [arg for tag in platforms(platform) for arg in ("--platform", tag)]
    return [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--no-deps", "--python-version",
            python_version, "--implementation", "cp", *tags, "-d", str(dest), *specs]


def data_files(preset: str = "paper") -> list[Path]:
    """The split files (relative to a data folder) that the session's training runs read."""
    datasets = dict.fromkeys(run.dataset for runs in session_runs(get_preset(preset)).values() for run in runs)
    return [Path(DATASETS[d].local_folder) / f"{split}.txt" for d in datasets for split in ("train", "validation")]


def copy_data(files: list[Path], data_dir, dest: Path) -> list[Path]:
    """Copy `files` from the data folder (data_dir, else $GAMLIB_DATA_DIR) into `dest`; a missing one is an error."""
    sources = candidate_data_dirs(data_dir)
    if not sources or not sources[0].is_dir():
        raise FileNotFoundError("no local data folder: set GAMLIB_DATA_DIR or pass --data-dir (a folder laid out as "
                                "data/README.md says) so that the bundle can carry the data")
    copied = []
    for relative in files:
        source = sources[0] / relative
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: the session's training runs read it")
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        copied.append(Path(shutil.copy2(source, dest / relative)))
    return copied


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def install_line(out: Path) -> str:
    """What to run on the target, from the checkout's top, before the session."""
    where = str(out) if out.is_absolute() else f"$PWD/{out}"
    return (f"python3 -m pip install -q --no-index --no-deps --upgrade --target {where}/site {where}/wheels/*.whl && "
            f"export PYTHONPATH=$PWD:{where}/site GAMLIB_DATA_DIR={where}/data HF_HUB_OFFLINE=1")


def make_bundle(out: Path, python_version: str, platform: str, preset: str = "paper", data_dir=None,
                run=subprocess.run) -> list[str]:
    """Fill `out` (wheels, source releases, data); the report's lines."""
    specs = wheels_needed(python_version)
    run(wheel_command(specs, python_version, platform, out / "wheels"), check=True)
    run(download_command(out / SOURCES), check=True, env={**os.environ, **DOWNLOAD_ENV})
    copied = copy_data(data_files(preset), data_dir, out / "data")
    size = folder_mb(out)
    return [f"wheels ({len(specs)}): {' '.join(specs)}",
            f"source releases: {', '.join(sorted(os.listdir(out / SOURCES)))}", f"data: {len(copied)} files",
            f"offline bundle {out}: {size:.1f} MiB"
            + (f" (over the {SIZE_LIMIT_MB} MiB it should stay under)" if size > SIZE_LIMIT_MB else ""),
            "on the target, from the checkout's top, first run:", f"  {install_line(out)}"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--python-version", default="3.12", help="the target's Python, e.g. 3.12")
    parser.add_argument("--platform", default="manylinux_2_28_x86_64", help="the target's platform tag")
    parser.add_argument("--preset", default="paper", help="whose queued training runs' data to carry")
    parser.add_argument("--data-dir", default=None, help="the data folder to copy from (default: $GAMLIB_DATA_DIR)")
    parser.add_argument("--out", default=BUNDLE, help=f"the bundle's folder (default: {BUNDLE}/, git-ignored)")
    parser.add_argument("--list", action="store_true", help="print what it would fetch and copy, and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("wheels:", " ".join(wheels_needed(args.python_version)))
        print("data:", " ".join(map(str, data_files(args.preset))))
        return 0
    print("\n".join(make_bundle(Path(args.out), args.python_version, args.platform, args.preset, args.data_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
