"""Figures drawn from records and probes; each is returned to be shown inline and saved under figures/."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle
from matplotlib.ticker import NullFormatter

from ..paths import figures_dir


def save_figure(fig, name: str, dpi: int = 110):
    """Save `fig` as figures/<name>.png (stable names, so the files diff cleanly) and return the path."""
    path = figures_dir() / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


# Axis labels in words, per metric; rates are drawn from zero.
METRIC_LABELS = {
    "val_loss": "validation loss (nats per token)",
    "train_loss": "training loss (nats per token)",
    "val_ppl": "validation perplexity",
    "tokens_per_s": "training throughput (tokens/s)",
    "seconds_per_epoch": "training time per epoch (s)",
}
FROM_ZERO = ("tokens_per_s", "seconds_per_epoch")
SEED_BAND = ("pi", 100)  # seaborn's errorbar for the band over seeds: the 0-100 percentile interval, min to max
UNIGRAM_STYLE = dict(color="grey", lw=1, ls=":")


def curve_points(record: dict, with_curves: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training points, validation points) of a record's history as DataFrames of x and loss.

    with_curves and a history with step-level curves (records since fit logs them): x = training tokens
    seen, in millions; train_curve's mean loss of every log_every steps and val_curve's evaluations
    (the first one before training). Otherwise (older records) x = epoch: each epoch's mean training loss
    and the validation loss before training (epoch 0) and after each epoch.
    """
    history = record["history"]
    if with_curves and has_curves(record):
        train = [(p["tokens"] / 1e6, p["train_loss"]) for p in history["train_curve"]]
        val = [(p["tokens"] / 1e6, p["val_loss"]) for p in history["val_curve"]]
    else:
        train = [(e["epoch"], e["train_loss"]) for e in history["epochs"]]
        val = [(0, history["initial_val_loss"])] + [(e["epoch"], e["val_loss"]) for e in history["epochs"]]
    return pd.DataFrame(train, columns=["x", "loss"]), pd.DataFrame(val, columns=["x", "loss"])


def has_curves(record: dict) -> bool:
    history = record.get("history", {})
    return bool(history.get("train_curve")) and bool(history.get("val_curve"))


def _label(model, variant) -> str:
    return f"{model} {variant}".strip()


def _panels(runs: pd.DataFrame) -> list[tuple]:
    """One panel per (preset, dataset) (preset None when the runs do not say)."""
    presets = runs["preset"] if "preset" in runs else [None] * len(runs)
    return list(dict.fromkeys(zip(presets, runs["dataset"])))


def plot_loss_curves(runs: pd.DataFrame, reference: dict | None = None):
    """Training loss (thin line) and validation loss (dots) against training tokens seen, per model.

    runs: records as load_records / find_runs / study_runs give them; one panel per (preset, dataset),
    two panels per row, one colour per (model, variant), the same in every panel: the mean over
    seeds, with a band from the lowest to the highest seed where there are several (seaborn's lineplot).
    Records without step-level curves (written before fit logged them) are drawn per epoch instead,
    and so is every other record of their panel, to share one x axis.
    The dotted grey line is the unigram loss (a model that knows token frequencies, no context): the
    records' own metrics.unigram_loss (each run's tokenizer and data), else reference[dataset] if given.
    """
    if runs.empty:
        raise ValueError("no runs to plot")
    labels = list(dict.fromkeys(_label(m, v) for m, v in zip(runs["model"], runs["variant"])))
    colours = {name: f"C{i}" for i, name in enumerate(labels)}
    panels = _panels(runs)
    columns = min(len(panels), 2)
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 if columns == 1 else 9, 4 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        fig.delaxes(ax)
    for ax, (preset, dataset) in zip(axes.flat, panels):
        subset = runs[runs["dataset"] == dataset]
        subset = subset[subset["preset"] == preset] if preset is not None else subset
        records = list(subset["record"])
        tokens = all(has_curves(r) for r in records)
        names = [_label(m, v) for m, v in zip(subset["model"], subset["variant"])]
        for name, group in subset.groupby(pd.Series(names, index=subset.index), sort=False):
            curves = [curve_points(r, tokens) for r in group["record"]]
            train = pd.concat([t.assign(seed=i) for i, (t, _) in enumerate(curves)], ignore_index=True)
            val = pd.concat([v.assign(seed=i) for i, (_, v) in enumerate(curves)], ignore_index=True)
            colour = colours[name]
            sns.lineplot(data=train, x="x", y="loss", color=colour, lw=0.8, alpha=0.6, errorbar=SEED_BAND,
                         err_kws=dict(alpha=0.15), legend=False, ax=ax)
            sns.lineplot(data=val, x="x", y="loss", color=colour, lw=1.2, marker="o", markersize=5,
                         errorbar=SEED_BAND, err_kws=dict(alpha=0.2), legend=False, ax=ax)
            ax.plot([], [], color=colour, lw=1.2, marker="o", ms=5, label=f"{name} (n={len(group)})")
        unigram = [r["metrics"]["unigram_loss"] for r in records
                   if r.get("metrics", {}).get("unigram_loss") is not None]
        level = sum(unigram) / len(unigram) if unigram else (reference or {}).get(dataset)
        if level is not None:
            ax.axhline(level, **UNIGRAM_STYLE, label=f"unigram loss, no context ({level:.2f})")
        ax.plot([], [], color="grey", lw=0.8, alpha=0.6,
                label="training loss (" + ("mean of each logging interval" if tokens else "epoch mean") + ")")
        ax.plot([], [], color="grey", lw=1.2, marker="o", ms=5, label="validation loss")
        devices = sorted({r["provenance"]["device"] for r in records if "provenance" in r})
        title = dataset if preset is None else f"{dataset}, {preset} preset"
        ax.set(title=title + (f" ({', '.join(devices)})" if devices else ""),
               xlabel="training tokens seen (millions)" if tokens else "epoch (0 = before training)",
               ylabel="loss (nats per token)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("validation loss (dots) and training loss (thin lines): mean over seeds, "
                 "band from the lowest to the highest seed", fontsize=10)
    fig.tight_layout()
    return fig


