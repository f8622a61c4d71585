"""gamlib.models.generation: stepping with a state gives the logits (and greedy tokens) of full recomputation.

Every model and variant (Mamba on both pure-PyTorch backends), prompts shorter and longer than block_size,
generations that run past it; GAM's state has a fixed size; the Transformer's cache grows; mamba_ssm's step
runs only on CUDA.
"""
import pytest
import torch

from gamlib.models.generation import GenerationState
from gamlib.models.mamba import mamba_ssm_available
from gamlib.models.registry import build_model

GAM_VARIANTS = [("gam", v, None) for v in ("full", "global_only", "sum_fusion", "local_only", "context")]
MAMBA = [("mamba", v, backend) for v in ("paper", "standard") for backend in ("mambapy", "recurrent")]
ALL_MODELS = GAM_VARIANTS + [("transformer", "naive", None), ("transformer", "sdpa", None)] + MAMBA


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: token-by-token steps are tiny operations that stall when a second thread waits
    on a busy core (a shared CI machine); the results do not depend on it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def model_of(name, variant, tiny, backend=None, **fields):
    """backend: Mamba's (None: the default, 'auto'; the other models have none)."""
    if backend is not None:
        fields["backend"] = backend
    return build_model(name, variant, **{**tiny, **fields}).eval()


@pytest.mark.parametrize("name,variant,backend", ALL_MODELS)
def test_step_logits_equal_forward_at_every_position(name, variant, backend, tiny):
    """Prefill a prefix, then step token by token: each step's logits are forward()'s at that position."""
    model = model_of(name, variant, tiny, backend)
    idx = torch.randint(0, tiny["vocab_size"], (2, tiny["block_size"]))
    with torch.no_grad():
        full, _ = model(idx)                                   # (B, T, V)
        logits, state = model.prefill(idx[:, :5])
        torch.testing.assert_close(logits, full[:, 4], rtol=1e-5, atol=1e-5)
        for t in range(5, idx.shape[1]):
            logits, state = model.step(idx[:, t], state)
            torch.testing.assert_close(logits, full[:, t], rtol=1e-5, atol=1e-5)
    assert state.pos == tiny["block_size"]


