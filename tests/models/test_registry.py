"""gamlib.models.registry: build_model by name, and parameter counts at the paper configuration computed by hand."""
import pytest

from gamlib.models.registry import build_model

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
