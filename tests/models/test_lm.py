"""gamlib.models.lm: what every language model shares: input checks, causality, tied weights and generate."""
import pytest
import torch
import torch.nn.functional as F

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
    for dtype in (torch.int8, torch.int16, torch.uint8, torch.float16, torch.bool):
        with pytest.raises(TypeError, match=rf"^idx must hold integer token ids of dtype torch\.int64 \(torch\.long\) "
                                            rf"or torch\.int32, got dtype {dtype}; convert with idx\.long\(\)$"):
            model(torch.zeros(1, 4, dtype=dtype))
    with pytest.raises(TypeError, match="idx must be a torch.Tensor of token ids, got list"):
        model([[1, 2]])
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


@pytest.mark.parametrize("shape", [(0, 4), (2, 0), (0, 0)])
def test_empty_batch_or_sequence_names_the_shape(model, shape):
    with pytest.raises(ValueError, match=rf"^idx must hold at least one sequence of at least one token, "
                                         rf"got shape \({shape[0]}, {shape[1]}\)$"):
        model(torch.zeros(shape, dtype=torch.long))


def test_int32_ids_give_the_same_logits(model):
    model.eval()
    idx = torch.randint(0, model.config.vocab_size, (2, 6))
    torch.testing.assert_close(model(idx)[0], model(idx.int())[0], rtol=0, atol=0)


def test_loss_is_exactly_cross_entropy(model):
    """The loss is F.cross_entropy's mean, bit for bit, with and without ignored targets."""
    model.eval()
    V = model.config.vocab_size
    idx, targets = torch.randint(0, V, (2, 7)), torch.randint(0, V, (2, 7))
    partial = targets.clone()
    partial[0, :5] = -100
    for t in (targets, partial):
        logits, loss = model(idx, t)
        reference = F.cross_entropy(logits.flatten(0, 1).float(), t.flatten(), ignore_index=-100)
        assert torch.equal(loss, reference)
        assert torch.isfinite(loss) and loss > 0


def test_all_ignored_batch_has_zero_loss_and_zero_gradients(model):
    """Every target -100: the mean over no tokens is 0.0 (not NaN) and no parameter gets a gradient."""
    model.train()
    idx = torch.randint(0, model.config.vocab_size, (2, 5))
    _, loss = model(idx, torch.full((2, 5), -100))
    assert loss.item() == 0.0
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.count_nonzero(g) == 0 for g in grads)


def _modes(model):
    return [m.training for m in model.modules()]


@pytest.mark.parametrize("training", [True, False])
def test_generate_restores_mode_when_it_raises(model, training, monkeypatch):
    """An error inside the sampling loop leaves the model in the mode it was in."""
    model.train(training)
    modes = _modes(model)

    def broken(x):
        raise RuntimeError("block failed")

    monkeypatch.setattr(model.blocks[0], "forward", broken)
    with pytest.raises(RuntimeError, match="block failed"):
        model.generate(torch.zeros(1, 3, dtype=torch.long), 2)
    assert _modes(model) == modes
    monkeypatch.undo()
    model.generate(torch.zeros(1, 3, dtype=torch.long), 2)
    assert _modes(model) == modes


@pytest.mark.parametrize("kwargs,message", [
    (dict(temperature=float("nan")), r"^temperature must be a finite real number >= 0, got nan$"),
    (dict(temperature=float("inf")), r"^temperature must be a finite real number >= 0, got inf$"),
    (dict(temperature=-0.5), r"^temperature must be a finite real number >= 0, got -0\.5$"),
    (dict(temperature="hot"), r"^temperature must be a finite real number >= 0, got 'hot'$"),
    (dict(max_new_tokens=-1), r"^max_new_tokens must be an integer >= 0, got -1$"),
    (dict(max_new_tokens=2.0), r"^max_new_tokens must be an integer >= 0, got 2\.0$"),
    (dict(max_new_tokens=True), r"^max_new_tokens must be an integer >= 0, got True$"),
    (dict(top_k=0), r"^top_k must be an integer in \[1, 97\], got 0$"),
    (dict(top_k=98), r"^top_k must be an integer in \[1, 97\], got 98$"),
    (dict(top_k=2.5), r"^top_k must be an integer in \[1, 97\], got 2\.5$"),
])
def test_generate_checks_its_arguments(model, kwargs, message):
    model.train()
    with pytest.raises(ValueError, match=message):
        model.generate(torch.zeros(1, 3, dtype=torch.long), **{"max_new_tokens": 2, **kwargs})
    assert all(_modes(model))


@pytest.mark.parametrize("prompt,error,message", [
    (torch.zeros(3, dtype=torch.long), ValueError, r"got shape \(3,\) \(add a batch dimension: idx\.unsqueeze\(0\)\)$"),
    (torch.zeros(1, 0, dtype=torch.long), ValueError, r"at least one token, got shape \(1, 0\)$"),
    (torch.zeros(0, 3, dtype=torch.long), ValueError, r"at least one sequence .*got shape \(0, 3\)$"),
    (torch.tensor([[1, 97]]), ValueError, "token id 97 outside vocabulary of 97"),
    (torch.zeros(1, 3), TypeError, r"convert with idx\.long\(\)"),
])
def test_generate_checks_its_prompt(model, prompt, error, message):
    """A prompt follows forward()'s rules: 2-D token ids; a 1-D prompt is rejected with the fix."""
    with pytest.raises(error, match=message):
        model.generate(prompt, 2)


def test_generate_accepts_a_long_prompt_and_zero_new_tokens(model, tiny):
    model.eval()
    prompt = torch.randint(0, tiny["vocab_size"], (2, tiny["block_size"] + 5))
    assert torch.equal(model.generate(prompt, 0), prompt)
    assert model.generate(prompt.int(), 2, temperature=0).shape == (2, tiny["block_size"] + 7)
