"""gamlib.models.gam: the fused bank read (SDPA) equals the explicit softmax, in outputs and in gradients,
and keeps no (B, T, S) weights for backward."""
import pytest
import torch

from gamlib.experiments.measure import cpu_peak_bytes
from gamlib.models.config import GAMConfig
from gamlib.models.gam import AssociativeMemory, GAMBlock


def outputs_and_grads(module, inputs, call):
    """call(module, *inputs) -> (output, gradients of sum(output * fixed weights) w.r.t. inputs and parameters)."""
    module.zero_grad(set_to_none=True)
    inputs = [t.detach().clone().requires_grad_() for t in inputs]
    out = call(module, *inputs)
    probe = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    (out * probe).sum().backward()
    return out.detach(), [t.grad for t in inputs] + [p.grad.clone() for p in module.parameters()]


def test_fused_read_equals_explicit_outputs_and_gradients():
    memory = AssociativeMemory(32, 24)
    h = torch.randn(3, 17, 32) * 2
    fused_out, fused_grads = outputs_and_grads(memory, [h], lambda m, h: m(h, need_weights=False)[0])
    explicit_out, explicit_grads = outputs_and_grads(memory, [h], lambda m, h: m(h)[0])
    assert memory(h, need_weights=False)[1] is None and memory(h)[1].shape == (3, 17, 24)
    torch.testing.assert_close(fused_out, explicit_out)
    for fused, explicit in zip(fused_grads, explicit_grads):
        torch.testing.assert_close(fused, explicit)


@pytest.mark.parametrize("variant", ["full", "global_only", "sum_fusion"])
def test_block_without_trace_equals_block_with_trace(variant, tiny):
    """block(x) reads fused while training; block(x, trace={}) reads explicitly (the probes need the weights)."""
    fields = {k: v for k, v in tiny.items() if k in GAMConfig.__dataclass_fields__}
    config = GAMConfig(**{**fields, "dropout": 0.0}, variant=variant)
    block = GAMBlock(config).train()
    x = torch.randn(2, 11, tiny["n_embd"])
    fused_out, fused_grads = outputs_and_grads(block, [x], lambda b, x: b(x))
    explicit_out, explicit_grads = outputs_and_grads(block, [x], lambda b, x: b(x, trace={}))
    torch.testing.assert_close(fused_out, explicit_out)
    for fused, explicit in zip(fused_grads, explicit_grads):
        torch.testing.assert_close(fused, explicit)


def test_fused_read_runs_only_when_it_saves_memory():
    """Under no_grad (inference, probes) the read is explicit, so outputs equal traced runs bit for bit."""
    memory = AssociativeMemory(16, 8)
    h = torch.randn(2, 5, 16)
    assert memory(h, need_weights=False)[1] is None  # autograd records: fused
    with torch.no_grad():
        read, weights = memory(h, need_weights=False)
        assert weights is not None and torch.equal(read, memory(h)[0])
    memory.fused = False
    assert memory(h, need_weights=False)[1] is not None  # switched off: explicit even when training


def test_fused_read_keeps_no_slot_weights_for_backward():
    """Peak memory of forward + backward of the read: the explicit one holds (B, T, S) weights more."""
    torch.manual_seed(0)
    B, T, C, S = 1, 1024, 16, 256
    memory = AssociativeMemory(C, S)
    h = torch.randn(B, T, C, requires_grad=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CPU flash kernel keeps a buffer per thread
    try:
        peaks = {}
        for fused in (False, True):
            memory.fused = fused
            peaks[fused] = cpu_peak_bytes(lambda: memory(h, need_weights=False)[0].sum().backward(),
                                          [h, memory.memory_bank])
    finally:
        torch.set_num_threads(threads)
    assert peaks[False] - peaks[True] >= B * T * S * 4  # at least one (B, T, S) fp32 tensor less
