"""Run the notebook series headlessly with papermill.

    python -m gamlib.series                       # every notebook on its defaults, into runs/default/
    python -m gamlib.series --preset paper --only 07 09 --output runs/gpu
    python -m gamlib.series --in-place            # re-execute the committed notebooks themselves

Each notebook gets those of the given parameters (preset, seed, data_dir) that its `parameters`
cell declares; parameters not given keep the notebook's defaults (preset "auto");
the executed copies and a summary (notebook, status, seconds) go to the output folder.
The exit status is non-zero if any notebook failed.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import papermill

from .paths import project_root


def notebooks(folder: Path, only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks NN_name.ipynb in order, optionally only those whose number is in `only`."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = set(only) - {p.name[:2] for p in found}
        if unknown:
            raise ValueError(f"no notebook numbered {sorted(unknown)} in {folder}; have {[p.name[:2] for p in found]}")
        found = [p for p in found if p.name[:2] in only]
    return found


def run_series(preset: str | None = None, output: Path | None = None, only: list[str] | None = None,
               seed: int | None = None, data_dir: str | None = None, folder: Path | None = None,
               in_place: bool = False) -> list[dict]:
    """Execute the notebooks; `in_place` overwrites them (the summary then goes to runs/in-place/)."""
    root = project_root() or Path.cwd()
    folder = Path(folder or root / "notebooks")
    if in_place and output is not None:
        raise ValueError("give either an output folder or in_place=True, not both")
    summary_dir = Path(output or root / "runs" / ("in-place" if in_place else preset or "default"))
    output = folder if in_place else summary_dir
    summary_dir.mkdir(parents=True, exist_ok=True)
    wanted = {"preset": preset, "seed": seed, "data_dir": data_dir}
    summary = []
    for path in notebooks(folder, only):
        declared = papermill.inspect_notebook(str(path))
        parameters = {k: v for k, v in wanted.items() if k in declared and v is not None}
        start = time.perf_counter()
        status, error = "ok", ""
        try:
            papermill.execute_notebook(str(path), str(output / path.name), parameters=parameters,
                                       cwd=str(folder), progress_bar=False, kernel_name="python3")
        except Exception as exc:  # a failed notebook is reported, the series goes on
            status, error = "failed", f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}"
        seconds = time.perf_counter() - start
        summary.append({"notebook": path.name, "status": status, "seconds": round(seconds, 1), "error": error})
        print(f"{path.name:<34} {status:<7} {seconds:7.1f} s  {error}", flush=True)
    with open(summary_dir / "summary.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["notebook", "status", "seconds", "error"])
        writer.writeheader()
        writer.writerows(summary)
    total = sum(row["seconds"] for row in summary)
    print(f"{sum(r['status'] == 'ok' for r in summary)}/{len(summary)} notebooks ok in {total:.0f} s; "
          f"executed notebooks in {output}, summary.csv in {summary_dir}")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Execute the notebook series headlessly (papermill).")
    parser.add_argument("--preset", default=None,
                        help="quick | colab | paper | auto (default: each notebook's own default, auto)")
    parser.add_argument("--output", default=None, help="folder for executed notebooks (default runs/<preset>)")
    parser.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. --only 00 05")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR)")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks with their executed copies")
    args = parser.parse_args(argv)
    summary = run_series(args.preset, args.output, args.only, args.seed, args.data_dir, in_place=args.in_place)
    if not summary:
        print("no notebooks found", file=sys.stderr)
        return 1
    return 0 if all(row["status"] == "ok" for row in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
