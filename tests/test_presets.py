"""gamlib.presets: presets are looked up by name."""
import pytest

from gamlib.presets import get_preset


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        get_preset("huge")


def test_the_model_shape_is_typed_per_family_and_flat_for_configs():
    paper, colab = get_preset("paper"), get_preset("colab")
    assert paper.model.gam.num_memory_slots == 512 and paper.model.transformer.n_head == 8
    assert paper.model.mamba.expand == 3 and paper.model.n_embd == 512
    fields = paper.model.fields()   # what specs hash and make_config reads: one flat dict, every family
    assert list(fields) == ["block_size", "n_embd", "n_layer", "dropout", "num_memory_slots", "conv_kernel_size",
                            "n_head", "d_state", "d_conv", "expand"]
    assert paper.model_fields(dropout=0.0) == {**fields, "vocab_size": paper.vocab_size, "dropout": 0.0}
    assert colab.model == paper.model.with_fields(n_embd=256, n_layer=4, num_memory_slots=256, n_head=4)
    assert colab.model.mamba == paper.model.mamba   # a family that was not changed stays as it is
    with pytest.raises(ValueError, match="no field nembd"):
        paper.model.with_fields(nembd=3)
