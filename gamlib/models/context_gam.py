"""A memory that reads the sequence: the context-reading GAM variant of notebook 11 (not in the paper).

GAM's bank read, softmax(h_t M^T) M, depends on token t alone (docs/paper.md §5.1). ContextMemory is a
drop-in for it (same call, same output shape) whose keys and values come from the tokens s <= t,
so the read spans the whole context: causal linear attention (Katharopoulos et al. 2020),

    read_t = sum_{s<=t} a_ts v_s / sum_{s<=t} a_ts,    a_ts = phi(q_t) . phi(k_s),    q, k, v = W h,

with phi = elu + 1 and H heads of D = `head_dim` channels. Three forms compute the same read:
  chunked   (forward, the form the model trains and evaluates with): chunks of c = `chunk_size`
            positions; inside a chunk the masked (c, c) product, across chunks the running sums
            sum_s phi(k_s) v_s^T (D x D per head) and sum_s phi(k_s) of the earlier chunks (cumulative
            sums over chunks). O(T c D + T D^2) time per head, memory linear in T;
  parallel  (forward(h, need_weights=True), for probes): the masked (T, T) product, as attention, which
            also returns the read weights a_ts / sum_s a_ts; quadratic in T;
  recurrent (recurrent, the reference the tests check the others against): the running sums one token
            at a time, a Python loop over t.
The chunked and parallel forms agree to rounding (not bit for bit), so a traced run (block(x, trace={}))
reproduces an untraced one to float precision.
For generation the same running sums are the state (`initial_state`, `state_after`, `step`), so a
'context' GAM steps with a constant state too, although it reads the whole context.
GAMConfig(variant="context") builds a full GAM block with this memory in place of the bank.

Parameters: W is one Linear(C, 3C), 3 C^2 + 3 C parameters, in place of the bank's S C; per block the
'context' variant has 3 C^2 + 3 C - S C more than 'full' (the paper's C = S = 512: 787,968 for 262,144,
+525,824 per block).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class ContextMemory(nn.Module):
    def __init__(self, n_embd: int, head_dim: int = 16, chunk_size: int = 64):
        super().__init__()
        if n_embd % head_dim:
            raise ValueError(f"n_embd {n_embd} is not divisible by head_dim {head_dim}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.head_dim = head_dim
        self.chunk_size = chunk_size
        self.qkv = nn.Linear(n_embd, 3 * n_embd)  # the extra parameters: 3 C^2 + 3 C (the bank's S C go)

    def features(self, h: torch.Tensor):
        """h: (B, T, C) -> phi(q), phi(k), v, each (B, H, T, head_dim)."""
        B, T, C = h.shape
        q, k, v = (t.view(B, T, C // self.head_dim, self.head_dim).transpose(1, 2)
                   for t in self.qkv(h).chunk(3, dim=-1))
        return F.elu(q) + 1, F.elu(k) + 1, v

    def forward(self, h: torch.Tensor, need_weights: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """h: (B, T, C) -> (read (B, T, C), read weights a_ts / sum_s a_ts (B, H, T, T) or None).

        With need_weights (a trace, a probe) the parallel form, which makes the weights; otherwise the
        chunked form, linear in T, and no weights (as the bank read: GAMBlock asks only when tracing).
        """
        if need_weights:
            return self.parallel(h)
        return self.chunked(h), None

    def parallel(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The masked (T, T) form: (B, T, C) -> (read (B, T, C), read weights (B, H, T, T))."""
        q, k, v = self.features(h)
        scores = (q @ k.transpose(-2, -1)).tril()              # (B, H, T, T): a_ts, 0 for s > t
        weights = scores / scores.sum(-1, keepdim=True)
        read = weights @ v                                      # (B, H, T, head_dim)
        return read.transpose(1, 2).reshape(h.shape), weights

    def chunked(self, h: torch.Tensor) -> torch.Tensor:
        """The chunked form: (B, T, C) -> read (B, T, C), with nothing of size T x T.

        Chunks of c = min(chunk_size, T) positions. h is padded at the end to whole chunks: the read is
        causal, so no real position changes, and padded rows still divide by a positive normaliser
        (zero-padded features would give them 0 / 0, NaN gradients through the division).
        """
        B, T, C = h.shape
        c = min(self.chunk_size, T)
        n = -(-T // c)                                          # chunks
        q, k, v = (t.unflatten(2, (n, c)) for t in self.features(F.pad(h, (0, 0, 0, n * c - T))))  # (B, H, n, c, D)
        kv = k.transpose(-2, -1) @ v                            # (B, H, n, D, D): sum_s phi(k_s) v_s^T per chunk
        # the sums over the chunks before each chunk: cumulative sums shifted by one chunk
        kv_before = F.pad(kv.cumsum(2), (0, 0, 0, 0, 1, 0))[:, :, :n]         # (B, H, n, D, D)
        k_before = F.pad(k.sum(3).cumsum(2), (0, 0, 1, 0))[:, :, :n, :, None]  # (B, H, n, D, 1)
        scores = (q @ k.transpose(-2, -1)).tril()              # (B, H, n, c, c): a_ts within a chunk
        numerator = scores @ v + q @ kv_before                  # (B, H, n, c, D)
        normaliser = scores.sum(-1, keepdim=True) + q @ k_before  # (B, H, n, c, 1)
        read = (numerator / normaliser).flatten(2, 3)[:, :, :T]  # (B, H, T, D)
        return read.transpose(1, 2).reshape(h.shape)

    def recurrent(self, h: torch.Tensor) -> torch.Tensor:
        """The same read, one token at a time with a running state per head: (B, T, C) -> (B, T, C)."""
        q, k, v = self.features(h)                              # (B, H, T, D)
        B, H, T, D = q.shape
        state = h.new_zeros(B, H, D, D)                         # sum_s phi(k_s) v_s^T
        normaliser = h.new_zeros(B, H, D)                       # sum_s phi(k_s)
        reads = []
        for t in range(T):
            state = state + k[:, :, t, :, None] * v[:, :, t, None, :]
            normaliser = normaliser + k[:, :, t]
            numerator = (q[:, :, t, None, :] @ state)[:, :, 0]  # (B, H, D)
            reads.append(numerator / (q[:, :, t] * normaliser).sum(-1, keepdim=True))
        return torch.stack(reads, dim=2).transpose(1, 2).reshape(h.shape)

    # ---- generation: the running sums are the state ----------------------------------------------
    def initial_state(self, batch_size: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """(sum_s phi(k_s) v_s^T (B, H, D, D), sum_s phi(k_s) (B, H, D)), both zero."""
        H, D = self.qkv.in_features // self.head_dim, self.head_dim
        return (torch.zeros(batch_size, H, D, D, device=device, dtype=dtype),
                torch.zeros(batch_size, H, D, device=device, dtype=dtype))

    def state_after(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The running sums over every position of h (B, T, C)."""
        _, k, v = self.features(h)                              # (B, H, T, D)
        return k.transpose(-2, -1) @ v, k.sum(2)

    def step(self, h: torch.Tensor, state) -> tuple[torch.Tensor, tuple]:
        """One position h (B, 1, C) -> (read (B, 1, C), updated sums)."""
        q, k, v = self.features(h)                              # (B, H, 1, D)
        kv, k_sum = state
        kv = kv + k.transpose(-2, -1) @ v                       # (B, H, D, D)
        k_sum = k_sum + k[:, :, 0]                              # (B, H, D)
        read = (q @ kv)[:, :, 0] / (q[:, :, 0] * k_sum).sum(-1, keepdim=True)  # (B, H, D)
        return read.reshape(h.shape), (kv, k_sum)
