"""gamlib.colab and the notebooks' set-up cell: one source, a no-op off Colab, an install on Colab.

The last test builds a Colab-like runtime (a fresh virtual environment with only PyTorch, a stub
`google.colab` module, the project in a local git repository) and runs every notebook's first cells
in it. It takes minutes and installs from PyPI, so it runs only when selected: `-m slow`.
"""
from __future__ import annotations

import ast
import io
import json
import os
import shutil
import subprocess
import sys
import types
from contextlib import redirect_stdout
from pathlib import Path

import papermill
import pytest

from gamlib import colab, publish

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def setup_index(notebook_cells: list[dict]) -> int:
    found = [i for i, c in enumerate(notebook_cells)
             if c["cell_type"] == "code" and source(c).startswith(colab.SETUP_MARKER)]
    assert len(found) == 1, f"expected one set-up cell, found {len(found)}"
    return found[0]


# ------------------------------------------------------------------------------------------------
# One source, no drift
# ------------------------------------------------------------------------------------------------
def test_every_notebook_starts_with_the_one_setup_cell():
    assert len(NOTEBOOKS) >= 12
    named = set()
    for path in NOTEBOOKS:
        nb = cells(path)
        i = setup_index(nb)
        cell = nb[i]
        text = source(cell)
        repo, branch = colab.parse_setup_cell(text)
        assert text == colab.setup_cell(repo, branch), (
            f"{path.name}: the set-up cell differs from gamlib/colab.py; run `python scripts/publish.py --sync`")
        named.add((repo, branch))
        # right after the parameters cell, before every other code cell
        assert "parameters" in nb[i - 1]["metadata"].get("tags", []), f"{path.name}: not right after `parameters`"
        assert all(c["cell_type"] != "code" for c in nb[: i - 1]), f"{path.name}: code before the set-up cell"
        # never output-checked, committed without outputs (it prints nothing off Colab), and collapsed
        assert "nbval-check-output" not in cell["metadata"].get("tags", []) and cell["outputs"] == [], path.name
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, f"{path.name}: set-up cell shown"
        # the parameters it reads are declared where papermill and a Colab user set them, each typed and explained
        declared = publish.declared_parameters(source(nb[i - 1]))
        assert set(colab.SETUP_PARAMETERS) <= declared, f"{path.name}: parameters cell lacks {colab.SETUP_PARAMETERS}"
        assert {"preset", "seed", "data_dir"} <= declared
        inferred = papermill.inspect_notebook(str(path))
        assert set(inferred) == declared, f"{path.name}: papermill does not see {declared - set(inferred)}"
        untyped = [name for name, p in inferred.items() if p["inferred_type_name"] == "None" or not p["help"]]
        assert not untyped, f"{path.name}: parameters without a type or a comment: {untyped}"
    assert len(named) == 1, f"the notebooks name different repositories: {named}"
    # README.md names the same repository (or says it is not published yet)
    (repo, branch), = named
    block = publish.readme_block(repo, branch, [p.name for p in NOTEBOOKS])
    assert f"{publish.README_BEGIN}\n{block}\n{publish.README_END}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_notebook_sends_colab_users_to_another_notebook():
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "set-up cell of 00" not in text and "repo_url" not in text and "install_mamba_ssm" not in text, path.name


def test_setup_cell_names_its_repository_and_branch():
    text = colab.setup_cell("https://github.com/acme/gam-notebooks", "dev")
    assert colab.parse_setup_cell(text) == ("https://github.com/acme/gam-notebooks", "dev")
    assert colab.parse_setup_cell(colab.setup_cell()) == (None, "main")
    with pytest.raises(ValueError, match="not a set-up cell"):
        colab.parse_setup_cell("print('hello')")


def test_colab_module_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "gamlib" / "colab.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name.split(".")[0] for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in top if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert names - {"__future__"} <= set(sys.stdlib_module_names), names
    assert not any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in top), "floor 1: no gamlib imports"


