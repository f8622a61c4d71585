"""The scorecard: each claim of the paper, the paper's evidence, ours, and a verdict computed by a stated rule.

    scorecard(records, scaling=None, reach=None, presets=("cpu", "paper"))   one row per claim, (a)-(g)
    scorecard_markdown(card)                                                  the table as Markdown (README)
    committed_records()                                                       the records committed with the project
    python -m gamlib.analysis.scorecard [--readme]   print README.md's table, or rewrite it there
                                                     (what scripts/scorecard.py runs)

Each claim is one `Claim` in CLAIMS: its statement, where our evidence comes from, the paper's evidence, the
rule (worded from the constants it applies) and the judge that applies it. A verdict is one of VERDICTS, or,
when settings disagree, says which ("supported at paper/wikitext2; contradicted at cpu/wikitext2"). Each comes
from records (and for (g) a receptive-field probe's result, gamlib.memory_reach) by the claim's rule; nothing in
a verdict is typed in. A *setting* is one place the rule can be applied: a preset and dataset (and the baseline
compared with, or the device), a scaling record, a probed shape. Settings whose records are missing are "not
testable yet", naming the runs of the study plan (gamlib.plan) not found; the row's verdict is built from the
settings that could be judged.

The rules (constants below; the spread rule is gamlib.analysis.stats.compare_to_spread, SPREAD_FACTOR):
  (a), (b)  GAM's fitted exponent b in time (memory) ~ T^b, from a scaling record (gamlib.run_scaling), fitted
            from T >= SCALING_FIT_FROM[device] (later on CUDA, where fixed costs weigh less): supported when
            b < LINEAR_EXPONENT, else contradicted.
  (c)       training tokens/s of GAM full against each Transformer and Mamba row of the preset's Table 1, runs on
            one device: the spread rule on tokens_per_s (>= MIN_SEEDS seeds per row): supported when GAM is
            faster beyond the seed spread, else contradicted. A side-by-side training benchmark record
            (gamlib.run_training_benchmark) counts too: supported when GAM's tokens/s exceed the baseline's by
            more than SPEED_MARGIN (one run, no seeds). Mamba is judged only where it ran on FAST_MAMBA, its
            kernels: mambapy and recurrent are pure-PyTorch scans, far slower, so their speed says little about Mamba.
  (d), (e)  validation loss of GAM full against each Transformer (Mamba) row, the spread rule per preset and
            dataset: supported when GAM's mean is lower beyond the spread; contradicted when it is higher beyond
            it or the gap is within it (the claimed advantage does not show in these runs).
  (f)       validation loss of GAM full against each Table 3 ablation (gamlib.plan.ABLATION_VARIANTS), the spread
            rule: supported when the full block beats every ablation beyond the spread; contradicted when any
            ablation is not beaten beyond it.
  (g)       the probe of a preset's shape: contradicted when GAM's prediction at the last position depends on
            fewer positions than the context holds (its receptive field, with the Transformer, which must see
            the whole context, as the control); supported when it depends on all of them; not testable when the
            control fails.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import pandas as pd

from ..paths import committed_results_dir, project_root
from ..plan import TABLE1_DATASETS, planned_seeds, table1_models, table_rows
from ..presets import Preset, get_preset
from ..probes.receptive_field import memory_reach
from ..records import load_records
from .fits import scaling_exponents
from .paper import PAPER_TABLE1, PAPER_TABLE3, paper_table2_rows
from .stats import SPREAD_FACTOR, compare_to_spread, seed_summary
from .tables import scaling_frame, study_runs

SUPPORTED, CONTRADICTED, NOT_TESTABLE = "supported", "contradicted", "not testable yet"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_TESTABLE)
LINEAR_EXPONENT = 1.3                     # b below this: linear-like (notebook 08's threshold)
SCALING_FIT_FROM = {"cpu": 512, "cuda": 1024}
SPEED_MARGIN = 0.05                       # a single side-by-side benchmark: "faster" means by more than 5 %
FAST_MAMBA = "mamba_ssm"                  # the only Mamba backend whose speed is judged
MIN_SEEDS = 2                             # the spread rule needs a spread: seeds per row
SCORECARD_PRESETS = ("cpu", "paper")      # the committed studies
GAM = ("gam", "full")                     # the row every rule compares
COLUMNS = ["claim", "statement", "paper_evidence", "source", "our_evidence", "rule", "verdict", "reason",
           "findings"]
README_BEGIN, README_END = "<!-- scorecard:begin -->", "<!-- scorecard:end -->"


@dataclass(frozen=True)
class Inputs:
    """What the judges read: records, scaling records and probe results, the presets (resolved once), and the
    factor of the spread rule and the margin of the benchmark rule."""
    records: pd.DataFrame
    presets: tuple[Preset, ...]
    scaling: tuple[dict, ...]
    reach: tuple[dict, ...]
    factor: float
    margin: float


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, its evidence, and the rule that judges it (a row of the scorecard)."""
    key: str                                   # "a" ... "g"
    statement: str                             # what the paper claims
    source: str                                # where our evidence comes from (records, notebooks)
    paper_evidence: Callable[[], str]          # the paper's evidence, worded from gamlib.analysis.paper
    rule: str                                  # the rule, worded from the constants it applies
    judge: Callable[[Inputs], list[dict]]      # the rule applied: one finding per setting


