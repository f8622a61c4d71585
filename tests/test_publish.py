"""gamlib.publish (`python scripts/publish.py` runs it): the repository URL and "Open in Colab" badges, written
into a copy of the notebooks and README.md; nothing else in a notebook changes, and it can be undone exactly."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gamlib import colab, publish

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/acme/gam-notebooks"


@pytest.fixture
def copy(tmp_path) -> Path:
    """notebooks/ and README.md of this checkout, in a temporary folder, unpublished (as committed; a
    notebook added since the last `--sync` is brought into line first)."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(ROOT / "README.md", tmp_path / "README.md")
    assert publish.main(["--unpublish", "--root", str(tmp_path)]) == 0
    return tmp_path


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [*sorted((root / "notebooks").glob("*.ipynb")), root / "README.md"]}


def notebook_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def run(root: Path, *args: str) -> int:
    return publish.main([*args, "--root", str(root)])


def test_publish_writes_url_and_badges_and_nothing_else(copy):
    before = {p.name: notebook_cells(p) for p in sorted((copy / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    assert run(copy, "--repo", REPO + ".git") == 0  # '.git' and a final '/' are accepted and dropped
    for name, old in before.items():
        new = notebook_cells(copy / "notebooks" / name)
        assert len(new) == len(old)
        setup = [i for i, c in enumerate(new) if text(c).startswith(colab.SETUP_MARKER)]
        assert len(setup) == 1 and text(new[setup[0]]) == colab.setup_cell(REPO, "main")
        link = f"https://colab.research.google.com/github/acme/gam-notebooks/blob/main/notebooks/{name}"
        title = text(new[0]).split("\n")
        assert title[1:4] == ["", f"[![Open In Colab]({publish.BADGE_IMAGE})]({link})", ""], name
        assert "\n".join(title[:1] + title[3:]) == text(old[0])  # the title cell is otherwise unchanged
        for i, (a, b) in enumerate(zip(old, new, strict=True)):  # every other cell, outputs included, as committed
            if i not in (0, setup[0]):
                assert a == b, f"{name}: cell {i} changed"
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert f"git clone {REPO}.git" in readme and readme.count("[![Open In Colab]") == len(before)
    assert "Not published yet" not in readme
    assert run(copy, "--repo", REPO + "/") == 0  # same URL again: nothing left to change


def test_publishing_again_replaces_and_unpublish_restores_the_original_bytes(copy):
    original = files(copy)
    assert run(copy, "--repo", REPO) == 0
    assert run(copy, "--repo", "https://github.com/other-org/fork", "--branch", "dev") == 0
    for name, data in files(copy).items():
        decoded = data.decode()
        assert "acme/gam-notebooks" not in decoded, f"{name} still names the first repository"
        if name.endswith(".ipynb"):
            assert decoded.count("[![Open In Colab]") == 1
            assert decoded.count("https://github.com/other-org/fork") == 1  # REPO in the set-up cell
            assert "other-org/fork/blob/dev/notebooks/" in decoded
    assert run(copy, "--unpublish") == 0
    assert files(copy) == original  # the committed notebooks are the unpublished state, byte for byte


def test_sync_rewrites_drifted_setup_cells_and_keeps_the_url(copy):
    assert run(copy, "--repo", REPO, "--branch", "dev") == 0
    path = copy / "notebooks" / "05_training_gam.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if text(c).startswith(colab.SETUP_MARKER))
    cell["source"].append("\nprint('a local edit')")
    cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["a local edit\n"]}]
    publish.write_notebook(path, nb)
    assert run(copy, "--sync") == 0
    cell = next(c for c in notebook_cells(path) if text(c).startswith(colab.SETUP_MARKER))
    assert text(cell) == colab.setup_cell(REPO, "dev") and cell["outputs"] == []


@pytest.mark.parametrize("url", ["git@github.com:acme/gam.git", "https://gitlab.com/acme/gam",
                                 "https://github.com/acme", "https://github.com/acme/gam/tree/main", "acme/gam"])
def test_a_url_that_is_not_a_github_repository_is_refused_and_nothing_is_written(copy, url, capsys):
    original = files(copy)
    with pytest.raises(SystemExit) as exit_:
        run(copy, "--repo", url)
    assert exit_.value.code == 2 and "https://github.com/OWNER/REPO" in capsys.readouterr().err
    assert files(copy) == original


def test_a_readme_without_markers_stops_before_any_notebook_is_written(copy, capsys):
    (copy / "README.md").write_text("# no markers here\n")
    original = files(copy)
    with pytest.raises(SystemExit):
        run(copy, "--repo", REPO)
    assert files(copy) == original and "colab-links:begin" in capsys.readouterr().err


def test_a_notebook_without_setup_cell_gets_one_after_its_parameters(tmp_path):
    (tmp_path / "notebooks").mkdir()
    cells = [{"cell_type": "markdown", "id": "t-00", "metadata": {}, "source": ["# Title"]},
             {"cell_type": "code", "id": "t-01", "execution_count": 1, "metadata": {"tags": ["parameters"]},
              "outputs": [], "source": ["preset = 'auto'"]},
             {"cell_type": "code", "id": "t-02", "execution_count": 2, "metadata": {}, "outputs": [],
              "source": ["print(1)"]}]
    publish.write_notebook(tmp_path / "notebooks" / "00_t.ipynb",
                           {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    (tmp_path / "README.md").write_text(f"{publish.README_BEGIN}\n{publish.README_END}\n")
    assert run(tmp_path, "--repo", REPO) == 0
    new = notebook_cells(tmp_path / "notebooks" / "00_t.ipynb")
    assert [c.get("id") for c in new] == ["t-00", "t-01", "t-setup", "t-02"]
    assert text(new[1]) == "preset = 'auto'\n" + "\n".join(colab.SETUP_PARAMETER_LINES)  # what the set-up reads
    assert text(new[0]).startswith("# Title\n\n[![Open In Colab]")
    assert run(tmp_path, "--unpublish") == 0
    assert text(notebook_cells(tmp_path / "notebooks" / "00_t.ipynb")[0]) == "# Title"


@pytest.mark.parametrize("command", [[str(ROOT / "scripts" / "publish.py")], ["-m", "gamlib.publish"]],
                         ids=["script", "module"])
def test_command_line(copy, command):
    result = subprocess.run([sys.executable, *command, "--repo", REPO, "--root", str(copy)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "wrote notebooks/00_overview_and_setup.ipynb" in result.stdout and "wrote README.md" in result.stdout
