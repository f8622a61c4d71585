"""A study in one command: Tables 1, 2 and 3 of a preset, resumable, with a time
estimate first, a progress bar over runs with an ETA, and a summary table at the end.

    gam-study --preset cpu                                # = python scripts/study.py --preset cpu: the CPU study
    python scripts/study.py --preset cpu                  # (docs: README "The studies")
    python scripts/study.py                               # cpu on a CPU machine, paper on a CUDA one
    python scripts/study.py --estimate-only --preset paper --gpu H100   # the estimate only; trains nothing
    python scripts/study.py --preset cpu --summary        # Tables 1 and 3 from the records there are
    python scripts/study.py --preset paper --only table1 --datasets wikitext2 --models gam:full --seeds 0 1 2
    python scripts/study.py --preset paper --compile      # train through torch.compile (long CUDA runs)
    python scripts/study.py --preset paper --wandb-project gam   # also log the runs trained to Weights & Biases
    python scripts/study.py --recount                     # count the estimate's bytes per token again

What runs is the study plan (gamlib.plan): Table 1 (the preset's Table 1 models on WikiText-2 and TinyStories,
its seed rule), Table 3 (the four GAM variants on WikiText-2; the `full` runs are Table 1's) and its
parameter-matched form (table3_matched), Table 2 (gamlib.run_scaling: on CUDA for a GPU preset, on the CPU for the
cpu study), and, when the preset trains one attention only, every Table 1 model timed side
by side (gamlib.run_training_benchmark). Every run is a record under results/<preset>/ (or --results /
$GAMLIB_RESULTS_DIR): a finished record is reused, and an interrupted training resumes from its saved state, so
running the same command again continues where it stopped.

The estimate before a run: for a preset sized for a CPU, a measurement (two timed training steps of each model
here, extrapolated); for a GPU preset, arithmetic on stated assumptions (gamlib.experiments.cost says which).
Presets sized for a GPU refuse to train on a machine without CUDA.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from .analysis.tables import display_study_table, lr_sweep_table, study_table
from .experiments.cost import GPU_CLASSES, detect_gpu_class, measured_run_seconds, recount_lines
from .experiments.study import gpu_estimate_lines, hours, measured_estimate_lines, run_study, train_runs
from .models.mamba import mamba_ssm_available
from .plan import TABLE1_DATASETS, TABLES, lr_sweep_runs, planned_runs, study_models
from .presets import get_preset
from .records import load_records

SUMMARY_COLUMNS = ["dataset", "model", "seeds", "val loss (nats)", "below unigram", "Δ loss vs GAM full",
                   "2 × pooled std", "|Δ| > 2 × pooled std"]


def print_summary(preset, results=None) -> None:
    """Tables 1 and 3 of this preset from the records there are (gamlib.study_table)."""
    records = load_records(results, kind="lm")
    titles = {"table1": "Table 1", "table3": "Table 3", "table3_matched": "Table 3, parameter-matched"}
    for table, title in titles.items():
        shown = display_study_table(study_table(records, table, presets=(preset.name,)))
        print(f"\n{title}, preset {preset.name!r} (val loss in nats per token):")
        print(shown[SUMMARY_COLUMNS].to_string(index=False))


def print_lr_sweep(preset, results=None) -> None:
    """The lr sweep's table from the records there are (gamlib.lr_sweep_table)."""
    table = lr_sweep_table(load_records(results, kind="lm"), preset.name)
    if table.empty:
        print(f"\nlr sweep, preset {preset.name!r}: no runs yet "
              f"(scripts/study.py --preset {preset.name} --lr-sweep LR ...)")
        return
    print(f"\nlr sweep, preset {preset.name!r}, WikiText-2 (val loss in nats per token; * the best lr of each model):")
    print(table.assign(best=table["best"].map({True: "*", False: ""}))[
        ["model", "variant", "seed", "lr", "val_loss", "below_unigram", "best"]].to_string(index=False))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default=None, help="cpu | paper | colab | quick (default: paper on a CUDA machine, "
                   "cpu elsewhere)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the study plan's")
    p.add_argument("--only", nargs="+", choices=sorted({"table2", *TABLES}), default=None)
    p.add_argument("--datasets", nargs="+", choices=TABLE1_DATASETS, default=TABLE1_DATASETS,
                   help="train only on these datasets (default: both)")
    p.add_argument("--models", nargs="+", default=None, metavar="MODEL:VARIANT",
                   help="train only these, e.g. gam:full transformer:sdpa (default: every model of the tables)")
    p.add_argument("--gpu", choices=sorted(GPU_CLASSES), default=None,
                   help="GPU class of the estimate (default: the visible GPU's, else all)")
    p.add_argument("--mamba-backend", choices=("auto", "mamba_ssm", "mambapy"), default="auto",
                   help="for the estimate: auto = what this machine would use")
    p.add_argument("--estimate-only", action="store_true", help="print the estimate and stop")
    p.add_argument("--summary", action="store_true",
                   help="print Tables 1 and 3 from the records there are (which runs exist) and stop")
    p.add_argument("--recount", action="store_true", help="count the estimate's bytes per token again and print them")
    p.add_argument("--yes", action="store_true", help="start without the 10-second pause after the estimate")
    p.add_argument("--results", default=None, help="results folder (default: $GAMLIB_RESULTS_DIR or results/)")
    p.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR, else the hub)")
    p.add_argument("--no-benchmark", action="store_true",
                   help="skip the side-by-side training benchmark (when another process shares the machine)")
    p.add_argument("--save-every", type=int, default=500, help="also save the training state every N steps")
    p.add_argument("--compile", action="store_true",
                   help="train through torch.compile (for long CUDA runs; compiling takes minutes; off by default)")
    p.add_argument("--wandb-project", default=None, metavar="PROJECT",
                   help="log each run trained to this Weights & Biases project (pip install wandb), one W&B run per "
                        "run, resumed with it; finished records are still reused")
    p.add_argument("--lr-sweep", type=float, nargs="+", default=None, metavar="LR",
                   help="instead of the tables: train the first seed of each Table 1 model (or of --models) on "
                        "WikiText-2 at these learning rates, beside the preset's own lr; records go to "
                        "<preset>/lr-sweep/ and never replace the tables' runs")
    return p