def _unigram_reference(ax, level: float, low: float, high: float) -> None:
    """The unigram loss as a dotted line when it sits near the points; written in words when drawing it
    would squash the points (it lies more than twice their range away)."""
    span = max(high - low, 1e-3)
    if low - 2 * span <= level <= high + 2 * span:
        ax.axhline(level, **UNIGRAM_STYLE, label=f"unigram loss, no context ({level:.3f})")
    else:
        where = "above" if level > high else "below"
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom - (0.3 * span if where == "below" else 0), top + (0.3 * span if where == "above" else 0))
        ax.text(0.02, 0.98 if where == "above" else 0.02,
                f"unigram loss (no context) {level:.3f}, off this scale:\n"
                f"{abs(level - (high if where == 'above' else low)):.3f} {where} the "
                f"{'highest' if where == 'above' else 'lowest'} point",
                transform=ax.transAxes, fontsize=7.5, color="dimgray", va="top" if where == "above" else "bottom")


def plot_seed_points(runs: pd.DataFrame, metric: str, label: str = "variant", panel: str | None = None,
                     ylabel: str | None = None):
    """Each seed's `metric` as a dot and the mean over seeds with a ±1 sample-std bar, per `label`,
    one panel per `panel` value.

    The y axis is labelled in words (METRIC_LABELS, or `ylabel`); rates (tokens/s, seconds) start at
    zero. On a loss, the unigram loss of the runs' own data (records' unigram_loss) is drawn, or named
    in words when it lies far outside the points' range.
    """
    panels = list(dict.fromkeys(runs[panel])) if panel else [None]
    labels = list(dict.fromkeys(runs[label]))
    palette = {name: f"C{i}" for i, name in enumerate(labels)}
    fig, axes = plt.subplots(1, len(panels), figsize=(min(9, 5 * len(panels)), 3.8), squeeze=False)
    for ax, value in zip(axes[0], panels):
        subset = runs if value is None else runs[runs[panel] == value]
        order = [name for name in labels if name in set(subset[label])]
        sns.stripplot(data=subset, x=label, y=metric, order=order, hue=label, hue_order=order, palette=palette,
                      jitter=False, size=6, alpha=0.75, legend=False, ax=ax)
        sns.pointplot(data=subset, x=label, y=metric, order=order, errorbar="sd", color="black", marker="_",
                      markersize=22, linestyle="none", capsize=0.15, err_kws=dict(linewidth=1.2), ax=ax)
        if metric in FROM_ZERO:
            ax.set_ylim(bottom=0, top=subset[metric].max() * 1.1)
        if metric.endswith("_loss") and "unigram_loss" in subset and subset["unigram_loss"].notna().any():
            _unigram_reference(ax, float(subset["unigram_loss"].median()), subset[metric].min(), subset[metric].max())
        ax.plot([], [], "o", color="grey", alpha=0.75, label="one seed")
        ax.plot([], [], "_", color="black", ms=12, mew=2, label="mean ± 1 std over seeds")
        ax.set_xticks(range(len(order)), order, rotation=20, ha="right")
        ax.set(xlabel="", ylabel=ylabel or METRIC_LABELS.get(metric, metric), title=value or "")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    return fig


