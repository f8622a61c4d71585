"""gamlib.training.fit on a CUDA GPU: fp32, and bf16/fp16 autocast with the GradScaler (fp16 only)."""
import math

import pytest
import torch

from gamlib.data import TokenChunks
from gamlib.models.registry import build_model
from gamlib.runtime import device_name
from gamlib.training.config import RunOptions, TrainConfig
from gamlib.training.loop import fit

pytestmark = pytest.mark.cuda

FIELDS = dict(vocab_size=64, block_size=32, n_embd=32, n_layer=2, dropout=0.0, num_memory_slots=16,
              conv_kernel_size=3, n_head=4, d_state=8, d_conv=4, expand=2)


def periodic_chunks(n: int, period: int = 5, seed: int = 0) -> TokenChunks:
    """Chunks of one repeating token pattern (learnable in a few steps), each from a random start."""
    base = torch.randint(0, FIELDS["vocab_size"], (period,), generator=torch.Generator().manual_seed(123))
    starts = torch.randint(0, period, (n,), generator=torch.Generator().manual_seed(seed))
    ids = torch.stack([base[(torch.arange(FIELDS["block_size"] + 1) + s) % period] for s in starts])
    return TokenChunks(ids[:, :-1].contiguous(), ids[:, 1:].contiguous())


PRECISIONS = ["fp32", "fp16", pytest.param("bf16", marks=pytest.mark.skipif(
    torch.cuda.is_available() and not torch.cuda.is_bf16_supported(), reason="this GPU has no bf16"))]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_fit_trains_on_the_gpu_and_uses_the_scaler_only_for_fp16(cuda, tmp_path, precision):
    model = build_model("gam", "full", **FIELDS)
    config = TrainConfig(epochs=2, batch_size=16, lr=3e-3, warmup_steps=2, precision=precision)
    state = tmp_path / "state.pt"
    history = fit(model, periodic_chunks(128), periodic_chunks(32, seed=1), config,
                  RunOptions(progress=False, state_path=state))
    assert history["precision"] == precision and history["device"] == device_name(cuda)
    assert next(model.parameters()).device.type == "cuda"
    final = history["epochs"][-1]
    assert math.isfinite(final["val_loss"]) and final["val_loss"] < history["initial_val_loss"] - 0.5
    scaler = torch.load(state, map_location="cpu", weights_only=True)["scaler"]
    if precision == "fp16":  # the GradScaler is on: it keeps a loss scale and its growth tracker
        assert "scale" in scaler and scaler["scale"] > 0
    else:
        assert scaler == {}


@pytest.mark.parametrize("name, variant", [("gam", "full"), ("gam", "context"), ("transformer", "naive"),
                                           ("transformer", "sdpa"), ("mamba", "paper"), ("mamba", "standard")])
def test_every_model_trains_under_autocast(cuda, name, variant):
    precision = "auto"  # bf16 where supported, else fp16 with the GradScaler
    model = build_model(name, variant, **FIELDS)
    config = TrainConfig(epochs=1, batch_size=16, lr=1e-3, warmup_steps=1, precision=precision)
    history = fit(model, periodic_chunks(64), periodic_chunks(16, seed=1), config, RunOptions(progress=False))
    assert history["precision"] in ("bf16", "fp16")
    assert all(math.isfinite(e["train_loss"]) and math.isfinite(e["val_loss"]) for e in history["epochs"])


@pytest.mark.parametrize("name,variant", [("gam", "full"), ("transformer", "sdpa")])
def test_a_compiled_fit_on_the_gpu_matches_an_eager_one(cuda, name, variant):
    """fit with RunOptions(compile=True) on CUDA: the same losses as an eager run, to the rounding of fused kernels."""
    histories = []
    for compile in (False, True):
        torch.manual_seed(0)
        model = build_model(name, variant, **FIELDS)
        config = TrainConfig(epochs=1, batch_size=16, lr=3e-3, warmup_steps=2, log_every=2)
        options = RunOptions(progress=False, compile=compile)
        histories.append(fit(model, periodic_chunks(128), periodic_chunks(32, seed=1), config, options))
    eager, compiled = histories
    assert compiled["compiled"] and not eager["compiled"]
    for a, b in zip(eager["train_curve"], compiled["train_curve"], strict=True):
        assert math.isclose(a["train_loss"], b["train_loss"], rel_tol=1e-3)
    assert math.isclose(eager["epochs"][-1]["val_loss"], compiled["epochs"][-1]["val_loss"], rel_tol=1e-3)
