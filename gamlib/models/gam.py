"""Gated Associative Memory (GAM), after Acharya (arXiv:2509.00605; reference code: rishiraj/gam).

One block, with x of shape (B, T, C):

    h      = LayerNorm1(x)
    local  = causal_depthwise_conv(h)          # LocalPathway: position t sees h[t-K+1 .. t]
    global = softmax(h @ M.T) @ M              # AssociativeMemory: bank M (S, C), no 1/sqrt(C)
    g_l, g_g = split(Linear(h), 2)             # GatedFusion
    x      = x + sigmoid(g_l) * local + sigmoid(g_g) * global
    x      = x + FFN(LayerNorm2(x))

Ablations (Table 3) drop the gate (plain sum) and/or one pathway (their `_matched` forms widen the FFN to
give back the parameters dropped); the `context` variant swaps the bank
for a memory that reads the sequence (context_gam.py). See `GAMConfig.variant`.

The bank read is attention of each token over the bank (keys = values = M, scale 1, no mask). When
autograd records (training) and no trace is asked for, it runs fused, F.scaled_dot_product_attention,
which keeps no (B, T, S) weights for backward. Otherwise it runs the explicit softmax: a trace
(block(x, trace={})) needs the slot weights, and under torch.no_grad there is nothing to save, so
inference with the bank stays bit for bit equal to a traced run (the probes compare them). The
'context' variant's memory (models/context_gam.py) reads in chunks unless a trace asks for its weights,
so there a traced run agrees to rounding.

Generation: the only operation that mixes positions is the convolution, so a block carries the last
K-1 normalised inputs h from token to token (`step`), and nothing else (see models/generation.py).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import GAMConfig, ModelConfig
from .context_gam import ContextMemory
from .lm import LanguageModel, feed_forward


class LocalPathway(nn.Module):
    """Causal depthwise convolution: each channel mixes its own last K positions."""

    def __init__(self, n_embd: int, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(n_embd, n_embd, kernel_size, groups=n_embd, bias=True)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h.transpose(1, 2)                     # (B, C, T)
        h = F.pad(h, (self.kernel_size - 1, 0))   # (B, C, T+K-1): K-1 zeros on the left only
        return self.conv(h).transpose(1, 2)       # (B, T, C); output t uses inputs t-K+1..t

    def last_inputs(self, h: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> its last K-1 positions (B, K-1, C), zeros before position 0: the conv's state."""
        return F.pad(h, (0, 0, self.kernel_size - 1, 0))[:, h.shape[1]:]

    def step(self, window: torch.Tensor) -> torch.Tensor:
        """window (B, K, C) = inputs t-K+1..t -> output at t (B, 1, C), the same sum as forward's."""
        weight = self.conv.weight[:, 0, :]        # (C, K)
        return torch.einsum("bkc,ck->bc", window, weight)[:, None] + self.conv.bias