def chosen_models(args, preset, error) -> list[tuple[str, str]] | None:
    """--models as (model, variant) pairs of the study, or None for all."""
    if not args.models:
        return None
    models = [tuple(m.split(":", 1)) for m in args.models]
    known = study_models(preset)
    unknown = [":".join(m) for m in models if m not in known]
    if unknown:
        choices = " ".join(sorted(":".join(m) for m in known))
        error(f"--models {' '.join(unknown)}: not in the tables; choose from {choices}")
    return models


def estimate(args, preset, runs, tables) -> dict | None:
    """Print the estimate; return {run: seconds} when it was measured here (a CPU preset), else None."""
    if preset.hardware == "cpu":
        seconds = measured_run_seconds(preset, runs, args.data_dir)
        print("\n".join(measured_estimate_lines(preset, runs, seconds)))
        return seconds
    backend = args.mamba_backend if args.mamba_backend != "auto" else (
        "mamba_ssm" if mamba_ssm_available() else "mambapy")
    detected = detect_gpu_class()
    if detected and not args.gpu:
        print(f"GPU: {torch.cuda.get_device_name(0)} -> estimated as class {detected}")
    gpus = [args.gpu] if args.gpu else ([detected] if detected else list(GPU_CLASSES))
    print("\n".join(gpu_estimate_lines(preset, runs, tables, gpus, backend)[0]))
    return None


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.recount:
        print("\n".join(recount_lines()))
        return 0
    preset = get_preset(args.preset or ("paper" if torch.cuda.is_available() else "cpu"))
    models = chosen_models(args, preset, p.error)
    if args.gpu and preset.hardware == "cpu":
        p.error(f"--gpu estimates a GPU preset (paper, colab); {preset.name!r} is sized for a CPU: its estimate "
                "is measured here, without --gpu")
    if args.summary:
        print_summary(preset, args.results)
        print_lr_sweep(preset, args.results)
        return 0
    tables = tuple(args.only or (*TABLES, "table2"))
    if args.lr_sweep:
        runs = lr_sweep_runs(preset, args.lr_sweep, args.seeds[0] if args.seeds else None, models)
    else:
        runs = planned_runs(preset, tables, args.seeds, args.datasets, models)
    seconds = estimate(args, preset, runs, tables)
    if args.estimate_only:
        return 0
    if preset.hardware == "gpu" and not torch.cuda.is_available():
        print(f"\nstudy: no CUDA GPU is visible, so nothing was started. Preset {preset.name!r} is sized for a GPU (it "
              "would take days on a CPU); --preset cpu is the study sized for a CPU; --estimate-only works anywhere.",
              file=sys.stderr)
        return 2
    if not args.yes:
        print("\nstarting in 10 s (Ctrl-C to stop; the same command resumes later) ...", flush=True)
        time.sleep(10)
    started = time.perf_counter()
    try:
        if args.lr_sweep:
            train_runs(preset, runs, args.results, args.data_dir, args.save_every, seconds, args.compile,
                       args.wandb_project)
            print_lr_sweep(preset, args.results)
            return 0
        run_study(preset, runs, tables, args.results, args.data_dir, args.save_every, seconds,
                  benchmark=not args.no_benchmark, compile=args.compile, wandb_project=args.wandb_project)
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume (finished runs are reused, the interrupted "
              "one continues from its last saved state)", file=sys.stderr)
        return 130
    print(f"all done in {hours(time.perf_counter() - started).strip()}")
    print_summary(preset, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
