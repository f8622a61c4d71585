"""Training and evaluation, as the reference benchmark (docs/paper.md §3):
AdamW (betas 0.9/0.95, weight decay on all parameters), linear warm-up then cosine to 0,
gradient clipping, validation loss = mean of per-batch mean losses, perplexity = exp(loss).

Added for a series that must be repeatable: seeds, device auto-selection, optional autocast
on CUDA, tqdm progress bars, tokens/s, a history that the run record stores, and a training state
saved as it goes, from which a killed run resumes exactly.

    fit                 the loop: resume_or_start, then train_epoch and end_epoch until the last epoch
    Training            what one call trains with (model, optimiser, schedule, scaler, data order, device)
    TrainState          where the run stands (epoch, step, history, the epoch's tally): saved, resumed
    Stopwatch           the epoch's training seconds, paused around evaluations and saves
"""
from __future__ import annotations

import itertools
import math
import random
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm.auto import tqdm

from ..data import TokenChunks
from ..files import atomic_write
from ..models.lm import check_token_ids
from ..runtime import autocast, device_name, eval_mode, pick_device, resolve_precision, seed_everything, sync
from .config import RunOptions, TrainConfig


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


def fit(model, train: TokenChunks, validation: TokenChunks, config: TrainConfig,
        options: RunOptions | None = None) -> dict:
    """Train `model` in place; return the history: per-epoch metrics, the initial validation loss, and
    two curves against tokens seen, `train_curve` (mean loss of every `config.log_every` steps) and
    `val_curve` (the initial evaluation, then `config.evals_per_epoch` evaluations per epoch).

    `options` (RunOptions(): defaults) say how the run is carried out. With `options.state_path`, the whole
    training state (TrainState.save) is saved there atomically after every epoch, and after every
    `options.save_every_steps` optimiser steps if given; a call that finds a state there continues from it,
    so a run killed at any point resumes from its last save and, on CPU, ends exactly as an
    uninterrupted run with the same seed would. The caller deletes the file when it no longer needs it.

    options.compile=True trains through torch.compile(model): the same model and parameters, fused kernels,
    a first epoch that includes compiling (minutes on a CPU; meant for long CUDA runs, never a default).
    The token ids are then checked once, up front, instead of in every forward pass. Evaluation and the
    saved state use the model itself. The history says whether the run was compiled.
    """
    if len(train) == 0 or len(validation) == 0:
        raise ValueError("fit needs at least one train and one validation chunk")
    options = options or RunOptions()
    training = prepare(model, train, validation, config, options)
    state = resume_or_start(training, validation, options)
    state.history["compiled"] = options.compile  # as the call that finishes the run trains
    while state.epoch <= config.epochs:
        seconds = train_epoch(training, state, train, validation, config, options)
        end_epoch(training, state, seconds, validation, options)
    if training.wandb:
        training.wandb.finish()
    return state.history


@dataclass
class Training:
    """What one fit call trains with, built once (`prepare`): the model and the forward it trains through
    (compiled or not), the optimiser, schedule and scaler, the generator of the data order, the device and
    precision, the steps of an epoch and those after which it is evaluated, and the wandb run if any."""
    model: torch.nn.Module
    forward: Callable
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    generator: torch.Generator
    device: torch.device
    precision: str
    steps_per_epoch: int
    eval_steps: set[int]  # mid-epoch evaluations after these steps of every epoch (its end is always evaluated)
    eval_batch: int
    wandb: object | None

    def parts(self) -> dict:
        """The objects whose states a saved training state holds, by the names it holds them under."""
        return {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler, "scaler": self.scaler}

    def evaluate(self, validation: TokenChunks) -> dict:
        return evaluate(self.model, validation, self.eval_batch, self.device, self.precision)


def prepare(model, train: TokenChunks, validation: TokenChunks, config: TrainConfig, options: RunOptions) -> Training:
    """Seed everything, move the model to its device, build the optimiser, the schedule and the scaler."""
    generator = seed_everything(config.seed)
    device = pick_device(options.device)
    precision = resolve_precision(config.precision, device)
    model.to(device)
    if options.compile:  # the compiled forward skips LanguageModel's per-batch check of the ids: check them all here
        for name, chunks in (("training inputs", train), ("validation inputs", validation)):
            check_token_ids(chunks.inputs, model.config.vocab_size, model.config.block_size, name)
    forward = torch.compile(model) if options.compile else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                  weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, config.warmup_steps, total_steps))
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    return Training(
        model, forward, optimizer, scheduler, scaler, generator, device, precision, steps_per_epoch,
        eval_steps={round(i * steps_per_epoch / config.evals_per_epoch) for i in range(1, config.evals_per_epoch)},
        eval_batch=config.eval_batch_size or config.batch_size,
        wandb=start_wandb(options, config, model) if options.wandb_project else None)


