"""Recall experiments as run records: train a model on the associative-recall task, score it by distance."""
from __future__ import annotations

import argparse
import functools
import statistics
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from ..models.config import DEFAULT_VARIANTS
from ..models.registry import build_model
from ..paths import results_dir
from ..plan import MQAR_MODELS, MQAR_SEEDS, MQAR_WIDTHS, RecallRun, mqar_seed_runs, mqar_sweep_runs
from ..presets import get_preset
from ..probes.recall import (
    RecallTask,
    StandardMQAR,
    accuracy_by_competitors,
    accuracy_by_distance,
    accuracy_by_position_and_distance,
    greedy_answers,
    make_recall_data,
    most_recent_value_answers,
)
from ..records import find_or_measure, load_records
from ..runtime import seed_everything
from ..training.config import RunOptions
from ..training.loop import fit

_cached_recall_data = functools.lru_cache(maxsize=4)(make_recall_data)  # the same sequences for every model
SCORES = ("distance", "position and distance", "competitors and distance")  # the splits a record keeps


def recall_path(preset: str, task: RecallTask | StandardMQAR, name: str, results_root=None) -> Path:
    """Where a recall record lives: results/<preset>/recall/<task.name>/<name>.json."""
    return results_dir(results_root) / preset / "recall" / task.name / f"{name}.json"


def run_recall_experiment(model: str, variant: str | None = None, preset: str = "auto", seed: int = 0,
                          task: RecallTask | StandardMQAR = RecallTask(), train_sequences: int = 4000,
                          eval_sequences: int = 1000, results_root=None, force: bool = False, device: str = "auto",
                          width: int | None = None, name: str | None = None, lookup_only: bool = False,
                          **train_overrides) -> dict | None:
    """Train `model` (with the preset's model fields, dropout 0) on the recall task; return its record.

    The record (kind 'recall') goes to results/<preset>/recall/<task.name>/<name>.json (name: by default
    <model>-<variant>-seed<N>) and is reused when its specification matches, unless force=True. `width` replaces
    the preset's n_embd; lookup_only=True trains nothing (the finished record or None). `train_overrides` change
    the preset's TrainConfig (e.g. epochs, lr); a recall run evaluates once per epoch unless they say otherwise.
    Any model of the registry runs, e.g. ('gam', 'context').
    It trains without progress bars, on `device` (a RunOptions field, not part of the specification).
    The standard task (StandardMQAR) asks at distances it draws itself: its competitors split is None.
    """
    settings = get_preset(preset)
    variant = variant or DEFAULT_VARIANTS.get(model, "")
    scores = SCORES if isinstance(task, RecallTask) else SCORES[:2]
    config = replace(settings.train, **{"seed": seed, "evals_per_epoch": 1, **train_overrides})
    options = RunOptions(device=device, progress=False)
    fields = settings.model_fields(vocab_size=task.vocab_size, block_size=task.seq_len, dropout=0.0,
                                   **({"n_embd": width} if width else {}))
    spec = {"kind": "recall", "model": model, "variant": variant, "preset": settings.name, "fields": fields,
            "task": asdict(task), "train_sequences": train_sequences, "eval_sequences": eval_sequences,
            "train_config": config.to_dict(), "scores": scores}
    path = recall_path(settings.name, task, name or f"{model}-{variant}-seed{seed}", results_root)

    def measure() -> tuple[dict, str]:
        train = _cached_recall_data(task, train_sequences, seed=1000 + seed)  # the same for every model
        test = _cached_recall_data(task, eval_sequences, seed=2000 + seed)    # fresh sequences
        seed_everything(seed)
        net = build_model(model, variant, **fields)
        history = fit(net, train.chunks, test.chunks, config, options)
        answers = greedy_answers(net, test)
        accuracy = accuracy_by_distance(answers, test.chunks.targets, test.distance)
        return {
            "kind": "recall", "model": model, "variant": variant, "preset": settings.name, "seed": seed,
            "model_config": net.config.to_dict(), "train_config": config.to_dict(), "task": asdict(task),
            "train_sequences": train_sequences, "eval_sequences": eval_sequences, "params": net.num_params(),
            "receptive_field": getattr(net.config, "receptive_field", None),
            "mamba_backend": getattr(net, "backend", None),
            "accuracy": accuracy,
            "accuracy_by_position": accuracy_by_position_and_distance(answers, test.chunks.targets, test.distance),
            "accuracy_by_competitors": accuracy_by_competitors(answers, test) if SCORES[2] in scores else None,
            "metrics": {"val_loss": history["epochs"][-1]["val_loss"],
                        "mean_accuracy": statistics.mean(row["accuracy"] for row in accuracy),
                        "tokens_per_s": statistics.median(e["tokens_per_s"] for e in history["epochs"])},
            "history": history,
        }, history["device"]

    return find_or_measure(path, spec, measure, force=force, lookup_only=lookup_only)


# The standard-recall grid of the study plan (gamlib.plan.mqar_sweep_runs, mqar_seed_runs): one task and one
# training budget for every run, sized for a 2-core CPU (2-layer models, 4,000 steps, 1.5-8 minutes a run). Probes
# on this budget: at 128 tokens and 8 pairs (1,250 steps of 32) every model stayed at chance; at 64 tokens and 4 pairs
# the Transformer leaves chance after about 1,500 steps.
MQAR_GRID_TASK = StandardMQAR(vocab_size=512, seq_len=64, pairs=4)
MQAR_GRID_TRAINING = {"train_sequences": 64_000, "eval_sequences": 1_000, "epochs": 1, "batch_size": 16}
# The GPU plan's grid (gamlib.experiments.gpu_session, job 6; widths gamlib.plan.MQAR_GPU_WIDTHS): the field's sizes
# (Zoology: an 8,192-token vocabulary, 256 tokens, 16 pairs) and 12,500 steps of 64 sequences a run.
MQAR_GPU_TASK = StandardMQAR(vocab_size=8192, seq_len=256, pairs=16)
MQAR_GPU_TRAINING = {"train_sequences": 100_000, "eval_sequences": 3_000, "epochs": 8, "batch_size": 64}


