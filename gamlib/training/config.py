"""TrainConfig: what defines a training run (the reference benchmark's settings are the defaults);
RunOptions: how a run is carried out (device, progress bars, logging, compilation, saved state).

A record's specification holds the TrainConfig and none of the RunOptions: the same experiment run
on another device, or compiled, or with progress bars, is the same experiment.
Every setting is checked on construction (and by dataclasses.replace), and a bad one is a
ValueError that names it: "TrainConfig.<field> must be ..., got <value>" (see gamlib/checks.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..checks import check_choice, check_count, check_optional_count, check_real

SEED_RANGE = (-2**63, 2**64 - 1)  # what torch.manual_seed accepts


@dataclass
class TrainConfig:
    epochs: int = 5
    batch_size: int = 32
    lr: float = 3e-4
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    warmup_steps: int = 100
    seed: int = 0
    precision: str = "fp32"    # "fp32" (the paper) | "bf16" | "fp16" (autocast, CUDA only) | "auto"
    eval_batch_size: int | None = None
    log_every: int = 10        # the training-loss curve: mean loss of every `log_every` optimiser steps
    evals_per_epoch: int = 1   # the validation curve: evenly spaced evaluations per epoch (the last ends it)

    PRECISIONS = ("fp32", "bf16", "fp16", "auto")

    def __post_init__(self):
        check_choice("precision", self.precision, self.PRECISIONS)
        self.epochs = check_count("TrainConfig.epochs", self.epochs)
        self.batch_size = check_count("TrainConfig.batch_size", self.batch_size)
        self.eval_batch_size = check_optional_count("TrainConfig.eval_batch_size", self.eval_batch_size)
        self.log_every = check_count("TrainConfig.log_every", self.log_every)
        self.evals_per_epoch = check_count("TrainConfig.evals_per_epoch", self.evals_per_epoch)
        self.warmup_steps = check_count("TrainConfig.warmup_steps", self.warmup_steps, minimum=0)
        self.seed = check_count("TrainConfig.seed", self.seed, *SEED_RANGE)
        self.lr = check_real("TrainConfig.lr", self.lr, 0, low_open=True)
        self.weight_decay = check_real("TrainConfig.weight_decay", self.weight_decay, 0)
        self.grad_clip = check_real("TrainConfig.grad_clip", self.grad_clip, 0, low_open=True)
        if isinstance(self.betas, (str, bytes)) or not hasattr(self.betas, "__len__") or len(self.betas) != 2:
            raise ValueError(f"TrainConfig.betas must be a pair of real numbers in [0, 1), got {self.betas!r}")
        self.betas = tuple(check_real(f"TrainConfig.betas[{i}]", b, 0, 1, high_open=True)
                           for i, b in enumerate(self.betas))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RunOptions:
    device: str = "auto"                  # "auto" | "cuda" | "mps" | "cpu", optionally with an index: "cuda:1"
    progress: bool = True                 # progress bars and a line per epoch
    wandb_project: str | None = None      # Weights & Biases logging, off unless a project is named
    wandb_id: str | None = None           # the W&B run's id (run_lm_experiment: the spec hash): a resumed run
                                          # continues the same W&B run
    compile: bool = False                 # train through torch.compile (fit's docstring)
    save_every_steps: int | None = None   # also save the training state every N steps (None or 0: each epoch only)
    state_path: str | Path | None = None  # where the training state is saved and resumed from (None: nowhere)

    def __post_init__(self):
        if not isinstance(self.device, str):
            raise ValueError(f"RunOptions.device must be a string such as 'auto' or 'cuda:0', got {self.device!r}")
        check_choice("device", self.device.split(":")[0], ("auto", "cuda", "mps", "cpu"))
        for name in ("progress", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"RunOptions.{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("wandb_project", "wandb_id"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"RunOptions.{name} must be None or a string, got {getattr(self, name)!r}")
        self.save_every_steps = check_optional_count("RunOptions.save_every_steps", self.save_every_steps, minimum=0)
