"""Tables 1-3 of the paper: its reported numbers as data, ours built from run records.

The paper's numbers (arXiv:2509.00605, REFERENCE.md section 4) are typed in once, here, and
labelled PAPER = "paper (reported)": they are single runs without seeds. Every other number in
a table comes from records (gamlib.results.load_records): mean and sample std over seeds, with n.

The spread rule (`compare_to_spread`): two variants differ beyond seed-to-seed noise when
    |mean_a - mean_b| > 2 * pooled_std,   pooled_std^2 = ((n_a-1) s_a^2 + (n_b-1) s_b^2) / (n_a+n_b-2),
i.e. the gap is more than twice the typical distance between two seeds of the same variant.
It needs at least 2 seeds per variant; with 3 seeds the std itself is rough, so read a "no" as
"not shown by these runs", not as "equal".
"""
from __future__ import annotations

import math
from itertools import combinations

import pandas as pd

from .config import GAM_VARIANTS
from .models import build_model
from .presets import get_preset
from .scaling import fit_exponent

PAPER = "paper (reported)"
SPREAD_FACTOR = 2.0

# The grid each table covers: (model, variant) pairs, datasets, GAM ablations.
TABLE1_MODELS = (("gam", "full"), ("transformer", "naive"), ("transformer", "sdpa"),
                 ("mamba", "paper"), ("mamba", "standard"))
TABLE1_DATASETS = ("wikitext2", "tinystories")
ABLATION_VARIANTS = ("full", "global_only", "sum_fusion", "local_only")

# Table 1. The paper's "Transformer" is the naive-attention reference, its "Mamba" the bare-mixer
# 'paper' variant; it ran no Mamba on TinyStories and neither sdpa nor a standard Mamba anywhere.
PAPER_TABLE1 = pd.DataFrame([
    # dataset       model          variant  params_m  s/epoch  val_loss  val_ppl
    ("wikitext2",   "transformer", "naive", 24.2,     131.9,   6.8233,   918.99),
    ("wikitext2",   "mamba",       "paper", 20.5,     127.1,   6.9251,   1017.54),
    ("wikitext2",   "gam",         "full",  22.6,     117.2,   6.7828,   882.57),
    ("tinystories", "transformer", "naive", 24.2,     671.6,   3.1591,   23.55),
    ("tinystories", "gam",         "full",  22.6,     601.4,   3.1418,   23.15),
], columns=["dataset", "model", "variant", "params_m", "seconds_per_epoch", "val_loss", "val_ppl"])

# Table 2: one block, batch 16, C=512, 8 heads, fp16 autocast, CUDA max allocated; None = OOM.
PAPER_TABLE2 = pd.DataFrame([
    # seq_len  GAM ms   Transformer ms  GAM MB    Transformer MB
    (256,      8.97,    8.90,           179.42,   216.03),
    (512,      13.09,   23.86,          325.48,   552.98),
    (1024,     25.86,   74.19,          617.60,   1964.79),
    (2048,     51.94,   279.37,         1201.85,  7483.92),
    (4096,     105.03,  None,           2370.35,  None),
    (8192,     217.30,  None,           4707.35,  None),
], columns=["seq_len", "gam_ms", "transformer_ms", "gam_mb", "transformer_mb"])

# Table 3: GAM ablations on WikiText-2 (the paper's flags, params in millions, val PPL).
PAPER_TABLE3 = pd.DataFrame([
    ("full",        True,  True,  True,  22.6, 900.84),
    ("global_only", False, False, True,  19.4, 905.45),
    ("sum_fusion",  False, True,  True,  19.4, 942.59),
    ("local_only",  False, True,  False, 17.9, 944.70),
], columns=["variant", "gate", "local", "global", "params_m", "val_ppl"])

METRICS = ("val_loss", "val_ppl", "seconds_per_epoch", "tokens_per_s")
KEYS = ["dataset", "model", "variant"]


def paper_table2_rows() -> pd.DataFrame:
    """The paper's Table 2 in the long form of gamlib.scaling rows: one row per (model, length)."""
    rows = []
    for _, r in PAPER_TABLE2.iterrows():
        for model, variant in (("gam", "full"), ("transformer", "naive")):
            ms, mb = r[f"{model}_ms"], r[f"{model}_mb"]
            ok = not pd.isna(ms)
            rows.append(dict(series=f"{model} {variant}", model=model, variant=variant,
                             seq_len=int(r["seq_len"]), status="ok" if ok else "oom",
                             median_ms=ms if ok else None, peak_mb=mb if ok else None, source=PAPER))
    return pd.DataFrame(rows)


