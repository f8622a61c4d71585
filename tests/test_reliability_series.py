"""Reliability of gamlib.series ("nothing stale, nothing lost"), as one table:
(case, how it is triggered, expected outcome).

Every case starts from the same project in tmp_path: notebooks 00, 01, 02 in notebooks/ and a stale
summary.csv from an earlier run in runs/default/. papermill.execute_notebook is replaced by a recorder
(no kernel starts), so the table is fast; notebooks are still read by the real papermill.inspect_notebook.
"""
import csv
from dataclasses import dataclass, field

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gamlib import series

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python"}}
STALE = [("00_a.ipynb", "ok"), ("01_b.ipynb", "ok"), ("02_c.ipynb", "ok"), ("99_old.ipynb", "ok")]


@dataclass
class Project:
    root: object
    out: object
    executed: list = field(default_factory=list)
    interrupt_at: str | None = None  # the notebook whose execution is interrupted (Ctrl-C)


@pytest.fixture
def project(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("00_a", "01_b", "02_c"):
        cells = [new_code_cell('preset = "auto"', metadata={"tags": ["parameters"]}), new_code_cell("print(preset)")]
        nbformat.write(new_notebook(cells=cells, metadata=KERNEL), str(notebooks / f"{name}.ipynb"))
    out = tmp_path / "runs" / "default"
    out.mkdir(parents=True)
    with open(out / "summary.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("notebook", "status", "seconds", "error"), *[(n, s, 1.0, "") for n, s in STALE]])
    state = Project(tmp_path, out)

    def execute(source, target, **kwargs):
        name = source.rsplit("/", 1)[-1]
        state.executed.append(name)
        if name == state.interrupt_at:
            raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr(series, "project_root", lambda: tmp_path)  # a regression runs tmp notebooks, never the repo's
    return state


def cli(*argv):
    return lambda p: series.main([*argv, "--output", str(p.out)])


def python(**kwargs):
    return lambda p: series.run_series(output=p.out, **kwargs)


def interrupted_at(name):
    def trigger(p):
        p.interrupt_at = name
        return series.run_series(output=p.out)
    return trigger


def unreadable(name, run=python()):
    def trigger(p):
        (p.root / "notebooks" / name).write_text('{"cells": [')
        return run(p)
    return trigger


@dataclass
class Outcome:
    raises: type | None          # the exception the trigger ends with, None for a normal return
    says: str                    # text the error message / stderr / summary must contain ("" for none)
    executed: list               # notebooks handed to papermill, in order
    summary: list                # (notebook, status) rows in summary.csv on disk afterwards
    returns: object = None       # for the command line: the exit status main() returns (None: not checked)


NOTHING_RUN = dict(executed=[], summary=STALE)  # refused up front: nothing ran, nothing rewritten

TABLE = [
    # case, how it is triggered, expected outcome
    ("1 bare --only on the command line", cli("--only"),
     Outcome(SystemExit, "give notebook numbers", **NOTHING_RUN)),
    ("1 bare --only, even with a preset", cli("--only", "--preset", "quick"),
     Outcome(SystemExit, "--only 00 05", **NOTHING_RUN)),
    ("1 run_series(only=[]) in Python", python(only=[]),
     Outcome(ValueError, "--only 00 05", **NOTHING_RUN)),
    ("1 run_series(only=None) still runs every notebook", python(only=None),
     Outcome(None, "", ["00_a.ipynb", "01_b.ipynb", "02_c.ipynb"],
             [("00_a.ipynb", "ok"), ("01_b.ipynb", "ok"), ("02_c.ipynb", "ok")])),
    ("2 unknown --preset on the command line", cli("--preset", "huge"),
     Outcome(SystemExit, "choose one of ['auto', 'colab', 'cpu', 'paper', 'quick']", **NOTHING_RUN)),
    ("2 unknown preset from Python", python(preset="Quick"),
     Outcome(ValueError, "choose one of ['auto', 'colab', 'cpu', 'paper', 'quick']", **NOTHING_RUN)),
    ("2 preset 'auto' is allowed", python(preset="auto", only=["01"]),
     Outcome(None, "", ["01_b.ipynb"], [("01_b.ipynb", "ok")])),
    ("3 Ctrl-C during the 2nd notebook", interrupted_at("01_b.ipynb"),
     Outcome(KeyboardInterrupt, "", ["00_a.ipynb", "01_b.ipynb"], [("00_a.ipynb", "ok")])),
    ("3 Ctrl-C during the 1st notebook", interrupted_at("00_a.ipynb"),
     Outcome(KeyboardInterrupt, "", ["00_a.ipynb"], [])),
    ("4 invalid JSON in the 2nd notebook", unreadable("01_b.ipynb"),
     Outcome(None, "NotJSONError", ["00_a.ipynb", "02_c.ipynb"],
             [("00_a.ipynb", "ok"), ("01_b.ipynb", "failed"), ("02_c.ipynb", "ok")])),
    ("4 invalid JSON in the 1st notebook, via the CLI", unreadable("00_a.ipynb", cli()),
     Outcome(None, "NotJSONError", ["01_b.ipynb", "02_c.ipynb"],
             [("00_a.ipynb", "failed"), ("01_b.ipynb", "ok"), ("02_c.ipynb", "ok")], returns=1)),
]


@pytest.mark.parametrize("case, trigger, expected", TABLE, ids=[row[0] for row in TABLE])
def test_series_reliability(case, trigger, expected, project, capsys):
    message = ""
    if expected.raises is None:
        returned = trigger(project)
        if expected.returns is not None:
            assert returned == expected.returns
    else:
        with pytest.raises(expected.raises) as info:
            trigger(project)
        message = str(info.value)
    message += capsys.readouterr().err
    with open(project.out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    message += " ".join(row["error"] for row in rows)
    assert expected.says in message
    assert project.executed == expected.executed
    assert [(row["notebook"], row["status"]) for row in rows] == expected.summary
