"""gamlib.models.mamba: the backends, and the recurrent selective scan against mambapy's parallel scan."""
import pytest
import torch
import torch.nn.functional as F
from mambapy.mamba import MambaBlock
from mambapy.mamba import MambaConfig as MambapyConfig

import gamlib.models.mamba as mamba
from gamlib.models.mamba import RecurrentSelectiveScan, resolve_backend
from gamlib.models.registry import build_model

# (batch, L, E, N): L below, at and across multiples of the chunk; the last, the cpu preset's size
SHAPES = [(2, 1, 6, 4), (2, 7, 6, 4), (3, 16, 8, 3), (2, 21, 10, 5)]


def scan_inputs(batch, L, E, N, dtype, seed=0):
    """Random (x, delta, A, B, C, D), laid out as MambaBlock.ssm passes them: x and delta are (B, L, E) views
    of (B, E, L) tensors, B and C slices of one (B, L, R + 2N) projection; delta > 0 and A < 0."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    x = randn(batch, E, L).transpose(1, 2)
    delta = F.softplus(randn(batch, E, L)).transpose(1, 2)
    BC = randn(batch, L, 3 + 2 * N)
    A, D = -torch.exp(randn(E, N)), randn(E)
    return [t.requires_grad_() for t in (x, delta, A, BC[..., 3:3 + N], BC[..., 3 + N:], D)]


def parallel_scan(x, delta, A, B, C, D):
    """mambapy's own MambaBlock.selective_scan (the parallel scan), the reference."""
    E, N = A.shape
    block = MambaBlock(MambapyConfig(d_model=E, n_layers=1, d_state=N, expand_factor=1))
    return block.selective_scan(x, delta, A, B, C, D)


def assert_relative(actual, expected, tol, what=""):
    """max |actual - expected| <= tol * max |expected|."""
    error, scale = (actual - expected).abs().max().item(), expected.abs().max().item()
    assert error <= tol * scale, f"{what}: max error {error:.3g} vs max {scale:.3g}"


@pytest.mark.parametrize("chunk", [1, 3, 8])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_recurrent_scan_equals_the_parallel_scan(shape, dtype, tol, chunk, monkeypatch):
    """Outputs and the gradients of all six inputs, on fresh random inputs, for any chunking of time."""
    monkeypatch.setattr(RecurrentSelectiveScan, "CHUNK", chunk)
    inputs = scan_inputs(*shape, dtype)
    expected = parallel_scan(*inputs)
    actual = RecurrentSelectiveScan.apply(*inputs)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert_relative(actual, expected, tol, "y")
    gy = torch.randn_like(expected)
    for name, g, ref in zip("x delta A B C D".split(), torch.autograd.grad(actual, inputs, gy),
                            torch.autograd.grad(expected, inputs, gy)):
        assert g.shape == ref.shape
        assert_relative(g, ref, tol, f"grad {name}")


def test_recurrent_scan_equals_the_parallel_scan_at_the_cpu_preset_size():
    """The size it is meant for (batch 16, context 128, E 256, N 16), in float32."""
    inputs = scan_inputs(16, 128, 256, 16, torch.float32)
    expected, actual = parallel_scan(*inputs), RecurrentSelectiveScan.apply(*inputs)
    assert_relative(actual, expected, 1e-5, "y")
    gy = torch.randn_like(expected)
    for name, g, ref in zip("x delta A B C D".split(), torch.autograd.grad(actual, inputs, gy),
                            torch.autograd.grad(expected, inputs, gy)):
        assert_relative(g, ref, 1e-5, f"grad {name}")


def test_recurrent_scan_gradcheck(monkeypatch):
    monkeypatch.setattr(RecurrentSelectiveScan, "CHUNK", 2)
    assert torch.autograd.gradcheck(RecurrentSelectiveScan.apply, scan_inputs(2, 5, 3, 2, torch.float64))


@pytest.mark.parametrize("variant", ["paper", "standard"])
def test_recurrent_backend_is_mambapy_with_another_scan(variant, tiny):
    """Same parameters and initialisation from one seed; with one set of weights, the same logits, loss and
    parameter gradients (float64, so that the comparison is tight)."""
    fields = {**tiny, "dropout": 0.0}
    models = {}
    for backend in ("mambapy", "recurrent"):
        torch.manual_seed(1)
        models[backend] = build_model("mamba", variant, **fields, backend=backend)
    reference, recurrent = models["mambapy"], models["recurrent"]
    assert (reference.backend, recurrent.backend) == ("mambapy", "recurrent")
    assert all(isinstance(layer.mixer, MambaBlock) for layer in recurrent.blocks)
    weights = reference.state_dict()
    assert weights.keys() == recurrent.state_dict().keys()
    assert all(torch.equal(weights[k], v) for k, v in recurrent.state_dict().items())
    torch.manual_seed(2)
    moved = {k: v + 0.1 * torch.randn_like(v) for k, v in weights.items()}  # D, A_log, biases: all trained-like
    for model in (reference, recurrent):
        model.load_state_dict(moved)
        model.double()
    idx = torch.randint(0, tiny["vocab_size"], (2, tiny["block_size"]))
    (logits, loss), (logits2, loss2) = reference(idx, idx), recurrent(idx, idx)
    assert_relative(logits2, logits, 1e-10, "logits")
    loss.backward()
    loss2.backward()
    for (name, p), p2 in zip(reference.named_parameters(), recurrent.parameters()):
        assert_relative(p2.grad, p.grad, 1e-10, name)


def test_mamba_backend_is_reported(tiny):
    model = build_model("mamba", "paper", **tiny)
    assert model.backend in ("mamba_ssm", "mambapy", "recurrent")
    if not torch.cuda.is_available():
        assert model.backend == "recurrent"


def test_auto_backend_is_recurrent_on_cpu_and_mambapy_on_cuda_without_kernels(monkeypatch):
    monkeypatch.setattr(mamba, "mamba_ssm_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_backend("auto") == "recurrent"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_backend("auto") == "mambapy"
    monkeypatch.setattr(mamba, "mamba_ssm_available", lambda: True)
    assert resolve_backend("auto") == "mamba_ssm"
    assert (resolve_backend("mambapy"), resolve_backend("recurrent")) == ("mambapy", "recurrent")  # honoured


def test_recurrent_scan_without_grad_keeps_no_graph():
    inputs = [t.detach() for t in scan_inputs(2, 9, 6, 4, torch.float64)]
    with torch.no_grad():
        y = RecurrentSelectiveScan.apply(*inputs)
    assert y.grad_fn is None
    assert_relative(y, parallel_scan(*inputs), 1e-10, "y")