def committed_records() -> pd.DataFrame:
    """load_records of the project's own results/ folder (gamlib.paths.committed_results_dir), whatever
    $GAMLIB_RESULTS_DIR says: the records the scorecard in README.md is built from."""
    return load_records(committed_results_dir())


# ---- the paper's evidence, from gamlib.analysis.paper (typed there, once) ---------------------------------

PAPER_FIT_FROM = SCALING_FIT_FROM["cuda"]   # the paper's Table 2 ran on a GPU


def _name(model: str, variant: str) -> str:
    return f"{model} {variant}"


def _paper_table2_text(value: str, what: str) -> str:
    rows = paper_table2_rows()
    exponents = scaling_exponents(rows, min_seq_len=PAPER_FIT_FROM).set_index("series")[value]
    oom = rows[(rows["series"] == "transformer naive") & (rows["status"] == "oom")]["seq_len"]
    return (f"Table 2 (one block, GPU, fp16, T = {rows['seq_len'].min()}..{rows['seq_len'].max()}): {what} "
            f"exponent from T >= {PAPER_FIT_FROM} b = {exponents['gam full']:.2f} for GAM, "
            f"{exponents['transformer naive']:.2f} for the (naive) Transformer, which runs out of memory from "
            f"T = {oom.min()} (single runs)")


def _paper_table1_text(metric: str, baseline: str | None) -> str:
    parts = []
    for dataset, group in PAPER_TABLE1.groupby("dataset", sort=False):
        rows = {m: r for m, r in zip(group["model"], group.to_dict("records"))}
        shown = ["gam"] + [m for m in ("transformer", "mamba") if m in rows and baseline in (None, m)]
        if len(shown) < 2:
            parts.append(f"no {baseline} on {dataset}")
            continue
        parts.append(f"{dataset}: " + ", ".join(f"{'GAM' if m == 'gam' else m.capitalize()} {rows[m][metric]:g}"
                                                 for m in shown))
    what = "seconds per epoch" if metric == "seconds_per_epoch" else "validation PPL"
    return f"Table 1 {what}: " + "; ".join(parts) + " (single runs, no seeds)"


def _paper_table3_text() -> str:
    ppl = PAPER_TABLE3.set_index("variant")["val_ppl"]
    table1 = PAPER_TABLE1.set_index(["dataset", "model"]).loc[("wikitext2", "gam"), "val_ppl"]
    return ("Table 3 validation PPL on WikiText-2: " + ", ".join(f"{v} {p:g}" for v, p in ppl.items())
            + f" (single runs; the same full GAM is {table1:g} in Table 1)")


def _paper_probe_text() -> str:
    return "none measured: the memory is called global by design; no test of what a prediction depends on"


# ---- the rules' text, from the constants the judges apply ---------------------------------------------

def _exponent_rule(what: str) -> str:
    return (f"GAM's {what} exponent b (fit from T >= {SCALING_FIT_FROM['cpu']} on a CPU, "
            f"{SCALING_FIT_FROM['cuda']} on CUDA) < {LINEAR_EXPONENT:g}")


def _speed_rule() -> str:
    return (f"GAM's tokens/s above each baseline's by more than {SPREAD_FACTOR:g} x the pooled seed std (runs on "
            f"one device, >= {MIN_SEEDS} seeds), or by more than {SPEED_MARGIN:.0%} in a side-by-side benchmark; "
            f"Mamba only on {FAST_MAMBA}")


def _loss_rule(whose: str, than: str) -> str:
    return (f"{whose} mean val loss below {than} by more than {SPREAD_FACTOR:g} x the pooled seed std "
            f"(>= {MIN_SEEDS} seeds per row)")


# ---- what every judge shares: seed summaries, what is missing, one finding ----------------------------

def _summaries(runs: pd.DataFrame, metrics) -> dict:
    """{(model, variant): seed_summary row as a dict} for the runs given (any number of seeds)."""
    if runs.empty:
        return {}
    summary = seed_summary(runs, [m for m in metrics if m in runs])
    return {(r["model"], r["variant"]): r for r in summary.to_dict("records")}


