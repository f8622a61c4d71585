"""Recall experiments as run records: train a model on the associative-recall task, score it by distance."""
from __future__ import annotations

import functools
import statistics
from dataclasses import asdict, replace

from ..models.config import DEFAULT_VARIANTS
from ..models.registry import build_model
from ..paths import results_dir
from ..presets import get_preset
from ..probes.recall import (
    RecallTask,
    StandardMQAR,
    accuracy_by_competitors,
    accuracy_by_distance,
    accuracy_by_position_and_distance,
    greedy_answers,
    make_recall_data,
)
from ..records import find_or_measure
from ..runtime import seed_everything
from ..training.config import RunOptions
from ..training.loop import fit

_cached_recall_data = functools.lru_cache(maxsize=4)(make_recall_data)  # the same sequences for every model
SCORES = ("distance", "position and distance", "competitors and distance")  # the splits a record keeps


def run_recall_experiment(model: str, variant: str | None = None, preset: str = "auto", seed: int = 0,
                          task: RecallTask | StandardMQAR = RecallTask(), train_sequences: int = 4000,
                          eval_sequences: int = 1000, results_root=None, force: bool = False, device: str = "auto",
                          **train_overrides) -> dict:
    """Train `model` (with the preset's model fields, dropout 0) on the recall task; return its record.

    The record (kind 'recall') goes to results/<preset>/recall/<task.name>/<model>-<variant>-seed<N>.json and is
    reused when its specification matches, unless force=True. `train_overrides` change the
    preset's TrainConfig (e.g. epochs, lr). Any model of the registry runs, e.g. ('gam', 'context').
    It trains without progress bars, on `device` (a RunOptions field, not part of the specification).
    The standard task (StandardMQAR) asks at distances it draws itself: its competitors split is None.
    """
    settings = get_preset(preset)
    variant = variant or DEFAULT_VARIANTS.get(model, "")
    scores = SCORES if isinstance(task, RecallTask) else SCORES[:2]
    config = replace(settings.train, seed=seed, **train_overrides)
    options = RunOptions(device=device, progress=False)
    fields = settings.model_fields(vocab_size=task.vocab_size, block_size=task.seq_len, dropout=0.0)
    spec = {"kind": "recall", "model": model, "variant": variant, "preset": settings.name, "fields": fields,
            "task": asdict(task), "train_sequences": train_sequences, "eval_sequences": eval_sequences,
            "train_config": config.to_dict(), "scores": scores}
    path = results_dir(results_root) / settings.name / "recall" / task.name / f"{model}-{variant}-seed{seed}.json"

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

    return find_or_measure(path, spec, measure, force=force)
