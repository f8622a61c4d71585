"""Figures drawn from records and probes; each is returned to be shown inline and saved under figures/."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
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