def plot_lr_sweep(sweep: pd.DataFrame, seeds: pd.DataFrame | None = None):
    """Validation loss against learning rate (log scale), one line per model: an lr sweep (lr_sweep_table).

    The preset's own lr is the dotted vertical line; each model's best lr a larger marker. `seeds`: the
    preset's runs of the same models at its own lr (study_runs), drawn there as hollow dots, one per seed,
    so a difference between lrs can be read against the spread between seeds. The unigram loss of the runs'
    own data is the dotted grey line, or named in words when it lies far from the points. A run that diverged
    (loss NaN) is an x at the top of the axes.
    """
    if sweep.empty:
        raise ValueError("no lr sweep to plot: run scripts/study.py --lr-sweep first")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    names = list(dict.fromkeys(_label(m, v) for m, v in zip(sweep["model"], sweep["variant"])))
    for i, (name, group) in enumerate(sweep.groupby([_label(m, v) for m, v in zip(sweep["model"], sweep["variant"])],
                                                     sort=False)):
        colour = f"C{names.index(name)}"
        ax.plot(group["lr"], group["val_loss"], "-o", color=colour, ms=5, label=name)
        best = group[group["best"]]
        ax.plot(best["lr"], best["val_loss"], "*", color=colour, ms=14)
        if seeds is not None and len(seeds):
            mine = seeds[[_label(m, v) == name for m, v in zip(seeds["model"], seeds["variant"])]]
            lrs = [r["train_config"]["lr"] for r in mine["record"]]
            ax.plot(lrs, mine["val_loss"], "o", mfc="none", color=colour, ms=8, alpha=0.8)
    preset_lr = sweep.loc[sweep["preset_lr"], "lr"]
    if len(preset_lr):
        ax.axvline(float(preset_lr.iloc[0]), color="black", lw=0.8, ls=":", label="the preset's lr (Table 1)")
    ax.set_xscale("log", base=2)
    ticks = sorted(set(sweep["lr"]))
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    _unigram_reference(ax, float(sweep["unigram_loss"].median()), sweep["val_loss"].min(), sweep["val_loss"].max())
    diverged = sweep[sweep["val_loss"].isna()]
    if len(diverged):
        top = ax.get_ylim()[1]
        for _, row in diverged.iterrows():
            ax.plot([row["lr"]], [top], "x", color=f"C{names.index(_label(row['model'], row['variant']))}", ms=10,
                    mew=2, clip_on=False)
        ax.plot([], [], "x", color="grey", ms=9, mew=2, label="diverged (loss NaN)")
    ax.plot([], [], "*", color="grey", ms=12, label="best lr of the model")
    if seeds is not None and len(seeds):
        ax.plot([], [], "o", mfc="none", color="grey", ms=8, label="Table 1's seeds at the preset's lr")
    ax.set(xlabel="peak learning rate (log scale)", ylabel="validation loss (nats per token)",
           title=f"lr sweep, seed {int(sweep['seed'].iloc[0])}, one run per point")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    return fig