def _lacking(summary: dict, rows, seeds) -> list[str]:
    """'model variant seeds ...' (the planned `seeds` not found) for each row with fewer than MIN_SEEDS seeds."""
    out = []
    for model, variant in rows:
        have = summary.get((model, variant), {}).get("seeds", ())
        if len(have) < MIN_SEEDS:
            lacking = [str(s) for s in seeds if s not in have]
            out.append(f"{_name(model, variant)} seed{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}")
    return out


def _compare(a: dict, b: dict, metric: str, factor: float) -> dict:
    """compare_to_spread for two summary rows: delta = b - a, pooled_std, threshold, exceeds."""
    pair = pd.DataFrame([a, b]).assign(label=["a", "b"])
    return compare_to_spread(pair, metric, label="label", factor=factor).iloc[0].to_dict()


def _mean_std(row: dict, metric: str, digits: int) -> str:
    std = row.get(f"{metric}_std")
    text = f"{row[f'{metric}_mean']:,.{digits}f}"
    return text if std is None or pd.isna(std) else f"{text} ± {std:,.{digits}f}"


def _finding(setting: str, verdict: str, evidence: str, **numbers) -> dict:
    return dict(setting=setting, verdict=verdict, evidence=evidence, **numbers)


def _untested(setting: str, where: str, summary: dict, rows, seeds, so_far=None) -> dict:
    """A NOT_TESTABLE finding naming what is missing; `so_far(gam, other)` words what one seed shows."""
    if not summary:
        lacking = ["no records yet"]
    else:
        lacking = _lacking(summary, rows, seeds)
        gam, other = summary.get(rows[0]), summary.get(rows[1])
        if so_far and gam is not None and other is not None:
            lacking[-1] += f" (so far: {so_far(gam, other)})"
    return _finding(setting, NOT_TESTABLE, "missing " + "; ".join(lacking), where=where, lacking=lacking)


# ---- (a), (b): the scaling exponents ------------------------------------------------------------------

def _scaling_records(records: pd.DataFrame, given: list, presets) -> tuple[dict, ...]:
    """The scaling records given, and those of `presets` in `records`, each once."""
    names = {p.name for p in presets}
    if not records.empty and "kind" in records:
        found = records[(records["kind"] == "scaling") & records["preset"].isin(names)]
        given = given + list(found["record"])
    unique = {}
    for record in given:
        if record.get("kind") != "scaling":
            raise ValueError(f"scaling: expected records of kind 'scaling', got {record.get('kind')!r}")
        key = (record.get("preset"), record.get("device"), record["provenance"].get("finished_at"))
        unique.setdefault(key, record)
    return tuple(unique.values())


def _scaling_findings(inputs: Inputs, value: str) -> list[dict]:
    """(a) value='time_exponent', (b) value='memory_exponent': one finding per scaling record."""
    if not inputs.scaling:
        names = " or ".join(p.name for p in inputs.presets)
        return [_finding("scaling", NOT_TESTABLE, f"no scaling record for {names} (gamlib.run_scaling, notebook 08)")]
    return [_exponent_finding(record, value) for record in inputs.scaling]


def _exponent_finding(record: dict, value: str) -> dict:
    """GAM's exponent in one scaling record, fitted from SCALING_FIT_FROM of its device, against LINEAR_EXPONENT."""
    device = record.get("device", "cpu")
    start = SCALING_FIT_FROM.get(device, SCALING_FIT_FROM["cpu"])
    fits = scaling_exponents(scaling_frame(record), min_seq_len=start).set_index("series")
    setting = f"{record['preset']} scaling record ({record['provenance']['device']})"
    b = fits[value].get("gam full", math.nan)
    if pd.isna(b):
        return _finding(setting, NOT_TESTABLE, f"GAM has fewer than two usable lengths from T >= {start}")
    others = ", ".join(f"{s} {v:.2f}" for s, v in fits[value].items() if s != "gam full" and pd.notna(v))
    verdict = SUPPORTED if b < LINEAR_EXPONENT else CONTRADICTED
    evidence = (f"GAM b = {b:.2f} (T = {fits.loc['gam full', 'lengths']}), "
                f"{'below' if verdict == SUPPORTED else 'not below'} {LINEAR_EXPONENT:g}; others: {others}")
    return _finding(setting, verdict, evidence, exponent=b, threshold=LINEAR_EXPONENT, preset=record["preset"],
                    device=device, fit_from=start)


# ---- (c): training speed ------------------------------------------------------------------------------

