"""Training and evaluation, as the reference benchmark (REFERENCE.md section 3):
AdamW (betas 0.9/0.95, weight decay on all parameters), linear warm-up then cosine to 0,
gradient clipping, validation loss = mean of per-batch mean losses, perplexity = exp(loss).

Added for a series that must be repeatable: seeds, device auto-selection, optional autocast
on CUDA, tqdm progress bars, tokens/s, and a history that the run record stores.
"""
from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import asdict, dataclass

import torch

from .config import check_choice
from .data import TokenChunks


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


def pick_device(requested: str = "auto") -> torch.device:
    """'auto' -> cuda if available, else mps, else cpu; an explicit device must exist."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available; use device='auto'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device 'mps' requested but MPS is not available; use device='auto'")
    return device


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return device.type


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> bf16 on a CUDA GPU that supports it, fp16 on an older GPU, fp32 elsewhere."""
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision != "fp32" and device.type != "cuda":
        raise ValueError(f"precision {precision!r} (autocast) is only used on CUDA; use 'fp32' or 'auto' on {device.type}")
    return precision


def autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, torch (CPU and CUDA); return a generator for data shuffling."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """LR multiplier: linear 0 -> 1 over warm-up, then cosine 1 -> 0 at total_steps (as the reference)."""
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def progress_bar(iterable, enabled: bool, **kwargs):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


@torch.no_grad()
def evaluate(model, chunks: TokenChunks, batch_size: int = 32, device=None, precision: str = "fp32") -> dict:
    """Mean of per-batch mean losses (the reference's definition) and its exp, the perplexity."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    losses = []
    for x, y in chunks.batches(batch_size):
        with autocast(device, precision):
            _, loss = model(x.to(device), y.to(device))
        losses.append(loss.item())
    model.train(was_training)
    val_loss = sum(losses) / len(losses)
    return {"val_loss": val_loss, "val_ppl": math.exp(min(val_loss, 700.0))}


def fit(model, train: TokenChunks, validation: TokenChunks, config: TrainConfig) -> dict:
    """Train `model` in place; return the history (per-epoch metrics, initial validation loss)."""
    if len(train) == 0 or len(validation) == 0:
        raise ValueError("fit needs at least one train and one validation chunk")
    generator = seed_everything(config.seed)
    device = pick_device(config.device)
    precision = resolve_precision(config.precision, device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                  weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, config.warmup_steps, total_steps))
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    eval_batch = config.eval_batch_size or config.batch_size
    wandb_run = start_wandb(config, model) if config.wandb_project else None

    initial = evaluate(model, validation, eval_batch, device, precision)
    history = {"initial_val_loss": initial["val_loss"], "epochs": [], "device": device_name(device),
               "precision": precision, "steps_per_epoch": steps_per_epoch}
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses, tokens = [], 0
        sync(device)
        start = time.perf_counter()
        bar = progress_bar(train.batches(config.batch_size, shuffle=True, generator=generator), config.progress,
                           total=steps_per_epoch, desc=f"epoch {epoch}/{config.epochs}", leave=False)
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast(device, precision):
                _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            losses.append(loss.item())
            tokens += x.numel()
            if config.progress:
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if wandb_run:
                wandb_run.log({"train/batch_loss": losses[-1], "train/lr": scheduler.get_last_lr()[0]})
        sync(device)
        seconds = time.perf_counter() - start
        metrics = evaluate(model, validation, eval_batch, device, precision)
        row = {"epoch": epoch, "train_loss": sum(losses) / len(losses), **metrics,
               "seconds": seconds, "tokens_per_s": tokens / seconds, "lr_end": scheduler.get_last_lr()[0]}
        history["epochs"].append(row)
        if wandb_run:
            wandb_run.log(row)
        if config.progress:
            print(f"epoch {epoch}: train loss {row['train_loss']:.4f}  val loss {row['val_loss']:.4f}  "
                  f"val ppl {row['val_ppl']:.2f}  {seconds:.1f}s  {row['tokens_per_s']:.0f} tok/s")
    if wandb_run:
        wandb_run.finish()
    return history


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def start_wandb(config: TrainConfig, model):
    import wandb  # optional: pip install wandb

    return wandb.init(project=config.wandb_project, config={**config.to_dict(), **model.config.to_dict(),
                                                            "params": model.num_params()})
