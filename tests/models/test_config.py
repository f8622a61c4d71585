"""gamlib.models.config: config fields are checked, and the reference's ModelConfig converts to GAMConfig."""
import pytest

from gamlib.models.config import GAMConfig, ModelConfig
from gamlib.models.registry import build_model


@pytest.mark.parametrize("call,message", [
    (lambda: build_model("gam", "gates_only"), "unknown GAMConfig variant 'gates_only'"),
    (lambda: build_model("transformer", "flash"), "unknown TransformerConfig variant 'flash'"),
    (lambda: build_model("mamba", "paper", backend="triton"), "unknown Mamba backend 'triton'"),
    (lambda: build_model("transformer", n_embd=10, n_head=4), "not divisible by n_head"),
    (lambda: GAMConfig(n_layer=0), "n_layer must be a positive integer"),
])
def test_bad_fields_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_reference_config_converts():
    config = ModelConfig(N_EMBED=32, N_LAYER=2, NUM_MEMORY_SLOTS=4, VOCAB_SIZE=20, BLOCK_SIZE=8).to_gam_config()
    assert (config.n_embd, config.n_layer, config.num_memory_slots, config.variant) == (32, 2, 4, "full")
