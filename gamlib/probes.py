"""Probes: look inside a trained model instead of only at its loss.

    gate_values        GAM's local and global gates and memory-slot weights, per layer, token, channel
    trace_batch        the same for a batch of sequences, as tensors
    gate_summary       per layer: gate means, channel spread, token dependence, memory-slot use
    gates_by_token_type  mean gates over real text, grouped by what kind of token each one is
    receptive_field    which earlier positions change the prediction at position t, for any model,
                       measured by perturbation and by gradient
    RecallTask         a synthetic associative-recall task (MQAR-style, after Zoology, arXiv:2312.04927)
                       with the distance between a key-value pair and its query controlled
    run_recall_experiment  train a model on it; accuracy by distance, written as a 'recall' run record
    ContextMemory      memory that reads the sequence (causal linear attention); ContextGAMModel uses it

REFERENCE.md section 5.1 predicts what the probes find: GAM's only cross-position operation is its
causal convolution, so position t depends on exactly N_LAYER * (K - 1) + 1 tokens.
"""
from __future__ import annotations

import contextlib
import functools
import random
import re
import statistics
import string
import time
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import GAMConfig
from .data import TokenChunks
from .gam import GAMBlock, GAMModel
from .lm import LanguageModel


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run the block with the model in eval mode (no dropout), then restore its previous mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _sequence_ids(idx_or_text, tokenizer) -> tuple[torch.Tensor, list[str] | None]:
    """Text, a list of ids, a (T,) or (1, T) tensor -> ((T,) ids, token strings or None)."""
    if isinstance(idx_or_text, str):
        if tokenizer is None:
            raise ValueError("text input needs a tokenizer: pass tokenizer=data.tokenizer, or token ids")
        encoding = tokenizer.encode(idx_or_text)
        if not encoding.ids:
            raise ValueError(f"the text {idx_or_text!r} has no tokens")
        return torch.tensor(encoding.ids, dtype=torch.long), list(encoding.tokens)
    idx = torch.as_tensor(idx_or_text)
    if idx.dim() == 2 and idx.shape[0] == 1:
        idx = idx[0]
    if idx.dim() != 1:
        raise ValueError(f"one sequence at a time: expected token ids of shape (T,) or (1, T), got {tuple(idx.shape)}")
    tokens = [tokenizer.id_to_token(int(i)) for i in idx] if tokenizer is not None else None
    return idx, tokens


# ---------------------------------------------------------------------------------------------
# Gates and memory slots
# ---------------------------------------------------------------------------------------------

@dataclass
class GateTrace:
    """What every GAM block did with one sequence (L layers, T tokens, C channels, S memory slots).

    The gates are None for the ungated variants (global_only, sum_fusion): they add the pathways.
    """

    token_ids: torch.Tensor             # (T,)
    tokens: list[str] | None            # the token strings, when a tokenizer was given
    local_gate: torch.Tensor | None     # (L, T, C) sigmoid gate on the local (convolution) pathway
    global_gate: torch.Tensor | None    # (L, T, C) sigmoid gate on the global (memory) pathway
    slot_weights: torch.Tensor          # (L, T, S) softmax over the memory bank, per token
    logits: torch.Tensor                # (T, V) the model's output for the sequence

    @property
    def n_layer(self) -> int:
        return self.slot_weights.shape[0]

    @property
    def gated(self) -> bool:
        return self.local_gate is not None

    def labels(self) -> list[str]:
        """Token strings, or the ids as strings when no tokenizer was given."""
        return self.tokens if self.tokens is not None else [str(int(i)) for i in self.token_ids]


def _check_traceable(model) -> None:
    if not isinstance(model, GAMModel):
        raise TypeError(f"gate probes need a GAM model (GAMModel), got {type(model).__name__}: "
                        "only GAM has gates and a memory bank")
    if not model.config.use_global:
        raise ValueError(f"GAM variant {model.config.variant!r} has no memory bank and no gate: nothing to trace")