def plot_mqar_sweep(points: pd.DataFrame, shortcut: float, chance: float):
    """Standard-recall accuracy against lr (log scale), one panel per width, one line per model: the first seed
    at every lr (the sweep) as a line, other seeds as hollow dots at their lr. `points`: mqar_points rows;
    `shortcut`: the "copy the most recent value" baseline's accuracy (dashed), `chance` (dotted)."""
    if points.empty:
        raise ValueError("no standard-recall records to plot: python -m gamlib.experiments.recall")
    widths = sorted(set(points["width"]))
    fig, axes = plt.subplots(1, len(widths), figsize=(min(9, 4.5 * len(widths)), 3.8), sharey=True, squeeze=False)
    labels = list(dict.fromkeys(_label(m, v) for m, v in zip(points["model"], points["variant"])))
    for ax, width in zip(axes[0], widths):
        mine = points[points["width"] == width]
        for label, group in mine.groupby([_label(m, v) for m, v in zip(mine["model"], mine["variant"])], sort=False):
            colour = f"C{labels.index(label)}"
            first = group[group["seed"] == group["seed"].min()].sort_values("lr")
            ax.plot(first["lr"], first["accuracy"], "-o", color=colour, ms=5, label=label)
            others = group[group["seed"] != group["seed"].min()]
            ax.plot(others["lr"], others["accuracy"], "o", mfc="none", color=colour, ms=8)
        ax.axhline(shortcut, color="black", lw=1, ls="--", label="copy the most recent value")
        ax.axhline(chance, color="grey", lw=1, ls=":", label="chance")
        ax.set_xscale("log")
        ticks = sorted(set(mine["lr"]))
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set(xlabel="peak learning rate (log scale)", title=f"width {width}")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy (pooled over questions)")
    axes[0][0].plot([], [], "o", mfc="none", color="grey", ms=8, label="seeds 1-2 at the best lr")
    axes[0][0].legend(fontsize=7.5, loc="upper left")
    fig.tight_layout()
    return fig


def plot_scaling(frames: dict, value: str, ylabel: str):
    """Log-log `value` ('median_ms' | 'peak_mb') vs length, one panel per {title: scaling rows}.

    Dotted grey guides show slopes 1 (linear) and 2 (quadratic) through each panel's smallest point.
    Points that ran out of memory are listed in the legend.
    """
    fig, axes = plt.subplots(1, len(frames), figsize=(min(9, 5.5 * len(frames)), 4), squeeze=False)
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