class AssociativeMemory(nn.Module):
    """Per-token read from a learned bank M whose slots are both keys and values."""

    def __init__(self, n_embd: int, num_slots: int, fused: bool = True):
        super().__init__()
        self.memory_bank = nn.Parameter(torch.empty(num_slots, n_embd))  # M: (S, C)
        nn.init.xavier_uniform_(self.memory_bank)
        self.fused = fused  # read through SDPA when training and the weights are not asked for

    def slot_weights(self, h: torch.Tensor) -> torch.Tensor:
        return F.softmax(h @ self.memory_bank.T, dim=-1)  # (B, T, S); scale 1, as the reference

    def fused_read(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, T, C) -> softmax(h M^T) M (B, T, C) as one attention call over the bank, one 'head'."""
        B, T, C = h.shape
        bank = self.memory_bank.expand(B, 1, *self.memory_bank.shape)  # (B, 1, S, C), no copy
        return F.scaled_dot_product_attention(h[:, None], bank, bank, scale=1.0)[:, 0]

    def forward(self, h: torch.Tensor, need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """h: (B, T, C) -> (retrieved (B, T, C), slot weights (B, T, S) or None when fused).

        Fused only when it saves memory: autograd is recording and the weights are not needed.
        """
        if not need_weights and self.fused and torch.is_grad_enabled():
            return self.fused_read(h), None
        weights = self.slot_weights(h)
        return weights @ self.memory_bank, weights  # (B, T, S) @ (S, C) -> (B, T, C)


class GatedFusion(nn.Module):
    """Per-token, per-channel sigmoid gates for the local and the global context."""

    def __init__(self, n_embd: int):
        super().__init__()
        self.gate = nn.Linear(n_embd, 2 * n_embd)

    def gates(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g_local, g_global = self.gate(h).chunk(2, dim=-1)  # first half local, second global
        return torch.sigmoid(g_local), torch.sigmoid(g_global)  # each (B, T, C)

    def forward(self, h, local, global_):
        """-> (fused (B, T, C), local gate (B, T, C), global gate (B, T, C))."""
        g_local, g_global = self.gates(h)
        return g_local * local + g_global * global_, g_local, g_global


class GAMBlock(nn.Module):
    """LayerNorm -> (local, global) -> fusion -> residual -> FFN -> residual."""

    def __init__(self, config: GAMConfig):
        super().__init__()
        C = config.n_embd
        self.ln1 = nn.LayerNorm(C)
        self.local = LocalPathway(C, config.conv_kernel_size) if config.use_local else None
        if config.memory == "bank":
            self.memory = AssociativeMemory(C, config.num_memory_slots)
        elif config.memory == "context":
            self.memory = ContextMemory(C)
        else:
            self.memory = None
        self.fusion = GatedFusion(C) if config.gated else None
        self.ln2 = nn.LayerNorm(C)
        self.ffn = feed_forward(C, config.dropout, config.ffn_width)

    def forward(self, x: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C). If `trace` is a dict, the gates and slot weights are put in it."""
        h = self.ln1(x)
        local = self.local(h) if self.local is not None else None
        global_ = None
        if self.memory is not None:
            global_, weights = self.memory(h, need_weights=trace is not None)  # (B, T, C), (B, T, S) or None
            if trace is not None:
                trace["slot_weights"] = weights
        return self.combine(x, h, local, global_, trace)

    def combine(self, x, h, local, global_, trace: dict | None = None) -> torch.Tensor:
        """Gate (or sum) the pathways into the residual, then the FFN: every tensor (B, T, C)."""
        if self.fusion is not None:
            fused, g_local, g_global = self.fusion(h, local, global_)
            if trace is not None:
                trace["local_gate"], trace["global_gate"] = g_local, g_global
        else:  # ungated ablations: sum of whichever pathways exist
            fused = sum(p for p in (local, global_) if p is not None)
        x = x + fused
        return x + self.ffn(self.ln2(x))

    # ---- generation: the state is the conv's last K-1 inputs (+ ContextMemory's running sums) ----
    def initial_state(self, batch_size: int, device, dtype) -> tuple:
        """(last K-1 normalised inputs (B, K-1, C) zeros or None, memory state or None)."""
        C = self.ln1.normalized_shape[0]
        window = (torch.zeros(batch_size, self.local.kernel_size - 1, C, device=device, dtype=dtype)
                  if self.local is not None else None)
        memory = (self.memory.initial_state(batch_size, device, dtype)
                  if isinstance(self.memory, ContextMemory) else None)
        return window, memory

    def state_after(self, x: torch.Tensor) -> tuple:
        """The state after reading x (B, T, C): the last K-1 rows of LayerNorm1(x), zeros before position 0."""
        window = memory = None
        if self.local is not None:
            T, keep = x.shape[1], self.local.kernel_size - 1
            window = self.local.last_inputs(self.ln1(x[:, T - min(keep, T):]))  # LayerNorm is per token
        if isinstance(self.memory, ContextMemory):
            memory = self.memory.state_after(self.ln1(x))
        return window, memory

    def step(self, x: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """One position: x (B, 1, C) and the state -> (output (B, 1, C), new state)."""
        window, memory_state = state
        h = self.ln1(x)                                         # (B, 1, C)
        local = None
        if self.local is not None:
            window = torch.cat([window, h], dim=1)              # (B, K, C): inputs t-K+1..t
            local = self.local.step(window)
            window = window[:, 1:]                              # keep the last K-1
        global_ = None
        if isinstance(self.memory, ContextMemory):
            global_, memory_state = self.memory.step(h, memory_state)
        elif self.memory is not None:
            global_, _ = self.memory(h, need_weights=False)     # the bank read needs no state
        return self.combine(x, h, local, global_), (window, memory_state)


class GAMModel(LanguageModel):
    """The GAM language model. Accepts a `GAMConfig` or the reference `ModelConfig`."""

    def __init__(self, config: GAMConfig | ModelConfig):
        if isinstance(config, ModelConfig):
            config = config.to_gam_config()
        super().__init__(config, [GAMBlock(config) for _ in range(config.n_layer)])


GAM_Model = GAMModel  # the reference repository's class name
