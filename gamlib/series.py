"""Run the notebook series headlessly with papermill.

    python -m gamlib.series                       # every notebook on its defaults, into runs/default/
    python -m gamlib.series --preset paper --only 07 09 --output runs/gpu
    python -m gamlib.series --in-place            # re-execute the committed notebooks themselves

Each notebook gets those of the given parameters (preset, seed, data_dir) that its `parameters`
cell declares; parameters not given keep the notebook's defaults (preset "auto");
the executed copies and a summary (notebook, status, seconds, error) go to the output folder.
The preset and the notebook numbers are checked before any notebook runs. summary.csv is
rewritten (atomically) after every notebook, so an interrupted run leaves the rows done so far,
never an earlier run's summary. A notebook that fails, or cannot even be read, is reported as
failed and the series goes on. The exit status is non-zero if any notebook failed.
Every notebook that runs through is normalised (gamlib.notebook_files: no timestamps, run metadata or widget
state), so an in-place run changes a committed notebook only where its sources or outputs change.
`--log-output` prints each cell's output while it runs (long presets); kernels talk over IPC, not TCP.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import papermill
from traitlets.config import Config

from .checks import check_choice
from .files import atomic_write_text
from .notebook_files import normalise_file
from .paths import project_root
from .presets import PRESETS

SUMMARY_FIELDS = ["notebook", "status", "seconds", "error"]
# Local sockets (no unencrypted-TCP warning), named under the temporary folder: a killed run leaves them there,
# not in the checkout.
KERNEL_CONFIG = Config({"KernelManager": {"transport": "ipc",
                                          "ip": os.path.join(tempfile.gettempdir(), f"gamlib-kernel-{os.getpid()}")}})


def check_only(only: list[str] | None) -> None:
    """None means every notebook; an empty list is a mistake (e.g. a bare --only), not 'all'."""
    if only is not None and len(only) == 0:
        raise ValueError("--only is empty: give notebook numbers, e.g. --only 00 05 "
                         "(leave --only out to run every notebook)")


def check_preset(preset: str | None) -> None:
    """None keeps each notebook's own default; otherwise one of gamlib.presets.PRESETS or 'auto'."""
    if preset is not None:
        check_choice("preset", preset, (*PRESETS, "auto"))


