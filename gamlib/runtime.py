"""Where and how tensors run: device choice, precision, synchronisation, seeds and eval mode.

One helper for each, used by training, measurement, probes and generation alike.
"""
from __future__ import annotations

import contextlib
import random

import torch
import torch.nn as nn


def default_device() -> torch.device:
    """A CUDA GPU when one is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_device(requested: str = "auto") -> torch.device:
    """'auto' -> cuda if available, else mps, else cpu; an explicit device must exist."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA GPU is available; use device='auto'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device 'mps' requested but MPS is not available; use device='auto'")
    return device


def device_name(device: torch.device) -> str:
    """The GPU's name on CUDA ('NVIDIA H200'), else the device type ('cpu')."""
    device = torch.device(device)
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> bf16 on a CUDA GPU that supports it, fp16 on an older GPU, fp32 elsewhere."""
    if precision == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision != "fp32" and device.type != "cuda":
        raise ValueError(f"precision {precision!r} (autocast) is only used on CUDA; use 'fp32' or 'auto' on "
                         f"{device.type}")
    return precision


AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str):
    """Mixed-precision autocast for 'bf16' / 'fp16'; a no-op context for 'fp32'."""
    dtype = AUTOCAST_DTYPES[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, torch (CPU and CUDA); return a generator for data shuffling."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Run the body with `model` in eval mode (no dropout), then restore its previous mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