def plot_loss_by_position(curves: pd.DataFrame):
    """Validation loss against tokens read (log scale), one colour per model: each position's mean over seeds
    (thin), the means over doubling bins of positions (dots, less noisy; band: min..max over seeds), each GAM's
    receptive field dotted (curves: gamlib.analysis.tables.context_curves)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (label, R), group in curves.groupby(["label", "receptive_field"], sort=False):
        by_read = group.groupby("tokens_read")["loss"].mean()
        line, = ax.plot(by_read.index, by_read.values, lw=0.6, alpha=0.5)
        binned = group.assign(bin=2 ** (group["tokens_read"].map(lambda t: int(t).bit_length()) - 1))
        per_seed = binned.groupby(["bin", "seed"])["loss"].mean().groupby("bin")
        centres = per_seed.mean().index * 1.4
        ax.plot(centres, per_seed.mean().values, "o-", color=line.get_color(),
                label=f"{label} (n={group['seed'].nunique()})")
        ax.fill_between(centres, per_seed.min().values, per_seed.max().values, color=line.get_color(), alpha=0.2,
                        lw=0)
        if R < group["tokens_read"].max():
            ax.axvline(R, color=line.get_color(), ls=":", lw=1)
    ax.set(xscale="log", xlabel="tokens read (position in the chunk + 1)", ylabel="validation loss (nats)",
           title="Does context pay? Loss at each position of a chunk (dotted: a GAM's receptive field)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


VERDICT_COLORS = {"supported": "tab:green", "not shown": "tab:grey", "contradicted": "tab:red"}


def plot_forest(rows: pd.DataFrame):
    """The scorecard's comparisons as a forest plot (rows: gamlib.analysis.scorecard.forest_rows): per scale,
    one line per comparison, its Δ and 95% interval coloured by verdict, the paper's effect as a black x,
    controls in italics; 0 (no effect) dashed."""
    scales = [s for s in ("val loss", "speed") if s in set(rows["scale"])]
    heights = [max(1, (rows["scale"] == s).sum()) for s in scales]
    fig, axes = plt.subplots(len(scales), 1, figsize=(9, 1.6 + 0.32 * sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, scale in zip(axes[:, 0], scales):
        part = rows[rows["scale"] == scale].reset_index(drop=True)
        y = range(len(part))[::-1]
        for yi, r in zip(y, part.itertuples()):
            color = VERDICT_COLORS.get(r.verdict, "black")
            ax.plot([r.low, r.high], [yi, yi], color=color, lw=2)
            ax.plot(r.delta, yi, "o", color=color, ms=5)
            if pd.notna(r.paper):
                ax.plot(r.paper, yi, "x", color="black", ms=6)
        ax.axvline(0, color="grey", ls="--", lw=1)
        ax.set_yticks(list(y), [f"({r.claim}) {'control: ' if r.control else ''}{r.label}" for r in part.itertuples()],
                      fontsize=7)
        ax.set_xlabel("Δ val loss, GAM - baseline (nats; < 0: GAM lower)" if scale == "val loss"
                      else "GAM's tokens/s over the baseline's - 1 (> 0: GAM faster)")
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=v) for v, c in VERDICT_COLORS.items()]
    handles.append(plt.Line2D([], [], color="black", marker="x", lw=0, label="the paper's effect"))
    fig.legend(handles=handles, fontsize=8, loc="upper center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


# ---- the GAM block as a diagram (notebook 00) ----------------------------------------------------

BLOCK_COLORS = {"io": "white", "todo": "#f4f4f4", "norm": "#e8e8e8", "local": "#cfe2f3", "gate": "#d9ead3",
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


def draw_gam_block(built=None, title: str | None = None):
    """The GAM block as boxes and arrows, each box labelled with the GAMBlock attribute that computes it.

    built: the modules to colour (e.g. {"local"} after notebook 02); the others are drawn grey, as parts
    still to come. None colours them all. Returns (figure, names of the GAMBlock modules drawn), so a
    notebook can check the picture against the code (notebook 00 asserts the names equal the block's modules).
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
    modules = [module for *_, module in boxes if module]
    unknown = set(built or ()) - set(modules)
    if unknown:
        raise ValueError(f"draw_gam_block: no module {sorted(unknown)} in the block; its modules: {modules}")
    for x, y, text, color, module in boxes:
        _draw_box(ax, x, y, text, color if built is None or module is None or module in built else "todo", module)
    for x, y, symbol in [(LOCAL, 8.2, "×"), (GLOBAL, 8.2, "×"), (MID, 7.0, "+"), (MID, 5.9, "+"), (MID, 2.0, "+")]:
        _draw_op(ax, x, y, symbol)
    _draw_arrow(ax, (MID, 12.55), (MID, 12.25))
    _draw_arrow(ax, (MID, 11.35), (MID, 10.45), label="h")
    _draw_arrow(ax, (MID, 10.9), (LOCAL, 10.9), (LOCAL, 10.45))
    _draw_arrow(ax, (MID, 10.9), (GLOBAL, 10.9), (GLOBAL, 10.45))
    _draw_arrow(ax, (LOCAL, 9.55), (LOCAL, 8.45), label="$\\ell$")
    _draw_arrow(ax, (GLOBAL, 9.55), (GLOBAL, 8.45), label="$m$")
    _draw_arrow(ax, (MID - 0.6, 9.55), (MID - 0.6, 8.2), (LOCAL + 0.25, 8.2), label="$g^{\\ell}$")
    _draw_arrow(ax, (MID + 0.6, 9.55), (MID + 0.6, 8.2), (GLOBAL - 0.25, 8.2), label="$g^{m}$")
    _draw_arrow(ax, (LOCAL, 7.95), (LOCAL, 7.0), (MID - 0.25, 7.0))
    _draw_arrow(ax, (GLOBAL, 7.95), (GLOBAL, 7.0), (MID + 0.25, 7.0))
    _draw_arrow(ax, (MID, 6.75), (MID, 6.15), label="fused")
    _draw_arrow(ax, (MID, 12.4), (SKIP1, 12.4), (SKIP1, 5.9), (MID + 0.25, 5.9), label="residual")
    _draw_arrow(ax, (MID, 5.65), (MID, 5.15))
    _draw_arrow(ax, (MID, 4.25), (MID, 3.8))
    _draw_arrow(ax, (MID, 2.8), (MID, 2.25))
    _draw_arrow(ax, (MID, 5.4), (SKIP2, 5.4), (SKIP2, 2.0), (MID + 0.25, 2.0), label="residual")
    _draw_arrow(ax, (MID, 1.75), (MID, 1.35))
    ax.set_xlim(-0.4, 10.6)
    ax.set_ylim(0.3, 13.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or "One GAM block (arXiv:2509.00605), as gamlib.GAMBlock computes it", fontsize=10)
    return fig, modules


# ---- generation: what a GAM step carries, and what generating costs (notebook 12) -----------------

FIELD_COLOR, STATE_COLOR = "#9ecae1", "#fdae6b"


def draw_receptive_field_and_state(n_layer: int, kernel_size: int, extra: int = 4):
    """A grid of positions (columns, the newest t on the right) by levels (rows: the tokens, each block's
    input, the logits). Blue: what the logits at t depend on, L(K-1)+1 tokens at the bottom; orange: the state
    a step carries, the K-1 positions before t at every level below the logits; outlined: computed for the new
    token. `extra` more positions are drawn left of the receptive field."""
    field = n_layer * (kernel_size - 1) + 1
    shown = field + extra                                     # positions t-shown+1 .. t
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * (n_layer + 1)), layout="constrained")
    for level in range(n_layer + 1):                          # 0: the tokens; n_layer: the logits
        reach = (n_layer - level) * (kernel_size - 1)         # how far back this level matters for the logits at t
        for column in range(shown):
            back = shown - 1 - column                         # 0 = the newest position t
            in_state = 1 <= back <= kernel_size - 1 and level < n_layer
            face = STATE_COLOR if in_state else FIELD_COLOR if back <= reach else "white"
            ax.add_patch(Rectangle((column, level), 0.9, 0.9, facecolor=face, edgecolor="0.6"))
            if back == 0:
                ax.add_patch(Rectangle((column, level), 0.9, 0.9, facecolor="none", edgecolor="black", lw=2))
    ax.set(xlim=(-0.2, shown), ylim=(-0.2, n_layer + 1), aspect="equal")
    ax.set_xticks([c + 0.45 for c in range(shown)], [f"t-{shown - 1 - c}" if c < shown - 1 else "t"
                                                     for c in range(shown)], fontsize=7)
    ax.set_yticks([level + 0.45 for level in range(n_layer + 1)],
                  ["tokens"] + [f"input of block {b}" for b in range(2, n_layer + 1)] + ["logits"], fontsize=8)
    ax.set_title(f"L = {n_layer}, K = {kernel_size}. Blue: what the logits at t depend on ({field} tokens). "
                 f"Orange: the state a step carries\n({kernel_size - 1} earlier positions per level). "
                 "Black outline: computed for the new token.", fontsize=9)
    return fig