@torch.no_grad()
def trace_batch(model: GAMModel, idx: torch.Tensor) -> dict[str, torch.Tensor]:
    """(B, T) token ids -> {'local_gate', 'global_gate': (L, B, T, C), absent when ungated;
    'slot_weights': (L, B, T, S); 'logits': (B, T, V)}, on the CPU.

    The forward of `model(idx)`, block by block, in eval mode (no dropout; the mode is restored).
    """
    _check_traceable(model)
    with eval_mode(model):
        x = model.embed(idx.to(next(model.parameters()).device))  # (B, T, C)
        traces = []
        for block in model.blocks:
            traces.append({})
            x = block(x, trace=traces[-1])
        logits, _ = model.logits_and_loss(x, None)  # (B, T, V)
    out = {name: torch.stack([t[name] for t in traces]).float().cpu() for name in traces[0]}
    return out | {"logits": logits.float().cpu()}


def gate_values(model: GAMModel, idx_or_text, tokenizer=None) -> GateTrace:
    """Run one sequence through a GAM in eval mode and keep each block's gates and slot weights.

    `idx_or_text`: token ids ((T,), (1, T) or a list) or a string (then `tokenizer`, a Hugging Face
    `tokenizers.Tokenizer`, encodes it). The model's outputs are unchanged: `trace.logits` equals
    `model(idx)[0][0]`. Ungated variants return None gates; `local_only` (no memory, no gate) raises.
    """
    _check_traceable(model)
    idx, tokens = _sequence_ids(idx_or_text, tokenizer)
    out = trace_batch(model, idx.unsqueeze(0))
    gate = lambda name: out[name][:, 0] if name in out else None  # (L, 1, T, C) -> (L, T, C)
    return GateTrace(idx.cpu(), tokens, gate("local_gate"), gate("global_gate"), gate("slot_weights"),
                     out["logits"][0])


FUNCTION_WORDS = frozenset(
    "the of and in to a was is for on as by with that at from his it an were are which be this "
    "has had he also not but or its their first one after they been have who her she him there".split())
TOKEN_TYPES = ("function word", "content word", "word piece", "number", "punctuation", "<unk> marker")


def token_types(text: str, tokenizer) -> tuple[list[int], list[str]]:
    """Token ids of `text` and the type of each token (one of TOKEN_TYPES).

    The BPE tokenizer (2,048 to 10,000 tokens) keeps frequent words whole and splits rare ones:
    every token of a split word (a letter or digit touching it, no space) is a 'word piece', so
    word pieces stand for rare words.
    WikiText writes out-of-vocabulary words as '<unk>', which becomes the tokens '<', 'unk', '>'.
    """
    encoding = tokenizer.encode(text)
    unk = set()
    for match in re.finditer(re.escape("<unk>"), text):
        unk.update(range(match.start(), match.end()))

    def joined(left: int, right: int) -> bool:  # a word continues across character boundary left|right
        return 0 <= left and right < len(text) and text[left].isalnum() and text[right].isalnum()

    types = []
    for token, (start, end) in zip(encoding.tokens, encoding.offsets):
        if start in unk:
            types.append("<unk> marker")
        elif all(ch in string.punctuation for ch in token):
            types.append("punctuation")
        elif token.isdigit():
            types.append("number")
        elif joined(start - 1, start) or joined(end - 1, end):
            types.append("word piece")
        elif token.lower() in FUNCTION_WORDS:
            types.append("function word")
        else:
            types.append("content word")
    return list(encoding.ids), types


