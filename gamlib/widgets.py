"""The gate explorer: what a trained GAM's gates and memory slots do, token by token.

    GateExplorer(model, tokenizer, samples)   ipywidgets: text box, sample picker, layer and view
                                              selectors, coloured tokens, a per-token chart and a
                                              per-channel distribution
    gate_figure(trace, layer)                 the same views as one static matplotlib figure
                                              (for GitHub, where widgets do not render)

Views (VIEWS): the local gate, the global gate, their difference (each averaged over channels
for the colour of a token), and the top memory slots (colour = the largest slot weight).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from .probes.gates import GateTrace, gate_values

VIEWS = ("local gate", "global gate", "local - global", "top memory slots")


@dataclass
class ViewData:
    """What one view shows for one layer."""

    per_token: torch.Tensor     # (T,) the value that colours each token
    per_channel: torch.Tensor   # (C,) or (S,) what the distribution panel shows
    cmap: str
    vmin: float
    vmax: float
    token_label: str
    channel_label: str
    top_slots: torch.Tensor | None = None  # (T, 3) the three heaviest slots per token


def view_data(trace: GateTrace, layer: int, view: str, stretch: bool = False) -> ViewData:
    """The numbers behind `view` at `layer` (0-based). `stretch`: colour scale = this text's range."""
    data = _view_data(trace, layer, view)
    if stretch:
        low, high = data.per_token.min().item(), data.per_token.max().item()
        if view == "local - global":  # keep 0 at the centre of the diverging colours
            low, high = -max(-low, high), max(-low, high)
        data.vmin, data.vmax = (low, high) if high > low else (data.vmin, data.vmax)
    return data


def _view_data(trace: GateTrace, layer: int, view: str) -> ViewData:
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {list(VIEWS)}")
    if not 0 <= layer < trace.n_layer:
        raise ValueError(f"layer {layer} out of range: the model has layers 0..{trace.n_layer - 1}")
    if view == "top memory slots":
        weights = trace.slot_weights[layer]  # (T, S)
        return ViewData(weights.max(-1).values, weights.mean(0), "Greens", 0.0, 1.0,
                        "largest slot weight", "mean weight of each slot (sorted)",
                        weights.topk(min(3, weights.shape[-1]), dim=-1).indices)
    if not trace.gated:
        raise ValueError(f"view {view!r} needs gates; this GAM variant adds its pathways without gates")
    if view == "local - global":
        diff = trace.local_gate[layer] - trace.global_gate[layer]  # (T, C)
        return ViewData(diff.mean(-1), diff.mean(0), "RdBu_r", -1.0, 1.0, "mean over channels of "
                        "g_local - g_global", "per channel: mean over tokens")
    gate = trace.local_gate if view == "local gate" else trace.global_gate
    return ViewData(gate[layer].mean(-1), gate[layer].mean(0), "viridis", 0.0, 1.0,
                    f"mean {view} over channels", "per channel: mean over tokens")


def _colours(values: torch.Tensor, data: ViewData) -> list[tuple[float, float, float, float]]:
    return [tuple(c) for c in colormaps[data.cmap](Normalize(data.vmin, data.vmax)(values.numpy()))]


def tokens_html(trace: GateTrace, layer: int, view: str, stretch: bool = False) -> str:
    """The tokens as HTML spans whose background colour is the view's per-token value."""
    data = view_data(trace, layer, view, stretch)
    spans = []
    for i, (label, value, rgba) in enumerate(zip(trace.labels(), data.per_token, _colours(data.per_token, data))):
        light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55
        tip = f"{data.token_label}: {value:.3f}"
        if data.top_slots is not None:
            tip += "; top slots " + ", ".join(str(int(s)) for s in data.top_slots[i])
        spans.append(f'<span title="{html.escape(tip)}" style="background:{to_hex(rgba)};'
                     f'color:{"#000" if light else "#fff"};padding:1px 3px;margin:1px;border-radius:3px;'
                     f'display:inline-block;font-family:monospace">{html.escape(label)}</span>')
    legend = (f'<div style="font-size:90%;color:#555;margin-top:4px">colour: {html.escape(data.token_label)} '
              f'at layer {layer + 1}, {data.vmin:.3g} to {data.vmax:.3g} ({data.cmap}); '
              'hover a token for its value. Tokens are BPE pieces: the tokenizer keeps no spaces.</div>')
    return f'<div style="line-height:1.9">{"".join(spans)}</div>{legend}'


def draw_tokens(ax, labels: list[str], colours, chars_per_line: int = 130) -> None:
    """Tokens as coloured boxes of monospace text, wrapped into lines (the static twin of tokens_html)."""
    ax.set_axis_off()
    x, line = 0, 0
    for label, rgba in zip(labels, colours):
        if x and x + len(label) > chars_per_line:
            x, line = 0, line + 1
        light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55
        ax.text(x, -line, label, family="monospace", fontsize=9, va="center", color="black" if light else "white",
                bbox=dict(boxstyle="round,pad=0.2", facecolor=rgba, edgecolor="none"))
        x += len(label) + 1
    ax.set_xlim(-1, chars_per_line + 1)
    ax.set_ylim(-line - 0.7, 0.7)


