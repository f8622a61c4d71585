"""gamlib.models.transformer: the naive (materialised scores) and fused (SDPA) attention compute the same thing."""
import torch

from gamlib.models.registry import build_model


def test_naive_attention_equals_sdpa(tiny):
    naive = build_model("transformer", "naive", **tiny).eval()
    fused = build_model("transformer", "sdpa", **tiny).eval()
    fused.load_state_dict(naive.state_dict())
    idx = torch.randint(0, tiny["vocab_size"], (3, tiny["block_size"]))
    with torch.no_grad():
        torch.testing.assert_close(naive(idx)[0], fused(idx)[0], rtol=1e-5, atol=1e-5)
