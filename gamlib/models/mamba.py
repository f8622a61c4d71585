"""The Mamba baseline, with a choice of kernel backend and of block form.

Backends compute the same selective-scan mixer (same parameters, same names):
  mamba_ssm: the official CUDA kernels (`pip install -e .[cuda]`, CUDA only);
  mambapy:   a pure-PyTorch implementation (parallel scan), which runs anywhere.
Block forms:
  paper:    x = mixer(x), six bare mixers, no residual, no norm, as the reference benchmark;
  standard: x = x + mixer(RMSNorm(x)), the residual block Mamba is normally used with.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from mambapy.mamba import MambaBlock
from mambapy.mamba import MambaConfig as MambapyConfig

from .config import MambaConfig
from .lm import LanguageModel


def mamba_ssm_available() -> bool:
    """True when the official CUDA kernels import and a CUDA device is present."""
    if not torch.cuda.is_available():
        return False
    try:
        import mamba_ssm  # noqa: F401
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.norm is None:
            return self.mixer(x)  # (B, T, C), no residual: the reference's handicapped form
        return x + self.mixer(self.norm(x))


class MambaModel(LanguageModel):
    def __init__(self, config: MambaConfig):
        backend = resolve_backend(config.backend)
        super().__init__(config, [MambaLayer(config, backend) for _ in range(config.n_layer)])
        self.backend = backend  # reported in every result record
