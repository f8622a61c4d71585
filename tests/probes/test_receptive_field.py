"""gamlib.probes.receptive_field: receptive fields measured two ways, for every kind of model, and bad input."""
import pytest

from gamlib.models.registry import build_model
from gamlib.probes.receptive_field import receptive_field


@pytest.mark.parametrize("method", ["perturbation", "gradient"])
@pytest.mark.parametrize("name,variant,expected", [
    ("gam", "full", 3 * (3 - 1) + 1), ("gam", "global_only", 1), ("gam", "sum_fusion", 7),
    ("transformer", "naive", 21), ("mamba", "standard", 21), ("gam", "context", 21)])
def test_receptive_field_two_ways(name, variant, expected, method, tiny):
    # 3 layers of kernel 3; dropout on, so a probe that forgot eval mode would see noise everywhere
    model = build_model(name, variant, **{**tiny, "n_layer": 3, "conv_kernel_size": 3, "dropout": 0.1})
    field = receptive_field(model, method, seq_len=24, target=20)
    assert field.size == expected
    assert field.positions == list(range(21 - expected, 21))  # the last `expected` positions up to t
    assert field.influence.shape == (21,)


def test_receptive_field_bad_input(tiny):
    model = build_model("gam", "full", **{**tiny, "block_size": 24})
    with pytest.raises(ValueError, match="unknown method"):
        receptive_field(model, "saliency")
    with pytest.raises(ValueError, match="target < seq_len <= block_size"):
        receptive_field(model, seq_len=30)


def test_memory_reach_of_a_preset_shape():
    from gamlib.probes.receptive_field import memory_reach

    probe = memory_reach("quick")  # 2 layers, K = 3, context 64
    assert (probe["expected"], probe["gam"], probe["transformer"]) == (5, 5, 64)
    assert probe["memory_read_changes"] == [probe["memory_read_source"]] == [32]
    assert probe["bank_is_parameter"] and probe["bank_shape"] == (8, 16)