def paper_config_params(models) -> pd.DataFrame:
    """Exact parameter counts of (model, variant) pairs at the paper's configuration (vocab 10,000,
    REFERENCE.md section 3), built without training, beside the paper's reported millions."""
    settings = get_preset("paper")
    reported = {**{(r.model, r.variant): r.params_m for r in PAPER_TABLE1.itertuples()},
                **{("gam", r.variant): r.params_m for r in PAPER_TABLE3.itertuples()}}
    rows = []
    for model, variant in models:
        params = build_model(model, variant, **{**settings.model, "vocab_size": settings.vocab_size}).num_params()
        rows.append(dict(model=model, variant=variant, params=params, params_m=round(params / 1e6, 1),
                         paper_params_m=reported.get((model, variant), math.nan)))
    return pd.DataFrame(rows)


def select_runs(records: pd.DataFrame, preset: str, seeds, datasets, models) -> pd.DataFrame:
    """From load_records' DataFrame, the language-model records of `preset` for every
    (dataset, model, variant, seed) asked for, one row each.

    Raises LookupError naming each missing combination and how to produce it, so a table is never
    silently built from fewer runs than it claims.
    """
    preset = get_preset(preset).name
    seeds, datasets, models = list(seeds), list(datasets), [tuple(m) for m in models]
    frame = records.reindex(columns=list(dict.fromkeys([*records.columns, "kind", "preset", *KEYS, "seed"])))
    runs = frame[(frame["kind"] == "lm") & (frame["preset"] == preset) & frame["seed"].isin(seeds)
                 & frame["dataset"].isin(datasets)
                 & pd.Series(list(zip(frame["model"], frame["variant"])), index=frame.index, dtype=object
                             ).isin(models)]
    found = set(zip(runs["dataset"], runs["model"], runs["variant"], runs["seed"]))
    missing = [f"{model}/{variant} on {dataset} seed {seed}" for dataset in datasets
               for model, variant in models for seed in seeds if (dataset, model, variant, seed) not in found]
    if missing:
        raise LookupError(f"no finished run record for preset {preset!r}: {'; '.join(missing)}. "
                          "Train them first, e.g. gamlib.benchmark.run_table1(...) / run_ablations(...) "
                          "or gamlib.experiments.run_lm_experiment(model, variant, dataset, preset, seed)")
    return runs.sort_values([*KEYS, "seed"]).reset_index(drop=True)


def seed_summary(runs: pd.DataFrame, metrics=METRICS) -> pd.DataFrame:
    """One row per (dataset, model, variant): n, seeds, mean and sample std of each metric, params.

    The std is NaN for a single seed. Params and Mamba backend must agree across seeds (they do
    when the runs share a preset), otherwise this raises ValueError; the devices are listed.
    """
    rows = []
    for key, group in runs.groupby(KEYS, sort=False):
        row = dict(zip(KEYS, key), n=len(group), seeds=tuple(sorted(int(s) for s in group["seed"])))
        for metric in metrics:
            row[f"{metric}_mean"] = group[metric].mean()
            row[f"{metric}_std"] = group[metric].std(ddof=1) if len(group) > 1 else math.nan
        for column in ("params", "mamba_backend"):
            values = set(group[column].fillna("-")) if column in group else {"-"}
            if len(values) > 1:
                raise ValueError(f"{'/'.join(key)}: seeds disagree on {column} ({sorted(values)}); "
                                 "were they trained with different presets?")
            row[column] = values.pop()
        row["device"] = ", ".join(sorted({r["provenance"]["device"] for r in group["record"]}))
        rows.append(row)
    return pd.DataFrame(rows)


def table1(records, preset: str = "auto", seeds=None, datasets=TABLE1_DATASETS,
           models=TABLE1_MODELS) -> pd.DataFrame:
    """Table 1 from records: seed mean/std per (dataset, model, variant) beside the paper's numbers.

    seeds None -> the preset's seeds. Paper columns are prefixed 'paper_' (NaN where the paper ran
    no such model).
    """
    seeds = get_preset(preset).seeds if seeds is None else seeds
    ours = seed_summary(select_runs(records, preset, seeds, datasets, models))
    paper = PAPER_TABLE1.rename(columns={c: f"paper_{c}" for c in PAPER_TABLE1.columns if c not in KEYS})
    return ours.merge(paper, on=KEYS, how="left")


def table3(records, preset: str = "auto", seeds=None, dataset: str = "wikitext2",
           variants=ABLATION_VARIANTS) -> pd.DataFrame:
    """Table 3 from records: each GAM variant's pathways, seed mean/std and the paper's numbers."""
    seeds = get_preset(preset).seeds if seeds is None else seeds
    ours = seed_summary(select_runs(records, preset, seeds, [dataset], [("gam", v) for v in variants]))
    flags = pd.DataFrame([dict(variant=v, gate=GAM_VARIANTS[v][2] == "gate", local=GAM_VARIANTS[v][0],
                               **{"global": GAM_VARIANTS[v][1]}) for v in variants])
    paper = PAPER_TABLE3.drop(columns=["gate", "local", "global"]).rename(
        columns={"params_m": "paper_params_m", "val_ppl": "paper_val_ppl"})
    return flags.merge(ours, on="variant").merge(paper, on="variant", how="left")


