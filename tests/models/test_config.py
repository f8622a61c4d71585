"""gamlib.models.config: config fields are checked, and the reference's ModelConfig converts to GAMConfig."""
import re

import numpy as np
import pytest

from gamlib.models.config import GAMConfig, LMConfig, MambaConfig, ModelConfig, TransformerConfig
from gamlib.models.registry import build_model


@pytest.mark.parametrize("call,message", [
    (lambda: build_model("gam", "gates_only"), "unknown GAMConfig variant 'gates_only'"),
    (lambda: build_model("transformer", "flash"), "unknown TransformerConfig variant 'flash'"),
    (lambda: build_model("mamba", "paper", backend="triton"), "unknown Mamba backend 'triton'"),
    (lambda: build_model("transformer", n_embd=10, n_head=4), "not divisible by n_head"),
    (lambda: GAMConfig(n_layer=0), r"^GAMConfig\.n_layer must be an integer >= 1, got 0$"),
])
def test_bad_fields_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("cls,field,value,allowed", [
    (cls, field, value, allowed)
    for cls in (LMConfig, GAMConfig, TransformerConfig, MambaConfig)
    for field, values, allowed in [
        ("vocab_size", (0, -1, 2.0, "10", True, None), "an integer >= 1"),
        ("block_size", (0, 1.5, False), "an integer >= 1"),
        ("n_embd", (0, 8.0, True), "an integer >= 1"),
        ("n_layer", (0, -2, True, "6"), "an integer >= 1"),
        ("dropout", (1.0, 1, -0.1, float("nan"), float("inf"), "0.1", True, None), r"a real number in \[0, 1\)"),
    ]
    for value in values
] + [
    (GAMConfig, "num_memory_slots", v, "an integer >= 1") for v in (0, -1, 8.0, True)
] + [
    (GAMConfig, "conv_kernel_size", v, "an integer >= 1") for v in (0, 3.0, True)
] + [
    (TransformerConfig, "n_head", v, "an integer >= 1") for v in (0, -4, 2.0, True)
] + [
    (MambaConfig, field, v, "an integer >= 1") for field in ("d_state", "d_conv", "expand") for v in (0, 2.0, True)
])
def test_every_field_is_checked_and_named(cls, field, value, allowed):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}\.{field} must be {allowed}, got {re.escape(repr(value))}"):
        cls(**{field: value})


def test_zero_memory_slots_points_to_local_only():
    with pytest.raises(ValueError, match="num_memory_slots must be an integer >= 1, got 0; .*variant 'local_only'"):
        GAMConfig(num_memory_slots=0)
    with pytest.raises(ValueError, match="num_memory_slots"):
        GAMConfig(num_memory_slots=0, variant="full")


def test_zero_heads_is_a_value_error_not_zero_division():
    with pytest.raises(ValueError, match=r"^TransformerConfig\.n_head must be an integer >= 1, got 0$"):
        TransformerConfig(n_head=0)


@pytest.mark.parametrize("cls,fields", [
    (LMConfig, dict(vocab_size=1, block_size=1, n_embd=1, n_layer=1, dropout=0)),
    (LMConfig, dict(dropout=0.999)),
    (GAMConfig, dict(num_memory_slots=1, conv_kernel_size=1)),
    (TransformerConfig, dict(n_embd=8, n_head=8)),
    (MambaConfig, dict(d_state=1, d_conv=1, expand=1)),
])
def test_boundary_values_are_accepted(cls, fields):
    config = cls(**fields)
    assert all(getattr(config, k) == v for k, v in fields.items())


def test_values_are_normalised():
    """numpy numbers pass and are stored as plain int / float, so to_dict stays JSON-friendly."""
    config = GAMConfig(n_layer=np.int64(2), num_memory_slots=np.int32(4), dropout=np.float32(0.5))
    assert type(config.n_layer) is int and type(config.num_memory_slots) is int and type(config.dropout) is float
    assert (config.n_layer, config.num_memory_slots, config.dropout) == (2, 4, 0.5)
    assert type(GAMConfig(dropout=0).dropout) is float


def test_unknown_keyword_to_a_config_class_is_a_type_error():
    with pytest.raises(TypeError, match="nembd"):
        GAMConfig(nembd=32)


def test_reference_config_converts():
    config = ModelConfig(N_EMBED=32, N_LAYER=2, NUM_MEMORY_SLOTS=4, VOCAB_SIZE=20, BLOCK_SIZE=8).to_gam_config()
    assert (config.n_embd, config.n_layer, config.num_memory_slots, config.variant) == (32, 2, 4, "full")
    with pytest.raises(ValueError, match=r"GAMConfig\.num_memory_slots must be an integer >= 1, got 0"):
        ModelConfig(NUM_MEMORY_SLOTS=0).to_gam_config()