def _speed_findings(inputs: Inputs) -> list[dict]:
    """(c): GAM full's training tokens/s against each baseline of the preset's Table 1, from a GPU study's runs
    (on one device) and from the preset's side-by-side training benchmarks."""
    findings = []
    for preset in inputs.presets:
        baselines = [m for m in table1_models(preset) if m != GAM]
        if preset.hardware == "cpu":
            findings += _cpu_speed_notes(preset, baselines)
        else:
            for dataset in TABLE1_DATASETS:
                findings += _run_speed_findings(inputs, preset, dataset, baselines)
        findings += _benchmark_findings(inputs.records, preset, inputs.margin)
    return findings


def _cpu_speed_notes(preset: Preset, baselines) -> list[dict]:
    """(c) on a CPU preset: Mamba never runs on FAST_MAMBA there, and the study's runs share the machine with
    each other and other work, so their times are not compared: its side-by-side training benchmark decides."""
    notes = []
    slow = [_name(*m) for m in baselines if m[0] == "mamba"]
    if slow:
        notes.append(_finding(f"{preset.name} vs {', '.join(slow)}", NOT_TESTABLE,
                              f"a CPU runs Mamba on a pure-PyTorch scan, never {FAST_MAMBA}: its speed is not judged"))
    notes.append(_finding(f"{preset.name} study runs", NOT_TESTABLE, "runs of a CPU study share the machine, so "
                          "their times are not compared; its side-by-side training benchmark decides"))
    return notes


def _run_speed_findings(inputs: Inputs, preset: Preset, dataset: str, baselines) -> list[dict]:
    """(c) from a GPU study's own runs on one dataset: GAM full vs each baseline, runs on one device compared."""
    runs = study_runs(inputs.records, "table1", [preset.name], dataset)
    runs = runs.assign(on_device=[r["provenance"]["device"] for r in runs["record"]])
    return [finding for versus in baselines
            for finding in _speed_versus(runs, preset, dataset, versus, inputs.factor)]


def _speed_versus(runs: pd.DataFrame, preset: Preset, dataset: str, versus, factor: float) -> list[dict]:
    """(c) GAM full vs one baseline: one finding per device holding >= MIN_SEEDS seeds of both, else why none."""
    where, rows, seeds = f"{preset.name}/{dataset}", [GAM, versus], planned_seeds(preset, "table1", dataset)
    setting, devices = f"{where} vs {_name(*versus)}", sorted(set(runs["on_device"]))
    judged = []
    for device in devices:
        summary = _summaries(runs[runs["on_device"] == device], ("tokens_per_s",))
        if not _lacking(summary, rows, seeds):
            judged.append(_speed_pair(f"{setting} on {device}", summary[GAM], summary[versus], factor)
                          | dict(preset=preset.name, dataset=dataset, versus=versus, device=device))
    summary = _summaries(runs, ("tokens_per_s",))
    other = summary.get(versus)
    if versus[0] == "mamba" and other is not None and other.get("mamba_backend") != FAST_MAMBA:
        return [_finding(setting, NOT_TESTABLE, f"ran on {other.get('mamba_backend')}, not {FAST_MAMBA}: "
                         "not a fair speed test")]
    if judged:
        return judged
    if _lacking(summary, rows, seeds) or not summary:
        return [_untested(setting, where, summary, rows, seeds, _speed_so_far)]
    return [_finding(setting, NOT_TESTABLE, f"no one device holds >= {MIN_SEEDS} seeds of both rows "
                     f"(devices: {', '.join(devices)})")]


def _speed_so_far(gam: dict, other: dict) -> str:
    return f"GAM x{gam['tokens_per_s_mean'] / other['tokens_per_s_mean']:.3f} its tokens/s"


def _speed_pair(setting: str, gam: dict, other: dict, factor: float) -> dict:
    """GAM full vs one baseline on tokens_per_s, runs on one device."""
    ratio = gam["tokens_per_s_mean"] / other["tokens_per_s_mean"]
    cmp = _compare(other, gam, "tokens_per_s", factor)   # delta = GAM - baseline
    verdict = SUPPORTED if cmp["delta"] > 0 and cmp["exceeds"] else CONTRADICTED
    how = ("GAM faster beyond the spread" if verdict == SUPPORTED else
           "GAM slower beyond the spread" if cmp["exceeds"] else "within the spread")
    evidence = (f"GAM full {_mean_std(gam, 'tokens_per_s', 0)} tok/s (n={gam['n']}) vs "
                f"{_name(other['model'], other['variant'])} {_mean_std(other, 'tokens_per_s', 0)} (n={other['n']}): "
                f"x{ratio:.3f}, {factor:g} × pooled std {cmp['threshold']:,.0f} tok/s, {how}")
    return _finding(setting, verdict, evidence, metric="tokens_per_s", delta=cmp["delta"], ratio=ratio,
                    threshold=cmp["threshold"], exceeds=bool(cmp["exceeds"]), n=(int(gam["n"]), int(other["n"])))


