"""gamlib.models.registry: build_model by name, and parameter counts at the paper configuration computed by hand."""
import pytest

from gamlib.models.config import MODEL_FIELDS, GAMConfig, TransformerConfig
from gamlib.models.registry import build_model, make_config

V, T, C, L, S, K = 10000, 256, 512, 6, 512, 3
SHARED = V * C + T * C + 2 * C          # tied embedding/head, positions, final LayerNorm
LAYER_NORMS = 2 * 2 * C                  # two LayerNorms per block
FFN = (C * 4 * C + 4 * C) + (4 * C * C + C)
CONV = C * K + C                          # depthwise: one K-tap filter and a bias per channel
BANK = S * C
GATE = C * 2 * C + 2 * C
ATTENTION = (C * 3 * C + 3 * C) + (C * C + C)
D_INNER, DT_RANK, N = 3 * C, C // 16, 16  # Mamba: expand 3, dt_rank ceil(C/16), d_state 16
MIXER = (C * 2 * D_INNER) + (D_INNER * 4 + D_INNER) + D_INNER * (DT_RANK + 2 * N) \
    + (DT_RANK * D_INNER + D_INNER) + D_INNER * N + D_INNER + D_INNER * C

EXPECTED = {
    ("gam", "full"): (SHARED + L * (LAYER_NORMS + FFN + CONV + BANK + GATE), 22.6),
    ("gam", "global_only"): (SHARED + L * (LAYER_NORMS + FFN + BANK), 19.4),
    ("gam", "sum_fusion"): (SHARED + L * (LAYER_NORMS + FFN + CONV + BANK), 19.4),
    ("gam", "local_only"): (SHARED + L * (LAYER_NORMS + FFN + CONV), 17.9),
    ("transformer", "naive"): (SHARED + L * (LAYER_NORMS + FFN + ATTENTION), 24.2),
    ("mamba", "paper"): (SHARED + L * MIXER, 20.5),
    ("mamba", "standard"): (SHARED + L * (MIXER + C), None),  # + one RMSNorm per block
}


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown model 'rwkv'"):
        build_model("rwkv")


KNOWN = r"known fields: \['backend', 'block_size', 'conv_kernel_size', 'd_conv', 'd_state', 'dropout', 'expand', " \
        r"'n_embd', 'n_head', 'n_layer', 'num_memory_slots', 'variant', 'vocab_size'\]$"


@pytest.mark.parametrize("call,message", [
    (lambda: make_config("gam", nembd=32), r"^unknown model config field 'nembd' .*did you mean 'n_embd'.*" + KNOWN),
    (lambda: build_model("gam", n_embd=32, nembd=32), r"^unknown model config field 'nembd' .*" + KNOWN),
    (lambda: build_model("transformer", n_heads=4), r"^unknown model config field 'n_heads' .*'n_head'.*" + KNOWN),
    (lambda: make_config("mamba", lr=1e-3, epochs=2), r"^unknown model config fields 'lr', 'epochs'.*" + KNOWN),
])
def test_field_of_no_model_is_named_with_the_known_ones(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_field_of_another_model_is_ignored(tiny):
    """One preset dict configures every model: n_head means nothing to GAM, num_memory_slots nothing to the
    Transformer."""
    gam = make_config("gam", **{**tiny, "n_head": 0, "d_state": 0, "backend": "triton"})
    assert isinstance(gam, GAMConfig) and not hasattr(gam, "n_head")
    transformer = make_config("transformer", **{**tiny, "num_memory_slots": 0, "conv_kernel_size": 0})
    assert isinstance(transformer, TransformerConfig) and transformer.n_head == tiny["n_head"]
    assert MODEL_FIELDS == {f for cls in (GAMConfig, TransformerConfig) for f in cls.__dataclass_fields__} | \
        {"d_state", "d_conv", "expand", "backend"}


def test_saved_config_rebuilds():
    """A config's to_dict (variant included) is valid input, as experiments reload saved models."""
    config = make_config("gam", "local_only", n_embd=16, n_layer=1, vocab_size=11, block_size=8)
    assert make_config("gam", **config.to_dict()) == config


@pytest.mark.parametrize("name,variant", EXPECTED)
def test_parameter_count(name, variant):
    expected, paper_millions = EXPECTED[(name, variant)]
    assert build_model(name, variant).num_params() == expected
    if paper_millions is not None:
        assert round(expected / 1e6, 1) == paper_millions


def test_exact_integers():
    """The same counts as literal numbers, so a change in either formula or model shows up."""
    counts = {key: build_model(*key).num_params() for key in EXPECTED}
    assert counts == {
        ("gam", "full"): 22_599_680, ("gam", "global_only"): 19_435_520, ("gam", "sum_fusion"): 19_447_808,
        ("gam", "local_only"): 17_874_944, ("transformer", "naive"): 24_166_400,
        ("mamba", "paper"): 20_504_576, ("mamba", "standard"): 20_507_648,
    }
