"""The Transformer baseline: pre-norm GPT blocks with causal multi-head self-attention.

Two attention implementations compute the same function:
  naive: materialise the (T, T) score matrix, mask with a lower-triangular buffer, softmax,
         dropout, as the reference benchmark does (memory grows as T^2);
  sdpa:  F.scaled_dot_product_attention(is_causal=True), which dispatches to fused
         flash / memory-efficient kernels where available (memory grows as T).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import TransformerConfig
from .lm import LanguageModel, feed_forward


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        C = config.n_embd
        self.n_head = config.n_head
        self.implementation = config.variant
        self.dropout = config.dropout
        self.c_attn = nn.Linear(C, 3 * C)  # q, k, v projections in one matrix
        self.c_proj = nn.Linear(C, C)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        if self.implementation == "naive":
            causal = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
            self.register_buffer("causal_mask", causal, persistent=False)  # (block, block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, H, T, C/H)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if self.implementation == "naive":
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])  # (B, H, T, T)
            scores = scores.masked_fill(~self.causal_mask[:T, :T], float("-inf"))
            y = self.attn_dropout(F.softmax(scores, dim=-1)) @ v  # (B, H, T, C/H)
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class TransformerBlock(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.ffn = feed_forward(config.n_embd, config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.ffn(self.ln_2(x))


class TransformerModel(LanguageModel):
    def __init__(self, config: TransformerConfig):
        super().__init__(config, [TransformerBlock(config) for _ in range(config.n_layer)])