def gates_by_token_type(model: GAMModel, tokenizer, rows: list[str], max_tokens: int = 4096):
    """Mean local and global gate per (layer, token type) over the tokens of `rows`.

    The rows are encoded one after another and cut into whole windows of block_size tokens (each
    window starts a fresh context, as in training), at most `max_tokens` tokens in all. Returns a
    pandas DataFrame with one row per (layer, token type): tokens, the mean local and global gate
    (averaged over channels, then tokens) and their standard errors over tokens.
    """
    import pandas as pd

    ids, types = [], []
    for row in rows:
        if row.strip():
            row_ids, row_types = token_types(row, tokenizer)
            ids += row_ids
            types += row_types
        if len(ids) >= max_tokens:
            break
    T = model.config.block_size
    n = min(len(ids), max_tokens) // T
    if n == 0:
        raise ValueError(f"the rows hold {len(ids)} tokens, fewer than one window of block_size {T}")
    types = types[: n * T]
    out = trace_batch(model, torch.tensor(ids[: n * T]).view(n, T))
    if "local_gate" not in out:
        raise ValueError(f"GAM variant {model.config.variant!r} has no gates")
    local, global_ = (out[name].mean(-1).flatten(1) for name in ("local_gate", "global_gate"))  # (L, n*T)
    table = []
    for layer in range(local.shape[0]):
        for kind in TOKEN_TYPES:
            where = torch.tensor([t == kind for t in types])
            count = int(where.sum())
            if count == 0:
                continue
            g_l, g_g = local[layer, where], global_[layer, where]
            table.append({"layer": layer + 1, "token type": kind, "tokens": count,
                          "local gate": g_l.mean().item(), "global gate": g_g.mean().item(),
                          "local se": (g_l.std() / count ** 0.5).item() if count > 1 else float("nan"),
                          "global se": (g_g.std() / count ** 0.5).item() if count > 1 else float("nan")})
    return pd.DataFrame(table)


def gate_summary(model: GAMModel, inputs: torch.Tensor):
    """Per layer, what the gates and the memory read look like over the (N, T) token ids `inputs`.

    Columns: mean local / global gate; the spread of the per-channel means (min, max): wide when
    channels specialise; the per-channel standard deviation over tokens, averaged over channels:
    small when a channel's gate hardly depends on the token; the mean largest slot weight, the
    effective number of slots exp(entropy) and how many distinct slots are ever the top one.
    """
    import pandas as pd

    out = trace_batch(model, inputs)
    if "local_gate" not in out:
        raise ValueError(f"GAM variant {model.config.variant!r} has no gates")
    rows = []
    for layer in range(out["slot_weights"].shape[0]):
        row = {"layer": layer + 1}
        for name in ("local", "global"):
            gate = out[f"{name}_gate"][layer].flatten(0, 1)  # (N*T, C)
            per_channel = gate.mean(0)
            row |= {f"{name} gate": gate.mean().item(), f"{name} channel min": per_channel.min().item(),
                    f"{name} channel max": per_channel.max().item(),
                    f"{name} sd over tokens": gate.std(0).mean().item()}
        weights = out["slot_weights"][layer].flatten(0, 1)  # (N*T, S)
        entropy = -(weights * weights.clamp_min(1e-12).log()).sum(-1)
        row |= {"largest slot weight": weights.max(-1).values.mean().item(),
                "effective slots": entropy.exp().mean().item(),
                "distinct top slots": weights.argmax(-1).unique().numel()}
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Receptive field, two ways
# ---------------------------------------------------------------------------------------------

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


@torch.no_grad()
def influence_by_perturbation(model: LanguageModel, idx: torch.Tensor, target: int,
                              batch_size: int = 32) -> torch.Tensor:
    """(target+1,): max |change| of logits[target] when token s is replaced by the next id.

    Exact zero means token s cannot reach position `target` (there is no path in the computation).
    """
    V = model.config.vocab_size
    base = model(idx)[0][0, target]  # (V,)
    changes = []
    for start in range(0, target + 1, batch_size):
        sources = torch.arange(start, min(start + batch_size, target + 1), device=idx.device)
        batch = idx.repeat(len(sources), 1)  # (n, T): row i has token sources[i] changed
        rows = torch.arange(len(sources), device=idx.device)
        batch[rows, sources] = (batch[rows, sources] + 1) % V
        changes.append((model(batch)[0][:, target] - base).abs().amax(dim=-1).float().cpu())
    return torch.cat(changes)


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