def _benchmark_findings(records: pd.DataFrame, preset: Preset, margin: float) -> list[dict]:
    """(c) from side-by-side training benchmarks (kind 'benchmark', benchmark 'training') of a preset: GAM full
    against every other row the benchmark timed (both attentions, also where the preset trains only one)."""
    if records.empty or "benchmark" not in records:
        return []
    found = records[(records["kind"] == "benchmark") & (records["benchmark"] == "training")
                    & (records["preset"] == preset.name)]
    findings = []
    for record in found["record"]:
        gam = next((r for r in record["rows"] if (r["model"], r["variant"]) == GAM), None)
        others = [r for r in record["rows"] if gam is not None and r["model"] != "gam"
                  and not (r["model"] == "mamba" and preset.hardware == "cpu")]  # the CPU note covers Mamba
        findings += [_benchmark_pair(preset, record["provenance"]["device"], gam, other, margin) for other in others]
    return findings


def _benchmark_pair(preset: Preset, device: str, gam: dict, other: dict, margin: float) -> dict:
    """GAM full vs one row of a training benchmark: faster by more than `margin`?"""
    model, variant = other["model"], other["variant"]
    setting = f"{preset.name} benchmark vs {_name(model, variant)} on {device}"
    if model == "mamba" and other.get("backend") != FAST_MAMBA:
        return _finding(setting, NOT_TESTABLE, f"ran on {other.get('backend')}, not {FAST_MAMBA}: "
                        "not a fair speed test")
    ratio = gam["tokens_per_s"] / other["tokens_per_s"]
    verdict = SUPPORTED if ratio > 1 + margin else CONTRADICTED
    evidence = (f"one side-by-side run at the preset's shape: GAM full {gam['tokens_per_s']:,.0f} tok/s vs "
                f"{_name(model, variant)} {other['tokens_per_s']:,.0f}: x{ratio:.3f}, "
                f"{'above' if verdict == SUPPORTED else 'not above'} x{1 + margin:.2f}")
    return _finding(setting, verdict, evidence, metric="benchmark_tokens_per_s", ratio=ratio, margin=margin,
                    preset=preset.name, versus=(model, variant), device=device)


# ---- (d), (e), (f): validation loss -------------------------------------------------------------------

def _loss_findings(inputs: Inputs, baseline: str) -> list[dict]:
    """(d) baseline='transformer', (e) 'mamba': GAM full against each such row of the preset's Table 1, per
    dataset, on val_loss."""
    findings = []
    for preset in inputs.presets:
        rows = [m for m in table1_models(preset) if m[0] == baseline]
        for dataset in TABLE1_DATASETS:
            summary = _summaries(study_runs(inputs.records, "table1", [preset.name], dataset), ("val_loss", "val_ppl"))
            if len(planned_seeds(preset, "table1", dataset)) < MIN_SEEDS:
                findings.append(_one_seed_by_plan(f"{preset.name}/{dataset}", summary, rows))
            else:
                findings += [_loss_versus(preset, dataset, summary, versus, inputs.factor) for versus in rows]
    return findings


def _loss_versus(preset: Preset, dataset: str, summary: dict, versus, factor: float) -> dict:
    """(d), (e) GAM full vs one row on one dataset, or what is missing."""
    where, rows, seeds = f"{preset.name}/{dataset}", [GAM, versus], planned_seeds(preset, "table1", dataset)
    setting = f"{where} vs {_name(*versus)}"
    if _lacking(summary, rows, seeds) or not summary:
        return _untested(setting, where, summary, rows, seeds, _loss_so_far)
    gam = summary[GAM]
    verdict, evidence, numbers = _loss_pair(gam, summary[versus], factor)
    return _finding(setting, verdict, f"{_gam_text(gam)} vs {evidence}", preset=preset.name, dataset=dataset,
                    versus=versus, **numbers)


def _loss_pair(gam: dict, other: dict, factor: float) -> tuple[str, str, dict]:
    """GAM full vs one row on val_loss: (verdict, evidence, numbers); Δ = GAM - other (negative: GAM lower)."""
    cmp = _compare(other, gam, "val_loss", factor)
    verdict = SUPPORTED if cmp["delta"] < 0 and cmp["exceeds"] else CONTRADICTED
    how = ("GAM lower beyond the spread" if verdict == SUPPORTED else
           "GAM higher beyond the spread" if cmp["exceeds"] else "within the spread")
    evidence = (f"{_name(other['model'], other['variant'])} {_mean_std(other, 'val_loss', 4)} "
                f"(PPL {other['val_ppl_mean']:,.1f}, n={other['n']}): Δ {cmp['delta']:+.4f}, "
                f"{factor:g} × pooled std {cmp['threshold']:.4f}, {how}")
    numbers = dict(metric="val_loss", delta=cmp["delta"], threshold=cmp["threshold"], exceeds=bool(cmp["exceeds"]),
                   n=(int(gam["n"]), int(other["n"])))
    return verdict, evidence, numbers


