"""Tables 1-3 from run records: select the runs a table needs, summarise them over seeds, and put
the paper's reported numbers beside them; the committed studies side by side (study_table), whatever
records exist for each preset; the scaling sweep as tables of lengths x series.
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace

import pandas as pd

from ..data import load_lm_data
from ..models.config import GAM_VARIANTS
from ..plan import (
    ABLATION_VARIANTS,
    Run,
    lr_sweep_seed,
    planned_seeds,
    table1_models,
    table_datasets,
    table_rows,
    table_runs,
)
from ..presets import PRESETS, get_preset
from .paper import PAPER_TABLE1, PAPER_TABLE3
from .stats import KEYS, SPREAD_FACTOR, compare_to_spread, seed_summary


def find_runs(records: pd.DataFrame, preset, runs: list[Run]) -> pd.DataFrame:
    """The records of `preset` for each run of `runs` (gamlib.plan.Run; lr aside), one row each.

    Raises LookupError naming each missing run and how to produce it, so a table is never
    silently built from fewer runs than it claims; the error also names every record file that
    load_records could not read (records.attrs["unreadable"]), since a missing run may be one of them.
    """
    preset = get_preset(preset).name
    wanted = {(r.dataset, r.model, r.variant, r.seed) for r in runs}
    frame = records.reindex(columns=list(dict.fromkeys([*records.columns, "kind", "preset", *KEYS, "seed"])))
    keys = pd.Series(list(zip(frame["dataset"], frame["model"], frame["variant"], frame["seed"])), index=frame.index,
                     dtype=object)
    found = frame[(frame["kind"] == "lm") & (frame["preset"] == preset) & keys.isin(wanted)]
    have = set(zip(found["dataset"], found["model"], found["variant"], found["seed"]))
    missing = [f"{r.model}/{r.variant} on {r.dataset} seed {r.seed}" for r in runs
               if (r.dataset, r.model, r.variant, r.seed) not in have]
    if missing:
        unreadable = records.attrs.get("unreadable", [])
        raise LookupError(f"no finished run record for preset {preset!r}: {'; '.join(missing)}. "
                          "Train them first, e.g. gamlib.run_table1(...) / gamlib.run_ablations(...) "
                          "or gamlib.run_lm_experiment(model, variant, dataset, preset, seed)"
                          + (f". Unreadable record files: {'; '.join(unreadable)}" if unreadable else ""))
    return found.sort_values([*KEYS, "seed"]).reset_index(drop=True)


def table1(records, preset="auto", seeds=None, datasets=None, models=None, first_seed: int | None = None
           ) -> pd.DataFrame:
    """Table 1 from records: seed mean/std per (dataset, model, variant) beside the paper's numbers.

    The runs of the study plan (gamlib.plan.table_runs: its seeds unless `seeds` are given, first_seed the
    seed of a one-seed cell; only `datasets` and `models` when given). Paper columns are prefixed 'paper_'
    (NaN where the paper ran no such model).
    """
    preset = get_preset(preset)
    runs = table_runs(preset, "table1", seeds, datasets, models, first_seed)
    ours = seed_summary(find_runs(records, preset, runs))
    paper = PAPER_TABLE1.rename(columns={c: f"paper_{c}" for c in PAPER_TABLE1.columns if c not in KEYS})
    return ours.merge(paper, on=KEYS, how="left")


def table3(records, preset="auto", seeds=None, dataset: str = "wikitext2",
           variants=ABLATION_VARIANTS) -> pd.DataFrame:
    """Table 3 from records: each GAM variant's pathways, seed mean/std and the paper's numbers."""
    preset = get_preset(preset)
    runs = table_runs(preset, "table3", seeds, None, [("gam", v) for v in variants])
    ours = seed_summary(find_runs(records, preset, [replace(r, dataset=dataset) for r in runs]))
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


# ---- the committed studies, side by side: whatever records exist for each preset ---------------------

STUDY_METRICS = ("val_loss", "val_ppl", "seconds_per_epoch", "tokens_per_s")


def study_cells(table: str, preset, dataset=None) -> list[tuple[str, tuple[str, str], tuple[int, ...]]]:
    """What a preset's study plans for `table` (gamlib.plan), cell by cell: (dataset, (model, variant), seeds),
    in table order; only `dataset` (a name or several) when given."""
    preset = get_preset(preset)
    datasets = table_datasets(table) if dataset is None else [dataset] if isinstance(dataset, str) else list(dataset)
    return [(d, row, planned_seeds(preset, table, d)) for d in datasets for row in table_rows(preset, table)]


def matches_preset(record: dict, ignore: tuple[str, ...] = ()) -> bool:
    """True when an LM record was trained with its preset's current settings: every model field and
    training setting the record names (the seed and the settings in `ignore` aside) has the preset's value,
    and its data were cut to the
    preset's sizes (vocabulary, block, no more rows or chunks than the preset's caps). A record made under
    an older definition of the preset is stale: its numbers belong to another experiment."""
    if record.get("preset") not in PRESETS:
        return False
    settings = PRESETS[record["preset"]]
    data = record.get("data", {})
    sizes = {"vocab_size": settings.vocab_size, "block_size": settings.model.block_size}
    caps = {"train_rows": settings.max_train_rows, "val_rows": settings.max_val_rows,
            "train_chunks": settings.max_train_chunks, "val_chunks": settings.max_val_chunks}
    if any(data[key] != value for key, value in sizes.items() if key in data) or any(
            data[key] > cap for key, cap in caps.items() if key in data and cap is not None):
        return False
    model = record.get("model_config", {})
    expected_model = settings.model_fields()
    if any(model[key] != value for key, value in expected_model.items() if key in model):
        return False
    ignore = ("seed", "progress", *ignore)
    train = {k: v for k, v in record.get("train_config", {}).items() if k not in ignore}
    expected = json.loads(json.dumps({k: v for k, v in settings.train.to_dict().items() if k not in ignore}))
    return all(train[key] == value for key, value in expected.items() if key in train)


def study_runs(records: pd.DataFrame, table: str = "table1", presets=("cpu", "paper"), dataset=None) -> pd.DataFrame:
    """The records a study table is built from: for each preset, its finished LM runs in the grid of
    `table` (study_cells: the study plan's), one row each; whatever exists, never an error for a partly run preset.
    Records that no longer match their preset's settings (matches_preset) are left out, each named in a
    warning and listed in the result's .attrs["stale"]; an lr sweep's records (lr_sweep_table) are left out
    without a warning."""
    frame = records.reindex(columns=list(dict.fromkeys([*records.columns, "kind", "preset", *KEYS, "seed",
                                                        "record", "path"])))
    lm = frame["kind"] == "lm"
    sweep = pd.Series([isinstance(r, dict) and bool(r.get("lr_sweep")) for r in frame["record"]], index=frame.index,
                      dtype=bool)
    current = pd.Series([bool(isinstance(r, dict) and matches_preset(r)) if is_lm else True
                         for r, is_lm in zip(frame["record"], lm)], index=frame.index, dtype=bool) & ~sweep
    stale = [str(p) for p in frame.loc[lm & ~current & ~sweep & frame["preset"].isin(presets), "path"]]
    if stale:
        warnings.warn(f"left out {len(stale)} record(s) trained with settings their preset no longer has "
                      f"(stale; retrain them with scripts/study.py): {'; '.join(stale)}", stacklevel=2)
    frame = frame[current]
    parts = []
    pairs = pd.Series(list(zip(frame["model"], frame["variant"])), index=frame.index, dtype=object)
    for preset in presets:
        cells = study_cells(table, preset, dataset)
        order = {(d, row, s): i for i, (d, row, seeds) in enumerate(cells) for s in seeds}
        keys = pd.Series(list(zip(frame["dataset"], pairs, frame["seed"])), index=frame.index, dtype=object)
        part = frame[(frame["kind"] == "lm") & (frame["preset"] == get_preset(preset).name) & keys.isin(order)]
        part = part.assign(_order=[order[k] for k in keys[part.index]])
        parts.append(part.sort_values(["_order", "seed"], kind="stable").drop(columns="_order"))
    runs = pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0]
    runs = runs.reset_index(drop=True)
    runs.attrs["stale"] = stale
    return runs


def lr_sweep_table(records: pd.DataFrame, preset: str = "cpu", dataset: str = "wikitext2") -> pd.DataFrame:
    """A preset's learning-rate sweep (scripts/study.py --lr-sweep): for each Table 1 model, its runs of the sweep's
    seed (the preset's first) at every lr tried, the preset's own lr being that seed's Table 1 run.

    Columns: model, variant, seed, lr, preset_lr (the preset's own), val_loss, unigram_loss, below_unigram
    (nats), best (the lowest val_loss of its model; a run that diverged has val_loss NaN and is never best),
    path. Empty when no sweep record exists. Only runs whose other settings are the preset's current ones count
    (matches_preset, lr aside)."""
    settings = get_preset(preset)
    seed, models = lr_sweep_seed(settings), table1_models(settings)
    columns = ["model", "variant", "seed", "lr", "preset_lr", "val_loss", "unigram_loss", "below_unigram", "best",
               "path"]
    lm = records[records.get("kind", pd.Series(dtype=object)) == "lm"] if len(records) else records
    rows = []
    for _, row in lm.iterrows():
        record = row["record"]
        pair = (record.get("model"), record.get("variant"))
        if (record.get("preset") != settings.name or record.get("dataset") != dataset or record.get("seed") != seed
                or pair not in models or not matches_preset(record, ignore=("lr",))):
            continue
        lr = record["train_config"]["lr"]
        rows.append(dict(model=pair[0], variant=pair[1], seed=seed, lr=lr, preset_lr=lr == settings.train.lr,
                         val_loss=record["metrics"]["val_loss"], unigram_loss=record["metrics"]["unigram_loss"],
                         below_unigram=record["metrics"]["unigram_loss"] - record["metrics"]["val_loss"],
                         path=row["path"]))
    table = pd.DataFrame(rows, columns=[c for c in columns if c != "best"])
    if not table["preset_lr"].eq(False).any():
        return pd.DataFrame(columns=columns)   # no sweep run yet: the Table 1 runs alone are not a sweep
    order = {pair: i for i, pair in enumerate(models)}
    table = table.assign(_order=[order[p] for p in zip(table["model"], table["variant"])])
    table = table.sort_values(["_order", "lr"]).drop(columns="_order").reset_index(drop=True)
    best = table.groupby(["model", "variant"])["val_loss"].transform("min")
    return table.assign(best=table["val_loss"] == best)[columns]


def lr_sweep_sentences(sweep: pd.DataFrame, study: pd.DataFrame, factor: float = SPREAD_FACTOR) -> list[str]:
    """What an lr sweep shows, per model, in sentences computed from it: the loss at each lr, the best lr, and
    whether the best lr's gain over the preset's exceeds `factor` x the model's seed std at the preset's lr
    (study: the same preset's study_table for Table 1). One seed per lr: a gain within that spread could be
    the seed's luck. A run whose loss became NaN is named as diverged."""
    sentences = []
    for (model, variant), group in sweep.groupby(["model", "variant"], sort=False):
        at = {lr: loss for lr, loss in zip(group["lr"], group["val_loss"])}
        ours = group[group["preset_lr"]]
        best = group[group["best"]].iloc[0]
        text = f"{model} {variant}: " + ", ".join(
            f"lr {lr:g} " + ("diverged (loss NaN)" if math.isnan(loss) else f"{loss:.4f}") for lr, loss in at.items())
        text += f"; below the unigram loss by {best['below_unigram']:.2f} nats at its best lr, {best['lr']:g}"
        if ours.empty:
            sentences.append(text + ".")
            continue
        gain = float(ours["val_loss"].iloc[0]) - float(best["val_loss"])
        row = study[(study["model"] == model) & (study["variant"] == variant)]
        std = float(row["val_loss_std"].iloc[0]) if len(row) and int(row["n"].iloc[0]) >= 2 else math.nan
        if best["preset_lr"]:
            text += " (the preset's lr)."
        elif math.isnan(std):
            text += f": {gain:.4f} nats lower than at the preset's lr (no seed spread to compare with)."
        else:
            side = "beyond" if gain > factor * std else "within"
            text += (f": {gain:.4f} nats lower than at the preset's lr, {side} "
                     f"{factor:g} × its seed std there ({factor * std:.4f}).")
        sentences.append(text)
    best = sweep[sweep["best"]].sort_values("val_loss")
    ranked = study[study["n"] > 0].sort_values("val_loss_mean")
    if len(best) > 1:
        names = [f"{m} {v}" for m, v in zip(best["model"], best["variant"])]
        sentences.append("at each model's best lr, one run each: " + "; ".join(
            f"{name} {loss:.4f} (lr {lr:g})" for name, loss, lr in zip(names, best["val_loss"], best["lr"]))
            + ". Table 1 at the preset's lr, mean over seeds: " + "; ".join(
            f"{m} {v} {loss:.4f}" for m, v, loss in zip(ranked["model"], ranked["variant"], ranked["val_loss_mean"]))
            + (". The same order." if names == [f"{m} {v}" for m, v in zip(ranked["model"], ranked["variant"])
                                                if f"{m} {v}" in names] else ". A different order."))
    return sentences


def study_samples(records: pd.DataFrame, presets=("cpu", "paper"), dataset: str = "wikitext2", seed: int = 0,
                  data_dir=None, best_lr: bool = False) -> pd.DataFrame:
    """The text each study run generated at the end of its training (prompt "The", 30 tokens, temperature 0.8,
    top-k 40: experiments.lm.sample_text), side by side: one row per Table 1 model of each preset that has a
    record of `seed` on `dataset`, with its lr and validation loss; best_lr=True: instead, each model's run at its
    best lr in the preset's lr sweep (lr_sweep_table; presets without a sweep give no rows). Records written
    before samples were decoded readably hold the raw pieces ("V al k y ri a"): they are rejoined with the
    preset's detokenizer (Detokenizer.rejoin), which needs that preset's tokenizer and data (built, then cached)."""
    chosen = []  # (preset, record)
    for preset in presets:
        if best_lr:
            sweep = lr_sweep_table(records, preset, dataset)
            by_path = dict(zip(records["path"], records["record"]))
            chosen += [(preset, by_path[path]) for path in (sweep.loc[sweep["best"], "path"] if len(sweep) else ())]
        else:
            runs = study_runs(records, "table1", (preset,), dataset)
            chosen += [(preset, r) for r in runs.loc[runs["seed"] == seed, "record"]]
    rows, detokenizers = [], {}
    for preset, record in chosen:
        if preset not in detokenizers:
            data = load_lm_data(dataset, data_dir=data_dir, **get_preset(preset).data_kwargs())
            detokenizers[preset] = data.detokenizer
        try:
            text = detokenizers[preset].rejoin(record["sample"])
        except ValueError:  # not a raw decode: already readable
            text = record["sample"]
        rows.append(dict(preset=preset, model=record["model"], variant=record["variant"],
                         lr=record["train_config"]["lr"], val_loss=record["metrics"]["val_loss"], sample=text))
    return pd.DataFrame(rows, columns=["preset", "model", "variant", "lr", "val_loss", "sample"])


def _paper_reported(table: str, dataset: str, model: str, variant: str) -> tuple[float, float, float]:
    """The paper's (val_loss, val_ppl, PPL of its GAM full in the same table) for a row; NaN where not reported.
    Table 3 reports perplexities only, so its loss is NaN."""
    if table == "table1":
        paper = PAPER_TABLE1.set_index(KEYS)[["val_loss", "val_ppl"]]
        gam, row = (dataset, "gam", "full"), (dataset, model, variant)
        ref_ppl = paper.loc[gam, "val_ppl"] if gam in paper.index else math.nan
        loss, ppl = paper.loc[row] if row in paper.index else (math.nan,) * 2
        return loss, ppl, ref_ppl
    if dataset != "wikitext2" or model != "gam":
        return math.nan, math.nan, math.nan
    paper = PAPER_TABLE3.set_index("variant")["val_ppl"]
    return math.nan, paper.get(variant, math.nan), paper["full"]


def study_table(records: pd.DataFrame, table: str = "table1", presets=("cpu", "paper"), dataset=None,
                reference=("gam", "full"), factor: float = SPREAD_FACTOR) -> pd.DataFrame:
    """A long table of the committed studies: one row per (preset, dataset, model, variant) that the
    preset's study plans (gamlib.plan), from whatever records exist, beside the paper's reported numbers.

    records: load_records' DataFrame (e.g. of gamlib.paths.committed_results_dir()). table: "table1"
    (the preset's Table 1 models) or "table3" (the GAM variants). Columns:
      preset, dataset, model, variant; n (seeds found), n_planned (the seeds the plan trains there), complete, status
        ("3 of 3 seeds", "1 of 3 seeds: spread n/a", "not run yet"), seeds, device(s), params;
      {metric}_mean / _std over seeds for val_loss, val_ppl, seconds_per_epoch, tokens_per_s (std NaN for one seed);
      unigram_loss: the yardstick of the preset's own tokenizer and data (the records' metrics.unigram_loss),
        below_unigram = unigram_loss - val_loss_mean (nats; > 0: the model uses context);
      delta = val_loss_mean - that of `reference` (GAM full) on the same preset and dataset, pooled_std,
        threshold = factor x pooled_std and beyond_spread (|delta| > threshold; None when either row has
        fewer than 2 seeds: gamlib.compare_to_spread's rule needs two), spread (that verdict in words);
      paper_val_loss, paper_val_ppl: the paper's reported numbers (NaN where it ran no such row; Table 3
        reports perplexity only), paper_delta = ln(paper PPL / paper GAM-full PPL of the same table), nats.
    Rows that no record fills are kept (n = 0, "not run yet"): a partly run study is shown as such.
    """
    out = []
    runs = study_runs(records, table, presets, dataset)
    everyone = records.reindex(columns=["kind", "preset", "dataset", "unigram_loss"])
    for preset in presets:
        name = get_preset(preset).name
        cells = study_cells(table, preset, dataset)
        for ds in dict.fromkeys(d for d, _, _ in cells):
            mine = runs[(runs["preset"] == name) & (runs["dataset"] == ds)]
            summary = seed_summary(mine, [m for m in STUDY_METRICS if m in mine]) if len(mine) else pd.DataFrame()
            by_key = {} if summary.empty else {(r["model"], r["variant"]): r for _, r in summary.iterrows()}
            unigram = everyone.loc[(everyone["kind"] == "lm") & (everyone["preset"] == name)
                                   & (everyone["dataset"] == ds), "unigram_loss"].dropna()
            unigram = float(unigram.median()) if len(unigram) else math.nan
            for _, row, seeds in (c for c in cells if c[0] == ds):
                entry = _study_entry(name, ds, row, by_key.get(row), len(seeds), unigram)
                entry.update(_spread_entry(row, by_key.get(row), by_key.get(tuple(reference)), reference, factor))
                entry.update(_paper_entry(table, ds, *row))
                out.append(entry)
    return pd.DataFrame(out)


def _study_entry(preset: str, dataset: str, pair, row, planned: int, unigram: float) -> dict:
    """study_table's columns for one cell: what was found, its seed summary, its distance to the unigram loss."""
    n = 0 if row is None else int(row["n"])
    entry = dict(preset=preset, dataset=dataset, model=pair[0], variant=pair[1], n=n, n_planned=planned,
                 complete=n == planned,
                 status="not run yet" if n == 0 else f"{n} of {planned} seed{'s' if planned > 1 else ''}"
                 + ("" if n >= 2 else ": spread n/a"),
                 seeds=() if row is None else row["seeds"], device="—" if row is None else row["device"],
                 params=math.nan if row is None else row["params"])
    for metric in STUDY_METRICS:
        for stat in ("mean", "std"):
            column = f"{metric}_{stat}"
            entry[column] = math.nan if row is None or column not in row else row[column]
    return {**entry, "unigram_loss": unigram, "below_unigram": unigram - entry["val_loss_mean"]}


def _spread_entry(pair, row, ref, reference, factor: float) -> dict:
    """study_table's comparison of a cell with the reference row: delta, pooled_std, threshold, beyond_spread,
    spread."""
    entry = dict(delta=math.nan, pooled_std=math.nan, threshold=math.nan, beyond_spread=None)
    if tuple(pair) == tuple(reference):
        found = row is not None
        return {**entry, "spread": "reference" if found else "—", "delta": 0.0 if found else math.nan}
    if row is None:
        return {**entry, "spread": "—"}
    if ref is None:
        return {**entry, "spread": f"n/a ({' '.join(reference)} not run yet)"}
    entry["delta"] = row["val_loss_mean"] - ref["val_loss_mean"]
    if int(row["n"]) < 2 or ref["n"] < 2:
        return {**entry, "spread": f"n/a (n={min(int(row['n']), int(ref['n']))})"}
    pair_frame = pd.DataFrame([ref, row]).assign(label=["reference", "row"])
    cmp = compare_to_spread(pair_frame, "val_loss", label="label", factor=factor).iloc[0]
    return {**entry, "pooled_std": cmp["pooled_std"], "threshold": cmp["threshold"],
            "beyond_spread": bool(cmp["exceeds"]), "spread": "beyond" if cmp["exceeds"] else "within"}


def _paper_entry(table: str, dataset: str, model: str, variant: str) -> dict:
    """study_table's paper columns for one cell."""
    paper_loss, paper_ppl, paper_ref = _paper_reported(table, dataset, model, variant)
    known = not math.isnan(paper_ppl) and not math.isnan(paper_ref)
    return dict(paper_val_loss=paper_loss, paper_val_ppl=paper_ppl,
                paper_delta=math.log(paper_ppl / paper_ref) if known else math.nan)


def display_study_table(table: pd.DataFrame, factor: float = SPREAD_FACTOR) -> pd.DataFrame:
    """study_table's rows as readable strings (what the notebooks show)."""
    def number(value, digits, sign=False):
        return "—" if pd.isna(value) else f"{value:{'+' if sign else ''},.{digits}f}"

    return pd.DataFrame({
        "preset": table["preset"], "dataset": table["dataset"],
        "model": table["model"] + " " + table["variant"],
        "seeds": table["status"], "device": table["device"],
        "val loss (nats)": [mean_std_text(m, s, 4) for m, s in zip(table["val_loss_mean"], table["val_loss_std"])],
        "val PPL": [number(v, 1) for v in table["val_ppl_mean"]],
        "unigram loss": [number(v, 3) for v in table["unigram_loss"]],
        "below unigram": [number(v, 3) for v in table["below_unigram"]],
        "Δ loss vs GAM full": [number(v, 4, True) for v in table["delta"]],
        f"{factor:g} × pooled std": [number(v, 4) for v in table["threshold"]],
        f"|Δ| > {factor:g} × pooled std": table["spread"],
        "paper PPL (reported)": [number(v, 2) for v in table["paper_val_ppl"]],
        "paper Δ vs GAM full (from reported PPL, nats)": [number(v, 4, True) for v in table["paper_delta"]],
    })


def study_sentences(table: pd.DataFrame, factor: float = SPREAD_FACTOR) -> list[str]:
    """What a study_table shows, in sentences computed from it: per preset and dataset, which rows have
    records, each Δ vs GAM full against the seed spread, the distance to the unigram loss, and whether
    the sign of each Δ agrees with the paper's reported one."""
    sentences = []
    for (preset, dataset), group in table.groupby(["preset", "dataset"], sort=False):
        names = group["model"] + " " + group["variant"]
        have = group[group["n"] > 0]
        if have.empty:
            sentences.append(f"{preset} on {dataset}: no records yet ({len(group)} rows planned).")
            continue
        devices = ", ".join(sorted({d for ds in have["device"] for d in ds.split(", ")}))
        planned = int(group["n_planned"].max())
        text = (f"{preset} on {dataset} ({devices}): {len(have)} of {len(group)} planned rows have records, "
                f"{int(group['complete'].sum())} with "
                + (f"all {planned} seeds" if planned > 1 else "the one planned seed"))
        missing = list(names[group["n"] == 0])
        partial = [f"{name} (n={n})" for name, n, c in zip(names, group["n"], group["complete"]) if n and not c]
        text += (f"; partial: {', '.join(partial)}" if partial else "") + (
            f"; not run yet: {', '.join(missing)}." if missing else ".")
        sentences.append(text)
        compared = []
        for name, r in zip(names, group.to_dict("records")):
            if r["n"] == 0 or r["spread"] == "reference" or pd.isna(r["delta"]):
                continue
            if r["beyond_spread"] is None:
                compared.append(f"{name} Δ {r['delta']:+.4f} (spread {r['spread']})")
            else:
                compared.append(f"{name} Δ {r['delta']:+.4f} ({'beyond' if r['beyond_spread'] else 'within'} "
                                f"{factor:g} × pooled std = {r['threshold']:.4f})")
        if compared:
            sentences.append(f"  validation loss vs GAM full (nats): {'; '.join(compared)}.")
        below = [f"{name} {v:+.3f}" for name, v in zip(names, group["below_unigram"]) if pd.notna(v)]
        if below and pd.notna(group["unigram_loss"].iloc[0]):
            sentences.append(f"  below the unigram loss of this preset's data ({group['unigram_loss'].iloc[0]:.3f} "
                             f"nats): {'; '.join(below)}.")
        signs = [(name, r["delta"], r["paper_delta"]) for name, r in zip(names, group.to_dict("records"))
                 if r["spread"] != "reference" and pd.notna(r["delta"]) and pd.notna(r["paper_delta"])]
        if signs:
            agree = [name for name, ours, paper in signs if (ours > 0) == (paper > 0)]
            sentences.append(f"  sign of Δ as in the paper's reported numbers: {len(agree)} of {len(signs)} "
                             f"({'; '.join(f'{n}: ours {o:+.4f}, paper {p:+.4f}' for n, o, p in signs)}).")
    return sentences


# ---- does context pay? loss by position (gamlib.run_context_experiment) --------------------------------

def context_curves(records: pd.DataFrame, preset: str = "cpu") -> pd.DataFrame:
    """The context records (kind 'context') of a preset as a long table: model, variant, label, seed,
    receptive_field, tokens_read (position + 1), loss. Empty when there are none."""
    columns = ["model", "variant", "label", "seed", "receptive_field", "tokens_read", "loss"]
    if records.empty or "kind" not in records:
        return pd.DataFrame(columns=columns)
    found = records[(records["kind"] == "context") & (records["preset"] == preset)]
    rows = [dict(model=r["model"], variant=r["variant"], label=f"{r['model']} {r['variant']}", seed=r["seed"],
                 receptive_field=r["receptive_field"], tokens_read=t + 1, loss=loss)
            for r in found["record"] for t, loss in enumerate(r["loss_by_position"])]
    return pd.DataFrame(rows, columns=columns)


CONTEXT_BINS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, 31), (32, 63), (64, 127), (128, 255), (256, 511))


def context_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Loss by tokens read in doubling bins (1, 2-3, 4-7, ...: a position's loss over one validation pass is
    noisy, a bin's mean less so), mean ± std over seeds, one row per model; n seeds, receptive field R, and the
    gain past it: the mean loss over positions from R to 2R - 1 minus that over the last bin (nats; about 0 for a
    model that cannot see further, which is why a Transformer's R is the whole chunk)."""
    rows = []
    for label, group in curves.groupby("label", sort=False):
        by_seed = group.pivot(index="seed", columns="tokens_read", values="loss")
        R, last = int(group["receptive_field"].iloc[0]), int(group["tokens_read"].max())
        row = {"model": label, "n": len(by_seed), "receptive field R": R}
        for low, high in (b for b in CONTEXT_BINS if b[0] <= last):
            means = by_seed.loc[:, low:min(high, last)].mean(axis=1)
            row[f"{low}-{min(high, last)} read" if min(high, last) > low else f"{low} read"] = mean_std_text(
                means.mean(), means.std(), 3)
        if R < last:
            gain = by_seed.loc[:, R:min(2 * R - 1, last)].mean(axis=1) - by_seed.loc[:, last // 2 + 1:last].mean(axis=1)
            row["gain past R"] = mean_std_text(gain.mean(), gain.std(), 3)
        else:
            row["gain past R"] = "— (sees the whole chunk)"
        rows.append(row)
    return pd.DataFrame(rows)