def mean_std_text(mean: float, std: float, digits: int = 2) -> str:
    """'6.02 ± 0.01', or '6.02' alone when there is no std (one seed)."""
    if pd.isna(mean):
        return "—"
    return f"{mean:,.{digits}f}" if pd.isna(std) else f"{mean:,.{digits}f} ± {std:,.{digits}f}"


def display_table(table: pd.DataFrame, metrics: dict, keys=("dataset", "model", "variant"),
                  extra=()) -> pd.DataFrame:
    """Readable strings: keys, n, 'mean ± std' for each {metric: digits}, then `extra` columns as is."""
    out = table[[k for k in keys if k in table]].copy()
    out["n"] = table["n"]
    for metric, digits in metrics.items():
        out[metric] = [mean_std_text(m, s, digits) for m, s in zip(table[f"{metric}_mean"], table[f"{metric}_std"])]
    for column in extra:
        out[column] = table[column].map(lambda v: "—" if pd.isna(v) else v)
    return out


def compare_to_spread(summary: pd.DataFrame, metric: str = "val_loss", label: str = "variant",
                      factor: float = SPREAD_FACTOR) -> pd.DataFrame:
    """Every pair of rows of a seed summary: does |Δ mean| exceed `factor` x the pooled seed std?

    summary: from seed_summary/table1/table3 (needs n, {metric}_mean, {metric}_std). One row per
    pair (a, b) with delta = mean_b - mean_a, pooled_std, threshold = factor * pooled_std and
    exceeds (bool). Raises ValueError when a row has fewer than 2 seeds: no spread to compare with.
    """
    few = summary[summary["n"] < 2]
    if len(few):
        raise ValueError(f"the spread rule needs >= 2 seeds per row; {list(few[label])} have "
                         f"{list(few['n'])}: run more seeds")
    rows = []
    for (_, a), (_, b) in combinations(summary.iterrows(), 2):
        na, nb = a["n"], b["n"]
        pooled = math.sqrt(((na - 1) * a[f"{metric}_std"] ** 2 + (nb - 1) * b[f"{metric}_std"] ** 2)
                           / (na + nb - 2))
        delta = b[f"{metric}_mean"] - a[f"{metric}_mean"]
        rows.append(dict(a=a[label], b=b[label], mean_a=a[f"{metric}_mean"], mean_b=b[f"{metric}_mean"],
                         delta=delta, pooled_std=pooled, threshold=factor * pooled, n_a=na, n_b=nb,
                         exceeds=abs(delta) > factor * pooled))
    return pd.DataFrame(rows)


def spread_sentence(comparison: pd.DataFrame, metric: str = "val_loss", factor: float = SPREAD_FACTOR) -> str:
    """One sentence, from compare_to_spread's output, naming which differences exceed the spread."""
    def pair(r):
        return f"{r['b']} vs {r['a']} (Δ {r['delta']:+.4f}, threshold {r['threshold']:.4f})"

    beyond = [pair(r) for _, r in comparison.iterrows() if r["exceeds"]]
    within = [pair(r) for _, r in comparison.iterrows() if not r["exceeds"]]
    rule = f"|Δ mean {metric}| > {factor:g} × pooled seed std"
    text = f"By the rule {rule}, {len(beyond)} of {len(comparison)} differences exceed the seed-to-seed spread"
    text += f": {'; '.join(beyond)}." if beyond else "."
    if within:
        text += f" Within the spread (not shown to differ): {'; '.join(within)}."
    return text


def scaling_exponents(rows: pd.DataFrame, min_seq_len: int = 0) -> pd.DataFrame:
    """Fitted exponents b in time ~ T^b and memory ~ T^b per series, from 'ok' rows with T >= min_seq_len.

    rows: scaling rows with a 'series' column (gamlib.benchmark.scaling_frame, or paper_table2_rows()).
    A series with fewer than two usable lengths gets NaN.
    """
    out = []
    for series, group in rows.groupby("series", sort=False):
        group = group[(group["status"] == "ok") & (group["seq_len"] >= min_seq_len)]
        row = dict(series=series, lengths=f"{group['seq_len'].min()}..{group['seq_len'].max()}" if len(group) else "—",
                   points=len(group))
        for value, name in (("median_ms", "time_exponent"), ("peak_mb", "memory_exponent")):
            try:
                row[name] = fit_exponent(group["seq_len"].tolist(), group[value].astype(float).tolist())
            except ValueError:
                row[name] = math.nan
        out.append(row)
    return pd.DataFrame(out)


def scaling_table(rows: pd.DataFrame, value: str, digits: int = 1) -> pd.DataFrame:
    """Lengths x series of `value` ('median_ms' or 'peak_mb') as text; failed points show their status."""
    def cell(r):
        return f"{r[value]:,.{digits}f}" if r["status"] == "ok" else r["status"].upper()

    text = rows.assign(cell=rows.apply(cell, axis=1))
    order = list(dict.fromkeys(rows["series"]))
    return text.pivot(index="seq_len", columns="series", values="cell")[order].fillna("—")