def _gam_text(gam: dict) -> str:
    return (f"GAM full {_mean_std(gam, 'val_loss', 4)} nats (PPL {gam['val_ppl_mean']:,.1f}, n={gam['n']}, "
            f"{gam['device']})")


def _loss_so_far(gam: dict, other: dict) -> str:
    return f"Δ {gam['val_loss_mean'] - other['val_loss_mean']:+.4f} nats"


def _one_seed_by_plan(where: str, summary: dict, baselines) -> dict:
    """A NOT_TESTABLE finding for a cell the study plan trains with one seed: no spread to judge a gap by."""
    gam = summary.get(GAM)
    so_far = [f"{_name(*pair)} {_loss_so_far(gam, summary[pair])}" for pair in baselines
              if gam is not None and pair in summary]
    return _finding(where, NOT_TESTABLE, "the study plan trains one seed here (gamlib.plan.planned_seeds) and the "
                    "spread rule needs two" + (f" (so far: {'; '.join(so_far)})" if so_far else ""))


def _ablation_findings(inputs: Inputs) -> list[dict]:
    """(f): one finding per preset: full GAM against each ablation of its Table 3 on WikiText-2."""
    return [_ablation_finding(inputs.records, preset, inputs.factor) for preset in inputs.presets]


def _ablation_finding(records: pd.DataFrame, preset: Preset, factor: float) -> dict:
    """(f) at one preset: contradicted as soon as one ablation is not beaten, supported when every one is."""
    where, seeds = f"{preset.name}/wikitext2", planned_seeds(preset, "table3", "wikitext2")
    ablations = [m for m in table_rows(preset, "table3") if m != GAM]
    summary = _summaries(study_runs(records, "table3", [preset.name], "wikitext2"), ("val_loss", "val_ppl"))
    pairs = {key: _loss_pair(summary[GAM], summary[key], factor) for key in ablations
             if not _lacking(summary, [GAM, key], seeds)}
    verdicts = [verdict for verdict, _, _ in pairs.values()]
    if CONTRADICTED not in verdicts and len(pairs) < len(ablations):
        untested = _untested(where, where, summary, [GAM, *ablations], seeds)
        if pairs:
            untested["evidence"] += "; so far: " + "; ".join(e for _, e, _ in pairs.values())
        return untested
    lacking = _lacking(summary, [GAM, *ablations], seeds)
    evidence = (f"{_gam_text(summary[GAM])} vs " + "; vs ".join(e for _, e, _ in pairs.values())
                + (f"; missing {', '.join(lacking)}" if lacking else ""))
    verdict = CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED
    return _finding(where, verdict, evidence, preset=preset.name, dataset="wikitext2",
                    pairs={key: {"verdict": v, **numbers} for key, (v, _, numbers) in pairs.items()})


# ---- (g): the probe -----------------------------------------------------------------------------------

def _reach_findings(inputs: Inputs) -> list[dict]:
    """(g): one finding per probed shape (gamlib.memory_reach)."""
    if not inputs.reach:
        return [_finding("probe", NOT_TESTABLE, "no probe result given: pass reach=[gamlib.memory_reach(preset), ...]")]
    return [_probe_finding(probe) for probe in inputs.reach]


def _probe_finding(probe: dict) -> dict:
    """GAM's receptive field at the last position against the whole context; the Transformer is the control."""
    T, gam, control = probe["block_size"], probe["gam"], probe["transformer"]
    setting = f"{probe['preset']} shape (L={probe['n_layer']}, K={probe['conv_kernel_size']}, T={T})"
    read, source = probe["memory_read_changes"], probe["memory_read_source"]
    per_token = read == [source]
    moves = f"only at position {source}" if per_token else f"at positions {read}"
    bank = "a learned parameter, the same for every input" if probe["bank_is_parameter"] else "not a parameter"
    memory = f"a memory read's output moves {moves} when input {source} changes, and the bank M is {bank}"
    evidence = (f"the logits at t = {T - 1} depend on {gam} of {T} positions for GAM (L(K-1)+1 = "
                f"{probe['expected']}), on {control} for the Transformer; {memory}")
    if control != T:
        verdict = NOT_TESTABLE
        evidence = f"control failed: the Transformer sees {control} of {T} positions; " + evidence
    else:
        verdict = SUPPORTED if gam == T else CONTRADICTED
    return _finding(setting, verdict, evidence, gam=gam, transformer=control, block_size=T, per_token_read=per_token)


# ---- the claims ---------------------------------------------------------------------------------------

