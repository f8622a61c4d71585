"""Tables 1-3 from run records: select the runs a table needs, summarise them over seeds, and put
the paper's reported numbers beside them; the scaling sweep as tables of lengths x series.
"""
from __future__ import annotations

import pandas as pd

from ..models.config import GAM_VARIANTS
from ..presets import ABLATION_VARIANTS, TABLE1_DATASETS, TABLE1_MODELS, get_preset
from .paper import PAPER_TABLE1, PAPER_TABLE3
from .stats import KEYS, seed_summary


def select_runs(records: pd.DataFrame, preset: str, seeds, datasets, models) -> pd.DataFrame:
    """From load_records' DataFrame, the language-model records of `preset` for every
    (dataset, model, variant, seed) asked for, one row each.

    Raises LookupError naming each missing combination and how to produce it, so a table is never
    silently built from fewer runs than it claims; the error also names every record file that
    load_records could not read (records.attrs["unreadable"]), since a missing run may be one of them.
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
        unreadable = records.attrs.get("unreadable", [])
        raise LookupError(f"no finished run record for preset {preset!r}: {'; '.join(missing)}. "
                          "Train them first, e.g. gamlib.run_table1(...) / gamlib.run_ablations(...) "
                          "or gamlib.run_lm_experiment(model, variant, dataset, preset, seed)"
                          + (f". Unreadable record files: {'; '.join(unreadable)}" if unreadable else ""))
    return runs.sort_values([*KEYS, "seed"]).reset_index(drop=True)


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
    flags = pd.DataFrame([dict(variant=v, gate=GAM_VARIANTS[v].gated, local=GAM_VARIANTS[v].local,
                               **{"global": GAM_VARIANTS[v].memory is not None}) for v in variants])
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


def scaling_table(rows: pd.DataFrame, value: str, digits: int = 1) -> pd.DataFrame:
    """Lengths x series of `value` ('median_ms' or 'peak_mb') as text; failed points show their status."""
    def cell(r):
        return f"{r[value]:,.{digits}f}" if r["status"] == "ok" else r["status"].upper()

    text = rows.assign(cell=rows.apply(cell, axis=1))
    order = list(dict.fromkeys(rows["series"]))
    return text.pivot(index="seq_len", columns="series", values="cell")[order].fillna("—")


def scaling_frame(record: dict) -> pd.DataFrame:
    """A scaling record's rows as a DataFrame (one row per series and length)."""
    if record.get("kind") != "scaling":
        raise ValueError(f"expected a record of kind 'scaling', got {record.get('kind')!r}")
    return pd.DataFrame(record["rows"])
