"""Gates and memory slots: what a trained GAM's blocks do with each token.

    gate_values          the local and global gates and memory-slot weights, per layer, token, channel
    trace_batch          the same for a batch of sequences, as tensors
    gate_summary         per layer: gate means, channel spread, token dependence, memory-slot use
    gates_by_token_type  mean gates over real text, grouped by what kind of token each one is
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

import pandas as pd
import torch

from ..models.gam import GAMModel
from ..runtime import eval_mode


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

    def gate(name):  # (L, 1, T, C) -> (L, T, C)
        return out[name][:, 0] if name in out else None

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


