"""The probes measure what they claim: gates without side effects, receptive fields two ways,
a recall task whose answers are in the context at the asked distance, and the explorer views."""
import pytest
import torch

from gamlib import build_model
from gamlib.data import train_tokenizer
from gamlib.probes import (ContextGAMModel, RecallTask, accuracy_by_distance, gate_values, make_recall_data,
                           receptive_field, recall_accuracy, run_recall_experiment, token_types)
from gamlib.config import GAMConfig

TINY = dict(vocab_size=97, block_size=24, n_embd=16, n_layer=3, dropout=0.1, num_memory_slots=8,
            conv_kernel_size=3, n_head=4, d_state=4, d_conv=4, expand=2)
TEXT = ["The cat sat on the mat , and the dog ate 42 bones .", "A <unk> walked to the sea in 1999 .",
        "Homarus gammarus is a lobster ."] * 3


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXT, 97)


def test_gate_values_shapes_tokens_and_unchanged_outputs(tokenizer):
    model = build_model("gam", "full", **TINY).train()
    trace = gate_values(model, "the cat sat on the mat .", tokenizer)
    T = len(trace.tokens)
    assert trace.tokens == tokenizer.encode("the cat sat on the mat .").tokens
    assert trace.local_gate.shape == trace.global_gate.shape == (3, T, 16)
    assert trace.slot_weights.shape == (3, T, 8)
    torch.testing.assert_close(trace.slot_weights.sum(-1), torch.ones(3, T))
    assert 0 < trace.local_gate.min() and trace.global_gate.max() < 1
    assert model.training  # probed in eval mode, then restored
    with torch.no_grad():
        expected = model.eval()(trace.token_ids.unsqueeze(0))[0][0]
    assert torch.equal(trace.logits, expected)


def test_gate_values_for_ungated_and_non_gam_models():
    idx = torch.randint(0, 97, (1, 10))
    trace = gate_values(build_model("gam", "global_only", **TINY), idx)
    assert trace.local_gate is None and trace.global_gate is None and trace.slot_weights.shape == (3, 10, 8)
    assert trace.tokens is None and trace.labels()[0] == str(int(idx[0, 0]))
    with pytest.raises(ValueError, match="no memory bank and no gate"):
        gate_values(build_model("gam", "local_only", **TINY), idx)
    with pytest.raises(TypeError, match="need a GAM model"):
        gate_values(build_model("transformer", "sdpa", **TINY), idx)
    with pytest.raises(ValueError, match="needs a tokenizer"):
        gate_values(build_model("gam", "full", **TINY), "some text")
    with pytest.raises(ValueError, match="one sequence at a time"):
        gate_values(build_model("gam", "full", **TINY), torch.zeros(2, 5, dtype=torch.long))


def test_token_types(tokenizer):
    text = "The cat ate 42 bones , a <unk> Homarus ."
    ids, types = token_types(text, tokenizer)
    tokens = tokenizer.encode(text).tokens
    kinds = dict(zip(tokens, types))
    assert len(ids) == len(types) == len(tokens)
    assert kinds["The"] == "function word" and kinds["cat"] == "content word" and kinds["42"] == "number"
    assert kinds[","] == "punctuation" and kinds["unk"] == kinds["<"] == "<unk> marker"
    assert tokens[-1] == "." and types[-1] == "punctuation"


@pytest.mark.parametrize("method", ["perturbation", "gradient"])
@pytest.mark.parametrize("name,variant,expected", [
    ("gam", "full", 3 * (3 - 1) + 1), ("gam", "global_only", 1), ("gam", "sum_fusion", 7),
    ("transformer", "naive", 21), ("mamba", "standard", 21), ("gam_context", "full", 21)])
def test_receptive_field_two_ways(name, variant, expected, method):
    if name == "gam_context":
        model = ContextGAMModel(GAMConfig(**{k: v for k, v in TINY.items() if k in GAMConfig.__dataclass_fields__}))
    else:
        model = build_model(name, variant, **TINY)
    field = receptive_field(model, method, seq_len=24, target=20)
    assert field.size == expected
    assert field.positions == list(range(21 - expected, 21))  # the last `expected` positions up to t
    assert field.influence.shape == (21,)


def test_context_memory_equals_its_recurrent_form():
    """The parallel (T x T) read equals the O(T) recurrence with a running state per head."""
    from gamlib.probes import ContextMemory

    memory = ContextMemory(32, head_dim=8)
    h = torch.randn(2, 10, 32)
    q, k, v = memory.features(h)                            # (B, H, T, D)
    state = torch.zeros(2, 4, 8, 8)                         # sum_s phi(k_s) v_s^T
    normaliser = torch.zeros(2, 4, 8)                       # sum_s phi(k_s)
    reads = []
    for t in range(10):
        state = state + k[:, :, t, :, None] * v[:, :, t, None, :]
        normaliser = normaliser + k[:, :, t]
        reads.append((q[:, :, t, None, :] @ state)[:, :, 0] / (q[:, :, t] * normaliser).sum(-1, keepdim=True))
    recurrent = torch.stack(reads, dim=2).transpose(1, 2).reshape(2, 10, 32)
    torch.testing.assert_close(memory(h)[0], recurrent, rtol=1e-5, atol=1e-5)