# ------------------------------------------------------------------------------------------------
# The cell off Colab and on an unpublished Colab
# ------------------------------------------------------------------------------------------------
def run_cell(text: str, namespace: dict | None = None) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(text, "<set-up cell>", "exec"), namespace if namespace is not None else {})
    return out.getvalue()


@pytest.mark.parametrize("repo", [None, "https://github.com/acme/gam-notebooks"])
def test_setup_cell_does_nothing_off_colab(repo, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before = list(sys.path)
    namespace = {}  # not even the colab_* parameters are needed off Colab
    assert run_cell(colab.setup_cell(repo), namespace) == ""
    assert sys.path == path_before and "checkout" not in namespace


def test_unpublished_setup_cell_on_colab_says_what_to_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    namespace = {"colab_results": None, "colab_mamba_kernels": False}
    with pytest.raises(RuntimeError, match=r"python scripts/publish\.py --repo https://github\.com/OWNER/REPO"):
        run_cell(colab.setup_cell(None), namespace)


# ------------------------------------------------------------------------------------------------
# gamlib.colab.setup: results folder, Drive
# ------------------------------------------------------------------------------------------------
class FakeDrive:
    def __init__(self):
        self.mounted = []

    def mount(self, path):
        self.mounted.append(path)
        (Path(path) / "MyDrive").mkdir(parents=True, exist_ok=True)


@pytest.fixture
def fake_content(tmp_path, monkeypatch):
    """/content/drive and its MyDrive folder, under tmp_path."""
    mount = tmp_path / "content" / "drive"
    monkeypatch.setattr(colab, "DRIVE_MOUNT", mount)
    monkeypatch.setattr(colab, "DRIVE_FOLDER", mount / "MyDrive" / "gam-notebooks")
    return mount


def test_results_on_drive_mounts_it_once_and_points_gamlib_there(fake_content, capsys):
    drive, environ = FakeDrive(), {}
    done = colab.setup(results="drive", drive=drive, environ=environ)
    folder = fake_content / "MyDrive" / "gam-notebooks"
    assert done == {"results": folder, "mamba": None} and drive.mounted == [str(fake_content)]
    assert environ == {"GAMLIB_RESULTS_DIR": str(folder / "results"), "GAMLIB_FIGURES_DIR": str(folder / "figures")}
    assert (folder / "results").is_dir() and (folder / "figures").is_dir()
    assert "kept after the runtime ends" in capsys.readouterr().out
    colab.setup(results="drive", drive=drive, environ=environ)  # run the cell again: already mounted
    assert drive.mounted == [str(fake_content)]


def test_results_in_a_plain_folder_need_no_drive(tmp_path, fake_content):
    drive, environ = FakeDrive(), {}
    colab.use_results_folder(str(tmp_path / "keep"), drive, environ)
    assert drive.mounted == [] and environ["GAMLIB_RESULTS_DIR"] == str(tmp_path / "keep" / "results")
    colab.use_results_folder(str(fake_content / "MyDrive" / "mine"), drive, environ)  # a folder on Drive
    assert drive.mounted == [str(fake_content)]


def test_without_a_results_choice_the_user_is_told_records_vanish(capsys):
    environ = {}
    assert colab.setup(results=None, environ=environ)["results"] is None and environ == {}
    assert 'colab_results = "drive"' in capsys.readouterr().out
    colab.setup(results=None, environ={"GAMLIB_RESULTS_DIR": "/somewhere"})
    assert "/somewhere" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["", 3, ["drive"], "  "])
def test_bad_results_choice_is_named(bad):
    with pytest.raises(ValueError, match="colab_results must be None, 'drive' or a folder path"):
        colab.results_folder(bad)


# ------------------------------------------------------------------------------------------------
# The official Mamba kernels: opt-in, prebuilt wheels only
# ------------------------------------------------------------------------------------------------
ENV = dict(torch_version="2.8.0+cu126", cuda_version="12.6", python="3.12", cxx11_abi=True, machine="x86_64")


