"""The experiments behind Tables 1-3, callable from Python, and the figures drawn from their records.

    run_table1(preset)      every Table 1 model on WikiText-2 and TinyStories (records reused)
    run_ablations(preset)   the four GAM variants of Table 3 on WikiText-2
    run_scaling(preset)     the Table 2 sweep of one block, written as a record of kind 'scaling'

The LM runs go through gamlib.experiments.run_lm_experiment with its defaults, so the records
notebooks 05 and 06 made are reused, not retrained. Tables come from gamlib.tables.
"""
from __future__ import annotations

import math
import time

import pandas as pd
import torch

from .data import load_lm_data, unigram_loss as token_frequency_loss
from .experiments import run_lm_experiment
from .presets import get_preset
from .results import SCHEMA_VERSION, provenance, read_record, results_dir, save_record, spec_hash
from .scaling import PAPER_SEQ_LENS, PAPER_SETTINGS, measure_block
from .tables import ABLATION_VARIANTS, TABLE1_DATASETS, TABLE1_MODELS


def table1_seeds(preset: str = "auto", seeds=None, quick_seed: int = 0) -> tuple[int, ...]:
    """Seeds for Table 1: `seeds` when given, else the preset's, except quick: (quick_seed,) alone,
    to fit a CPU budget (ten runs instead of thirty)."""
    if seeds is not None:
        return tuple(seeds)
    settings = get_preset(preset)
    return (quick_seed,) if settings.name == "quick" else settings.seeds


def run_table1(preset: str = "auto", seeds=None, datasets=TABLE1_DATASETS, models=TABLE1_MODELS,
               results_root=None, data_dir=None, force: bool = False, progress: bool = False) -> list[dict]:
    """Train (or reuse) every (dataset, model, variant, seed) of Table 1; return the records.

    seeds None -> table1_seeds(preset). models: (model, variant) pairs.
    """
    seeds = table1_seeds(preset, seeds)
    return [run_lm_experiment(model, variant, dataset, preset, seed, results_root=results_root,
                              data_dir=data_dir, force=force, progress=progress)
            for dataset in datasets for model, variant in models for seed in seeds]


def run_ablations(preset: str = "auto", seeds=None, variants=ABLATION_VARIANTS, dataset: str = "wikitext2",
                  results_root=None, data_dir=None, force: bool = False, progress: bool = False) -> list[dict]:
    """Train (or reuse) each GAM variant of Table 3 for each seed (None -> the preset's seeds)."""
    seeds = get_preset(preset).seeds if seeds is None else tuple(seeds)
    return [run_lm_experiment("gam", variant, dataset, preset, seed, results_root=results_root,
                              data_dir=data_dir, force=force, progress=progress)
            for variant in variants for seed in seeds]


def unigram_loss(dataset: str, preset: str = "auto", data_dir=None) -> float:
    """gamlib.data.unigram_loss on the chunks a preset trains and validates on: the validation loss
    (nats/token) of a model that knows only the training targets' token frequencies."""
    data = load_lm_data(dataset, data_dir=data_dir, **get_preset(preset).data_kwargs())
    return token_frequency_loss(data.train.targets, data.validation.targets, data.vocab_size)


# ---- Table 2: the scaling sweep as a record ------------------------------------------------------

# Per device type: measure_block settings, lengths, and the series (model, variant, own dropout,
# longest length). CUDA: the paper's settings (dropout 0.1 as its config), lengths up to 32768,
# a series stops at its first OOM. CPU: small and single-threaded, dropout 0 so SDPA can use its
# fused kernel; one SDPA series keeps dropout 0.1 to show the T x T fallback, up to 1024 only.
SCALING_SETTINGS = {
    "cuda": dict(PAPER_SETTINGS, seq_lens=(*PAPER_SEQ_LENS, 16384, 32768)),
    "cpu": dict(batch_size=2, n_embd=128, n_head=8, warmup=1, iters=3, precision="fp32", dropout=0.0,
                seq_lens=(128, 256, 512, 1024, 2048)),
}
SCALING_SERIES = {
    "cuda": (dict(model="gam", variant="full"), dict(model="transformer", variant="naive"),
             dict(model="transformer", variant="sdpa"), dict(model="mamba", variant="paper")),
    "cpu": (dict(model="gam", variant="full"), dict(model="transformer", variant="naive"),
            dict(model="transformer", variant="sdpa"),
            dict(model="transformer", variant="sdpa", dropout=0.1, max_seq_len=1024),
            dict(model="mamba", variant="paper")),
}


