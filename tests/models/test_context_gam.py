"""gamlib.models.context_gam: the context memory's parallel read equals its recurrent form."""
import torch

from gamlib.models.context_gam import ContextMemory


def test_context_memory_equals_its_recurrent_form():
    """The parallel (T x T) read equals the O(T) recurrence with a running state per head."""
    memory = ContextMemory(32, head_dim=8)
    h = torch.randn(2, 10, 32)
    parallel, weights = memory(h)
    assert weights.shape == (2, 4, 10, 10) and torch.all(weights.triu(1) == 0)  # causal: no weight on s > t
    torch.testing.assert_close(parallel, memory.recurrent(h), rtol=1e-5, atol=1e-5)