def test_release_wheels_are_named_as_the_projects_name_them():
    urls = colab.release_wheel_urls(**ENV)
    assert urls == [
        "https://github.com/state-spaces/mamba/releases/download/v2.3.2.post1/"
        "mamba_ssm-2.3.2.post1+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "https://github.com/Dao-AILab/causal-conv1d/releases/download/v1.6.1.post4/"
        "causal_conv1d-1.6.1.post4+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"]
    assert colab.release_wheel_urls(**{**ENV, "cuda_version": None}) == []


class FakeRun:
    """Records commands; `fail` decides which ones fail (by a substring of the joined command)."""

    def __init__(self, fail=()):
        self.commands, self.fail = [], fail

    def __call__(self, command, **kwargs):
        self.commands.append(command)
        joined = " ".join(command)
        return subprocess.CompletedProcess(command, 1 if any(f in joined for f in self.fail) else 0)

    def pip_installs(self):
        return [c for c in self.commands if c[1:4] == ["-m", "pip", "install"]]


def test_kernels_come_from_wheels_only_index_first_then_release_wheels():
    run = FakeRun(fail=("install --quiet --only-binary=:all: mamba-ssm causal-conv1d",))
    status = colab.install_mamba_kernels(True, run=run, environment=ENV)
    assert status.startswith("installed from https://github.com/state-spaces/mamba/releases/")
    installs = run.pip_installs()
    assert [c[-2:] for c in installs] == [["mamba-ssm", "causal-conv1d"], colab.release_wheel_urls(**ENV)]
    assert all("--only-binary=:all:" in c for c in installs), "every pip install must refuse source builds"
    assert run.commands[-1][1:3] == ["-c", colab.VERIFY_KERNELS]  # checked in a fresh Python


def test_kernels_that_do_not_import_are_uninstalled_so_mambapy_is_used():
    run = FakeRun(fail=(colab.VERIFY_KERNELS,))
    status = colab.install_mamba_kernels(True, run=run, environment=ENV)
    assert "uninstalled again: using mambapy" in status
    assert run.commands[-1][-3:] == ["--yes", "mamba-ssm", "causal-conv1d"] and "uninstall" in run.commands[-1]


def test_no_fitting_wheel_means_mambapy_and_says_where_it_looked():
    run = FakeRun(fail=("pip install",))
    status = colab.install_mamba_kernels(True, run=run, environment=ENV)
    assert "using mambapy" in status and "cu12torch2.8cxx11abiTRUE-cp312" in status
    assert len(run.pip_installs()) == 2 and all("--only-binary=:all:" in c for c in run.pip_installs())


def test_given_wheels_are_installed_as_given_and_cpu_runtimes_install_nothing():
    run = FakeRun()
    colab.install_mamba_kernels(["/wheels/a.whl", "https://x/b.whl"], run=run, environment=ENV)
    assert run.pip_installs()[0][-3:] == ["--only-binary=:all:", "/wheels/a.whl", "https://x/b.whl"]
    run = FakeRun()
    assert "no CUDA" in colab.install_mamba_kernels(True, run=run, environment={**ENV, "cuda_version": None})
    assert run.commands == []
    with pytest.raises(ValueError, match="colab_mamba_kernels must be"):
        colab.install_mamba_kernels("yes", run=FakeRun(), environment=ENV)


# ------------------------------------------------------------------------------------------------
# The real thing, simulated: a runtime with only Python, pip, git and Colab's PyTorch
# ------------------------------------------------------------------------------------------------
TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch==2.13.0")
COLAB_IPYWIDGETS = "7.7.1"  # what Colab ships; the install must keep it


def selected_explicitly(config) -> bool:
    return "slow" in (config.getoption("-m") or "") or os.environ.get("GAMLIB_SLOW_TESTS") == "1"


