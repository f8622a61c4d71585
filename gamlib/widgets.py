"""The gate explorer: what a trained GAM's gates and memory slots do, token by token and channel by channel.

    GateExplorer(model, tokenizer, samples)   ipywidgets: text box, sample picker, layer, view and display
                                              selectors, a channel picker, coloured tokens and a chart;
                                              `model` may be {name: model}, e.g. trained and untrained,
                                              with a picker to switch between them
    gate_figure(trace, layer)                 token x channel heatmaps of one layer (static, for GitHub,
                                              where widgets do not render)
    channel_figure(trace, view, picks)        strips of tokens, each coloured by one channel or the mean

Views (VIEWS), what is shown: the local gate, the global gate, their difference, each gate centred per
channel (minus that channel's mean over the text: a channel's fixed offset, set by its bias, hides how
it moves from token to token), and the memory-slot weights. Displays (DISPLAYS), how: each token coloured
by the mean over channels (for the slots: the largest slot weight), a token x channel heatmap, or each token
coloured by one channel (or slot).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from .probes.gates import GateTrace, gate_values

CENTRED = ", centred per channel"
VIEWS = ("local gate", "global gate", "local - global", f"local gate{CENTRED}", f"global gate{CENTRED}",
         "top memory slots")
HEATMAP, ONE_CHANNEL = "heatmap: tokens × channels", "one channel"
DISPLAYS = ("channel mean", HEATMAP, ONE_CHANNEL)
FONT = 9      # points: every label of the figures
WIDTH = 9.0   # inches: with 9-point labels, readable at GitHub's ~900 px rendering width and in JupyterLab


@dataclass
class ViewData:
    """What one view shows for one layer."""

    values: torch.Tensor        # (T, C) per token and channel; (T, S) per token and slot for the memory view
    per_token: torch.Tensor     # (T,) the value that colours each token
    cmap: str
    vmin: float
    vmax: float
    value_label: str            # what one value is, in words, on two lines (colour bars)
    token_label: str            # what per_token is
    unit: str                   # "channel" or "slot"
    top_slots: torch.Tensor | None = None  # (T, 3) the three heaviest slots per token

    @property
    def per_channel(self) -> torch.Tensor:
        """(C,) or (S,) each channel's (slot's) mean over the tokens."""
        return self.values.mean(0)


def view_data(trace: GateTrace, layer: int, view: str, stretch: bool = False, channel: int | None = None) -> ViewData:
    """The numbers behind `view` at `layer` (0-based); tokens coloured by `channel` (None: the mean).

    `stretch`: the colour scale is the range of this text's token colours instead of the view's own.
    """
    data = _view_data(trace, layer, view, channel)
    if stretch:
        data.vmin, data.vmax = _span(data, data.per_token)
    return data


def _view_data(trace: GateTrace, layer: int, view: str, channel: int | None = None) -> ViewData:
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {list(VIEWS)}")
    if not 0 <= layer < trace.n_layer:
        raise ValueError(f"layer {layer} out of range: the model has layers 0..{trace.n_layer - 1}")
    if view == "top memory slots":
        weights = trace.slot_weights[layer]  # (T, S)
        data = ViewData(weights, weights.max(-1).values, "Greens", 0.0, 1.0,
                        "slot weight\n(share of the memory read, 0 to 1)", "largest slot weight", "slot",
                        weights.topk(min(3, weights.shape[-1]), dim=-1).indices)
    elif not trace.gated:
        raise ValueError(f"view {view!r} needs gates; this GAM variant adds its pathways without gates")
    elif view == "local - global":
        diff = trace.local_gate[layer] - trace.global_gate[layer]  # (T, C)
        data = ViewData(diff, diff.mean(-1), "RdBu_r", -1.0, 1.0, "local gate - global gate\n(above 0: more local)",
                        "mean over channels of local - global", "channel")
    elif view.endswith(CENTRED):
        gate = (trace.local_gate if view.startswith("local") else trace.global_gate)[layer]  # (T, C)
        centred = gate - gate.mean(0)                                                     # each channel's mean: 0
        reach = max(float(centred.abs().max()), 1e-6)
        name = view.removesuffix(CENTRED)
        data = ViewData(centred, centred.mean(-1), "RdBu_r", -reach, reach,
                        f"{name} - its channel's mean\n(over this text; above 0: more open here)",
                        f"mean over channels of the centred {name}", "channel")
    else:
        gate = (trace.local_gate if view == "local gate" else trace.global_gate)[layer]  # (T, C)
        data = ViewData(gate, gate.mean(-1), "viridis", 0.0, 1.0, f"{view}\n(0 = pathway shut, 1 = fully open)",
                        f"mean {view} over channels", "channel")
    if channel is not None:
        count = data.values.shape[-1]
        if not 0 <= channel < count:
            raise ValueError(f"{data.unit} {channel} out of range: layer {layer + 1} has {data.unit}s 0..{count - 1}")
        what = "weight" if data.unit == "slot" else view
        data.per_token, data.token_label = data.values[:, channel], f"{what} of {data.unit} {channel}"
        data.top_slots = None
    return data


def _span(data: ViewData, values: torch.Tensor) -> tuple[float, float]:
    """The range of `values` (symmetric about 0 for a difference), or the view's own when they are all equal."""
    low, high = values.min().item(), values.max().item()
    if data.cmap == "RdBu_r":  # keep 0 at the centre of the diverging colours
        low, high = -max(-low, high), max(-low, high)
    return (low, high) if high > low else (data.vmin, data.vmax)


