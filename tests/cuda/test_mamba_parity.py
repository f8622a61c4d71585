"""The two Mamba backends compute the same model: mamba_ssm (official CUDA kernels) and mambapy
(pure PyTorch), with the same weights, give the same outputs and gradients. Needs both installed."""
import pytest
import torch

from gamlib.models.mamba import make_mixer
from gamlib.models.registry import build_model, make_config

pytestmark = pytest.mark.cuda

FIELDS = dict(vocab_size=97, block_size=64, n_embd=64, n_layer=2, dropout=0.0, d_state=16, d_conv=4, expand=2)


@pytest.fixture(scope="module")
def mamba_ssm():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    try:
        import mamba_ssm
        import selective_scan_cuda  # noqa: F401  the compiled kernel, not only the Python package
    except Exception as error:  # a missing or broken (wrong torch/CUDA) build
        pytest.skip(f"mamba_ssm with its CUDA kernels is not usable here ({type(error).__name__}: {error}); "
                    "install it from a prebuilt wheel to compare the backends")
    return mamba_ssm


def test_same_weights_same_mixer_output_and_gradients(mamba_ssm, cuda):
    config = make_config("mamba", "paper", **FIELDS)
    torch.manual_seed(0)
    official = make_mixer(config, "mamba_ssm").to(cuda)
    reference = make_mixer(config, "mambapy").to(cuda)
    assert sorted(official.state_dict()) == sorted(reference.state_dict())  # same parameters, same names
    reference.load_state_dict(official.state_dict())
    x = torch.randn(2, 64, FIELDS["n_embd"], device=cuda)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = official(xa), reference(xb)
    torch.testing.assert_close(ya, yb, atol=2e-3, rtol=2e-3)
    (ya.square().mean()).backward()
    (yb.square().mean()).backward()
    torch.testing.assert_close(xa.grad, xb.grad, atol=2e-3, rtol=5e-3)
    grads_b = dict(reference.named_parameters())
    for name, p in official.named_parameters():
        torch.testing.assert_close(p.grad, grads_b[name].grad, atol=5e-3, rtol=5e-3,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("variant", ["paper", "standard"])
def test_same_weights_same_language_model_loss(mamba_ssm, cuda, variant):
    torch.manual_seed(0)
    official = build_model("mamba", variant, backend="mamba_ssm", **FIELDS).to(cuda).eval()
    reference = build_model("mamba", variant, backend="mambapy", **FIELDS).to(cuda).eval()
    assert (official.backend, reference.backend) == ("mamba_ssm", "mambapy")
    reference.load_state_dict(official.state_dict())
    idx = torch.randint(0, FIELDS["vocab_size"], (2, 64), device=cuda)
    with torch.no_grad():
        (la, loss_a), (lb, loss_b) = official(idx, idx), reference(idx, idx)
    torch.testing.assert_close(la, lb, atol=2e-3, rtol=2e-3)
    assert abs(loss_a.item() - loss_b.item()) < 1e-3
