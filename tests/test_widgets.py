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


def test_heatmap_and_one_channel_views(tokenizer, tiny):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gamlib.widgets import DISPLAYS, GateExplorer, channel_figure, gate_figure, tokens_html, view_data

    model = build_model("gam", "full", **tiny)  # 16 channels, 8 memory slots
    trace = gate_values(model, "the cat sat on the mat .", tokenizer)
    one = view_data(trace, 1, "global gate", channel=5)
    assert torch.equal(one.per_token, trace.global_gate[1, :, 5]) and one.token_label == "global gate of channel 5"
    assert torch.equal(view_data(trace, 1, "top memory slots", channel=7).per_token, trace.slot_weights[1, :, 7])
    with pytest.raises(ValueError, match="slot 8 out of range: layer 1 has slots 0..7"):
        view_data(trace, 0, "top memory slots", channel=8)
    assert tokens_html(trace, 0, "local gate", channel=3) != tokens_html(trace, 0, "local gate")
    heatmaps = gate_figure(trace, 0)  # local gate, global gate, slot weights: one heatmap and colour bar each
    image = heatmaps.axes[0].images[0].get_array()
    assert image.shape == (tiny["n_embd"], len(trace.tokens))  # channels x tokens
    assert (image.mean(1)[:-1] <= image.mean(1)[1:]).all()     # rows sorted by the channel's mean
    assert len(heatmaps.axes) == 6 and heatmaps.axes[-1].get_ylabel().startswith("slot weight")
    strips = channel_figure(trace, "local gate", [(0, None), (2, 15)])
    titles = [ax.get_title(loc="left") for ax in strips.axes[:2]]
    assert titles[0].startswith("layer 1: mean local gate over channels (over these tokens: mean ")
    assert titles[1].startswith("layer 3: local gate of channel 15 ")

    explorer = GateExplorer(model, tokenizer, {"cat": "the cat sat on the mat ."})
    assert explorer.channel.disabled
    mean_tokens = explorer.tokens.value
    explorer.show.value = DISPLAYS[1]                      # the heatmap: tokens as before, a new chart
    assert explorer.tokens.value == mean_tokens and explorer.channel.disabled
    explorer.show.value = DISPLAYS[2]                      # one channel: the picker decides the colours
    assert not explorer.channel.disabled and "local gate of channel 0" in explorer.tokens.value
    explorer.channel.value = 15
    assert "local gate of channel 15" in explorer.tokens.value
    explorer.view.value = "top memory slots"               # 8 slots: the picker's range shrinks, its value too
    assert (explorer.channel.description, explorer.channel.max, explorer.channel.value) == ("slot", 7, 7)
    assert "weight of slot 7" in explorer.tokens.value
    plt.close("all")


def test_centred_views_show_each_channel_around_its_own_mean(tokenizer, tiny):
    from gamlib.widgets import view_data

    trace = gate_values(build_model("gam", "full", **tiny), "the cat sat on the mat .", tokenizer)
    for name, gate in (("local gate", trace.local_gate), ("global gate", trace.global_gate)):
        data = view_data(trace, 1, f"{name}, centred per channel")
        torch.testing.assert_close(data.values, gate[1] - gate[1].mean(0))
        torch.testing.assert_close(data.values.mean(0), torch.zeros(tiny["n_embd"]), atol=1e-6, rtol=0)
        assert data.vmin == -data.vmax == -float(data.values.abs().max()) and data.cmap == "RdBu_r"


def test_the_explorer_switches_between_models_keeping_the_text_and_view(tokenizer, tiny):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gamlib.widgets import GateExplorer

    torch.manual_seed(0)
    models = {"trained": build_model("gam", "full", **tiny), "untrained": build_model("gam", "full", **tiny)}
    explorer = GateExplorer(models, tokenizer, {"cat": "the cat sat on the mat ."})
    assert explorer.which.layout.display == "flex" and explorer.model is models["trained"]
    explorer.view.value = "global gate"
    before = explorer.tokens.value
    explorer.which.value = "untrained"
    assert explorer.model is models["untrained"] and explorer.tokens.value != before
    assert explorer.view.value == "global gate" and explorer.text.value == "the cat sat on the mat ."
    assert GateExplorer(models["trained"], tokenizer, {"cat": "a"}).which.layout.display == "none"
    with pytest.raises(ValueError, match="one shape"):
        GateExplorer({**models, "wide": build_model("gam", "full", **{**tiny, "n_embd": 32})}, tokenizer, {"c": "a"})
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
    empty_first.show.value = "one channel"
    empty_first.channel.value = 3
    assert empty_first.tokens.value == "" and "no tokens" in empty_first.note.value
    empty_first.sample.value = "cat"                 # and it recovers when text arrives
    assert "global gate of channel 3" in empty_first.tokens.value and "no tokens" not in empty_first.note.value
    plt.close("all")