def plot_generation_cost(rows: pd.DataFrame, block_size: int):
    """A generation benchmark's rows (gamlib.run_generation_benchmark), default weight layout: per model, the
    median ms per token of a step (solid) and of recomputation (dashed) against the context, on a linear scale
    (left), and the bytes kept between tokens with one call's peak (right, log scale); block_size marked."""
    colors = {"gam": "tab:blue", "transformer": "tab:orange", "mamba": "tab:green"}
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 4.2), layout="constrained")
    default = rows[rows["layout"] == "default"]
    for (model, variant), part in default.groupby(["model", "variant"], sort=False):
        for mode, style in (("step", "-o"), ("recompute", "--s")):
            line = part[part["mode"] == mode].sort_values("context")
            ax_t.plot(line["context"], line["median_ms"], style, color=colors[model], markersize=4)
        steps = part[part["mode"] == "step"].sort_values("context")
        kept = steps[steps["state_bytes"].notna()]
        ax_m.plot(kept["context"], kept["state_bytes"], "-o", color=colors[model], markersize=4,
                  label=f"{model} {variant}: state / cache")
        if steps["peak_bytes"].notna().all():
            ax_m.plot(steps["context"], steps["peak_bytes"], ":", color=colors[model], label=f"{model}: peak of a call")
    for ax in (ax_t, ax_m):
        ax.axvline(block_size, color="0.5", linestyle=":")
        ax.text(block_size, 0.02, " block_size", transform=ax.get_xaxis_transform(), fontsize=8, color="0.4")
        ax.set(xlabel="context: tokens read before the next one")
    handles = [plt.Line2D([], [], color=color, lw=2, label=model) for model, color in colors.items()
               if model in set(default["model"])]
    handles += [plt.Line2D([], [], color="0.3", ls="-", marker="o", label="step (with the state)"),
                plt.Line2D([], [], color="0.3", ls="--", marker="s", label="recompute the context")]
    ax_t.legend(handles=handles, fontsize=7)
    ax_t.set(ylabel="ms per generated token (median)", ylim=(0, None))
    ax_t.set_title("time per token, batch 1", fontsize=10)
    ax_m.set(ylabel="bytes per sequence", yscale="log")
    ax_m.set_title("kept between tokens (solid); one call's peak (dotted)", fontsize=10)
    ax_m.legend(fontsize=7)
    return fig