def sh(command, cwd=None, env=None, timeout=1800) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def snapshot_repository(dest: Path) -> str:
    """A git repository holding this working tree as it is now (committed or not); its file:// URL."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]
    sh([*git, "init", "--quiet", str(dest)])
    sh([*git, "add", "--all"], cwd=dest)
    sh([*git, "commit", "--quiet", "-m", "snapshot"], cwd=dest)
    sh(["git", "branch", "-M", "main"], cwd=dest)
    return dest.as_uri()


STUB_DRIVE = '''from pathlib import Path
def mount(path):
    Path(path, "MyDrive").mkdir(parents=True, exist_ok=True)
'''

RUNNER = '''import importlib.metadata, json, os, sys
import google.colab  # the stub: the set-up cell now sees Colab
cells = json.loads(sys.argv[1])
namespace = {}
exec(cells["parameters"], namespace)
namespace["colab_results"] = os.environ["TEST_RESULTS"]
exec(cells["setup"], namespace)
exec(cells["first"], namespace)  # the notebook's own first cell after the set-up: imports gamlib
import gamlib
print("RESULT", json.dumps(dict(gamlib=gamlib.__file__, results=os.environ.get("GAMLIB_RESULTS_DIR"),
                                ipywidgets=importlib.metadata.version("ipywidgets"))))
'''


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_every_notebook_sets_itself_up_in_a_fresh_colab_like_runtime(tmp_path, request):
    if not selected_explicitly(request.config):
        pytest.skip("creates a virtual environment and installs the project from PyPI (minutes): "
                    "select it with -m slow (or GAMLIB_SLOW_TESTS=1)")
    if shutil.which("git") is None:
        pytest.skip("needs git")
    repo_url = snapshot_repository(tmp_path / "origin")
    venv = tmp_path / "venv"
    sh([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("GAMLIB_")}
    # what a Colab runtime has before the cell runs: Python, pip, git, PyTorch and ipywidgets 7
    sh([python, "-m", "pip", "install", "--quiet", TORCH_SPEC, "ipython_genutils"], env=env)
    sh([python, "-m", "pip", "install", "--quiet", "--no-deps", f"ipywidgets=={COLAB_IPYWIDGETS}"], env=env)
    stub = tmp_path / "stub" / "google" / "colab"  # `google` stays a namespace package
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    (stub / "drive.py").write_text(STUB_DRIVE)
    checkout = tmp_path / "content" / "gam-notebooks"
    env.update(PYTHONPATH=str(tmp_path / "stub"), GAMLIB_CHECKOUT=str(checkout), MPLBACKEND="Agg",
               HF_HUB_OFFLINE="1", TEST_RESULTS=str(tmp_path / "persist"))
    if os.environ.get("GAMLIB_DATA_DIR"):  # 05's first cell loads WikiText-2
        env["GAMLIB_DATA_DIR"] = os.environ["GAMLIB_DATA_DIR"]
    (tmp_path / "runner.py").write_text(RUNNER)
    seen = []
    for path in NOTEBOOKS:  # the first one installs; the others find the install, as a re-run cell would
        nb = cells(path)
        i = setup_index(nb)
        first = next(c for c in nb[i + 1:] if c["cell_type"] == "code")
        setup = colab.setup_cell(repo_url, "main")  # the notebook's own cell, naming the local repository
        assert colab.setup_cell(*colab.parse_setup_cell(source(nb[i]))) == source(nb[i])
        payload = json.dumps({"parameters": source(nb[i - 1]), "setup": setup, "first": source(first)})
        result = sh([python, str(tmp_path / "runner.py"), payload], cwd=tmp_path, env=env)
        line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")]
        assert line, f"{path.name}: no result line:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        seen.append((path.name, json.loads(line[-1][len("RESULT "):]), result.stdout))
    stdout = seen[0][2]
    assert "Colab: run records -> " + str(tmp_path / "persist" / "results") in stdout
    for name, found, _ in seen:
        assert Path(found["gamlib"]).is_relative_to(checkout), (name, found)
        assert found["results"] == str(tmp_path / "persist" / "results"), (name, found)
        assert found["ipywidgets"] == COLAB_IPYWIDGETS, f"{name}: the install replaced Colab's ipywidgets"
    head = sh(["git", "rev-parse", "HEAD"], cwd=tmp_path / "origin").stdout
    assert sh(["git", "rev-parse", "HEAD"], cwd=checkout).stdout == head  # the clone of the named repository