@dataclass
class TrainState:
    """Where a run stands: the epoch (from 1), the optimiser steps taken in it, the history so far, and the
    epoch's tally: its batch losses, tokens and training seconds so far, and how many of the losses the
    train curve has averaged. `save` writes it with every part's state and the random states (the data
    order of the epoch, `data_order`, included); `resume` puts all of them back."""
    history: dict
    epoch: int = 1
    step: int = 0
    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    logged: int = 0
    data_order: torch.Tensor | None = None  # the generator state the epoch's shuffle is drawn from

    def point(self, steps_per_epoch: int) -> dict:
        """Where a curve's point lies: optimiser steps since the start, and tokens seen."""
        return {"step": (self.epoch - 1) * steps_per_epoch + self.step, "tokens": self.history["tokens_seen"]}

    def next_epoch(self, data_order: torch.Tensor) -> None:
        self.epoch, self.step, self.losses, self.tokens, self.seconds, self.logged = self.epoch + 1, 0, [], 0, 0.0, 0
        self.data_order = data_order

    def save(self, path, training: Training) -> None:
        """Everything needed to resume, written atomically (under the names the file has always used)."""
        save_training_state(path, {
            **{name: part.state_dict() for name, part in training.parts().items()}, "random": random_states(),
            "epoch_generator": self.data_order, "history": self.history, "epoch": self.epoch, "step": self.step,
            "partial": {"losses": self.losses, "tokens": self.tokens, "seconds": self.seconds, "logged": self.logged}})

    @classmethod
    def resume(cls, saved: dict, training: Training) -> TrainState:
        """The state `save` wrote, its parts' and random states restored into `training` and this process."""
        for name, part in training.parts().items():
            part.load_state_dict(saved[name])
        set_random_states(saved["random"])
        training.generator.set_state(saved["epoch_generator"])  # the shuffle of the epoch that was under way
        return cls(saved["history"], saved["epoch"], saved["step"], **saved["partial"],
                   data_order=saved["epoch_generator"])


class Stopwatch:
    """An epoch's seconds of training, paused around evaluations and saves; it syncs the device at every
    reading, so work still queued on a GPU is counted when it runs."""

    def __init__(self, device: torch.device, seconds: float = 0.0):
        self.device, self.seconds = device, seconds
        self.start()

    def start(self) -> None:
        sync(self.device)
        self.started = time.perf_counter()

    def stop(self) -> float:
        sync(self.device)
        self.seconds += time.perf_counter() - self.started
        return self.seconds

    @contextmanager
    def paused(self):
        yield self.stop()
        self.start()


def resume_or_start(training: Training, validation: TokenChunks, options: RunOptions) -> TrainState:
    """The state saved at options.state_path, restored; else a fresh one that starts with an evaluation."""
    saved = load_training_state(options.state_path) if options.state_path else None
    if saved is not None:
        state = TrainState.resume(saved, training)
        if options.progress:
            print(f"resuming from {options.state_path}: epoch {state.epoch}, step {state.step} of "
                  f"{training.steps_per_epoch}")
        return state
    initial = training.evaluate(validation)["val_loss"]
    return TrainState({"initial_val_loss": initial, "epochs": [], "device": device_name(training.device),
                       "precision": training.precision, "steps_per_epoch": training.steps_per_epoch,
                       "tokens_seen": 0, "train_curve": [],
                       "val_curve": [{"step": 0, "tokens": 0, "val_loss": initial}]})


def train_epoch(training: Training, state: TrainState, train: TokenChunks, validation: TokenChunks,
                config: TrainConfig, options: RunOptions) -> float:
    """The steps of epoch `state.epoch` not yet taken (all of them unless resumed); returns its training seconds."""
    training.model.train()
    state.data_order = training.generator.get_state()  # this epoch's data order is drawn from here
    watch = Stopwatch(training.device, state.seconds)
    batches = train.batches(config.batch_size, shuffle=True, generator=training.generator)
    bar = progress_bar(itertools.islice(batches, state.step, None), options.progress, total=training.steps_per_epoch,
                       initial=state.step, desc=f"epoch {state.epoch}/{config.epochs}", leave=False)
    for x, y in bar:
        loss = train_step(training, x, y, config.grad_clip)
        count_step(training, state, loss, x.numel(), config.log_every)
        evaluate_if_due(training, state, validation, watch)
        log_step(training, state, bar, options.progress)
        save_if_due(training, state, options, watch)
    return watch.stop()