@pytest.mark.parametrize("name,variant,backend", ALL_MODELS)
def test_stepping_from_the_empty_state_equals_prefill(name, variant, backend, tiny):
    model = model_of(name, variant, tiny, backend)
    idx = torch.randint(0, tiny["vocab_size"], (2, 6))
    with torch.no_grad():
        state = model.initial_state(2)
        for t in range(idx.shape[1]):
            logits, state = model.step(idx[:, t:t + 1], state)  # (B, 1) ids work as well as (B,)
        torch.testing.assert_close(logits, model.prefill(idx)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,variant,backend", ALL_MODELS)
@pytest.mark.parametrize("prompt_len,new_tokens", [(1, 20), (5, 40), (30, 10), (32, 3), (45, 12)])
def test_greedy_generation_with_state_equals_recomputation(name, variant, backend, prompt_len, new_tokens,
                                                           tiny):
    """Token for token, with block_size 32: short prompts, prompts at and past block_size, generations
    that cross it (positions shift: GAM recomputes its receptive field, the others their window)."""
    model = model_of(name, variant, tiny, backend)
    prompt = torch.randint(0, tiny["vocab_size"], (2, prompt_len))
    cached = model.generate(prompt, new_tokens, temperature=0)
    recomputed = model.generate(prompt, new_tokens, temperature=0, use_cache=False)
    assert cached.shape == (2, prompt_len + new_tokens)
    assert torch.equal(cached, recomputed)


@pytest.mark.parametrize("name,variant", [("gam", "full"), ("transformer", "sdpa"), ("mamba", "standard")])
def test_sampling_with_state_draws_the_same_tokens(name, variant, tiny):
    """The same generator seed gives the same samples: the distributions agree, not only their argmax."""
    model = model_of(name, variant, tiny)
    prompt = torch.randint(0, tiny["vocab_size"], (3, 4))

    def draw(use_cache):
        return model.generate(prompt, 40, temperature=0.8, top_k=10, use_cache=use_cache,
                              generator=torch.Generator().manual_seed(7))

    assert torch.equal(draw(True), draw(False))


@pytest.mark.parametrize("variant", ["full", "sum_fusion", "local_only", "global_only"])
def test_past_block_size_the_receptive_field_is_enough(variant, tiny):
    """The last N_LAYER*(K-1)+1 tokens at their cropped positions give the logits of the whole window."""
    model = model_of("gam", variant, tiny)
    R = model.receptive_field
    assert R == (tiny["n_layer"] * (tiny["conv_kernel_size"] - 1) + 1 if variant != "global_only" else 1)
    idx = torch.randint(0, tiny["vocab_size"], (2, tiny["block_size"] + 9))
    with torch.no_grad():
        whole = model.last_logits(idx)
        torch.testing.assert_close(model.last_logits(idx, R), whole, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(model(idx[:, -tiny["block_size"]:])[0][:, -1], whole, rtol=1e-5, atol=1e-5)
        if R > 1:  # and one token less is not: the window is exactly the receptive field
            assert not torch.allclose(model.last_logits(idx, R - 1), whole)


@pytest.mark.parametrize("variant", ["full", "sum_fusion", "local_only"])
def test_gam_state_has_a_fixed_size(variant, tiny):
    """N_LAYER x (K-1) x C floats per sequence, whatever the context length; the Transformer's cache grows."""
    gam, gpt = model_of("gam", variant, tiny), model_of("transformer", "sdpa", tiny)
    L, K, C, B = tiny["n_layer"], tiny["conv_kernel_size"], tiny["n_embd"], 2
    with torch.no_grad():
        for T in (1, 2, 7, 31):
            idx = torch.randint(0, tiny["vocab_size"], (B, T))
            state = gam.prefill(idx)[1]
            assert isinstance(state, GenerationState) and state.pos == T
            assert state.nbytes() == L * (K - 1) * C * B * 4
            assert all(window.shape == (B, K - 1, C) and memory is None for window, memory in state.layers)
            assert gpt.prefill(idx)[1].nbytes() == 2 * L * T * C * B * 4  # keys and values of T tokens
        assert gam.step(idx[:, -1], state)[1].nbytes() == state.nbytes()
    assert model_of("gam", "global_only", tiny).initial_state(B).nbytes() == 0  # no conv, no state


def test_context_gam_steps_with_its_running_sums(tiny):
    model = model_of("gam", "context", tiny)
    state = model.initial_state(2)
    L, K, C, D = tiny["n_layer"], tiny["conv_kernel_size"], tiny["n_embd"], 16
    H = C // D
    assert state.nbytes() == L * 2 * 4 * ((K - 1) * C + H * D * D + H * D)  # conv window + sums, fixed


def test_step_past_block_size_is_refused(tiny):
    model = model_of("gam", "full", tiny)
    idx = torch.randint(0, tiny["vocab_size"], (1, tiny["block_size"]))
    with torch.no_grad():
        _, state = model.prefill(idx)
        with pytest.raises(ValueError, match="position 32 is past block_size 32"):
            model.step(idx[:, -1], state)


@pytest.mark.skipif(not mamba_ssm_available(), reason="mamba_ssm's step needs CUDA and the mamba-ssm kernels")
def test_mamba_ssm_step_equals_recomputation(tiny):
    model = build_model("mamba", "standard", **{**tiny, "backend": "mamba_ssm"}).cuda().eval()
    assert model.backend == "mamba_ssm"
    prompt = torch.randint(0, tiny["vocab_size"], (2, 5), device="cuda")
    assert torch.equal(model.generate(prompt, 40, temperature=0), model.generate(prompt, 40, temperature=0,
                                                                                 use_cache=False))


@pytest.mark.parametrize("name,variant,backend", [("gam", "full", None), ("gam", "context", None),
                                                  ("transformer", "sdpa", None), ("mamba", "paper", "mambapy")])
def test_the_generation_layout_keeps_every_value_and_every_token(name, variant, backend, tiny):
    """use_generation_layout changes only how wide weights lie in memory: the same state dict, the tied
    head still the embedding, logits equal to rounding, greedy tokens equal, and training still runs."""
    model = model_of(name, variant, tiny, backend)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    prompt = torch.randint(0, tiny["vocab_size"], (2, 5))
    tokens = model.generate(prompt, 40, temperature=0)
    with torch.no_grad():
        logits = model.last_logits(prompt)
    assert model.use_generation_layout() is model
    wide = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features > m.in_features]
    assert wide and all(w.t().is_contiguous() for w in wide)  # stored column by column
    assert model.head.weight is model.token_embedding.weight
    after = model.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    with torch.no_grad():
        torch.testing.assert_close(model.last_logits(prompt), logits, rtol=1e-5, atol=1e-5)
    assert torch.equal(model.generate(prompt, 40, temperature=0), tokens)
    assert torch.equal(model.generate(prompt, 40, temperature=0, use_cache=False), tokens)
    model.train()
    _, loss = model(prompt, prompt)
    loss.backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in wide)
