"""gamlib.models.context_gam: the context memory's chunked, parallel and recurrent forms compute one read,
in outputs and gradients; the chunked form (the one the model trains with) holds nothing of size T x T."""
import pytest
import torch

from gamlib.experiments.measure import cpu_peak_bytes
from gamlib.models.context_gam import ContextMemory
from gamlib.models.registry import build_model


def outputs_and_grads(module, h, call):
    """call(module, h) -> (output, gradients of sum(output * fixed weights) w.r.t. h and every parameter)."""
    module.zero_grad(set_to_none=True)
    h = h.detach().clone().requires_grad_()
    out = call(module, h)
    probe = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1))
    (out * probe).sum().backward()
    return out.detach(), [h.grad] + [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("T", [1, 5, 8, 13, 16, 29])  # chunks of 8: under one, one, several, ragged
def test_chunked_parallel_and_recurrent_forms_agree(T):
    """Outputs and gradients (input, qkv weight and bias) of the three forms, in float64."""
    memory = ContextMemory(32, head_dim=8, chunk_size=8).double()
    h = torch.randn(2, T, 32, dtype=torch.float64) * 2
    chunked = outputs_and_grads(memory, h, lambda m, h: m.chunked(h))
    for other in (lambda m, h: m.parallel(h)[0], lambda m, h: m.recurrent(h)):
        out, grads = outputs_and_grads(memory, h, other)
        torch.testing.assert_close(chunked[0], out, rtol=1e-12, atol=1e-12)
        assert len(grads) == len(chunked[1]) == 3
        for a, b in zip(chunked[1], grads):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_forward_is_parallel_with_weights_and_chunked_without():
    memory = ContextMemory(32, head_dim=8, chunk_size=4)
    h = torch.randn(2, 10, 32)
    read, weights = memory(h)  # need_weights=True by default, as the bank read
    assert weights.shape == (2, 4, 10, 10) and torch.all(weights.triu(1) == 0)  # causal: no weight on s > t
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 10))
    torch.testing.assert_close(read, memory.parallel(h)[0], rtol=0, atol=0)
    chunked, none = memory(h, need_weights=False)
    assert none is None and torch.equal(chunked, memory.chunked(h))
    torch.testing.assert_close(chunked, read, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        ContextMemory(32, chunk_size=0)


def test_context_gam_logits_and_gradients_unchanged(tiny):
    """A whole 'context' GAM: model(idx) (chunked reads, chunks of 64) equals the traced run (parallel reads)."""
    model = build_model("gam", "context", **{**tiny, "block_size": 160, "dropout": 0.0}).double()
    idx = torch.randint(0, tiny["vocab_size"], (2, 150))  # 3 chunks, the last one ragged
    targets = torch.randint(0, tiny["vocab_size"], (2, 150))

    def traced(model, idx):
        x = model.embed(idx)
        for block in model.blocks:
            x = block(x, trace={})  # a trace asks for the read weights: the parallel form
        return model.logits_and_loss(x, targets)

    runs = []
    for run in (lambda m, i: m(i, targets), traced):
        model.zero_grad(set_to_none=True)
        logits, loss = run(model, idx)
        loss.backward()
        runs.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (chunked_logits, chunked_grads), (parallel_logits, parallel_grads) = runs
    torch.testing.assert_close(chunked_logits, parallel_logits, rtol=1e-12, atol=1e-12)
    for a, b in zip(chunked_grads, parallel_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_chunked_read_memory_is_linear_in_T():
    """Forward + backward at T = 16384 (one head): the chunked read peaks at ~18 MiB, where one (T, T)
    fp32 matrix alone is 1 GiB, so a quadratic form cannot pass the bound; the parallel form shows that
    the measure does see (T, T) matrices."""
    memory = ContextMemory(16, head_dim=16)

    def peak(T, need_weights):
        h = torch.randn(1, T, 16, requires_grad=True)

        def step():
            memory(h, need_weights=need_weights)[0].sum().backward()

        return cpu_peak_bytes(step, [h, *memory.parameters()])

    T = 16384
    assert peak(T, need_weights=False) < T * T * 4 / 16  # < 64 MiB
    assert peak(1024, need_weights=True) > 1024 * 1024 * 4  # control: the parallel form's (T, T) weights