SCALING_SOURCE = "scaling records, `results/<preset>/scaling/` (notebook 08)"
TABLE1_SOURCE = "Table 1 records, `results/<preset>/<dataset>/` (notebook 07)"

CLAIMS = {claim.key: claim for claim in (
    Claim(key="a", statement="GAM's time grows linearly with the sequence length (O(N))",
          source=SCALING_SOURCE, paper_evidence=partial(_paper_table2_text, "time_exponent", "time"),
          rule=_exponent_rule("time"), judge=partial(_scaling_findings, value="time_exponent")),
    Claim(key="b", statement="GAM's memory grows linearly with the sequence length",
          source=SCALING_SOURCE, paper_evidence=partial(_paper_table2_text, "memory_exponent", "peak-memory"),
          rule=_exponent_rule("peak-memory"), judge=partial(_scaling_findings, value="memory_exponent")),
    Claim(key="c", statement="GAM trains faster per epoch than the Transformer and Mamba",
          source="training tokens/s of the Table 1 records, `results/<preset>/<dataset>/` (notebook 07), and "
                 "training benchmarks, `results/<preset>/benchmarks/`",
          paper_evidence=partial(_paper_table1_text, "seconds_per_epoch", None),
          rule=_speed_rule(), judge=_speed_findings),
    Claim(key="d", statement="GAM reaches a lower validation perplexity than the Transformer",
          source=TABLE1_SOURCE, paper_evidence=partial(_paper_table1_text, "val_ppl", "transformer"),
          rule=_loss_rule("GAM's", "the Transformer's"), judge=partial(_loss_findings, baseline="transformer")),
    Claim(key="e", statement="GAM reaches a lower validation perplexity than Mamba",
          source=TABLE1_SOURCE, paper_evidence=partial(_paper_table1_text, "val_ppl", "mamba"),
          rule=_loss_rule("GAM's", "Mamba's"), judge=partial(_loss_findings, baseline="mamba")),
    Claim(key="f", statement="every component of the GAM block is needed: removing the gate, the convolution or the "
                             "memory raises the perplexity (Table 3)",
          source="Table 3 records, `results/<preset>/wikitext2/` (notebook 09)", paper_evidence=_paper_table3_text,
          rule=_loss_rule("full GAM's", "every ablation's"), judge=_ablation_findings),
    Claim(key="g", statement="the associative memory is global: it captures long-range, content-based context",
          source="`gamlib.memory_reach`, run live: receptive fields by perturbation (notebooks 03, 04, 11)",
          paper_evidence=_paper_probe_text,
          rule="GAM's receptive field at the last position covers the whole context (control: the Transformer's "
               "does)",
          judge=_reach_findings),
)}


# ---- the scorecard ------------------------------------------------------------------------------------

def combine(findings: list[dict]) -> str:
    """The row's verdict: the one verdict of every judged setting, or each verdict with its settings
    ("supported at A; contradicted at B, C"); NOT_TESTABLE when no setting could be judged."""
    judged = {}
    for f in findings:
        if f["verdict"] != NOT_TESTABLE:
            judged.setdefault(f["verdict"], []).append(f["setting"])
    if not judged:
        return NOT_TESTABLE
    if len(judged) == 1:
        return next(iter(judged))
    return "; ".join(f"{verdict} at {', '.join(settings)}" for verdict, settings in judged.items())


def untested_text(findings: list[dict]) -> str:
    """The settings not testable yet, grouped: 'paper/wikitext2: missing a, b; cpu/wikitext2: no records yet; ...'."""
    groups, loose = {}, []
    for f in findings:
        if f["verdict"] != NOT_TESTABLE:
            continue
        if "lacking" in f:
            items = groups.setdefault(f["where"], [])
            items += [item for item in f["lacking"] if item not in items]
        else:
            loose.append(f"{f['setting']}: {f['evidence']}")
    parts = [f"{where}: {'no records yet' if items == ['no records yet'] else 'missing ' + ', '.join(items)}"
             for where, items in groups.items()]
    return "; ".join(parts + loose)


def _reason(findings: list[dict]) -> str:
    judged = [f for f in findings if f["verdict"] != NOT_TESTABLE]
    parts = []
    if judged and len({f["verdict"] for f in judged}) == 1:
        parts.append(f"{judged[0]['verdict']} at {', '.join(f['setting'] for f in judged)}")
    untested = untested_text(findings)
    if untested:
        parts.append(f"not testable yet: {untested}")
    return ". ".join(parts)


def _as_list(given) -> list:
    """None, one dict or several: a list."""
    return [] if given is None else [given] if isinstance(given, dict) else list(given)


