"""TrainConfig: how a model is trained (the reference benchmark's settings are the defaults)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..checks import check_choice


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
    device: str = "auto"       # "auto" | "cuda" | "mps" | "cpu"
    precision: str = "fp32"    # "fp32" (the paper) | "bf16" | "fp16" (autocast, CUDA only) | "auto"
    eval_batch_size: int | None = None
    progress: bool = True
    wandb_project: str | None = None  # Weights & Biases logging, off unless a project is named

    PRECISIONS = ("fp32", "bf16", "fp16", "auto")

    def __post_init__(self):
        check_choice("precision", self.precision, self.PRECISIONS)
        check_choice("device", self.device.split(":")[0], ("auto", "cuda", "mps", "cpu"))
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}")

    def to_dict(self) -> dict:
        return asdict(self)