def test_receptive_field_bad_input():
    model = build_model("gam", "full", **TINY)
    with pytest.raises(ValueError, match="unknown method"):
        receptive_field(model, "saliency")
    with pytest.raises(ValueError, match="target < seq_len <= block_size"):
        receptive_field(model, seq_len=30)


TASK = RecallTask(seq_len=32, num_keys=6, num_values=5, pairs=4, queries=8, distances=(1, 2, 5, 9, 20))


def test_recall_data_shapes_answers_and_distances():
    data = make_recall_data(TASK, 200, seed=0)
    inputs, targets, distance = data.chunks.inputs, data.chunks.targets, data.distance
    assert inputs.shape == targets.shape == distance.shape == (200, 32)
    assert TASK.vocab_size == 1 + 6 + 5 + 6 * 5 and int(inputs.max()) < TASK.vocab_size
    queries = targets != -100
    assert torch.equal(queries, distance > 0) and int(queries.sum()) == 200 * TASK.queries
    assert set(distance[queries].tolist()) == set(TASK.distances)  # every asked distance, nothing else
    facts = inputs >= TASK.pair(0, 0)
    assert facts.sum(1).eq(TASK.pairs).all()
    for n, q in queries.nonzero().tolist():
        d, key, value = int(distance[n, q]), int(inputs[n, q]) - 1, int(targets[n, q]) - 1 - TASK.num_keys
        assert 0 <= key < TASK.num_keys and 0 <= value < TASK.num_values
        assert int(inputs[n, q - d]) == TASK.pair(key, value)      # the fact d positions back holds the answer
        bound_to_key = (inputs[n] >= TASK.pair(key, 0)) & (inputs[n] <= TASK.pair(key, TASK.num_values - 1))
        assert int(bound_to_key.sum()) == 1                       # one fact per key in a sequence
    assert torch.equal(make_recall_data(TASK, 200, seed=0).chunks.inputs, inputs)  # deterministic
    with pytest.raises(ValueError, match="does not fit"):
        RecallTask(seq_len=16, distances=(2, 16))
    with pytest.raises(ValueError, match="need seq_len"):
        RecallTask(seq_len=16, pairs=4, queries=8, distances=(1, 2))


def test_accuracy_by_distance_on_a_toy():
    targets = torch.tensor([[-100, 5, -100, 6], [7, -100, 8, -100]])
    distance = torch.tensor([[0, 2, 0, 3], [2, 0, 3, 0]])
    predictions = torch.tensor([[0, 5, 1, 0], [7, 3, 8, 2]])
    assert accuracy_by_distance(predictions, targets, distance) == [
        {"distance": 2, "queries": 2, "correct": 2, "accuracy": 1.0},
        {"distance": 3, "queries": 2, "correct": 1, "accuracy": 0.5}]


def test_recall_accuracy_of_an_untrained_model_is_per_distance():
    data = make_recall_data(TASK, 20, seed=1)
    rows = recall_accuracy(build_model("gam", "full", **{**TINY, "vocab_size": TASK.vocab_size, "block_size": 32}),
                           data)
    assert [r["distance"] for r in rows] == list(TASK.distances)
    assert sum(r["queries"] for r in rows) == 20 * TASK.queries


def test_recall_run_writes_and_reuses_a_record(tmp_path):
    from gamlib.results import load_records

    kwargs = dict(preset="quick", task=TASK, train_sequences=32, eval_sequences=16, results_root=tmp_path, epochs=1)
    record = run_recall_experiment("gam", "full", **kwargs)
    assert record["kind"] == "recall" and record["receptive_field"] == 5 and record["provenance"]["torch"]
    assert (tmp_path / "quick" / "recall" / "gam-full-seed0.json").exists()
    assert run_recall_experiment("gam", "full", **kwargs)["provenance"] == record["provenance"]  # reused
    table = load_records(tmp_path, kind="recall")
    assert len(table) == 1 and table.loc[0, "record"]["accuracy"] == record["accuracy"]


def test_explorer_views_and_static_figure(tokenizer):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from gamlib.widgets import VIEWS, GateExplorer, gate_figure, tokens_html, view_data

    model = build_model("gam", "full", **TINY)
    trace = gate_values(model, "the cat sat on the mat .", tokenizer)
    for view in VIEWS:
        assert tokens_html(trace, 1, view).count("<span") == len(trace.tokens)
    diff = view_data(trace, 0, "local - global").per_token
    torch.testing.assert_close(diff, (trace.local_gate[0] - trace.global_gate[0]).mean(-1))
    plt.close(gate_figure(trace, 0))
    with pytest.raises(ValueError, match="needs gates"):
        view_data(gate_values(build_model("gam", "global_only", **TINY), trace.token_ids), 0, "local gate")
    explorer = GateExplorer(model, tokenizer, {"cat": "the cat sat .", "dog": "a dog ate 42 bones"})
    before = explorer.tokens.value
    explorer.sample.value = "dog"
    assert explorer.tokens.value != before and ">42<" in explorer.tokens.value
    plt.close("all")