def draw_view(fig, trace: GateTrace, layer: int, view: str, with_tokens: bool = True, stretch: bool = False) -> None:
    """One view on `fig` (a Figure or SubFigure): coloured tokens, per-token chart, distribution."""
    data = view_data(trace, layer, view, stretch)
    fixed = _view_data(trace, layer, view)  # the charts keep the view's own scale
    colours = _colours(data.per_token, data)
    rows = (1, 2) if with_tokens else (2,)
    grid = fig.add_gridspec(len(rows), 3, height_ratios=rows)
    if with_tokens:
        draw_tokens(fig.add_subplot(grid[0, :]), trace.labels(), colours)
    bars = fig.add_subplot(grid[-1, :2])
    T = len(data.per_token)
    bars.bar(range(T), data.per_token.numpy(), color=colours, edgecolor="0.3", linewidth=0.3)
    bars.set_xticks(range(T), trace.labels(), rotation=90, fontsize=7, family="monospace")
    bars.set_xlim(-0.6, T - 0.4)
    bars.set_ylim(fixed.vmin if view == "local - global" else 0, fixed.vmax * (1.12 if data.top_slots is not None else 1))
    bars.axhline(0, color="0.3", linewidth=0.6)
    bars.set_ylabel(data.token_label, fontsize=8)
    if data.top_slots is not None:
        for t, slot in enumerate(data.top_slots[:, 0]):
            bars.text(t, float(data.per_token[t]) + 0.02, str(int(slot)), ha="center", fontsize=6, rotation=90)
    dist = fig.add_subplot(grid[-1, 2])
    if data.top_slots is not None:
        usage = data.per_channel.sort(descending=True).values
        dist.bar(range(len(usage)), usage.numpy(), color="tab:green")
        dist.set_xlabel("slot rank", fontsize=8)
    else:
        dist.hist(data.per_channel.numpy(), bins=20, range=(fixed.vmin, fixed.vmax), color="tab:blue")
        dist.set_xlabel("channel mean", fontsize=8)
        dist.set_ylabel("channels", fontsize=8)
    dist.set_title(data.channel_label, fontsize=8)
    fig.suptitle(f"{view}, layer {layer + 1}", fontsize=10)


def gate_figure(trace: GateTrace, layer: int, views: tuple[str, ...] | None = None):
    """Every view (default: all that the trace supports) of one layer, stacked in one figure."""
    views = views or (VIEWS if trace.gated else ("top memory slots",))
    fig = plt.figure(figsize=(12, 4.2 * len(views)), layout="constrained")
    for subfig, view in zip(fig.subfigures(len(views), 1) if len(views) > 1 else [fig], views):
        draw_view(subfig, trace, layer, view)
    return fig


class GateExplorer:
    """Widgets to explore a trained GAM's gates: type or pick a text, choose a layer and a view.

    Text longer than the model's block_size is cut to its first block_size tokens (the model never
    sees more at once). `samples` maps a name to a text; the first one is shown first. The colour
    scale is the view's own (0 to 1 for gates) unless 'stretch' spreads it over this text's range.
    """

    def __init__(self, model, tokenizer, samples: dict[str, str]):
        if not samples:
            raise ValueError("samples must hold at least one text to show first")
        self.model, self.tokenizer, self.samples = model, tokenizer, samples
        self.block_size = model.config.block_size
        n_layer = model.config.n_layer
        self.sample = widgets.Dropdown(options=list(samples), description="sample")
        self.layer = widgets.Dropdown(options=[(f"layer {i + 1}", i) for i in range(n_layer)], description="layer")
        views = VIEWS if model.config.gated else ("top memory slots",)
        self.view = widgets.Dropdown(options=views, description="view")
        self.stretch = widgets.Checkbox(value=False, description="stretch colours to this text", indent=False)
        self.text = widgets.Textarea(value=samples[self.sample.value], description="text",
                                     continuous_update=False, layout=widgets.Layout(width="80%", height="70px"))
        self.note = widgets.HTML()
        self.tokens = widgets.HTML()
        self.plot = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.sample, self.layer, self.view]),
                                    widgets.HBox([self.text, self.stretch]),
                                    self.note, self.tokens, self.plot])
        self.sample.observe(lambda change: setattr(self.text, "value", samples[change["new"]]), names="value")
        self.text.observe(lambda change: self.update_trace(), names="value")
        self.layer.observe(lambda change: self.render(), names="value")
        self.view.observe(lambda change: self.render(), names="value")
        self.stretch.observe(lambda change: self.render(), names="value")
        self.update_trace()

    def update_trace(self) -> None:
        ids = self.tokenizer.encode(self.text.value).ids
        if not ids:  # nothing to trace: say so, and clear what an earlier text left on screen
            self.trace = None
            self.note.value = "<i>this text has no tokens: type some text or pick a sample</i>"
            self.tokens.value = ""
            self.plot.clear_output()
            return
        cut = len(ids) > self.block_size
        self.note.value = (f"<i>{len(ids)} tokens; showing the first {self.block_size} (the block size)</i>"
                           if cut else f"<i>{len(ids)} tokens</i>")
        self.trace = gate_values(self.model, torch.tensor(ids[: self.block_size]), self.tokenizer)
        self.render()

    def render(self) -> None:
        if self.trace is None:  # a layer or view changed while there is no text: nothing to draw
            return
        layer, view, stretch = self.layer.value, self.view.value, self.stretch.value
        self.tokens.value = tokens_html(self.trace, layer, view, stretch)
        fig = plt.figure(figsize=(11, 3.2), layout="constrained")
        draw_view(fig, self.trace, layer, view, with_tokens=False, stretch=stretch)
        with self.plot:
            self.plot.clear_output(wait=True)
            display(fig)
        plt.close(fig)

    def _repr_mimebundle_(self, **kwargs):
        widget = self.widget
        if getattr(widget, "_repr_mimebundle_", None) is not None:  # ipywidgets 8
            return widget._repr_mimebundle_(**kwargs)
        widget._handle_displayed(**kwargs)  # ipywidgets 7 (Colab's): the bundle its _ipython_display_ publishes
        return {"text/plain": repr(widget)[:110], "application/vnd.jupyter.widget-view+json":
                {"version_major": 2, "version_minor": 0, "model_id": widget._model_id}}
