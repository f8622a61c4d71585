"""Training and evaluation, as the reference benchmark (docs/paper.md §3):
AdamW (betas 0.9/0.95, weight decay on all parameters), linear warm-up then cosine to 0,
gradient clipping, validation loss = mean of per-batch mean losses, perplexity = exp(loss).

Added for a series that must be repeatable: seeds, device auto-selection, optional autocast
on CUDA, tqdm progress bars, tokens/s, and a history that the run record stores.
"""
from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from ..data import TokenChunks
from ..runtime import autocast, device_name, eval_mode, pick_device, resolve_precision, seed_everything, sync
from .config import TrainConfig


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """LR multiplier: linear 0 -> 1 over warm-up, then cosine 1 -> 0 at total_steps (as the reference)."""
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def progress_bar(iterable, enabled: bool, **kwargs):
    if not enabled:
        return iterable
    return tqdm(iterable, **kwargs)


@torch.no_grad()
def evaluate(model, chunks: TokenChunks, batch_size: int = 32, device=None, precision: str = "fp32") -> dict:
    """Mean of per-batch mean losses (the reference's definition) and its exp, the perplexity."""
    device = device or next(model.parameters()).device
    losses = []
    with eval_mode(model):
        for x, y in chunks.batches(batch_size):
            with autocast(device, precision):
                _, loss = model(x.to(device), y.to(device))
            losses.append(loss.item())
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


def start_wandb(config: TrainConfig, model):
    import wandb  # optional: pip install wandb

    return wandb.init(project=config.wandb_project, config={**config.to_dict(), **model.config.to_dict(),
                                                            "params": model.num_params()})
