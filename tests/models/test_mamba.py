"""gamlib.models.mamba: the model reports which kernel backend it runs on."""
import torch

from gamlib.models.registry import build_model


def test_mamba_backend_is_reported(tiny):
    model = build_model("mamba", "paper", **tiny)
    assert model.backend in ("mamba_ssm", "mambapy")
    if not torch.cuda.is_available():
        assert model.backend == "mambapy"