def series_label(series: dict) -> str:
    """'gam full', 'transformer sdpa, dropout 0.1' (dropout named only when a series sets its own)."""
    label = f"{series['model']} {series['variant']}"
    return f"{label}, dropout {series['dropout']:g}" if "dropout" in series else label


def run_scaling(preset: str = "auto", device: str | None = None, results_root=None, force: bool = False,
                settings: dict | None = None, series=None) -> dict:
    """The Table 2 sweep -> a record (kind 'scaling') at results/<preset>/scaling/table2-<device>.json.

    device None -> 'cuda' when available, else 'cpu'; settings/series None -> SCALING_SETTINGS /
    SCALING_SERIES for that device (settings given are merged over them). A finished record with
    the same specification is reused unless force=True. CPU runs use one thread (exactly
    repeatable memory, no stalls from other processes); the thread count is restored afterwards.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    kind = torch.device(device).type
    if kind not in SCALING_SETTINGS:
        raise ValueError(f"unknown device {device!r} for the scaling sweep; use 'cpu' or 'cuda'")
    settings = {**SCALING_SETTINGS[kind], **(settings or {})}
    series = [dict(s) for s in (series or SCALING_SERIES[kind])]
    preset_name = get_preset(preset).name
    spec = {"kind": "scaling", "device": kind, "settings": settings, "series": series, "torch": torch.__version__}
    path = results_dir(results_root) / preset_name / "scaling" / f"table2-{kind}.json"
    existing = read_record(path)
    if existing and not force and existing.get("spec_hash") == spec_hash(spec):
        return existing

    measure = {k: v for k, v in settings.items() if k not in ("seq_lens", "dropout")}
    threads = torch.get_num_threads()
    if kind == "cpu":
        torch.set_num_threads(1)
    started = time.perf_counter()
    rows = []
    try:
        for one in series:
            failed_at = None
            for seq_len in settings["seq_lens"]:
                if seq_len > one.get("max_seq_len", math.inf):
                    continue
                if failed_at is not None:  # longer than a length that ran out of memory
                    rows.append(dict(series=series_label(one), model=one["model"], variant=one["variant"],
                                     seq_len=seq_len, status="skipped", median_ms=None, peak_mb=None,
                                     reason=f"out of memory at {failed_at}"))
                    continue
                row = measure_block(one["model"], one["variant"], seq_len, device=device,
                                    dropout=one.get("dropout", settings.get("dropout")), **measure)
                rows.append({"series": series_label(one), **row})
                if row["status"] == "oom":
                    failed_at = seq_len
    finally:
        torch.set_num_threads(threads)
    record = {"schema": SCHEMA_VERSION, "kind": "scaling", "spec_hash": spec_hash(spec), "preset": preset_name,
              "device": kind, "settings": settings, "series": series, "rows": rows,
              "wall_s": time.perf_counter() - started,
              "provenance": provenance(torch.cuda.get_device_name(device) if kind == "cuda" else "cpu")}
    save_record(record, path)
    return record


def scaling_frame(record: dict) -> pd.DataFrame:
    """A scaling record's rows as a DataFrame (one row per series and length)."""
    if record.get("kind") != "scaling":
        raise ValueError(f"expected a record of kind 'scaling', got {record.get('kind')!r}")
    return pd.DataFrame(record["rows"])


# ---- figures -----------------------------------------------------------------------------------

def plot_loss_curves(runs: pd.DataFrame, reference: dict | None = None):
    """Validation loss (solid, epoch 0 = before training) and train loss (dashed) per epoch.

    runs: records selected by gamlib.tables.select_runs; one panel per dataset, one colour per
    (model, variant), the mean over seeds with a min-max band when there are several.
    reference: optional {dataset: loss} drawn as a grey line (e.g. unigram_loss).
    """
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

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