# ---------------------------------------------------------------------------------------------
# Associative recall
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecallTask:
    """Multi-query associative recall with controlled distances.

    Vocabulary: 0 = filler, `num_keys` key tokens, `num_values` value tokens, and one pair token
    for every (key, value). A sequence of `seq_len` tokens holds `pairs` pair tokens (distinct keys,
    values drawn at random, so they must be read from the context) and `queries` query tokens: a
    key whose pair sits d positions earlier, d drawn from `distances`. The target at a query is the
    value bound to its key; every other target is -100 (not scored). A model that does not see the
    pair token from the query can only guess: chance = 1 / num_values.

    MQAR (Zoology, arXiv:2312.04927) writes a pair as two tokens, key then value; answering then
    needs a two-step "induction" circuit (find the key, read the token after it) that our tiny
    models do not learn in a CPU-minute. One token per pair keeps the lookup one step deep; it does
    not change what a receptive field allows.
    """

    seq_len: int = 32
    num_keys: int = 4
    num_values: int = 4
    pairs: int = 4
    queries: int = 8
    distances: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 12, 16, 24)

    def __post_init__(self):
        if min(self.distances) < 1:
            raise ValueError(f"distances must be >= 1 (a query comes after its pair), got {min(self.distances)}")
        if max(self.distances) >= self.seq_len:
            raise ValueError(f"distance {max(self.distances)} does not fit in seq_len {self.seq_len}")
        if self.pairs > self.num_keys:
            raise ValueError(f"{self.pairs} pairs need at least as many distinct keys, got num_keys={self.num_keys}")
        if self.pairs + self.queries > self.seq_len // 2:
            raise ValueError(f"{self.pairs} pairs + {self.queries} queries need seq_len >= "
                             f"{2 * (self.pairs + self.queries)} (half the positions stay filler), got {self.seq_len}")

    @property
    def vocab_size(self) -> int:
        return 1 + self.num_keys + self.num_values + self.num_keys * self.num_values

    @property
    def chance(self) -> float:
        return 1.0 / self.num_values

    def key(self, k: int) -> int:
        return 1 + k

    def value(self, v: int) -> int:
        return 1 + self.num_keys + v

    def pair(self, k: int, v: int) -> int:
        return 1 + self.num_keys + self.num_values + k * self.num_values + v


@dataclass
class RecallData:
    chunks: TokenChunks        # inputs (N, T), targets (N, T) with -100 except at queries
    distance: torch.Tensor     # (N, T) query-to-pair distance at query positions, 0 elsewhere
    task: RecallTask


def _layout(task: RecallTask, rng: random.Random, attempts: int = 100):
    """Pair positions {pair: p} and queries [(q, pair, d)], all positions distinct, q = p + d.

    Distances are drawn first and placed longest first; each query goes to the first pair (in
    random order) that has room for it.
    """
    for _ in range(attempts):
        free = [True] * task.seq_len
        where, queries = {}, []
        for d in sorted((rng.choice(task.distances) for _ in range(task.queries)), reverse=True):
            for j in rng.sample(range(task.pairs), task.pairs):
                if j in where:
                    starts = [where[j]] if where[j] + d < task.seq_len and free[where[j] + d] else []
                else:
                    starts = [p for p in range(task.seq_len - d) if free[p] and free[p + d]]
                if starts:
                    p = rng.choice(starts)
                    where[j], free[p], free[p + d] = p, False, False
                    queries.append((p + d, j, d))
                    break
            else:
                break  # no pair has room for this query: draw the sequence again
        else:
            for j in range(task.pairs):  # pairs that drew no query still appear
                if j not in where:
                    where[j] = rng.choice([p for p in range(task.seq_len) if free[p]])
                    free[where[j]] = False
            return where, queries
    raise ValueError(f"could not place {task.pairs} pairs and {task.queries} queries at distances "
                     f"{task.distances} in {task.seq_len} positions; use fewer queries or shorter distances")


def make_recall_data(task: RecallTask, num_sequences: int, seed: int = 0) -> RecallData:
    """`num_sequences` sequences of the task (deterministic for a seed)."""
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be >= 1, got {num_sequences}")
    rng = random.Random(seed)
    inputs, targets, distance = [], [], []
    for _ in range(num_sequences):
        x, y, dist = [0] * task.seq_len, [-100] * task.seq_len, [0] * task.seq_len
        keys = rng.sample(range(task.num_keys), task.pairs)
        values = [rng.randrange(task.num_values) for _ in range(task.pairs)]
        where, queries = _layout(task, rng)
        for j, p in where.items():
            x[p] = task.pair(keys[j], values[j])
        for q, j, d in queries:
            x[q], y[q], dist[q] = task.key(keys[j]), task.value(values[j]), d
        inputs.append(x)
        targets.append(y)
        distance.append(dist)
    inputs, targets, distance = (torch.tensor(rows, dtype=torch.long) for rows in (inputs, targets, distance))
    return RecallData(TokenChunks(inputs, targets), distance, task)


