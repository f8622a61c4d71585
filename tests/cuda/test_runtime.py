"""gamlib.runtime on a CUDA GPU: device choice, precision choice, autocast, seeds."""
import pytest
import torch

from gamlib.presets import get_preset
from gamlib.runtime import autocast, device_name, pick_device, resolve_precision, seed_everything, sync

pytestmark = pytest.mark.cuda


def test_auto_picks_the_gpu_and_names_it(cuda):
    assert pick_device("auto").type == "cuda"
    assert pick_device("cuda:0") == torch.device("cuda:0")
    assert device_name(torch.device("cuda")) == torch.cuda.get_device_name(0)
    assert get_preset("auto").name == "colab"  # auto = colab on a GPU


def test_auto_precision_is_bf16_where_supported_else_fp16(cuda):
    expected = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    assert resolve_precision("auto", cuda) == expected
    for explicit in ("fp32", "bf16", "fp16"):
        assert resolve_precision(explicit, cuda) == explicit
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"


@pytest.mark.parametrize("precision, dtype",
                         [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_autocast_runs_matmuls_in_the_chosen_dtype(cuda, precision, dtype):
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip(f"{torch.cuda.get_device_name(0)} has no bf16")
    a, b = torch.randn(64, 64, device=cuda), torch.randn(64, 64, device=cuda)
    with autocast(cuda, precision):
        assert (a @ b).dtype == dtype
    sync(cuda)


def test_seeds_repeat_on_the_gpu(cuda):
    seed_everything(3)
    first = torch.randn(8, device=cuda)
    seed_everything(3)
    assert torch.equal(first, torch.randn(8, device=cuda))
