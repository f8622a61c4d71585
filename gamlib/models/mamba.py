"""The Mamba baseline, with a choice of kernel backend and of block form.

Backends compute the same selective-scan mixer (same parameters, same names):
  mamba_ssm: the official CUDA kernels (`pip install -e .[cuda]`, CUDA only);
  mambapy:   a pure-PyTorch implementation (parallel scan), which runs anywhere.
Block forms:
  paper:    x = mixer(x), six bare mixers, no residual, no norm, as the reference benchmark;
  standard: x = x + mixer(RMSNorm(x)), the residual block Mamba is normally used with.

Generation: Mamba is a recurrent model. Each layer carries the scan's hidden state (B, E C, N) and the
last d_conv-1 inputs of its convolution (a constant state), through the backend's own one-token step:
mambapy's MambaBlock.step(x, (h, inputs)); mamba_ssm's Mamba.step(x, conv_state, ssm_state), which
updates its state in place (CUDA only, untested here without a GPU). Past block_size the absolute
positions shift, so the state would be rebuilt over the whole window at each token (models/generation.py).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from mambapy.mamba import MambaBlock
from mambapy.mamba import MambaConfig as MambapyConfig

from .config import MambaConfig
from .lm import LanguageModel


def mamba_ssm_available() -> bool:
    """True when the official CUDA kernels import and a CUDA device is present.

    Both the package and its compiled scan must import: some source installs of mamba-ssm import
    fine but lack `selective_scan_cuda`, and would fail only at the first forward pass.
    """
    if not torch.cuda.is_available():
        return False
    try:
        import mamba_ssm  # noqa: F401
        import selective_scan_cuda  # noqa: F401
    except Exception:  # a broken CUDA build raises more than ImportError
        return False
    return True


def resolve_backend(requested: str) -> str:
    """'auto' -> 'mamba_ssm' when usable, else 'mambapy'; an explicit choice is checked."""
    if requested == "auto":
        return "mamba_ssm" if mamba_ssm_available() else "mambapy"
    if requested == "mamba_ssm" and not mamba_ssm_available():
        raise RuntimeError(
            "Mamba backend 'mamba_ssm' needs a CUDA GPU and the CUDA extra "
            "(pip install -e '.[cuda]'); use backend='mambapy' (pure PyTorch) instead"
        )
    return requested


def make_mixer(config: MambaConfig, backend: str) -> nn.Module:
    """One Mamba mixer (B, T, C) -> (B, T, C) from the chosen backend."""
    if backend == "mamba_ssm":
        from mamba_ssm import Mamba  # optional, CUDA only: imported only when chosen

        return Mamba(d_model=config.n_embd, d_state=config.d_state, d_conv=config.d_conv, expand=config.expand)
    return MambaBlock(MambapyConfig(d_model=config.n_embd, n_layers=1, d_state=config.d_state,
                                    d_conv=config.d_conv, expand_factor=config.expand))


class MambaLayer(nn.Module):
    """One layer of the baseline: a bare mixer ('paper') or a pre-norm residual block ('standard')."""

    def __init__(self, config: MambaConfig, backend: str):
        super().__init__()
        self.mixer = make_mixer(config, backend)
        self.norm = nn.RMSNorm(config.n_embd, eps=1e-5) if config.variant == "standard" else None
        self.backend = backend

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is None:
            return self.mixer(x)  # (B, T, C), no residual: the reference's handicapped form
        return x + self.mixer(self.norm(x))

    # ---- generation: the state is (scan state, last conv inputs), in the backend's own layout --------
    def initial_state(self, batch_size: int, device, dtype) -> tuple:
        """mambapy: (h (B, E C, N), conv inputs (B, E C, d_conv-1));
        mamba_ssm: (conv state (B, E C, d_conv), ssm state (B, E C, N))."""
        if self.backend == "mamba_ssm":
            return self.mixer.allocate_inference_cache(batch_size, 1, dtype=dtype)
        config = self.mixer.config
        return (torch.zeros(batch_size, config.d_inner, config.d_state, device=device, dtype=dtype),
                torch.zeros(batch_size, config.d_inner, config.d_conv - 1, device=device, dtype=dtype))

    def mix_step(self, u: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """The mixer at one position: u (B, 1, C) -> (B, 1, C), new state."""
        if self.backend == "mamba_ssm":
            out, conv_state, ssm_state = self.mixer.step(u, *state)  # updates the states in place
            return out, (conv_state, ssm_state)
        out, state = self.mixer.step(u[:, 0], state)  # mambapy: (B, C), (h, inputs)
        return out[:, None], state

    def step(self, x: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """One position x (B, 1, C) -> (output (B, 1, C), new state)."""
        if self.norm is None:
            return self.mix_step(x, state)
        out, state = self.mix_step(self.norm(x), state)
        return x + out, state

    def state_after(self, x: torch.Tensor) -> tuple:
        """The state after reading x (B, T, C), by stepping through it (the parallel scan keeps no state)."""
        state = self.initial_state(x.shape[0], x.device, x.dtype)
        for t in range(x.shape[1]):
            _, state = self.step(x[:, t:t + 1], state)
        return state


class MambaModel(LanguageModel):
    def __init__(self, config: MambaConfig):
        backend = resolve_backend(config.backend)
        super().__init__(config, [MambaLayer(config, backend) for _ in range(config.n_layer)])
        self.backend = backend  # reported in every result record