def accuracy_by_distance(predictions: torch.Tensor, targets: torch.Tensor, distance: torch.Tensor) -> list[dict]:
    """Per distance: queries, correct answers, accuracy. All (N, T); positions with distance 0 are skipped."""
    if not predictions.shape == targets.shape == distance.shape:
        raise ValueError(f"shapes differ: predictions {tuple(predictions.shape)}, targets "
                         f"{tuple(targets.shape)}, distance {tuple(distance.shape)}")
    rows = []
    for d in sorted(set(distance[distance > 0].tolist())):
        where = distance == d
        correct = int((predictions[where] == targets[where]).sum())
        total = int(where.sum())
        rows.append({"distance": d, "queries": total, "correct": correct, "accuracy": correct / total})
    return rows


@torch.no_grad()
def recall_accuracy(model: LanguageModel, data: RecallData, batch_size: int = 256) -> list[dict]:
    """The model's greedy answers at the query positions, scored by distance."""
    device = next(model.parameters()).device
    with eval_mode(model):
        predictions = torch.cat([model(x.to(device))[0].argmax(-1).cpu()
                                 for x, _ in data.chunks.batches(batch_size)])
    return accuracy_by_distance(predictions, data.chunks.targets, data.distance)


# ---------------------------------------------------------------------------------------------
# A GAM whose memory reads the sequence
# ---------------------------------------------------------------------------------------------

