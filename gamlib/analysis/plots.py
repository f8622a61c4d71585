"""Figures drawn from records and probes; each is returned to be shown inline and saved under figures/."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Circle, FancyBboxPatch
from matplotlib.ticker import NullFormatter

from ..paths import figures_dir


def save_figure(fig, name: str, dpi: int = 110):
    """Save `fig` as figures/<name>.png (stable names, so the files diff cleanly) and return the path."""
    path = figures_dir() / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


def plot_loss_curves(runs: pd.DataFrame, reference: dict | None = None):
    """Validation loss (solid, epoch 0 = before training) and train loss (dashed) per epoch.

    runs: records selected by gamlib.analysis.tables.select_runs; one panel per dataset, one colour per
    (model, variant), the mean over seeds with a min-max band when there are several.
    reference: optional {dataset: loss} drawn as a grey line (e.g. unigram_loss).
    """
    datasets = list(dict.fromkeys(runs["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 3.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        subset = runs[runs["dataset"] == dataset]
        for i, ((model, variant), group) in enumerate(subset.groupby(["model", "variant"], sort=False)):
            histories = [r["history"] for r in group["record"]]
            val = pd.DataFrame([[h["initial_val_loss"]] + [e["val_loss"] for e in h["epochs"]] for h in histories])
            train = pd.DataFrame([[e["train_loss"] for e in h["epochs"]] for h in histories])
            colour = f"C{i}"
            ax.plot(val.columns, val.mean(), "-o", color=colour, ms=3,
                    label=f"{model} {variant} (n={len(group)})")
            if len(group) > 1:
                ax.fill_between(val.columns, val.min(), val.max(), color=colour, alpha=0.2)
            ax.plot(train.columns + 1, train.mean(), "--", color=colour, alpha=0.7)
        if reference and dataset in reference:
            ax.axhline(reference[dataset], color="grey", lw=1, ls=":", label="unigram (no context)")
        ax.set(title=dataset, xlabel="epoch", ylabel="loss (nats/token)")
        ax.legend(fontsize=8)
    fig.suptitle("validation loss (solid) and train loss (dashed)")
    fig.tight_layout()
    return fig


def plot_seed_points(runs: pd.DataFrame, metric: str, label: str = "variant", panel: str | None = None):
    """Each seed's `metric` as a dot and the mean as a short line per `label`, one panel per `panel` value."""
    panels = list(dict.fromkeys(runs[panel])) if panel else [None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, value in zip(axes[0], panels):
        subset = runs if value is None else runs[runs[panel] == value]
        labels = list(dict.fromkeys(subset[label]))
        for x, name in enumerate(labels):
            points = subset.loc[subset[label] == name, metric]
            ax.hlines(points.mean(), x - 0.3, x + 0.3, color=f"C{x}", lw=2)
            ax.plot([x] * len(points), points, "o", color=f"C{x}", ms=5, alpha=0.8)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
        ax.set(ylabel=metric, title=value or "")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_scaling(frames: dict, value: str, ylabel: str):
    """Log-log `value` ('median_ms' | 'peak_mb') vs length, one panel per {title: scaling rows}.

    Dotted grey guides show slopes 1 (linear) and 2 (quadratic) through each panel's smallest point.
    Points that ran out of memory are listed in the legend.
    """
    fig, axes = plt.subplots(1, len(frames), figsize=(5.5 * len(frames), 4), squeeze=False)
    for ax, (title, rows) in zip(axes[0], frames.items()):
        ok = rows[rows["status"] == "ok"]
        for name, group in rows.groupby("series", sort=False):
            good = group[group["status"] == "ok"]
            oom = group.loc[group["status"] == "oom", "seq_len"]
            suffix = f" (OOM from {oom.min()})" if len(oom) else ""
            ax.plot(good["seq_len"], good[value], "-o", ms=4, label=name + suffix)
        start_len, start = ok["seq_len"].min(), ok.loc[ok["seq_len"] == ok["seq_len"].min(), value].min()
        lengths = pd.Series(sorted(rows["seq_len"].unique()), dtype=float)
        for power in (1, 2):
            ax.plot(lengths, start * (lengths / start_len) ** power, ":", color="grey", lw=1)
            ax.annotate(f"T^{power}", (lengths.iloc[-1], start * (lengths.iloc[-1] / start_len) ** power),
                        color="grey", fontsize=8)
        ax.set(xscale="log", yscale="log", xlabel="sequence length T", ylabel=ylabel, title=title)
        ax.set_xticks(lengths, [f"{n:.0f}" for n in lengths])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(top=max(ok[value].max() * 3, start * 3))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- the GAM block as a diagram (notebook 00) ----------------------------------------------------

BLOCK_COLORS = {"io": "white", "norm": "#e8e8e8", "local": "#cfe2f3", "gate": "#d9ead3",
          "global": "#fce5cd", "ffn": "#e6d5ee"}


def _draw_box(ax, x, y, text, color, module=None, w=3.1, h=0.9):
    """A rounded box centred at (x, y); `module` (the GAMBlock attribute) is written under it."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                facecolor=BLOCK_COLORS[color], edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5)
    if module:
        ax.text(x - w / 2, y - h / 2 - 0.1, f"block.{module}", ha="left", va="top",
                fontsize=7, family="monospace", color="dimgray")


def _draw_op(ax, x, y, symbol):
    ax.add_patch(Circle((x, y), 0.25, facecolor="white", edgecolor="black"))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=11)


def _draw_arrow(ax, *points, label=None):
    """Straight segments through `points`, an arrow head at the last; `label` beside the last segment."""
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1]):
        ax.plot([x0, x1], [y0, y1], color="black", linewidth=1)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1, shrinkA=0, shrinkB=0))
    if label:
        (x0, y0), (x1, y1) = points[-2], points[-1]
        ax.text((x0 + x1) / 2 + 0.12, (y0 + y1) / 2 + 0.08, label, fontsize=8, style="italic")


def draw_gam_block():
    """The GAM block as boxes and arrows, each box labelled with the GAMBlock attribute that computes it.

    Returns (figure, names of the GAMBlock modules drawn), so a notebook can check the picture against
    the code (notebook 00 asserts the names equal the block's modules).
    """
    fig, ax = plt.subplots(figsize=(8, 9.5))
    LOCAL, MID, GLOBAL, SKIP1, SKIP2 = 1.3, 4.8, 8.3, 10.4, 7.6   # x of the columns
    boxes = [  # (x, y, text, color, module)
        (MID, 13.0, "x   (B, T, C)", "io", None),
        (MID, 11.8, "LayerNorm$_1$", "norm", "ln1"),
        (LOCAL, 10.0, "causal depthwise Conv1d\nK taps, left pad K$-$1", "local", "local"),
        (MID, 10.0, "gate Linear(C, 2C)\nsigmoid, split in two", "gate", "fusion"),
        (GLOBAL, 10.0, "memory bank M (S, C)\nsoftmax(h M$^\\top$) M", "global", "memory"),
        (MID, 4.7, "LayerNorm$_2$", "norm", "ln2"),
        (MID, 3.3, "FFN: Linear(C, 4C), GELU,\nLinear(4C, C), Dropout", "ffn", "ffn"),
        (MID, 0.9, "output   (B, T, C)", "io", None),
    ]
    for x, y, text, color, module in boxes:
        _draw_box(ax, x, y, text, color, module)
    for x, y, symbol in [(LOCAL, 8.2, "×"), (GLOBAL, 8.2, "×"), (MID, 7.0, "+"), (MID, 5.9, "+"), (MID, 2.0, "+")]:
        _draw_op(ax, x, y, symbol)
    _draw_arrow(ax, (MID, 12.55), (MID, 12.25))
    _draw_arrow(ax, (MID, 11.35), (MID, 10.45), label="h")
    _draw_arrow(ax, (MID, 10.9), (LOCAL, 10.9), (LOCAL, 10.45))
    _draw_arrow(ax, (MID, 10.9), (GLOBAL, 10.9), (GLOBAL, 10.45))
    _draw_arrow(ax, (LOCAL, 9.55), (LOCAL, 8.45), label="local")
    _draw_arrow(ax, (GLOBAL, 9.55), (GLOBAL, 8.45), label="global")
    _draw_arrow(ax, (MID - 0.6, 9.55), (MID - 0.6, 8.2), (LOCAL + 0.25, 8.2), label="σ(g$_l$)")
    _draw_arrow(ax, (MID + 0.6, 9.55), (MID + 0.6, 8.2), (GLOBAL - 0.25, 8.2), label="σ(g$_g$)")
    _draw_arrow(ax, (LOCAL, 7.95), (LOCAL, 7.0), (MID - 0.25, 7.0))
    _draw_arrow(ax, (GLOBAL, 7.95), (GLOBAL, 7.0), (MID + 0.25, 7.0))
    _draw_arrow(ax, (MID, 6.75), (MID, 6.15), label="fused")
    _draw_arrow(ax, (MID, 12.4), (SKIP1, 12.4), (SKIP1, 5.9), (MID + 0.25, 5.9), label="residual")
    _draw_arrow(ax, (MID, 5.65), (MID, 5.15))
    _draw_arrow(ax, (MID, 4.25), (MID, 3.8))
    _draw_arrow(ax, (MID, 2.8), (MID, 2.25))
    _draw_arrow(ax, (MID, 5.4), (SKIP2, 5.4), (SKIP2, 2.0), (MID + 0.25, 2.0), label="residual")
    _draw_arrow(ax, (MID, 1.75), (MID, 1.35))
    ax.set_xlim(-0.4, 10.6); ax.set_ylim(0.3, 13.6); ax.set_aspect("equal"); ax.axis("off")
    ax.set_title("One GAM block (arXiv:2509.00605), as gamlib.GAMBlock computes it", fontsize=10)
    return fig, [module for *_, module in boxes if module]
