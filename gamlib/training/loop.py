"""Training and evaluation, as the reference benchmark (docs/paper.md §3):
AdamW (betas 0.9/0.95, weight decay on all parameters), linear warm-up then cosine to 0,
gradient clipping, validation loss = mean of per-batch mean losses, perplexity = exp(loss).

Added for a series that must be repeatable: seeds, device auto-selection, optional autocast
on CUDA, tqdm progress bars, tokens/s, a history that the run record stores, and a training state
saved as it goes, from which a killed run resumes exactly.
"""
from __future__ import annotations

import itertools
import math
import random
import time
import warnings
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data import TokenChunks
from ..files import atomic_write
from ..models.lm import check_token_ids
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


def fit(model, train: TokenChunks, validation: TokenChunks, config: TrainConfig, state_path=None,
        save_every_steps: int | None = None, compile: bool = False) -> dict:
    """Train `model` in place; return the history: per-epoch metrics, the initial validation loss, and
    two curves against tokens seen, `train_curve` (mean loss of every `config.log_every` steps) and
    `val_curve` (the initial evaluation, then `config.evals_per_epoch` evaluations per epoch).

    With `state_path`, the whole training state (weights, optimiser, schedule, scaler, random states,
    position in the data order, history) is saved there atomically after every epoch, and after every
    `save_every_steps` optimiser steps if given; a call that finds a state there continues from it,
    so a run killed at any point resumes from its last save and, on CPU, ends exactly as an
    uninterrupted run with the same seed would. The caller deletes the file when it no longer needs it.

    compile=True trains through torch.compile(model): the same model and parameters, fused kernels, a
    first epoch that includes compiling (minutes on a CPU; meant for long CUDA runs, never a default).
    The token ids are then checked once, up front, instead of in every forward pass. Evaluation and the
    saved state use the model itself. The history says whether the run was compiled.
    """
    if len(train) == 0 or len(validation) == 0:
        raise ValueError("fit needs at least one train and one validation chunk")
    generator = seed_everything(config.seed)
    device = pick_device(config.device)
    precision = resolve_precision(config.precision, device)
    model.to(device)
    if compile:  # the compiled forward skips LanguageModel's per-batch check of the ids: check them all here
        for name, chunks in (("training inputs", train), ("validation inputs", validation)):
            check_token_ids(chunks.inputs, model.config.vocab_size, model.config.block_size, name)
    train_forward = torch.compile(model) if compile else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                  weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, config.warmup_steps, total_steps))
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    eval_batch = config.eval_batch_size or config.batch_size
    wandb_run = start_wandb(config, model) if config.wandb_project else None

    parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "scaler": scaler}
    state = load_training_state(state_path) if state_path else None
    if state is None:
        initial = evaluate(model, validation, eval_batch, device, precision)
        history = {"initial_val_loss": initial["val_loss"], "epochs": [], "device": device_name(device),
                   "precision": precision, "steps_per_epoch": steps_per_epoch, "tokens_seen": 0,
                   "train_curve": [], "val_curve": [{"step": 0, "tokens": 0, "val_loss": initial["val_loss"]}]}
        epoch, step, partial = 1, 0, {"losses": [], "tokens": 0, "seconds": 0.0, "logged": 0}
    else:
        for name, part in parts.items():
            part.load_state_dict(state[name])
        set_random_states(state["random"])
        generator.set_state(state["epoch_generator"])  # the shuffle of the epoch that was under way
        history, epoch, step, partial = state["history"], state["epoch"], state["step"], state["partial"]
        if config.progress:
            print(f"resuming from {state_path}: epoch {epoch}, step {step} of {steps_per_epoch}")
    history["compiled"] = compile  # as the call that finishes the run trains

    def save(epoch: int, step: int, epoch_generator: torch.Tensor) -> None:
        if state_path:
            save_training_state(state_path, {
                **{name: part.state_dict() for name, part in parts.items()}, "random": random_states(),
                "epoch_generator": epoch_generator, "history": history, "epoch": epoch, "step": step,
                "partial": partial})

    # mid-epoch evaluations: after these steps of every epoch (the end of the epoch is always evaluated)
    eval_steps = {round(i * steps_per_epoch / config.evals_per_epoch) for i in range(1, config.evals_per_epoch)}

    def log_point(epoch: int, step: int) -> dict:
        return {"step": (epoch - 1) * steps_per_epoch + step, "tokens": history["tokens_seen"]}

    while epoch <= config.epochs:
        model.train()
        epoch_generator = generator.get_state()  # this epoch's data order is drawn from here
        sync(device)
        start = time.perf_counter()
        batches = itertools.islice(train.batches(config.batch_size, shuffle=True, generator=generator), step, None)
        bar = progress_bar(batches, config.progress, total=steps_per_epoch, initial=step,
                           desc=f"epoch {epoch}/{config.epochs}", leave=False)
        for x, y in bar:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast(device, precision):
                _, loss = train_forward(x, y)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            partial["losses"].append(loss.item())
            partial["tokens"] += x.numel()
            history["tokens_seen"] += x.numel()
            step += 1
            if step % config.log_every == 0 or step == steps_per_epoch:
                recent = partial["losses"][partial["logged"]:]
                history["train_curve"].append({**log_point(epoch, step), "train_loss": sum(recent) / len(recent),
                                               "lr": scheduler.get_last_lr()[0]})
                partial["logged"] = len(partial["losses"])
            if step in eval_steps:  # the clock stops while evaluating
                sync(device)
                partial["seconds"] += time.perf_counter() - start
                history["val_curve"].append({**log_point(epoch, step),
                                             **evaluate(model, validation, eval_batch, device, precision)})
                model.train()
                start = time.perf_counter()
            if config.progress:
                bar.set_postfix(loss=f"{partial['losses'][-1]:.3f}")
            if wandb_run:
                wandb_run.log({"train/batch_loss": partial["losses"][-1], "train/lr": scheduler.get_last_lr()[0]})
            if save_every_steps and step % save_every_steps == 0 and step < steps_per_epoch:
                sync(device)
                partial["seconds"] += time.perf_counter() - start
                save(epoch, step, epoch_generator)
                start = time.perf_counter()
        sync(device)
        seconds = partial["seconds"] + time.perf_counter() - start
        metrics = evaluate(model, validation, eval_batch, device, precision)
        history["val_curve"].append({**log_point(epoch, steps_per_epoch), **metrics})
        losses = partial["losses"]
        row = {"epoch": epoch, "train_loss": sum(losses) / len(losses), **metrics,
               "seconds": seconds, "tokens_per_s": partial["tokens"] / seconds, "lr_end": scheduler.get_last_lr()[0]}
        history["epochs"].append(row)
        if wandb_run:
            wandb_run.log(row)
        if config.progress:
            print(f"epoch {epoch}: train loss {row['train_loss']:.4f}  val loss {row['val_loss']:.4f}  "
                  f"val ppl {row['val_ppl']:.2f}  {seconds:.1f}s  {row['tokens_per_s']:.0f} tok/s")
        epoch, step, partial = epoch + 1, 0, {"losses": [], "tokens": 0, "seconds": 0.0, "logged": 0}
        save(epoch, step, generator.get_state())
    if wandb_run:
        wandb_run.finish()
    return history


def random_states() -> dict:
    """Python's and torch's random states (CPU, and every CUDA device when present)."""
    return {"python": random.getstate(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_random_states(states: dict) -> None:
    random.setstate(states["python"])
    torch.set_rng_state(states["torch"])
    if states["cuda"]:
        torch.cuda.set_rng_state_all(states["cuda"])


def save_training_state(path, state: dict) -> None:
    atomic_write(path, lambda handle: torch.save(state, handle), mode="wb")


def load_training_state(path) -> dict | None:
    """The state saved at `path`, None if there is none; an unreadable file is named in a warning and ignored."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, not a torch file, or a pickle that weights_only refuses
        warnings.warn(f"training state {path} is unreadable ({type(error).__name__}: {error}); "
                      "starting the run from the beginning", stacklevel=2)
        return None


def start_wandb(config: TrainConfig, model):
    import wandb  # optional: pip install wandb

    return wandb.init(project=config.wandb_project, config={**config.to_dict(), **model.config.to_dict(),
                                                            "params": model.num_params()})
