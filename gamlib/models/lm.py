"""What every language model in the series shares: token + position embeddings, a stack of
blocks, a final LayerNorm, an output head tied to the token embedding, the loss, and generate().

A model is `LanguageModel(config, blocks)`; GAM, the Transformer and Mamba differ only in
their blocks, so the comparison between them is a comparison of blocks.

For generation every block also has `initial_state(batch, device, dtype)`, `state_after(x)` (what it
keeps after reading x: (B, T, C)) and `step(x, state)` (one position, x: (B, 1, C)); the model
strings them together in `prefill` and `step` (see models/generation.py for the states and positions).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..checks import check_count, check_real
from ..runtime import eval_mode
from .generation import GenerationState, generate_tokens

TOKEN_DTYPES = (torch.int64, torch.int32)  # what nn.Embedding takes as indices


def check_token_ids(idx: torch.Tensor, vocab_size: int, block_size: int | None, name: str = "idx") -> None:
    """Raise a clear error for input a language model cannot take (wrong type, dtype, rank, empty, length, ids).

    idx must be a (batch, seq_len) tensor of torch.int64 or torch.int32 ids in 0..vocab_size - 1, with
    batch >= 1 and 1 <= seq_len <= block_size (block_size None: no upper limit, as for a prompt).
    """
    if not isinstance(idx, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of token ids, got {type(idx).__name__}")
    if idx.dtype not in TOKEN_DTYPES:
        raise TypeError(f"{name} must hold integer token ids of dtype torch.int64 (torch.long) or torch.int32, "
                        f"got dtype {idx.dtype}; convert with {name}.long()")
    if idx.dim() != 2:
        hint = f" (add a batch dimension: {name}.unsqueeze(0))" if idx.dim() == 1 else ""
        raise ValueError(f"{name} must have shape (batch, seq_len), got shape {tuple(idx.shape)}{hint}")
    if idx.shape[0] == 0 or idx.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one sequence of at least one token, got shape {tuple(idx.shape)}")
    if block_size is not None and idx.shape[1] > block_size:
        raise ValueError(f"sequence length {idx.shape[1]} exceeds block_size {block_size}")
    low, high = int(idx.min()), int(idx.max())
    if low < 0 or high >= vocab_size:
        bad = high if high >= vocab_size else low
        raise ValueError(f"token id {bad} outside vocabulary of {vocab_size} (valid ids: 0..{vocab_size - 1})")


def feed_forward(n_embd: int, dropout: float, hidden: int | None = None) -> nn.Sequential:
    """Linear(C, H) -> exact GELU -> Linear(H, C) -> Dropout, H = 4C unless given; the FFN of GAM and
    Transformer blocks."""
    hidden = 4 * n_embd if hidden is None else hidden
    return nn.Sequential(nn.Linear(n_embd, hidden), nn.GELU(), nn.Linear(hidden, n_embd), nn.Dropout(dropout))


class LanguageModel(nn.Module):
    """Embeddings -> blocks -> LayerNorm -> tied head. Subclasses only build `blocks`.

    `config` is an LMConfig (or one of its per-architecture subclasses in models/config.py).
    """

    def __init__(self, config, blocks: list[nn.Module]):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(blocks)
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.token_embedding.weight = self.head.weight  # weight tying, as the reference

    def embed(self, idx: torch.Tensor, start: int = 0) -> torch.Tensor:
        """(B, T) token ids at positions start..start+T-1 -> (B, T, C) input of the first block.

        The ids are validated first (except inside torch.compile, whose caller checks them); start + T may
        not exceed block_size.
        """
        if not torch.compiler.is_compiling():  # fit(compile=True) checks every id once, before training
            check_token_ids(idx, self.config.vocab_size, self.config.block_size - start)
        pos = torch.arange(start, start + idx.shape[1], device=idx.device)  # (T,)
        return self.dropout(self.token_embedding(idx) + self.pos_embedding(pos))

    def logits_and_loss(self, x: torch.Tensor, targets: torch.Tensor | None):
        """(B, T, C) output of the last block -> logits (B, T, V) and mean cross-entropy (or None).

        Targets -100 are not scored. The loss is F.cross_entropy's mean over the scored tokens; a
        batch with none (every target -100) has loss 0.0 and zero gradients instead of NaN.
        """
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        if targets.shape != logits.shape[:2]:
            raise ValueError(f"targets shape {tuple(targets.shape)} does not match idx shape {tuple(logits.shape[:2])}")
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-100)
        # all ignored: the mean is 0/0 = NaN; where() keeps the value of every other batch bit for bit and
        # passes no gradient to the NaN (cross_entropy writes no gradient for ignored tokens); no host sync
        scored = (targets != -100).any()
        return logits, torch.where(scored, loss, torch.zeros_like(loss))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        x = self.embed(idx)  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        return self.logits_and_loss(x, targets)

    def num_params(self, trainable_only: bool = False) -> int:
        """Unique parameters (the tied embedding/head matrix counts once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ---- generation: recompute, or prefill once and step (models/generation.py) ----------------
    @property
    def receptive_field(self) -> int:
        """How many of the last tokens the next prediction depends on: N_LAYER*(K-1)+1 for GAM with a
        convolution, 1 for GAM global_only; block_size for the Transformer, Mamba and GAM 'context'."""
        return min(getattr(self.config, "receptive_field", self.config.block_size), self.config.block_size)

    def last_logits(self, idx: torch.Tensor, window: int | None = None) -> torch.Tensor:
        """(B, T) ids of any length -> (B, V) logits for the next token, by the crop rule.

        The model reads the last block_size tokens at positions 0..block_size-1 (fewer: 0..T-1).
        `window` reads only the last `window` of those, at their cropped positions; that gives the same
        logits whenever window >= receptive_field (GAM past block_size: a constant cost per token).
        Only the last position goes through the head.
        """
        crop = idx[:, -self.config.block_size:]
        window = crop.shape[1] if window is None else min(window, crop.shape[1])
        x = self.embed(crop[:, crop.shape[1] - window:], start=crop.shape[1] - window)  # (B, W, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x[:, -1]))  # (B, V)

    def use_generation_layout(self) -> "LanguageModel":
        """Store every Linear weight with its longer side contiguous in memory (in place); returns the model.

        At batch 1 a step multiplies each weight matrix by one vector, so its time is one read of the
        weights, and how fast a matrix-vector product reads a matrix depends on how it lies in memory: on
        this project's CPU (MKL), a weight with more outputs than inputs reads more slowly stored row by
        row, PyTorch's default, than column by column. scripts/bench_generation.py times a step in both
        layouts side by side. Only the memory order changes: values, shapes and the tied embedding are
        kept, every result is the same to rounding, and training works in either layout.
        """
        for module in self.modules():
            if isinstance(module, nn.Linear) and module.out_features > module.in_features:
                module.weight.data = module.weight.data.t().contiguous().t()  # (out, in), strides (1, out)
        return self

    def initial_state(self, batch_size: int) -> GenerationState:
        """The state before any token: position 0, every block's empty state."""
        weight = self.head.weight
        return GenerationState(0, [block.initial_state(batch_size, weight.device, weight.dtype)
                                   for block in self.blocks])

    def prefill(self, idx: torch.Tensor) -> tuple[torch.Tensor, GenerationState]:
        """Read a (B, T) prompt, T <= block_size, in parallel -> (logits (B, V) for the next token, state)."""
        x = self.embed(idx)  # (B, T, C)
        layers = []
        for block in self.blocks:
            layers.append(block.state_after(x))  # what the block keeps of its input
            x = block(x)
        return self.head(self.ln_f(x[:, -1])), GenerationState(idx.shape[1], layers)

    def step(self, idx: torch.Tensor, state: GenerationState) -> tuple[torch.Tensor, GenerationState]:
        """One token per sequence ((B,) or (B, 1) ids) at position state.pos -> (logits (B, V), new state).

        Only while the text fits: state.pos < block_size (past it positions shift; see generation.py).
        """
        if state.pos >= self.config.block_size:
            raise ValueError(f"position {state.pos} is past block_size {self.config.block_size}: the window "
                             f"slides and the state is void; use last_logits (generate does)")
        x = self.embed(idx.reshape(-1, 1), start=state.pos)  # (B, 1, C)
        layers = []
        for block, block_state in zip(self.blocks, state.layers):
            x, block_state = block.step(x, block_state)
            layers.append(block_state)
        return self.head(self.ln_f(x[:, -1])), GenerationState(state.pos + 1, layers)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: torch.Generator | None = None,
                 use_cache: bool = True) -> torch.Tensor:
        """Sample `max_new_tokens` continuations of (B, T) `idx`; returns (B, T + max_new_tokens).

        temperature 0 means greedy decoding; top_k keeps only the k most likely tokens. The prompt
        follows forward()'s rules (a 2-D tensor of token ids, at least one token) except that it may
        be longer than block_size (the model sees its last block_size tokens); a 1-D prompt is
        rejected with a hint (idx.unsqueeze(0)). The model's train/eval mode is restored on every path.
        use_cache=True (default) reads the prompt once and then steps one token at a time with a
        per-layer state; use_cache=False recomputes the context for every token. Both give the same
        logits (greedy: the same tokens); models/generation.py says how positions behave past block_size.
        """
        check_token_ids(idx, self.config.vocab_size, None)
        max_new_tokens = check_count("max_new_tokens", max_new_tokens, minimum=0)
        temperature = check_real("temperature", temperature, 0)
        if top_k is not None:
            top_k = check_count("top_k", top_k, 1, self.config.vocab_size)
        with eval_mode(self):
            return generate_tokens(self, idx, max_new_tokens, temperature, top_k, generator, bool(use_cache))