def run_mqar_run(run: RecallRun, preset: str = "quick", results_root=None, force: bool = False, device: str = "auto",
                 task: StandardMQAR = MQAR_GRID_TASK, training: dict = MQAR_GRID_TRAINING,
                 lookup_only: bool = False) -> dict | None:
    """Train one run of the standard-recall grid (its width and lr on the preset's depth); return its record
    (lookup_only=True: the finished record or None, nothing trained)."""
    return run_recall_experiment(run.model, run.variant, preset, run.seed, task=task, results_root=results_root,
                                 force=force, device=device, width=run.width, name=run.name, lookup_only=lookup_only,
                                 lr=run.lr, **training)


def pooled_accuracy(rows: list[dict]) -> float:
    """Correct answers over questions, pooled over distances (each question counts once)."""
    return sum(row["correct"] for row in rows) / sum(row["queries"] for row in rows)


def mqar_records(preset: str = "quick", results_root=None, task: StandardMQAR = MQAR_GRID_TASK) -> pd.DataFrame:
    """A grid's recall records (those of `task`) of a preset."""
    records = load_records(results_root, kind="recall", preset=get_preset(preset).name)
    if records.empty:
        return records
    return records[[r["task"] == asdict(task) for r in records["record"]]]


def mqar_points(records: pd.DataFrame) -> pd.DataFrame:
    """One row per grid record: model, variant, width, lr, seed, accuracy (pooled over questions), val_loss."""
    return pd.DataFrame([{"model": r["model"], "variant": r["variant"], "width": r["model_config"]["n_embd"],
                          "lr": r["train_config"]["lr"], "seed": r["seed"], "accuracy": pooled_accuracy(r["accuracy"]),
                          "val_loss": r["metrics"]["val_loss"]} for r in records["record"]],
                        columns=["model", "variant", "width", "lr", "seed", "accuracy", "val_loss"])


def mqar_best_lr(records: pd.DataFrame) -> dict:
    """(model, variant, width) -> the lr whose first-seed record answers most questions (ties: the lower loss).
    `records`: load_records(kind="recall") rows of the grid's task."""
    best = {}
    for point in mqar_points(records).itertuples():
        key, score = (point.model, point.variant, point.width), (point.accuracy, -point.val_loss)
        if point.seed == MQAR_SEEDS[0] and (key not in best or score > best[key][0]):
            best[key] = (score, float(point.lr))
    return {key: lr for key, (_, lr) in best.items()}


def mqar_table(records: pd.DataFrame, task: StandardMQAR = MQAR_GRID_TASK) -> pd.DataFrame:
    """Per (model, variant, width): the best lr of the sweep, the seeds run at it, their accuracy (pooled over
    questions) as mean and std, and the "copy the most recent value" shortcut on the same evaluation sequences."""
    best = mqar_best_lr(records)
    rows = []
    for (model, variant, width), lr in best.items():
        runs = [r for r in records["record"] if (r["model"], r["variant"], r["model_config"]["n_embd"]) ==
                (model, variant, width) and r["train_config"]["lr"] == lr]
        accuracy = [pooled_accuracy(r["accuracy"]) for r in runs]
        shortcut = []
        for r in runs:
            test = _cached_recall_data(task, r["eval_sequences"], seed=2000 + r["seed"])
            shortcut.append(pooled_accuracy(accuracy_by_distance(most_recent_value_answers(test),
                                                                  test.chunks.targets, test.distance)))
        rows.append({"model": f"{model} {variant}", "width": width, "best lr": lr,
                     "seeds": tuple(sorted(r["seed"] for r in runs)), "accuracy": statistics.mean(accuracy),
                     "std": statistics.stdev(accuracy) if len(accuracy) > 1 else float("nan"),
                     "shortcut accuracy": statistics.mean(shortcut), "chance": task.chance})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The standard-recall grid of the study plan: the lr sweep of the "
                                     "first seed, then the other seeds at each row's best lr (finished runs reused)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--stage", choices=("sweep", "seeds", "all"), default="all")
    parser.add_argument("--widths", type=int, nargs="+", default=list(MQAR_WIDTHS))
    parser.add_argument("--models", nargs="+", default=None, help="family/variant, e.g. gam/full (default: all)")
    parser.add_argument("--results", default=None)
    args = parser.parse_args(argv)
    models = [tuple(m.split("/", 1)) for m in args.models] if args.models else MQAR_MODELS
    runs = mqar_sweep_runs(models, args.widths) if args.stage in ("sweep", "all") else []
    for run in runs:
        record = run_mqar_run(run, args.preset, args.results)
        print(f"{run.name}: accuracy {pooled_accuracy(record['accuracy']):.3f}, val loss "
              f"{record['metrics']['val_loss']:.3f}, {record['wall_s']:.0f} s", flush=True)
    if args.stage in ("seeds", "all"):
        best = {key: lr for key, lr in mqar_best_lr(mqar_records(args.preset, args.results)).items()
                if key[:2] in models and key[2] in args.widths}
        for run in mqar_seed_runs(best):
            record = run_mqar_run(run, args.preset, args.results)
            print(f"{run.name}: accuracy {pooled_accuracy(record['accuracy']):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