def _colours(values: torch.Tensor, data: ViewData) -> list[tuple[float, float, float, float]]:
    return [tuple(c) for c in colormaps[data.cmap](Normalize(data.vmin, data.vmax)(values.numpy()))]


def _is_light(rgba) -> bool:
    return 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55


def tokens_html(trace: GateTrace, layer: int, view: str, stretch: bool = False, channel: int | None = None) -> str:
    """The tokens as HTML spans whose background colour is the view's per-token value."""
    data = view_data(trace, layer, view, stretch, channel)
    spans = []
    for i, (label, value, rgba) in enumerate(zip(trace.labels(), data.per_token, _colours(data.per_token, data))):
        tip = f"{data.token_label}: {value:.3f}"
        if data.top_slots is not None:
            tip += "; top slots " + ", ".join(str(int(s)) for s in data.top_slots[i])
        spans.append(f'<span title="{html.escape(tip)}" style="background:{to_hex(rgba)};'
                     f'color:{"#000" if _is_light(rgba) else "#fff"};padding:1px 3px;margin:1px;border-radius:3px;'
                     f'display:inline-block;font-family:monospace">{html.escape(label)}</span>')
    legend = (f'<div style="font-size:90%;color:#555;margin-top:4px">colour: {html.escape(data.token_label)} '
              f'at layer {layer + 1}, {data.vmin:.3g} to {data.vmax:.3g} ({data.cmap}); '
              'hover a token for its value. Tokens are BPE pieces: the tokenizer keeps no spaces.</div>')
    return f'<div style="line-height:1.9">{"".join(spans)}</div>{legend}'


def draw_tokens(ax, labels: list[str], colours, chars_per_line: int = 95) -> None:
    """Tokens as coloured boxes of monospace text, wrapped into lines (the static twin of tokens_html).

    95 characters fill about 7 inches at the 9-point font.
    """
    ax.set_axis_off()
    x, line = 0, 0
    for label, rgba in zip(labels, colours):
        if x and x + len(label) > chars_per_line:
            x, line = 0, line + 1
        ax.text(x, -line, label, family="monospace", fontsize=FONT, va="center",
                color="black" if _is_light(rgba) else "white",
                bbox=dict(boxstyle="round,pad=0.2", facecolor=rgba, edgecolor="none"))
        x += len(label) + 1
    ax.set_xlim(-1, chars_per_line + 1)
    ax.set_ylim(-line - 0.7, 0.7)


def _token_axis(ax, labels: list[str], width_in: float) -> int:
    """Token labels under the columns, rotated; every k-th one when not all fit in `width_in` inches. Returns k."""
    step = math.ceil(len(labels) / max(1, int(width_in * 72 / (1.3 * FONT))))
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=90, fontsize=FONT, family="monospace")
    ax.set_xlabel("token" if step == 1 else f"token (one in {step} labelled)", fontsize=FONT)
    return step


def draw_heatmap(ax, data: ViewData, stretch: bool = False):
    """Tokens (columns) x channels (rows, sorted by their mean over these tokens, lowest at the bottom).

    The row ticks name a few channels and their means; the caller labels the tokens. Returns the image.
    """
    means = data.per_channel
    order = means.argsort()
    low, high = _span(data, data.values) if stretch else (data.vmin, data.vmax)
    image = ax.imshow(data.values[:, order].T.numpy(), cmap=data.cmap, norm=Normalize(low, high), aspect="auto",
                      origin="lower", interpolation="nearest")
    rows = sorted({round(i * (len(order) - 1) / 5) for i in range(6)})
    ax.set_yticks(rows, [f"{int(order[r])} ({means[order[r]]:.2f})" for r in rows], fontsize=FONT)
    ax.set_ylabel(f"{data.unit} (its mean),\nsorted by mean", fontsize=FONT)
    return image