def scorecard(records: pd.DataFrame, scaling=None, reach=None, presets=SCORECARD_PRESETS,
              factor: float = SPREAD_FACTOR, margin: float = SPEED_MARGIN) -> pd.DataFrame:
    """One row per claim of the paper (CLAIMS, (a)-(g)): the paper's evidence, ours, the rule and the verdict.

    records: load_records' DataFrame (e.g. committed_records()); its LM runs, training benchmarks and scaling
    records of `presets` are used, whatever exists (a partly run study is judged where it can be and named
    where it cannot). scaling: further scaling records (one dict or a list; e.g. gamlib.run_scaling("quick")).
    reach: gamlib.memory_reach results (one dict or a list), for (g). factor: the spread rule's factor,
    margin: the benchmark rule's. Columns: claim, statement, paper_evidence, source, our_evidence, rule, verdict
    (VERDICTS, or which settings give which), reason, findings (one dict per setting: setting, verdict,
    evidence and the numbers the rule read).
    """
    presets = tuple(get_preset(p) for p in presets)
    inputs = Inputs(records=records, presets=presets, scaling=_scaling_records(records, _as_list(scaling), presets),
                    reach=tuple(_as_list(reach)), factor=factor, margin=margin)
    return pd.DataFrame([_row(claim, claim.judge(inputs)) for claim in CLAIMS.values()], columns=COLUMNS)


def _row(claim: Claim, findings: list[dict]) -> dict:
    judged = [f for f in findings if f["verdict"] != NOT_TESTABLE]
    return dict(claim=claim.key, statement=claim.statement, paper_evidence=claim.paper_evidence(),
                source=claim.source, our_evidence="\n".join(f"{f['setting']}: {f['evidence']}" for f in judged) or "—",
                rule=claim.rule, verdict=combine(findings), reason=_reason(findings), findings=findings)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def scorecard_markdown(card: pd.DataFrame) -> str:
    """The scorecard as a Markdown table: claim, the paper's evidence, ours (where it comes from, then one
    line per judged setting), and the verdict in bold with its rule and what is not testable yet."""
    lines = ["| | claim | the paper's evidence | our evidence | verdict |", "|---|---|---|---|---|"]
    for row in card.to_dict("records"):
        judged = [f for f in row["findings"] if f["verdict"] != NOT_TESTABLE]
        evidence = "<br>".join([f"*{_cell(row['source'])}*"]
                               + [_cell(f"{f['setting']}: {f['evidence']}") for f in judged])
        verdict = f"**{_cell(row['verdict'])}**. Rule: {_cell(row['rule'])}."
        untested = untested_text(row["findings"])
        if untested:
            verdict += f" Not testable yet: {_cell(untested)}."
        lines.append(f"| ({row['claim']}) | {_cell(row['statement'])} | {_cell(row['paper_evidence'])} | {evidence} "
                     f"| {verdict} |")
    return "\n".join(lines)


# ---- README.md's scorecard ----------------------------------------------------------------------------

def readme_table(presets=SCORECARD_PRESETS) -> str:
    """The Markdown table README.md shows: the committed records of `presets` and each preset's probe, run live
    (gamlib.memory_reach, seconds). tests/analysis/test_scorecard.py checks that README.md shows this."""
    card = scorecard(committed_records(), reach=[memory_reach(preset) for preset in presets], presets=presets)
    return scorecard_markdown(card)


def readme_block(text: str) -> str:
    """What README.md holds between its scorecard markers (ValueError when they are missing)."""
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {README_BEGIN} ... {README_END}")
    return text[start + len(README_BEGIN):end].strip("\n")


def put_readme_block(text: str, block: str) -> str:
    """README.md's text with `block` between its scorecard markers (ValueError when they are missing)."""
    readme_block(text)  # the markers exist
    start, end = text.find(README_BEGIN), text.find(README_END)
    return text[: start + len(README_BEGIN)] + "\n" + block + "\n" + text[end:]


def main(argv=None) -> int:
    """Print README.md's scorecard table, or with --readme write it into the checkout's README.md."""
    parser = argparse.ArgumentParser(description="The scorecard of README.md, from the committed records: every "
                                     "claim of the paper, its evidence and ours, and a verdict by a stated rule")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's scorecard instead of printing it")
    args = parser.parse_args(argv)
    if args.readme and project_root() is None:
        parser.error("--readme rewrites the README.md of a checkout; this gamlib is not run from one")
    table = readme_table()
    if not args.readme:
        print(table)
        return 0
    readme = project_root() / "README.md"
    text = readme.read_text(encoding="utf-8")
    try:
        new = put_readme_block(text, table)
    except ValueError as error:
        parser.error(str(error))
    if new == text:
        print("README.md's scorecard is up to date")
    else:
        readme.write_text(new, encoding="utf-8")
        print(f"wrote the scorecard into {readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
