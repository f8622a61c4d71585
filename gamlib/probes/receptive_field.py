"""Receptive fields: which earlier positions can change the output at a position, measured.

One perturbation probe serves every question of this kind: change the input at position s, run the
function again, see which outputs move (`perturbation_influence`). On whole models it gives the
receptive field of a position (`receptive_field`, with a gradient-based estimate beside it); on a
single layer, which outputs one input position reaches (`changed_positions`).

docs/paper.md §5.1 predicts what the probes find for GAM: its only cross-position operation is the
causal convolution, so position t depends on exactly N_LAYER * (K - 1) + 1 tokens. `memory_reach`
measures that for a preset's shape, with the Transformer as the control, and what one memory read reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from ..models.lm import LanguageModel
from ..models.registry import build_model
from ..presets import get_preset
from ..runtime import eval_mode


def bump_value(x: torch.Tensor) -> torch.Tensor:
    """The default perturbation of float inputs: add 1."""
    return x + 1.0


@torch.no_grad()
def perturbation_influence(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, sources,
                           perturb: Callable[[torch.Tensor], torch.Tensor] = bump_value,
                           batch_size: int = 32) -> torch.Tensor:
    """(len(sources), T): max |change| of f's output at each position t when x[:, s] is perturbed.

    x: (1, T) token ids or (1, T, C) features; f maps a batch (n, T, ...) to outputs (n, T, ...).
    Row i perturbs position sources[i] with `perturb`. An exact zero means no path leads from s to t.
    """
    sources = torch.as_tensor(list(sources), device=x.device)
    base = f(x)  # (1, T, ...)
    rows = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start:start + batch_size]
        batch = x.repeat(len(chunk), *([1] * (x.dim() - 1)))   # (n, T, ...): row i has position chunk[i] changed
        index = torch.arange(len(chunk), device=x.device)
        batch[index, chunk] = perturb(batch[index, chunk])
        rows.append((f(batch) - base).abs().flatten(2).amax(dim=-1).float().cpu())  # (n, T)
    return torch.cat(rows)


def changed_positions(f, x: torch.Tensor, s: int) -> list[int]:
    """Positions t whose output f(x)[:, t] changes when input position s of x (1, T, C) is perturbed."""
    return torch.nonzero(perturbation_influence(f, x, [s])[0] > 0).flatten().tolist()


@dataclass
class ReceptiveField:
    """Which source positions s <= target change the model's logits at `target`."""

    method: str                 # "perturbation" or "gradient"
    target: int
    influence: torch.Tensor     # (target + 1,) how much each source position moves logits[target]
    threshold: float

    @property
    def positions(self) -> list[int]:
        return [s for s in range(self.target + 1) if self.influence[s] > self.threshold]

    @property
    def size(self) -> int:
        return len(self.positions)


def _probe_sequence(model: LanguageModel, seq_len: int | None, target: int | None, seed: int):
    if not isinstance(model, LanguageModel):
        raise TypeError(f"receptive_field needs a gamlib LanguageModel, got {type(model).__name__}")
    T = seq_len or model.config.block_size
    target = T - 1 if target is None else target
    if not 0 <= target < T <= model.config.block_size:
        raise ValueError(f"need 0 <= target < seq_len <= block_size ({model.config.block_size}); "
                         f"got target {target}, seq_len {T}")
    generator = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, model.config.vocab_size, (1, T), generator=generator)
    return idx.to(next(model.parameters()).device), target


def influence_by_perturbation(model: LanguageModel, idx: torch.Tensor, target: int) -> torch.Tensor:
    """(target+1,): max |change| of logits[target] when token s is replaced by the next id."""
    V = model.config.vocab_size
    influence = perturbation_influence(lambda ids: model(ids)[0], idx, range(target + 1),
                                       perturb=lambda ids: (ids + 1) % V)
    return influence[:, target]


