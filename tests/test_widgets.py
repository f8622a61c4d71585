"""gamlib.widgets: the gate explorer's views, its static figure and the interactive explorer."""
import pytest
import torch

from gamlib import build_model
from gamlib.probes.gates import gate_values


def test_explorer_views_and_static_figure(tokenizer, tiny):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from gamlib.widgets import VIEWS, GateExplorer, gate_figure, tokens_html, view_data

    model = build_model("gam", "full", **tiny)
    trace = gate_values(model, "the cat sat on the mat .", tokenizer)
    for view in VIEWS:
        assert tokens_html(trace, 1, view).count("<span") == len(trace.tokens)
    diff = view_data(trace, 0, "local - global").per_token
    torch.testing.assert_close(diff, (trace.local_gate[0] - trace.global_gate[0]).mean(-1))
    plt.close(gate_figure(trace, 0))
    with pytest.raises(ValueError, match="needs gates"):
        view_data(gate_values(build_model("gam", "global_only", **tiny), trace.token_ids), 0, "local gate")
    explorer = GateExplorer(model, tokenizer, {"cat": "the cat sat .", "dog": "a dog ate 42 bones"})
    before = explorer.tokens.value
    explorer.sample.value = "dog"
    assert explorer.tokens.value != before and ">42<" in explorer.tokens.value
    plt.close("all")


def test_text_without_tokens_clears_the_explorer_and_says_so(tokenizer, tiny):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from gamlib.widgets import GateExplorer

    model = build_model("gam", "full", **tiny)
    explorer = GateExplorer(model, tokenizer, {"cat": "the cat sat .", "blank": "   "})
    assert "<span" in explorer.tokens.value and explorer.trace is not None
    explorer.sample.value = "blank"                 # a text with no tokens after one with tokens
    assert explorer.tokens.value == "" and explorer.trace is None  # the old tokens are gone
    assert "no tokens" in explorer.note.value
    empty_first = GateExplorer(model, tokenizer, {"blank": "", "cat": "the cat sat ."})
    assert "no tokens" in empty_first.note.value and empty_first.tokens.value == ""
    empty_first.layer.value = 1                      # used to raise AttributeError: no trace yet
    empty_first.view.value = "global gate"
    assert empty_first.tokens.value == ""
    empty_first.sample.value = "cat"                 # and it recovers when text arrives
    assert "<span" in empty_first.tokens.value
    plt.close("all")
