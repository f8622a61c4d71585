"""gamlib.models.lm: what every language model shares: input checks, causality, tied weights and generate."""
import pytest
import torch

from gamlib.models.registry import build_model

ALL_MODELS = [("gam", v) for v in ("full", "global_only", "sum_fusion", "local_only")] + \
             [("transformer", "naive"), ("transformer", "sdpa"), ("mamba", "paper"), ("mamba", "standard")]


@pytest.fixture(params=["gam", "transformer", "mamba"])
def model(request, tiny):
    return build_model(request.param, **tiny)


def test_sequence_longer_than_block_size(model, tiny):
    T = tiny["block_size"]
    with pytest.raises(ValueError, match=f"sequence length {T + 1} exceeds block_size {T}"):
        model(torch.zeros(1, T + 1, dtype=torch.long))


def test_token_id_out_of_vocabulary(model, tiny):
    V = tiny["vocab_size"]
    with pytest.raises(ValueError, match=f"token id {V} outside vocabulary of {V}"):
        model(torch.tensor([[1, 2, V]]))
    with pytest.raises(ValueError, match="token id -1 outside vocabulary"):
        model(torch.tensor([[1, -1]]))


def test_wrong_dtype_and_rank(model):
    with pytest.raises(TypeError, match="integer token ids.*float32"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"shape \(batch, seq_len\), got shape \(4,\).*unsqueeze"):
        model(torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="targets shape"):
        model(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))


@pytest.mark.parametrize("name,variant", ALL_MODELS)
def test_causal(name, variant, tiny):
    """Changing a future token never changes the logits of earlier positions."""
    V = tiny["vocab_size"]
    model = build_model(name, variant, **tiny).eval()
    idx = torch.randint(0, V, (2, 20))
    changed = idx.clone()
    changed[:, 12] = (changed[:, 12] + 1) % V
    with torch.no_grad():
        a, _ = model(idx)
        b, _ = model(changed)
    torch.testing.assert_close(a[:, :12], b[:, :12], rtol=0, atol=1e-6)
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_weights_are_tied_and_generate_extends(tiny):
    model = build_model("gam", "full", **{**tiny, "block_size": 32})
    assert model.head.weight is model.token_embedding.weight
    out = model.generate(torch.zeros(2, 3, dtype=torch.long), 40, temperature=0.9, top_k=5)
    assert out.shape == (2, 43) and int(out.max()) < tiny["vocab_size"]  # longer than block_size: context is cropped
    greedy = model.generate(torch.zeros(1, 3, dtype=torch.long), 5, temperature=0)
    assert torch.equal(greedy, model.generate(torch.zeros(1, 3, dtype=torch.long), 5, temperature=0))
