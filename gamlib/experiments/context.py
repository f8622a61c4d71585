"""Does context pay? A trained model's validation loss at each position of a chunk, as a record.

A model at position t of a chunk has read t + 1 tokens, so one validation pass gives its loss as a function of
how much context it has read. A model that uses far context keeps improving along the chunk; one whose
predictions see only its last R tokens (GAM: R = L(K-1)+1, its receptive field) goes flat from position R - 1.

    run_context_experiment(run, preset)   train (or reuse) `run` with its weights kept, in a scratch folder, and
                                          measure its loss by position -> a record (kind 'context') at
                                          results/<preset>/context/<model>-<variant>-seed<N>.json
    python -m gamlib.experiments.context --preset cpu [--seeds 0]   every run of gamlib.plan.context_runs

The training run is the study's own (same specification), retrained because the study keeps no weights; the
record compares its final validation loss with the committed record's (same seed, same machine type: equal up
to floating-point nondeterminism).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data import load_lm_data
from ..paths import project_root, results_dir
from ..plan import Run, context_runs
from ..presets import get_preset
from ..records import find_or_measure, read_record
from .lm import load_checkpoint, record_path, run_lm_experiment

LANDMARKS = (1, 2, 4, 8, 16, 32, 64, 128, 256)   # positions (tokens read) the record names in its summary


@torch.no_grad()
def loss_by_position(net, chunks, batch_size: int = 64) -> list[float]:
    """Mean cross-entropy (nats) at each position t of the chunks (inputs (N, T), targets (N, T)): a list of T
    values; entry t is the loss after reading t + 1 tokens."""
    net.eval()
    total = torch.zeros(chunks.inputs.shape[1], dtype=torch.float64)
    for start in range(0, len(chunks.inputs), batch_size):
        x, y = chunks.inputs[start:start + batch_size], chunks.targets[start:start + batch_size]
        logits, _ = net(x)                                                       # (B, T, V)
        loss = F.cross_entropy(logits.transpose(1, 2), y, reduction="none")      # (B, T)
        total += loss.double().sum(dim=0)
    return (total / len(chunks.inputs)).tolist()


def context_spec(run: Run, preset, fingerprint: dict) -> dict:
    """What defines a context record (its spec hash): the run, the preset's model and training, the data."""
    return {"kind": "context", "run": [run.model, run.variant, run.dataset, run.seed], "preset": preset.name,
            "model_fields": preset.model.fields(), "train_config": preset.train.to_dict(),
            "data_fingerprint": {k: v for k, v in fingerprint.items() if k != "source"}}


def run_context_experiment(run: Run, preset="cpu", results_root=None, scratch_root=None, data_dir=None,
                           force: bool = False) -> dict:
    """The loss-by-position record of one run of the plan's context experiment (see the module docstring).
    scratch_root: where the retrained run and its weights go (default runs/context-checkpoints/ of the checkout)."""
    preset = get_preset(preset)
    scratch = Path(scratch_root) if scratch_root else (project_root() or Path.cwd()) / "runs" / "context-checkpoints"
    data = load_lm_data(run.dataset, data_dir=data_dir, **preset.data_kwargs())
    study = read_record(record_path(results_root, preset.name, run.dataset, run.model, run.variant, run.seed))
    spec = context_spec(run, preset, data.fingerprint)
    path = results_dir(results_root) / preset.name / "context" / f"{run.model}-{run.variant}-seed{run.seed}.json"

    def measure() -> tuple[dict, str]:
        trained = run_lm_experiment(run.model, run.variant, run.dataset, preset, run.seed, results_root=scratch,
                                    data_dir=data_dir, checkpoint=True, progress=False)
        net = load_checkpoint(trained)
        curve = loss_by_position(net, data.validation)
        if not all(math.isfinite(loss) for loss in curve):
            raise ValueError(f"{run.describe()} diverged when retrained (validation loss "
                             f"{trained['metrics']['val_loss']}; the study's record: "
                             f"{study['metrics']['val_loss'] if study else 'none'}), so no context record is written; "
                             f"its retrained run is in {scratch}")
        T = len(curve)
        return {"kind": "context", "preset": preset.name, "model": run.model, "variant": run.variant,
                "dataset": run.dataset, "seed": run.seed, "receptive_field": net.receptive_field,
                "loss_by_position": curve,
                "loss_at": {str(k): curve[k - 1] for k in LANDMARKS if k <= T},
                "val_loss": sum(curve) / T, "retrained_val_loss": trained["metrics"]["val_loss"],
                "study_val_loss": study["metrics"]["val_loss"] if study else None,
                "training_spec_hash": trained["spec_hash"]}, trained["provenance"]["device"]

    return find_or_measure(path, spec, measure, force=force)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Loss by position (does context pay?) for the runs of the plan's "
                                     "context experiment: retrains each with its weights kept, then one pass")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the preset's")
    parser.add_argument("--results", default=None)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    preset = get_preset(args.preset)
    for run in context_runs(preset, args.seeds):
        record = run_context_experiment(run, preset, args.results, data_dir=args.data_dir)
        at = record["loss_at"]
        print(f"{run.describe()}: loss at 1 / {list(at)[-1]} tokens read {at['1']:.3f} / {list(at.values())[-1]:.3f}, "
              f"mean {record['val_loss']:.4f} (retrained {record['retrained_val_loss']:.4f}, the study's "
              f"{record['study_val_loss']})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