def train_step(training: Training, x: torch.Tensor, y: torch.Tensor, grad_clip: float) -> float:
    """One optimiser step on a batch: forward (under autocast), scaled backward, clipping, AdamW, schedule."""
    x, y = x.to(training.device, non_blocking=True), y.to(training.device, non_blocking=True)
    with autocast(training.device, training.precision):
        _, loss = training.forward(x, y)
    training.optimizer.zero_grad(set_to_none=True)
    training.scaler.scale(loss).backward()
    training.scaler.unscale_(training.optimizer)
    torch.nn.utils.clip_grad_norm_(training.model.parameters(), grad_clip)
    training.scaler.step(training.optimizer)
    training.scaler.update()
    training.scheduler.step()
    return loss.item()


def count_step(training: Training, state: TrainState, loss: float, tokens: int, log_every: int) -> None:
    """Add a step to the tally; every `log_every` steps, and at the epoch's end, a point of the train curve."""
    state.losses.append(loss)
    state.tokens += tokens
    state.history["tokens_seen"] += tokens
    state.step += 1
    if state.step % log_every == 0 or state.step == training.steps_per_epoch:
        recent = state.losses[state.logged:]
        state.history["train_curve"].append({**state.point(training.steps_per_epoch),
                                             "train_loss": sum(recent) / len(recent),
                                             "lr": training.scheduler.get_last_lr()[0]})
        state.logged = len(state.losses)


def evaluate_if_due(training: Training, state: TrainState, validation: TokenChunks, watch: Stopwatch) -> None:
    """A point of the validation curve after the steps of training.eval_steps; the clock stops meanwhile."""
    if state.step in training.eval_steps:
        with watch.paused():
            state.history["val_curve"].append({**state.point(training.steps_per_epoch),
                                               **training.evaluate(validation)})
            training.model.train()


def log_step(training: Training, state: TrainState, bar, progress: bool) -> None:
    """The step's loss on the progress bar and, with wandb, its loss and learning rate at its optimiser step."""
    if progress:
        bar.set_postfix(loss=f"{state.losses[-1]:.3f}")
    if training.wandb:
        training.wandb.log({"train/batch_loss": state.losses[-1], "train/lr": training.scheduler.get_last_lr()[0]},
                           step=state.point(training.steps_per_epoch)["step"])


def save_if_due(training: Training, state: TrainState, options: RunOptions, watch: Stopwatch) -> None:
    """Save the state every options.save_every_steps steps within an epoch (its end saves anyway)."""
    every = options.save_every_steps
    if options.state_path and every and state.step % every == 0 and state.step < training.steps_per_epoch:
        with watch.paused() as seconds:
            state.seconds = seconds
            state.save(options.state_path, training)


def end_epoch(training: Training, state: TrainState, seconds: float, validation: TokenChunks,
              options: RunOptions) -> None:
    """Evaluate, add the epoch's row to the history and log it; then move on to the next epoch and save."""
    metrics = training.evaluate(validation)
    state.history["val_curve"].append({**state.point(training.steps_per_epoch), **metrics})
    row = {"epoch": state.epoch, "train_loss": sum(state.losses) / len(state.losses), **metrics, "seconds": seconds,
           "tokens_per_s": state.tokens / seconds, "lr_end": training.scheduler.get_last_lr()[0]}
    state.history["epochs"].append(row)
    if training.wandb:  # at the epoch's last optimiser step: one step axis with the batches' rows
        training.wandb.log(row, step=state.point(training.steps_per_epoch)["step"])
    if options.progress:
        print(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}  val loss {row['val_loss']:.4f}  "
              f"val ppl {row['val_ppl']:.2f}  {seconds:.1f}s  {row['tokens_per_s']:.0f} tok/s")
    state.next_epoch(training.generator.get_state())
    if options.state_path:
        state.save(options.state_path, training)


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


def start_wandb(options: RunOptions, config: TrainConfig, model):
    """The W&B run of options.wandb_project with id options.wandb_id: resumed when it exists (resume="allow").
    Steps a killed run logged after its last saved state are logged again on resuming; W&B keeps the first."""
    import wandb  # optional: pip install wandb

    return wandb.init(project=options.wandb_project, id=options.wandb_id, resume="allow",
                      config={**config.to_dict(), **model.config.to_dict(), "params": model.num_params()})
