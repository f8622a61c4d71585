"""The install files agree: pyproject's dependencies are in the conda environments, and the environment that
runs the tests has the versions constraints.txt records (the ones the committed outputs were made with)."""
import re
from importlib.metadata import PackageNotFoundError, version

import pytest

from gamlib.paths import project_root

ROOT = project_root()
CONDA_NAMES = {"torch": {"pytorch", "pytorch-gpu", "pytorch-cpu"}, "ipywidgets": {"ipywidgets"}}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower()


def dependencies() -> set[str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {requirement_name(spec) for spec in project["dependencies"]}


@pytest.mark.parametrize("name", ["environment.yml", "environment-cuda.yml", ".binder/environment.yml"])
def test_every_dependency_is_in_the_conda_environment(name):
    listed = {requirement_name(line.strip().lstrip("- ")) for line in (ROOT / name).read_text().splitlines()
              if line.strip().startswith("- ")}
    missing = {dep for dep in dependencies() if not CONDA_NAMES.get(dep, {dep}) & listed}
    assert not missing, f"{name} lacks {sorted(missing)} (pyproject.toml's dependencies)"


def test_the_cuda_environment_brings_the_official_mamba_kernels():
    text = (ROOT / "environment-cuda.yml").read_text()
    assert "mamba-ssm" in text and "causal-conv1d" in text and "pytorch-gpu" in text


def test_the_installed_versions_are_the_recorded_ones():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert {"numpy", "pandas", "matplotlib", "tokenizers", "nbval"} <= set(pins)
    differ = {}
    for name, pinned in pins.items():
        try:
            installed = version(name)
        except PackageNotFoundError:  # an extra this environment does not install
            continue
        if installed != pinned:
            differ[name] = (pinned, installed)
    assert not differ, (f"installed versions differ from constraints.txt (pinned, installed): {differ}; "
                        "`make install` installs the recorded ones, `make constraints` records new ones")