def notebooks(folder: Path, only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks NN_name.ipynb in order, optionally only those whose number is in `only`."""
    check_only(only)
    found = sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if only is not None:
        unknown = set(only) - {p.name[:2] for p in found}
        if unknown:
            raise ValueError(f"no notebook numbered {sorted(unknown)} in {folder}; have {[p.name[:2] for p in found]}")
        found = [p for p in found if p.name[:2] in only]
    return found


def write_summary(path: Path, rows: list[dict]) -> Path:
    """summary.csv with a header and `rows`, replacing the file in one atomic step."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buffer.getvalue())


def describe_error(exc: BaseException) -> str:
    """'Type: last line of the message' (300 characters at most), also for an empty message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1][:300]}" if lines else type(exc).__name__


def run_series(preset: str | None = None, output: Path | None = None, only: list[str] | None = None,
               seed: int | None = None, data_dir: str | None = None, folder: Path | None = None,
               in_place: bool = False, log_output: bool = False) -> list[dict]:
    """Execute the notebooks; `in_place` overwrites them (the summary then goes to runs/in-place/).

    Figures: a batch run saves them beside its executed notebooks (<output>/figures/), so running the
    series never rewrites the checkout's figures/ (git-ignored PNGs; the notebooks embed theirs); only an in-place run
    (re-executing the committed notebooks on purpose) updates figures/. A GAMLIB_FIGURES_DIR you set yourself wins.

    Raises ValueError before any notebook runs for an unknown preset, an empty `only`
    (None means every notebook) or a notebook number that does not exist.
    """
    check_preset(preset)
    root = project_root() or Path.cwd()
    folder = Path(folder or root / "notebooks")
    if in_place and output is not None:
        raise ValueError("give either an output folder or in_place=True, not both")
    selected = notebooks(folder, only)
    summary_dir = Path(output or root / "runs" / ("in-place" if in_place else preset or "default"))
    output = folder if in_place else summary_dir
    summary_path = summary_dir / "summary.csv"
    summary: list[dict] = []
    write_summary(summary_path, summary)  # an earlier run's summary never outlives this run's start
    wanted = {"preset": preset, "seed": seed, "data_dir": data_dir}
    if log_output:
        show_cell_output()
    with kernel_environment(None if in_place else Path(output) / "figures"):
        for path in selected:
            summary.append(run_one(path, output, folder, wanted, log_output))
            write_summary(summary_path, summary)
            row = summary[-1]
            print(f"{path.name:<34} {row['status']:<7} {row['seconds']:7.1f} s  {row['error']}", flush=True)
    total = sum(row["seconds"] for row in summary)
    print(f"{sum(r['status'] == 'ok' for r in summary)}/{len(summary)} notebooks ok in {total:.0f} s; "
          f"executed notebooks in {output}, summary.csv in {summary_dir}")
    return summary


def run_one(path: Path, output: Path, folder: Path, wanted: dict, log_output: bool = False) -> dict:
    """Execute one notebook into `output`, normalised; its summary row (a failure is reported, never raised)."""
    start = time.perf_counter()
    status, error = "ok", ""
    executed = output / path.name
    try:
        declared = papermill.inspect_notebook(str(path))  # raises for an unreadable notebook
        parameters = {k: v for k, v in wanted.items() if k in declared and v is not None}
        papermill.execute_notebook(str(path), str(executed), parameters=parameters, cwd=str(folder),
                                   progress_bar=False, log_output=log_output, kernel_name="python3",
                                   config=KERNEL_CONFIG)
    except Exception as exc:  # a failed or unreadable notebook is reported, the series goes on
        status, error = "failed", describe_error(exc)
    if executed.exists() and status == "ok":
        normalise_file(executed)
    return {"notebook": path.name, "status": status, "seconds": round(time.perf_counter() - start, 1), "error": error}


def show_cell_output() -> None:
    """Papermill's log_output goes to its logger: print that logger's messages on stdout as they come."""
    logger = logging.getLogger("papermill")
    if not any(getattr(handler, "gamlib_series", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.gamlib_series = True
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@contextlib.contextmanager
def kernel_environment(figures: Path | None):
    """While running, the environment the kernels inherit: GAMLIB_FIGURES_DIR = `figures` unless the user set
    it, and no MPLBACKEND (a headless MPLBACKEND=Agg would make plt.show() embed nothing, leaving the executed
    notebooks without figures; papermill's kernels draw inline, as in JupyterLab). Restored afterwards."""
    previous = {name: os.environ.get(name) for name in ("GAMLIB_FIGURES_DIR", "MPLBACKEND")}
    if figures is not None and previous["GAMLIB_FIGURES_DIR"] is None:
        os.environ["GAMLIB_FIGURES_DIR"] = str(figures.resolve())
    os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Execute the notebook series headlessly (papermill).")
    parser.add_argument("--preset", default=None,
                        help="quick | cpu | colab | paper | auto (default: each notebook's own default, auto)")
    parser.add_argument("--output", default=None, help="folder for executed notebooks (default runs/<preset>)")
    parser.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. --only 00 05")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR)")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks with their executed copies")
    parser.add_argument("--log-output", action="store_true", help="print each cell's output while it runs")
    args = parser.parse_args(argv)
    try:  # the same checks run_series makes, reported as usage errors before anything runs
        check_only(args.only)
        check_preset(args.preset)
        if args.in_place and args.output is not None:
            raise ValueError("give either --output or --in-place, not both")
    except ValueError as exc:
        parser.error(str(exc))
    summary = run_series(args.preset, args.output, args.only, args.seed, args.data_dir, in_place=args.in_place,
                         log_output=args.log_output)
    if not summary:
        print("no notebooks found", file=sys.stderr)
        return 1
    return 0 if all(row["status"] == "ok" for row in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
