"""Gated Associative Memory (GAM), after Acharya (arXiv:2509.00605; reference code: rishiraj/gam).

One block, with x of shape (B, T, C):

    h      = LayerNorm1(x)
    local  = causal_depthwise_conv(h)          # LocalPathway: position t sees h[t-K+1 .. t]
    global = softmax(h @ M.T) @ M              # AssociativeMemory: bank M (S, C), no 1/sqrt(C)
    g_l, g_g = split(Linear(h), 2)             # GatedFusion
    x      = x + sigmoid(g_l) * local + sigmoid(g_g) * global
    x      = x + FFN(LayerNorm2(x))

Ablations (Table 3) drop the gate (plain sum) and/or one pathway; the `context` variant swaps the bank
for a memory that reads the sequence (context_gam.py). See `GAMConfig.variant`.
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


class AssociativeMemory(nn.Module):
    """Per-token read from a learned bank M whose slots are both keys and values."""

    def __init__(self, n_embd: int, num_slots: int):
        super().__init__()
        self.memory_bank = nn.Parameter(torch.empty(num_slots, n_embd))  # M: (S, C)
        nn.init.xavier_uniform_(self.memory_bank)

    def slot_weights(self, h: torch.Tensor) -> torch.Tensor:
        return F.softmax(h @ self.memory_bank.T, dim=-1)  # (B, T, S); scale 1, as the reference

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h: (B, T, C) -> (retrieved (B, T, C), slot weights (B, T, S))."""
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
        self.ffn = feed_forward(C, config.dropout)

    def forward(self, x: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C). If `trace` is a dict, the gates and slot weights are put in it."""
        h = self.ln1(x)
        local = self.local(h) if self.local is not None else None
        global_ = None
        if self.memory is not None:
            global_, weights = self.memory(h)  # (B, T, C), (B, T, S)
            if trace is not None:
                trace["slot_weights"] = weights
        if self.fusion is not None:
            fused, g_local, g_global = self.fusion(h, local, global_)
            if trace is not None:
                trace["local_gate"], trace["global_gate"] = g_local, g_global
        else:  # ungated ablations: sum of whichever pathways exist
            fused = sum(p for p in (local, global_) if p is not None)
        x = x + fused
        return x + self.ffn(self.ln2(x))


class GAMModel(LanguageModel):
    """The GAM language model. Accepts a `GAMConfig` or the reference `ModelConfig`."""

    def __init__(self, config: GAMConfig | ModelConfig):
        if isinstance(config, ModelConfig):
            config = config.to_gam_config()
        super().__init__(config, [GAMBlock(config) for _ in range(config.n_layer)])


GAM_Model = GAMModel  # the reference repository's class name