def draw_view(fig, trace: GateTrace, layer: int, view: str, stretch: bool = False, channel: int | None = None) -> None:
    """One view on `fig`: the per-token chart and, beside it, the distribution over channels (slots)."""
    data = view_data(trace, layer, view, stretch, channel)
    fixed = _view_data(trace, layer, view)  # the charts keep the view's own scale
    colours = _colours(data.per_token, data)
    bars, dist = fig.subplots(1, 2, width_ratios=(3, 1))
    T = len(data.per_token)
    bars.bar(range(T), data.per_token.numpy(), color=colours, edgecolor="0.3", linewidth=0.3)
    step = _token_axis(bars, trace.labels(), 0.7 * fig.get_figwidth())
    bars.set_xlim(-0.6, T - 0.4)
    headroom = 1.15 if data.top_slots is not None else 1  # room for the slot numbers above the bars
    bars.set_ylim(fixed.vmin if fixed.cmap == "RdBu_r" else 0, fixed.vmax * headroom)
    bars.axhline(0, color="0.3", linewidth=0.6)
    bars.set_ylabel(data.token_label, fontsize=FONT)
    if data.top_slots is not None:  # the heaviest slot of each labelled token
        for t in range(0, T, step):
            bars.text(t, float(data.per_token[t]) + 0.02, str(int(data.top_slots[t, 0])), ha="center",
                      fontsize=FONT, rotation=90)
    if data.unit == "slot":
        order = data.per_channel.argsort(descending=True)
        dist.bar(range(len(order)), data.per_channel[order].numpy(),
                 color=["tab:orange" if int(s) == channel else "tab:green" for s in order])
        dist.set_xlabel("slot rank (by mean weight)", fontsize=FONT)
        dist.set_ylabel("mean slot weight", fontsize=FONT)
    else:
        dist.hist(data.per_channel.numpy(), bins=20, range=(fixed.vmin, fixed.vmax), color="tab:blue")
        if channel is not None:
            dist.axvline(float(data.per_channel[channel]), color="tab:orange", linewidth=2, label=f"channel {channel}")
            dist.legend(fontsize=FONT)
        dist.set_xlabel("mean over tokens of each channel", fontsize=FONT)
        dist.set_ylabel("channels", fontsize=FONT)
    for ax in (bars, dist):
        ax.tick_params(axis="y", labelsize=FONT)
    dist.tick_params(axis="x", labelsize=FONT)
    fig.suptitle(f"layer {layer + 1}: {data.token_label}", fontsize=FONT + 1)


def gate_figure(trace: GateTrace, layer: int, views: tuple[str, ...] | None = None, stretch: bool = False):
    """Token x channel heatmaps of one layer, one panel per view (default: the gates and the slot weights)."""
    views = views or (("local gate", "global gate", "top memory slots") if trace.gated else ("top memory slots",))
    fig, axes = plt.subplots(len(views), 1, figsize=(WIDTH, 1.2 + 2.6 * len(views)), sharex=True,
                             layout="constrained", squeeze=False)
    for ax, view in zip(axes[:, 0], views):
        data = view_data(trace, layer, view)
        image = draw_heatmap(ax, data, stretch)
        ax.set_title(f"layer {layer + 1}: {data.value_label.splitlines()[0]}", fontsize=FONT + 1)
        bar = fig.colorbar(image, ax=ax, fraction=0.04)
        bar.set_label(data.value_label, fontsize=FONT)
        bar.ax.tick_params(labelsize=FONT)
    _token_axis(axes[-1, 0], trace.labels(), 0.75 * WIDTH)
    return fig


def channel_figure(trace: GateTrace, view: str, picks: list[tuple[int, int | None]]):
    """One strip of tokens per (layer, channel) in `picks`, coloured by `view` at that channel (None: the mean
    over channels), on the view's own scale (one colour bar for all); each title gives the strip's mean and sd."""
    fig, axes = plt.subplots(len(picks), 1, figsize=(WIDTH, 1.2 + 1.1 * len(picks)), layout="constrained",
                             squeeze=False)
    for ax, (layer, channel) in zip(axes[:, 0], picks):
        data = view_data(trace, layer, view, channel=channel)
        draw_tokens(ax, trace.labels(), _colours(data.per_token, data))
        ax.set_title(f"layer {layer + 1}: {data.token_label} (over these tokens: mean {data.per_token.mean():.2f}, "
                     f"sd {data.per_token.std():.3f})", fontsize=FONT + 1, loc="left")
    bar = fig.colorbar(plt.cm.ScalarMappable(Normalize(data.vmin, data.vmax), data.cmap), ax=axes[:, 0],
                       orientation="horizontal", fraction=0.08, aspect=40)
    bar.set_label(data.value_label.replace("\n", " "), fontsize=FONT)
    bar.ax.tick_params(labelsize=FONT)
    return fig


