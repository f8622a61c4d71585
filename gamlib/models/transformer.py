"""The Transformer baseline: pre-norm GPT blocks with causal multi-head self-attention.

Two attention implementations compute the same function:
  naive: materialise the (T, T) score matrix, mask with a lower-triangular buffer, softmax,
         dropout, as the reference benchmark does (memory grows as T^2);
  sdpa:  F.scaled_dot_product_attention(is_causal=True), which dispatches to fused
         flash / memory-efficient kernels where available (memory grows as T).

Generation: each layer keeps the keys and values of every token read so far (a key/value cache,
2 x (B, H, T, C/H) per layer), so one new token costs one query against T keys: the cache and the
attention part of the cost grow with the context. Past block_size the absolute positions shift and the
cache would have to be rebuilt over the whole window at every token (models/generation.py).
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

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, C) -> q, k, v, each (B, H, T, C/H)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        return tuple(t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
        """q (B, H, Tq, C/H) over k, v (B, H, Tk, C/H) -> (B, Tq, C). causal: Tq == Tk, position t sees s <= t."""
        B, H, T, D = q.shape
        if self.implementation == "naive":
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)  # (B, H, Tq, Tk)
            if causal:
                scores = scores.masked_fill(~self.causal_mask[:T, :T], float("-inf"))
            y = self.attn_dropout(F.softmax(scores, dim=-1)) @ v  # (B, H, Tq, C/H)
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=causal, dropout_p=self.dropout if self.training else 0.0
            )
        y = y.transpose(1, 2).contiguous().view(B, T, H * D)
        return self.resid_dropout(self.c_proj(y))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(*self.qkv(x), causal=True)

    def step(self, x: torch.Tensor, cache: tuple) -> tuple[torch.Tensor, tuple]:
        """One new position x (B, 1, C) with the cache (k, v) of the earlier ones -> (B, 1, C), longer cache."""
        q, k, v = self.qkv(x)
        k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)  # (B, H, T+1, C/H)
        return self.attend(q, k, v, causal=False), (k, v)  # the newest query may see every key


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

    # ---- generation: the state is the key/value cache ----------------------------------------------
    def initial_state(self, batch_size: int, device, dtype) -> tuple:
        """An empty cache: keys and values (B, H, 0, C/H)."""
        C, H = self.ln_1.normalized_shape[0], self.attn.n_head
        empty = torch.zeros(batch_size, H, 0, C // H, device=device, dtype=dtype)
        return empty, empty

    def state_after(self, x: torch.Tensor) -> tuple:
        """The keys and values of every position of x (B, T, C): 2 x (B, H, T, C/H).

        Prefill runs forward() as it is and this beside it: the key/value projection of the prompt twice.
        """
        _, k, v = self.attn.qkv(self.ln_1(x))
        return k.contiguous(), v.contiguous()  # copies: views would keep the queries' storage alive

    def step(self, x: torch.Tensor, cache: tuple) -> tuple[torch.Tensor, tuple]:
        """One position x (B, 1, C) -> (output (B, 1, C), cache one token longer)."""
        attended, cache = self.attn.step(self.ln_1(x), cache)
        x = x + attended
        return x + self.ffn(self.ln_2(x)), cache


class TransformerModel(LanguageModel):
    def __init__(self, config: TransformerConfig):
        super().__init__(config, [TransformerBlock(config) for _ in range(config.n_layer)])
