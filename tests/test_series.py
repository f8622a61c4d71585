"""gamlib.series: the papermill runner checks its arguments up front, keeps a true summary, and goes on past bad
notebooks.

Tiny notebooks are written into tmp_path; one test executes them for real with the python3 kernel
(about a second each), the others replace papermill.execute_notebook with a recorder.
"""
import csv
import json
import logging
import os

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gamlib import series

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python"}}


def write_notebook(path, *sources, parameters=None):
    """A notebook whose first cell (tagged `parameters`) is `parameters`, if given, followed by `sources`."""
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]})] if parameters else []
    cells += [new_code_cell(source) for source in sources]
    nbformat.write(new_notebook(cells=cells, metadata=KERNEL), str(path))
    return path


@pytest.fixture
def folder(tmp_path):
    """00 prints its preset, 01 raises, 02 is not JSON, 03 declares no parameters."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "00_a.ipynb", "print(preset)", parameters='preset = "auto"')
    write_notebook(folder / "01_b.ipynb", "raise RuntimeError('boom in b')", parameters='preset = "auto"')
    (folder / "02_c.ipynb").write_text("{this is not json")
    write_notebook(folder / "03_d.ipynb", "print(globals().get('preset', 'unset'))")
    (folder / "notes.ipynb").write_text("{}")  # not numbered: never run
    return folder


@pytest.fixture
def executed(monkeypatch):
    """Replace papermill.execute_notebook with a recorder: the list of (notebook name, parameters) it was called
    with."""
    calls = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda source, target, parameters=None, **kwargs:
                        calls.append((source.rsplit("/", 1)[-1], parameters)))
    return calls


def read_summary(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def stdout_of(notebook_path):
    return "".join(output.get("text", "") for cell in nbformat.read(str(notebook_path), 4).cells
                   for output in cell.get("outputs", []))


def test_runs_the_series_for_real_reporting_failed_and_unreadable_notebooks(folder, tmp_path, capsys):
    output = tmp_path / "out"
    summary = series.run_series(preset="quick", output=output, folder=folder)
    assert [(row["notebook"], row["status"]) for row in summary] == [
        ("00_a.ipynb", "ok"), ("01_b.ipynb", "failed"), ("02_c.ipynb", "failed"), ("03_d.ipynb", "ok")]
    assert "boom in b" in summary[1]["error"]
    assert summary[2]["error"].startswith("NotJSONError: ")
    assert stdout_of(output / "00_a.ipynb").strip() == "quick"      # declared: the preset is passed
    assert stdout_of(output / "03_d.ipynb").strip() == "unset"      # not declared: nothing injected
    assert not (output / "02_c.ipynb").exists()
    on_disk = read_summary(output / "summary.csv")
    assert [(r["notebook"], r["status"], r["error"]) for r in on_disk] == [
        (r["notebook"], r["status"], r["error"]) for r in summary]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("00_a.ipynb") and " ok " in lines[0]
    assert lines[2].startswith("02_c.ipynb") and "failed" in lines[2] and "NotJSONError" in lines[2]
    assert lines[-1].startswith("2/4 notebooks ok in ") and f"summary.csv in {output}" in lines[-1]


def test_executed_notebooks_are_normalised_and_log_output_prints_cells_as_they_run(folder, tmp_path, capfd):
    output = tmp_path / "out"
    try:
        series.run_series(preset="quick", output=output, folder=folder, only=["00"], log_output=True)
    finally:
        logger = logging.getLogger("papermill")
        logger.handlers = [h for h in logger.handlers if not getattr(h, "gamlib_series", False)]
    executed = json.loads((output / "00_a.ipynb").read_text(encoding="utf-8"))
    assert "papermill" not in executed["metadata"]
    assert not [key for cell in executed["cells"] for key in ("execution", "papermill") if key in cell["metadata"]]
    out, err = capfd.readouterr()
    assert "quick" in [line.strip() for line in out.splitlines()]  # the cell's output, logged while it ran
    assert "without encryption" not in out + err                   # the kernel talks over IPC


def test_summary_is_rewritten_after_each_notebook_and_survives_an_interrupt(folder, tmp_path, monkeypatch):
    output = tmp_path / "out"
    output.mkdir()
    (output / "summary.csv").write_text("notebook,status,seconds,error\n00_a.ipynb,ok,1.0,\n01_b.ipynb,ok,1.0,\n")
    seen = []

    def execute(source, target, **kwargs):
        seen.append(read_summary(output / "summary.csv"))
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    with pytest.raises(KeyboardInterrupt):
        series.run_series(output=output, folder=folder, only=["00", "01", "03"])
    assert seen[0] == []                                      # the old run's summary was gone before 00 ran
    assert [r["notebook"] for r in seen[1]] == ["00_a.ipynb"]  # 00's row was on disk before 01 ran
    rows = read_summary(output / "summary.csv")
    assert [(r["notebook"], r["status"]) for r in rows] == [("00_a.ipynb", "ok")]
    assert not list(output.glob(".summary.csv.*"))          # no temporary file left behind


def test_an_empty_only_is_an_error_and_none_means_every_notebook(folder, tmp_path, executed):
    with pytest.raises(ValueError, match="--only 00 05"):
        series.run_series(only=[], output=tmp_path / "out", folder=folder)
    assert executed == [] and not (tmp_path / "out" / "summary.csv").exists()
    series.run_series(only=None, output=tmp_path / "out", folder=folder)
    assert [name for name, _ in executed] == ["00_a.ipynb", "01_b.ipynb", "03_d.ipynb"]  # 02 unreadable
    with pytest.raises(ValueError, match=r"no notebook numbered \['07'\]"):
        series.run_series(only=["00", "07"], output=tmp_path / "out", folder=folder)


def test_a_bare_only_on_the_command_line_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(series, "run_series", lambda *a, **k: pytest.fail("run_series was called"))
    with pytest.raises(SystemExit) as exit_info:
        series.main(["--only"])
    assert exit_info.value.code == 2
    assert "--only 00 05" in capsys.readouterr().err


def test_an_unknown_preset_fails_before_any_notebook_naming_the_presets(folder, tmp_path, executed, monkeypatch,
                                                                       capsys):
    known = r"\['auto', 'colab', 'cpu', 'paper', 'quick'\]"
    with pytest.raises(ValueError, match=rf"unknown preset 'huge'; choose one of {known}"):
        series.run_series(preset="huge", output=tmp_path / "out", folder=folder)
    assert executed == [] and not (tmp_path / "out").exists()
    series.run_series(preset="auto", output=tmp_path / "out", folder=folder, only=["00", "03"])
    assert executed == [("00_a.ipynb", {"preset": "auto"}), ("03_d.ipynb", {})]

    monkeypatch.setattr(series, "run_series", lambda *a, **k: pytest.fail("run_series was called"))
    with pytest.raises(SystemExit) as exit_info:
        series.main(["--preset", "huge"])
    assert exit_info.value.code == 2
    assert "choose one of ['auto', 'colab', 'cpu', 'paper', 'quick']" in capsys.readouterr().err


def test_only_declared_parameters_are_passed(folder, tmp_path, executed):
    write_notebook(folder / "04_e.ipynb", "pass", parameters='preset = "auto"\nseed = 0\ndata_dir = None')
    series.run_series(preset="paper", seed=3, data_dir="/data", output=tmp_path / "out", folder=folder,
                      only=["00", "03", "04"])
    assert executed == [("00_a.ipynb", {"preset": "paper"}), ("03_d.ipynb", {}),
                        ("04_e.ipynb", {"preset": "paper", "seed": 3, "data_dir": "/data"})]


def test_a_notebook_failing_with_an_empty_message_is_reported_and_the_series_goes_on(folder, tmp_path, monkeypatch):
    def execute(source, target, **kwargs):
        if source.endswith("00_a.ipynb"):
            raise RuntimeError()

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    summary = series.run_series(output=tmp_path / "out", folder=folder, only=["00", "03"])
    assert [(r["notebook"], r["status"], r["error"]) for r in summary] == [
        ("00_a.ipynb", "failed", "RuntimeError"), ("03_d.ipynb", "ok", "")]


def test_main_exit_status_default_folders_and_in_place(folder, tmp_path, monkeypatch, executed):
    monkeypatch.setattr(series, "project_root", lambda: tmp_path)  # notebooks/ and runs/ under tmp_path
    assert series.main(["--only", "00", "03"]) == 0
    assert read_summary(tmp_path / "runs" / "default" / "summary.csv")[-1]["notebook"] == "03_d.ipynb"
    assert series.main(["--only", "02"]) == 1                     # unreadable counts as failed
    assert series.main(["--preset", "quick", "--only", "00"]) == 0
    assert (tmp_path / "runs" / "quick" / "summary.csv").exists()

    targets = []
    monkeypatch.setattr(papermill, "execute_notebook", lambda source, target, **kwargs: targets.append(target))
    assert series.main(["--in-place", "--only", "00"]) == 0
    assert targets == [str(folder / "00_a.ipynb")]
    assert (tmp_path / "runs" / "in-place" / "summary.csv").exists()
    with pytest.raises(SystemExit):
        series.main(["--in-place", "--output", str(tmp_path / "x")])
    with pytest.raises(ValueError, match="not both"):
        series.run_series(in_place=True, output=tmp_path / "x", folder=folder)


def test_an_empty_folder_is_reported(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebooks").mkdir()
    monkeypatch.setattr(series, "project_root", lambda: tmp_path)
    assert series.main([]) == 1
    assert "no notebooks found" in capsys.readouterr().err
    assert read_summary(tmp_path / "runs" / "default" / "summary.csv") == []


def test_batch_runs_save_figures_beside_their_notebooks_and_in_place_runs_in_figures(folder, tmp_path, monkeypatch):
    """`make run` must leave the committed figures/ alone: the kernels get GAMLIB_FIGURES_DIR=<output>/figures."""
    seen = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda source, target, **kwargs: seen.append(os.environ.get("GAMLIB_FIGURES_DIR")))
    monkeypatch.delenv("GAMLIB_FIGURES_DIR", raising=False)
    monkeypatch.setattr(series, "project_root", lambda: tmp_path)  # the in-place summary goes under tmp_path
    series.run_series(folder=folder, output=tmp_path / "out", only=["00"])
    assert seen == [str((tmp_path / "out" / "figures").resolve())]
    assert "GAMLIB_FIGURES_DIR" not in os.environ  # restored after the run
    series.run_series(folder=folder, in_place=True, only=["00"])
    assert seen[-1] is None  # in place: the checkout's figures/, on purpose
    monkeypatch.setenv("GAMLIB_FIGURES_DIR", str(tmp_path / "mine"))
    series.run_series(folder=folder, output=tmp_path / "out", only=["00"])
    assert seen[-1] == str(tmp_path / "mine")  # a folder the user chose wins


def test_kernels_draw_inline_whatever_mplbackend_the_caller_set(folder, tmp_path, monkeypatch):
    """A headless MPLBACKEND=Agg, inherited by the kernels, would make plt.show() embed nothing."""
    seen = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda source, target, **kwargs: seen.append(os.environ.get("MPLBACKEND")))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    series.run_series(folder=folder, output=tmp_path / "out", only=["00"])
    assert seen == [None] and os.environ["MPLBACKEND"] == "Agg"  # unset for the kernels, restored after


def test_committed_notebooks_embed_the_figures_they_show():
    """Every committed cell that calls plt.show() carries its figure (GitHub renders the notebook, not figures/)."""
    root = series.project_root() / "notebooks"
    missing = [f"{path.name} cell {cell.get('id')}" for path in sorted(root.glob("[0-9][0-9]_*.ipynb"))
               for cell in nbformat.read(str(path), 4).cells
               if cell.cell_type == "code" and "plt.show()" in cell.source
               and not any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))]
    assert not missing, f"figures not embedded (was the series run with MPLBACKEND=Agg?): {missing}"
