"""gamlib.probes.gates: gate values read without side effects, for every GAM variant, and token types."""
import pytest
import torch

from gamlib.models.registry import build_model
from gamlib.probes.gates import gate_values, token_types


def test_gate_values_shapes_tokens_and_unchanged_outputs(tokenizer, tiny):
    # dropout on: a probe that forgot eval mode would not reproduce the eval-mode logits below
    model = build_model("gam", "full", **{**tiny, "dropout": 0.1}).train()
    trace = gate_values(model, "the cat sat on the mat .", tokenizer)
    T, L, C, S = len(trace.tokens), tiny["n_layer"], tiny["n_embd"], tiny["num_memory_slots"]
    assert trace.tokens == tokenizer.encode("the cat sat on the mat .").tokens
    assert trace.local_gate.shape == trace.global_gate.shape == (L, T, C)
    assert trace.slot_weights.shape == (L, T, S)
    torch.testing.assert_close(trace.slot_weights.sum(-1), torch.ones(L, T))
    assert 0 < trace.local_gate.min() and trace.global_gate.max() < 1
    assert model.training  # probed in eval mode, then restored
    with torch.no_grad():
        expected = model.eval()(trace.token_ids.unsqueeze(0))[0][0]
    assert torch.equal(trace.logits, expected)


def test_gate_values_for_ungated_and_non_gam_models(tiny):
    L, S = tiny["n_layer"], tiny["num_memory_slots"]
    idx = torch.randint(0, tiny["vocab_size"], (1, 10))
    trace = gate_values(build_model("gam", "global_only", **tiny), idx)
    assert trace.local_gate is None and trace.global_gate is None and trace.slot_weights.shape == (L, 10, S)
    assert trace.tokens is None and trace.labels()[0] == str(int(idx[0, 0]))
    with pytest.raises(ValueError, match="no memory bank and no gate"):
        gate_values(build_model("gam", "local_only", **tiny), idx)
    with pytest.raises(TypeError, match="need a GAM model"):
        gate_values(build_model("transformer", "sdpa", **tiny), idx)
    with pytest.raises(ValueError, match="needs a tokenizer"):
        gate_values(build_model("gam", "full", **tiny), "some text")
    with pytest.raises(ValueError, match="one sequence at a time"):
        gate_values(build_model("gam", "full", **tiny), torch.zeros(2, 5, dtype=torch.long))


def test_token_types(tokenizer):
    text = "The cat ate 42 bones , a <unk> Homarus ."
    ids, types = token_types(text, tokenizer)
    tokens = tokenizer.encode(text).tokens
    kinds = dict(zip(tokens, types))
    assert len(ids) == len(types) == len(tokens)
    assert kinds["The"] == "function word" and kinds["cat"] == "content word" and kinds["42"] == "number"
    assert kinds[","] == "punctuation" and kinds["unk"] == kinds["<"] == "<unk> marker"
    assert tokens[-1] == "." and types[-1] == "punctuation"