def influence_by_gradient(model: LanguageModel, idx: torch.Tensor, target: int,
                          projections: int = 4, seed: int = 0) -> torch.Tensor:
    """(target+1,): estimated Frobenius norm of d logits[target] / d embedding[s].

    The token embeddings are caught with a forward hook, so the model runs its own forward.
    The full Jacobian (V x C per source) is estimated with random projections r ~ N(0, I):
    E ||J^T r||^2 = ||J||_F^2, one backward pass for a batch of `projections` copies.
    """
    caught = []
    hook = model.token_embedding.register_forward_hook(lambda module, args, output: caught.append(output))
    try:
        logits, _ = model(idx.repeat(projections, 1))  # (P, T, V)
    finally:
        hook.remove()
    generator = torch.Generator().manual_seed(seed)
    r = torch.randn(projections, logits.shape[-1], generator=generator).to(logits.device)
    (grad,) = torch.autograd.grad((logits[:, target] * r).sum(), caught[0])  # (P, T, C)
    return grad[:, : target + 1].float().pow(2).sum(-1).mean(0).sqrt().cpu()


def receptive_field(model: LanguageModel, method: str = "perturbation", seq_len: int | None = None,
                    target: int | None = None, seed: int = 0, threshold: float = 0.0) -> ReceptiveField:
    """The positions that influence the logits at `target` (default: the last of seq_len=block_size).

    method 'perturbation': change token s, compare logits[target]; 'gradient': norm of the gradient
    of logits[target] with respect to the embedding of token s. A position counts when its influence
    exceeds `threshold` (default 0: any non-zero influence). Works for every model of the series;
    the model is probed in eval mode (no dropout) and restored afterwards.
    """
    if method not in ("perturbation", "gradient"):
        raise ValueError(f"unknown method {method!r}; choose 'perturbation' or 'gradient'")
    idx, target = _probe_sequence(model, seq_len, target, seed)
    with eval_mode(model):
        if method == "perturbation":
            influence = influence_by_perturbation(model, idx, target)
        else:
            influence = influence_by_gradient(model, idx, target, seed=seed)
    return ReceptiveField(method, target, influence, threshold)


def memory_reach(preset: str = "quick", seed: int = 0, n_embd: int = 16, vocab_size: int = 64) -> dict:
    """How far back a GAM of `preset`'s shape reads, measured: the evidence on the paper's "global memory".

    Builds GAM `full` and, as the control that the probe sees long range, the Transformer (`sdpa`) with the
    preset's depth, kernel, heads and context (`n_layer`, `conv_kernel_size`, `n_head`, `block_size`) but a
    small width and vocabulary (`n_embd`, `vocab_size`, 8 memory slots, dropout 0, random weights, seed
    `seed`): which positions reach a prediction is fixed by the wiring, not by width or training. Returns a
    dict: the shape, `expected` = n_layer * (K - 1) + 1, `gam` and `transformer` = how many of the
    block_size positions change the logits at the last one (receptive_field, perturbation), and for one
    memory read of the first block (softmax(h M^T) M on random h), `memory_read_changes` = the output
    positions that move when input position `memory_read_source` changes, `bank_is_parameter` (the bank M
    is an nn.Parameter: learned, the same for every input) and `bank_shape` (S, C).
    """
    settings = get_preset(preset)
    shape = {k: settings.model.fields()[k] for k in ("n_layer", "conv_kernel_size", "n_head", "block_size")}
    fields = settings.model_fields(n_embd=n_embd, vocab_size=vocab_size, num_memory_slots=8, dropout=0.0)
    sizes = {}
    for name, variant in (("gam", "full"), ("transformer", "sdpa")):
        torch.manual_seed(seed)
        model = build_model(name, variant, **fields)
        sizes[name] = receptive_field(model, "perturbation", seed=seed).size
        if name == "gam":
            memory = model.blocks[0].memory
    T = shape["block_size"]
    h = torch.randn(1, T, n_embd, generator=torch.Generator().manual_seed(seed))
    source = T // 2
    with eval_mode(memory):
        changes = changed_positions(lambda x: memory(x)[0], h, source)
    return {"preset": settings.name, **shape, "n_embd": n_embd, "seed": seed,
            "expected": shape["n_layer"] * (shape["conv_kernel_size"] - 1) + 1,
            "gam": sizes["gam"], "transformer": sizes["transformer"],
            "memory_read_source": source, "memory_read_changes": changes,
            "bank_is_parameter": isinstance(memory.memory_bank, nn.Parameter),
            "bank_shape": tuple(memory.memory_bank.shape)}
