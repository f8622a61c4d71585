"""Generation: the state a model carries from token to token, sampling, and the generate() loop.

Every model of the series can run in two ways when it writes text:

  recompute: for each new token, run the whole context again (at most block_size tokens);
  step:      read the prompt once (`prefill`), then feed one token at a time with a per-layer state
             (`step`), so each new token costs one position's worth of work.

What each block keeps between tokens (B = batch, C = width, T = tokens read so far):

  GAM        the last K-1 normalised inputs of its convolution        (B, K-1, C), whatever T is
             (+ the running sums of ContextMemory for variant 'context': (B, H, D, D) and (B, H, D))
  Transformer the keys and values of every earlier token               2 x (B, H, T, C/H): grows with T
  Mamba      the scan's hidden state and the last d_conv-1 conv inputs (B, E C, N) + (B, E C, d_conv-1)

Positions and the crop rule. The position embeddings are learned and absolute, for positions
0..block_size-1, and the model reads at most the last block_size tokens. While the text fits
(T <= block_size) every token keeps its position, so stepping is exact. Past block_size the window
slides and every token in it moves one position down at each new token: a state built from the old
positions is void. Then:
  GAM recomputes only its receptive field, the last N_LAYER*(K-1)+1 tokens at their cropped
      positions (block_size-R .. block_size-1): a constant cost per token (`LanguageModel.last_logits`);
  the Transformer, Mamba (and GAM 'context', which reads the whole context) would have to rebuild
      their cache over the whole cropped window at every token: that is recomputation, and it is
      what they do.
Both ways give the logits of full recomputation, so greedy decoding with the state is token for
token the same as without it (tests/models/test_generation.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def nbytes(state) -> int:
    """Bytes of every tensor in a (nested) state: tuples, lists, None and tensors."""
    if state is None:
        return 0
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, (tuple, list)):
        return sum(nbytes(s) for s in state)
    if isinstance(state, GenerationState):
        return nbytes(state.layers)
    raise TypeError(f"cannot size a state part of type {type(state).__name__}")


@dataclass
class GenerationState:
    """What a model remembers after reading `pos` tokens: one entry per block (see the module docstring).

    The next token goes to position `pos`. Treat a state as consumed by `step`: use the one it returns
    (the mamba_ssm backend updates its tensors in place).
    """

    pos: int
    layers: list

    def nbytes(self) -> int:
        return nbytes(self.layers)


def sample_next(logits: torch.Tensor, temperature: float, top_k: int | None,
                generator: torch.Generator | None) -> torch.Tensor:
    """(B, V) logits -> (B, 1) next token ids. temperature 0: argmax (greedy)."""
    logits = logits.float()
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)


def generate_tokens(model, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                    top_k: int | None = None, generator: torch.Generator | None = None,
                    use_cache: bool = True) -> torch.Tensor:
    """The sampling loop behind LanguageModel.generate (arguments already checked, model in eval mode).

    use_cache=True: prefill + step while the text fits in block_size, then the receptive-field window;
    use_cache=False: recompute the cropped context for every token (the reference behaviour).
    """
    if max_new_tokens == 0:
        return idx
    block_size = model.config.block_size
    window = model.receptive_field if use_cache else None  # past block_size (or without cache)
    state = None
    if use_cache and idx.shape[1] <= block_size:
        logits, state = model.prefill(idx)
    else:
        logits = model.last_logits(idx, window)
    for i in range(max_new_tokens):
        next_id = sample_next(logits, temperature, top_k, generator)  # (B, 1)
        idx = torch.cat([idx, next_id], dim=1)
        if i == max_new_tokens - 1:
            break
        if state is not None and idx.shape[1] <= block_size:
            logits, state = model.step(next_id, state)
        else:  # past block_size every position shifts: the state is void, recompute the window
            state = None
            logits = model.last_logits(idx, window)
    return idx