class GateExplorer:
    """Widgets to explore a trained GAM's gates: type or pick a text, choose a layer, a view and a display.

    Text longer than the model's block_size is cut to its first block_size tokens (the model never
    sees more at once). `samples` maps a name to a text; the first one is shown first. The colour
    scale is the view's own (0 to 1 for gates) unless 'stretch' spreads it over this text's range.
    The channel picker (a slot picker for the memory view) serves the 'one channel' display.
    """

    def __init__(self, model, tokenizer, samples: dict[str, str]):
        if not samples:
            raise ValueError("samples must hold at least one text to show first")
        self.models = model if isinstance(model, dict) else {"model": model}
        shapes = {(m.config.n_layer, m.config.n_embd, m.config.block_size, m.config.gated)
                  for m in self.models.values()}
        if not self.models or len(shapes) != 1:
            raise ValueError("GateExplorer compares models of one shape (layers, width, block size, gated or not); "
                             f"got {len(shapes)} shapes for {list(self.models)}")
        model = next(iter(self.models.values()))
        self.model, self.tokenizer, self.samples = model, tokenizer, samples
        self.block_size = model.config.block_size
        n_layer = model.config.n_layer
        self.which = widgets.Dropdown(options=list(self.models), description="model",
                                      layout=widgets.Layout(display="flex" if len(self.models) > 1 else "none"))
        self.sample = widgets.Dropdown(options=list(samples), description="sample")
        self.layer = widgets.Dropdown(options=[(f"layer {i + 1}", i) for i in range(n_layer)], description="layer")
        views = VIEWS if model.config.gated else ("top memory slots",)
        self.view = widgets.Dropdown(options=views, description="view")
        self.show = widgets.Dropdown(options=DISPLAYS, description="display")
        self.channel = widgets.IntSlider(value=0, min=0, max=model.config.n_embd - 1, description="channel",
                                         continuous_update=False, disabled=True)
        self.stretch = widgets.Checkbox(value=False, description="stretch colours to this text", indent=False)
        self.text = widgets.Textarea(value=samples[self.sample.value], description="text",
                                     continuous_update=False, layout=widgets.Layout(width="80%", height="70px"))
        self.note = widgets.HTML()
        self.tokens = widgets.HTML()
        self.plot = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.which, self.sample, self.layer, self.view]),
                                    widgets.HBox([self.show, self.channel]),
                                    widgets.HBox([self.text, self.stretch]),
                                    self.note, self.tokens, self.plot])
        self.sample.observe(lambda change: setattr(self.text, "value", samples[change["new"]]), names="value")
        self.text.observe(lambda change: self.update_trace(), names="value")
        self.which.observe(lambda change: self.use_model(change["new"]), names="value")
        for control in (self.layer, self.view, self.show, self.channel, self.stretch):
            control.observe(lambda change: self.render(), names="value")
        self.update_trace()

    def use_model(self, name: str) -> None:
        """Show `name`'s gates for the same text, layer and view."""
        self.model = self.models[name]
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
        if self.trace is None:  # a control changed while there is no text: nothing to draw
            return
        layer, view, show, stretch = self.layer.value, self.view.value, self.show.value, self.stretch.value
        slots = view == "top memory slots"
        self.channel.description = "slot" if slots else "channel"
        # a smaller range clamps the value (and redraws through its observer)
        self.channel.max = (self.trace.slot_weights if slots else self.trace.local_gate).shape[-1] - 1
        self.channel.disabled = show != ONE_CHANNEL
        channel = self.channel.value if show == ONE_CHANNEL else None
        self.tokens.value = tokens_html(self.trace, layer, view, stretch, channel)
        if show == HEATMAP:
            fig = gate_figure(self.trace, layer, (view,), stretch)
        else:
            fig = plt.figure(figsize=(WIDTH, 3.6), layout="constrained")
            draw_view(fig, self.trace, layer, view, stretch, channel)
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