class ContextMemory(nn.Module):
    """Causal linear attention: the memory read of position t comes from the tokens s <= t.

        read_t = sum_s a_ts v_s / sum_s a_ts,   a_ts = phi(q_t) . phi(k_s) for s <= t,   q, k, v = W h

    A drop-in for GAM's AssociativeMemory (same call, same output shape), but keys and values come
    from the sequence, not from a learned bank, so the read spans the whole context. phi = elu + 1
    (Katharopoulos et al. 2020), heads of `head_dim` channels. The same read has a recurrent form,
    a running (head_dim x head_dim) state sum_s phi(k_s) v_s^T per head: O(T) time, O(1) memory in
    T, like GAM. Here it is computed in its parallel form (a masked T x T product, as attention),
    which is the faster of the two at the short lengths of this series; tests check they agree.
    """

    def __init__(self, n_embd: int, head_dim: int = 16):
        super().__init__()
        if n_embd % head_dim:
            raise ValueError(f"n_embd {n_embd} is not divisible by head_dim {head_dim}")
        self.head_dim = head_dim
        self.qkv = nn.Linear(n_embd, 3 * n_embd)

    def features(self, h: torch.Tensor):
        """h: (B, T, C) -> phi(q), phi(k), v, each (B, H, T, head_dim)."""
        B, T, C = h.shape
        q, k, v = (t.view(B, T, C // self.head_dim, self.head_dim).transpose(1, 2)
                   for t in self.qkv(h).chunk(3, dim=-1))
        return F.elu(q) + 1, F.elu(k) + 1, v

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h: (B, T, C) -> (read (B, T, C), read weights a_ts / sum_s a_ts (B, H, T, T))."""
        q, k, v = self.features(h)
        scores = (q @ k.transpose(-2, -1)).tril()              # (B, H, T, T): a_ts, 0 for s > t
        weights = scores / scores.sum(-1, keepdim=True)
        read = weights @ v                                      # (B, H, T, head_dim)
        return read.transpose(1, 2).reshape(h.shape), weights


class ContextGAMBlock(GAMBlock):
    """A GAM block with its memory bank replaced by ContextMemory (everything else unchanged)."""

    def __init__(self, config: GAMConfig):
        super().__init__(config)
        self.memory = ContextMemory(config.n_embd)


class ContextGAMModel(LanguageModel):
    def __init__(self, config: GAMConfig):
        if not (config.use_local and config.use_global and config.gated):
            raise ValueError(f"ContextGAMModel is built on the full GAM block, got variant {config.variant!r}")
        super().__init__(config, [ContextGAMBlock(config) for _ in range(config.n_layer)])


# ---------------------------------------------------------------------------------------------
# Recall experiments as run records
# ---------------------------------------------------------------------------------------------

RECALL_MODELS = ("gam", "transformer", "mamba", "gam_context")
_cached_recall_data = functools.lru_cache(maxsize=4)(make_recall_data)  # run_recall_experiment only


def build_recall_model(model: str, variant: str | None, fields: dict) -> LanguageModel:
    """A model of the series, or 'gam_context' (ContextGAMModel), from config fields."""
    from .models import build_model, make_config

    if model == "gam_context":
        return ContextGAMModel(make_config("gam", "full", **fields))
    if model not in RECALL_MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {list(RECALL_MODELS)}")
    return build_model(model, variant, **fields)


def run_recall_experiment(model: str, variant: str | None = None, preset: str = "auto", seed: int = 0,
                          task: RecallTask = RecallTask(), train_sequences: int = 4000,
                          eval_sequences: int = 1000, results_root=None, force: bool = False,
                          **train_overrides) -> dict:
    """Train `model` (with the preset's model fields, dropout 0) on the recall task; return its record.

    The record (kind 'recall') goes to results/<preset>/recall/<model>-<variant>-seed<N>.json and is
    reused when its specification matches, unless force=True. `train_overrides` change the
    preset's TrainConfig (e.g. epochs, lr).
    """
    from .experiments import DEFAULT_VARIANTS
    from .presets import get_preset
    from .results import SCHEMA_VERSION, provenance, read_record, results_dir, save_record, spec_hash
    from .train import fit, seed_everything

    settings = get_preset(preset)
    variant = variant or DEFAULT_VARIANTS.get(model, "full")
    train_config = replace(settings.train, seed=seed, progress=False, **train_overrides)
    fields = {**settings.model, "vocab_size": task.vocab_size, "block_size": task.seq_len, "dropout": 0.0}
    spec = {"kind": "recall", "model": model, "variant": variant, "preset": settings.name, "fields": fields,
            "task": asdict(task), "train_sequences": train_sequences, "eval_sequences": eval_sequences,
            "train_config": {**train_config.to_dict(), "progress": None}}
    path = results_dir(results_root) / settings.name / "recall" / f"{model}-{variant}-seed{seed}.json"
    existing = read_record(path)
    if existing and not force and existing.get("spec_hash") == spec_hash(spec):
        return existing

    train = _cached_recall_data(task, train_sequences, seed=1000 + seed)  # the same for every model
    test = _cached_recall_data(task, eval_sequences, seed=2000 + seed)    # fresh sequences
    seed_everything(seed)
    net = build_recall_model(model, variant, fields)
    started = time.perf_counter()
    history = fit(net, train.chunks, test.chunks, train_config)
    accuracy = recall_accuracy(net, test)
    config = net.config
    record = {
        "schema": SCHEMA_VERSION, "kind": "recall", "spec_hash": spec_hash(spec),
        "model": model, "variant": variant, "preset": settings.name, "seed": seed,
        "model_config": config.to_dict(), "train_config": train_config.to_dict(), "task": asdict(task),
        "train_sequences": train_sequences, "eval_sequences": eval_sequences, "params": net.num_params(),
        "receptive_field": config.receptive_field if model == "gam" else None,
        "mamba_backend": getattr(net, "backend", None),
        "accuracy": accuracy,
        "metrics": {"val_loss": history["epochs"][-1]["val_loss"],
                    "mean_accuracy": statistics.mean(row["accuracy"] for row in accuracy),
                    "tokens_per_s": statistics.median(e["tokens_per_s"] for e in history["epochs"])},
        "history": history,
        "wall_s": time.perf_counter() - started,
        "provenance": provenance(history["device"]),
    }
    return read_record(save_record(record, path))  # as stored (JSON types), the same as when reused
