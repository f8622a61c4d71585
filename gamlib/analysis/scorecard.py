"""The scorecard: each claim of the paper, the paper's evidence, ours, and a verdict computed by a stated rule.

    scorecard(records, scaling=None, reach=None, presets=("cpu", "paper"))   one row per claim, (a)-(g)
    scorecard_markdown(card)                                                  the table as Markdown (README)
    committed_records()                                                       the records committed with the project
    python -m gamlib.analysis.scorecard [--readme]   print README.md's table, or rewrite it there
                                                     (what scripts/scorecard.py runs)

Each claim is one `Claim` in CLAIMS: its statement, where our evidence comes from, the paper's evidence, the
rule (worded from the constants it applies), the judge that applies it and, for some, controls (comparisons
that do not decide the claim but bound what it means). A verdict is one of VERDICTS:
  supported      the paper's direction, beyond the spread
  not shown      the gap is within the spread (these runs do not show the effect, nor its opposite)
  contradicted   the opposite direction, beyond the spread
  not testable   runs missing (fewer than MIN_SEEDS seeds of a row)
or, when settings disagree, says which ("supported at paper/wikitext2; not shown at cpu/wikitext2"). Beside
each comparison of seeds: Welch's t-test p-value and the 95% interval of the difference (stats.welch), and the
paper's own effect. The spread rule corresponds to a Welch test at p ~ stats.spread_rule_p(MIN_SEEDS). Each comes
from records (and for (g) a receptive-field probe's result, gamlib.memory_reach) by the claim's rule; nothing in
a verdict is typed in. A *setting* is one place the rule can be applied: a preset and dataset (and the baseline
compared with, or the device), a scaling record, a probed shape. Settings whose records are missing are "not
testable yet", naming the runs of the study plan (gamlib.plan) not found; the row's verdict is built from the
settings that could be judged.

The rules (constants below; the spread rule is gamlib.analysis.stats.compare_to_spread, SPREAD_FACTOR):
  (a), (b)  GAM's fitted exponent b in time (memory) ~ T^b, from a scaling record (gamlib.run_scaling), fitted
            from T >= SCALING_FIT_FROM[device] (later on CUDA, where fixed costs weigh less) over at least
            MIN_FIT_POINTS lengths: supported when b < LINEAR_EXPONENT, contradicted when b >= QUADRATIC_EXPONENT
            (nearer quadratic), not shown between; the cost per token at the shortest and longest length beside it.
  (c)       training tokens/s of GAM full against each Transformer and Mamba row of the preset's Table 1, runs on
            one device: the spread rule on tokens_per_s (>= MIN_SEEDS seeds per row). A side-by-side training
            benchmark record (gamlib.run_training_benchmark) counts too: supported when GAM's tokens/s exceed the
            baseline's by more than SPEED_MARGIN, contradicted when they fall short by more (one run, no seeds).
            Fair baselines (FAIR_BASELINES: fused attention, the standard Mamba) come first. Mamba is judged
            only where it ran on FAST_MAMBA, its
            kernels: mambapy and recurrent are pure-PyTorch scans, far slower, so their speed says little about Mamba.
  (d), (e)  validation loss of GAM full against each Transformer (Mamba) row, the spread rule per preset and
            dataset. Control of (d): the context-free GAMs (global_only, receptive field 1; local_only) against
            the same Transformer: where they beat it too, the gap does not show that GAM uses context.
  (f)       validation loss of GAM full against each parameter-matched ablation (gamlib.plan
            MATCHED_ABLATION_VARIANTS), the spread rule: supported when the full block beats every one beyond the
            spread, contradicted when one beats it beyond the spread, else not shown. Control: the paper's
            unmatched ablations (ABLATION_VARIANTS), which have fewer parameters.
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
from .stats import SPREAD_FACTOR, compare_to_spread, seed_summary, spread_rule_p, welch
from .tables import scaling_frame, study_runs

SUPPORTED, NOT_SHOWN, CONTRADICTED, NOT_TESTABLE = "supported", "not shown", "contradicted", "not testable"
VERDICTS = (SUPPORTED, NOT_SHOWN, CONTRADICTED, NOT_TESTABLE)
LINEAR_EXPONENT = 1.3                     # b below this: linear-like (notebook 08's threshold)
QUADRATIC_EXPONENT = 1.7                  # b at or above this: nearer quadratic (2) than linear (1)
SCALING_FIT_FROM = {"cpu": 512, "cuda": 1024}
MIN_FIT_POINTS = 5                        # lengths an exponent is fitted over, at least
SPEED_MARGIN = 0.05                       # a single side-by-side benchmark: "faster" means by more than 5 %
FAST_MAMBA = "mamba_ssm"                  # the only Mamba backend whose speed is judged
MIN_SEEDS = 3                             # seeds per row for a verdict
FAIR_BASELINES = (("transformer", "sdpa"), ("mamba", "standard"))   # judged first
CONTEXT_FREE = (("gam", "global_only"), ("gam", "local_only"))      # (d)'s control: GAMs that read little context
SCORECARD_PRESETS = ("cpu", "paper")      # the committed studies
GAM = ("gam", "full")                     # the row every rule compares
COLUMNS = ["claim", "statement", "paper_evidence", "source", "our_evidence", "rule", "verdict", "notes", "reason",
           "findings", "controls"]
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
    rule: Callable[[], str]                    # the rule, worded from the constants it applies (SciPy: on call)
    judge: Callable[[Inputs], list[dict]]      # the rule applied: one finding per setting
    controls: Callable[[Inputs], list[dict]] | None = None   # comparisons that bound the verdict's meaning


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
    return (f"GAM's {what} exponent b, fitted from T >= {SCALING_FIT_FROM['cpu']} on a CPU, "
            f"{SCALING_FIT_FROM['cuda']} on CUDA, over >= {MIN_FIT_POINTS} lengths: supported when b < "
            f"{LINEAR_EXPONENT:g}, contradicted when b >= {QUADRATIC_EXPONENT:g}, not shown between")


def _spread_words() -> str:
    return (f"{SPREAD_FACTOR:g} x the pooled seed std (>= {MIN_SEEDS} seeds per row; at {MIN_SEEDS} seeds the rule is "
            f"a Welch test at p ~ {spread_rule_p(MIN_SEEDS):.2f})")


def _speed_rule() -> str:
    return (f"GAM's tokens/s against each baseline, fair ones first (runs on one device): supported when higher "
            f"by more than {_spread_words()}, contradicted when lower by more, not shown within; in a side-by-side "
            f"benchmark by more than {SPEED_MARGIN:.0%} either way; Mamba only on {FAST_MAMBA}")


def _loss_rule(whose: str, than: str, more: str = "") -> str:
    return (f"{whose} mean val loss against {than}: supported when lower by more than {_spread_words()}, "
            f"contradicted when higher by more, not shown within{more}")


def _reach_rule() -> str:
    return "GAM's receptive field at the last position covers the whole context (control: the Transformer's does)"


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
    """Two summary rows on `metric`: compare_to_spread's delta = b - a, pooled_std, threshold and exceeds, and
    Welch's p with the 95% interval (low, high) of delta."""
    pair = pd.DataFrame([a, b]).assign(label=["a", "b"])
    spread = compare_to_spread(pair, metric, label="label", factor=factor).iloc[0].to_dict()
    test = welch(*(row[key] for row in (a, b) for key in (f"{metric}_mean", f"{metric}_std", "n")))
    return {**spread, "p": float(test["p"]), "low": float(test["low"]), "high": float(test["high"])}


def _verdict(delta: float, exceeds: bool, want: int) -> str:
    """want = -1 (the claim: lower) or +1 (higher): SUPPORTED beyond the spread in that direction, CONTRADICTED
    beyond it in the other, NOT_SHOWN within it."""
    if not exceeds:
        return NOT_SHOWN
    return SUPPORTED if delta * want > 0 else CONTRADICTED


def _test_text(cmp: dict, digits: int) -> str:
    return f"95% CI [{cmp['low']:+,.{digits}f}, {cmp['high']:+,.{digits}f}], Welch p = {cmp['p']:.3f}"


def _fair_first(rows) -> list:
    return sorted(rows, key=lambda m: m not in FAIR_BASELINES)


def _mean_std(row: dict, metric: str, digits: int) -> str:
    std = row.get(f"{metric}_std")
    text = f"{row[f'{metric}_mean']:,.{digits}f}"
    return text if std is None or pd.isna(std) else f"{text} ± {std:,.{digits}f}"


def _finding(setting: str, verdict: str, evidence: str, **numbers) -> dict:
    return dict(setting=setting, verdict=verdict, evidence=evidence, **numbers)


def _untested(setting: str, where: str, summary: dict, rows, seeds, so_far=None, factor: float = SPREAD_FACTOR
              ) -> dict:
    """A NOT_TESTABLE finding naming what is missing. so_far = (words(gam, other), metric, want): what the seeds
    there show; when they point against the claim by more than `factor` x the std of a row that has a spread,
    the finding's `against` says so (the headline names it: settings disagree, though this one is not judged)."""
    if not summary:
        return _finding(setting, NOT_TESTABLE, "missing no records yet", where=where, lacking=["no records yet"])
    lacking = _lacking(summary, rows, seeds)
    gam, other = summary.get(rows[0]), summary.get(rows[1])
    against = None
    if so_far and gam is not None and other is not None:
        words, metric, want = so_far
        lacking[-1] += f" (so far: {words(gam, other)})"
        delta = gam[f"{metric}_mean"] - other[f"{metric}_mean"]
        spread = max((r[f"{metric}_std"] for r in (gam, other) if pd.notna(r[f"{metric}_std"])), default=math.nan)
        if delta * want < 0 and abs(delta) > factor * spread:
            against = (f"{setting}: {words(gam, other)} with n = {gam['n']} and {other['n']} seeds, beyond "
                       f"{factor:g} x the std {spread:.4g} of the row that has a spread")
    return _finding(setting, NOT_TESTABLE, "missing " + "; ".join(lacking), where=where, lacking=lacking,
                    against=against)


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
    rows = scaling_frame(record)
    fits = scaling_exponents(rows, min_seq_len=start).set_index("series")
    setting = f"{record['preset']} scaling record ({record['provenance']['device']})"
    b = fits[value].get("gam full", math.nan)
    points = int(fits["points"].get("gam full", 0))
    if pd.isna(b) or points < MIN_FIT_POINTS:
        return _finding(setting, NOT_TESTABLE, f"GAM has {points} usable lengths from T >= {start}; the fit needs "
                        f"{MIN_FIT_POINTS} (measure more lengths: gamlib.plan.scaling_lengths)")
    verdict = (SUPPORTED if b < LINEAR_EXPONENT else CONTRADICTED if b >= QUADRATIC_EXPONENT else NOT_SHOWN)
    series = [f"{name} b = {fits.loc[name, value]:.2f}{_per_token_text(rows, name, value, start)}"
              for name in fits.index if pd.notna(fits.loc[name, value])]
    evidence = f"from T = {fits.loc['gam full', 'lengths']} ({points} lengths): " + "; ".join(series)
    return _finding(setting, verdict, evidence, exponent=b, threshold=LINEAR_EXPONENT, preset=record["preset"],
                    device=device, fit_from=start, points=points)


def _per_token_text(rows: pd.DataFrame, series: str, value: str, start: int) -> str:
    """' (0.012 -> 0.015 ms per token, T = 512 -> 4096)': one series' cost per token at its shortest and longest
    measured length from `start`, which a fitted exponent alone hides (b > 1 with a flat cost per token is fixed
    costs fading, not a superlinear law)."""
    column, unit = ("median_ms", "ms") if value == "time_exponent" else ("peak_mb", "MB")
    ok = rows[(rows["series"] == series) & (rows["status"] == "ok") & (rows["seq_len"] >= start)]
    first, last = ok.loc[ok["seq_len"].idxmin()], ok.loc[ok["seq_len"].idxmax()]
    per = [r[column] / r["seq_len"] for r in (first, last)]
    return f" ({per[0]:.3g} -> {per[1]:.3g} {unit} per token, T = {first['seq_len']} -> {last['seq_len']})"


# ---- (c): training speed ------------------------------------------------------------------------------

def _speed_findings(inputs: Inputs) -> list[dict]:
    """(c): GAM full's training tokens/s against each baseline of the preset's Table 1, from a GPU study's runs
    (on one device) and from the preset's side-by-side training benchmarks."""
    findings = []
    for preset in inputs.presets:
        baselines = _fair_first(m for m in table1_models(preset) if m != GAM)
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
        return [_untested(setting, where, summary, rows, seeds, (_speed_so_far, "tokens_per_s", +1), factor)]
    return [_finding(setting, NOT_TESTABLE, f"no one device holds >= {MIN_SEEDS} seeds of both rows "
                     f"(devices: {', '.join(devices)})")]


def _speed_so_far(gam: dict, other: dict) -> str:
    return f"GAM x{gam['tokens_per_s_mean'] / other['tokens_per_s_mean']:.3f} its tokens/s"


def _speed_pair(setting: str, gam: dict, other: dict, factor: float) -> dict:
    """GAM full vs one baseline on tokens_per_s, runs on one device."""
    ratio = gam["tokens_per_s_mean"] / other["tokens_per_s_mean"]
    cmp = _compare(other, gam, "tokens_per_s", factor)   # delta = GAM - baseline
    verdict = _verdict(cmp["delta"], cmp["exceeds"], +1)
    how = {SUPPORTED: "GAM faster beyond the spread", CONTRADICTED: "GAM slower beyond the spread",
           NOT_SHOWN: "within the spread"}[verdict]
    paper = _paper_speed_ratio(gam["dataset"], other["model"])
    evidence = (f"GAM full {_mean_std(gam, 'tokens_per_s', 0)} tok/s (n={gam['n']}) vs "
                f"{_name(other['model'], other['variant'])} {_mean_std(other, 'tokens_per_s', 0)} (n={other['n']}): "
                f"x{ratio:.3f}, Δ {cmp['delta']:+,.0f} tok/s, {_test_text(cmp, 0)}, {factor:g} × pooled std "
                f"{cmp['threshold']:,.0f}, {how}" + (f"; the paper: x{paper:.3f}" if pd.notna(paper) else ""))
    return _finding(setting, verdict, evidence, metric="tokens_per_s", delta=cmp["delta"], ratio=ratio,
                    threshold=cmp["threshold"], exceeds=bool(cmp["exceeds"]), n=(int(gam["n"]), int(other["n"])),
                    p=cmp["p"], low=cmp["low"], high=cmp["high"], relative=(ratio - 1, cmp["low"] /
                    other["tokens_per_s_mean"], cmp["high"] / other["tokens_per_s_mean"]),
                    paper_relative=paper - 1)


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
        others.sort(key=lambda r: (r["model"], r["variant"]) not in FAIR_BASELINES)
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
    verdict = _verdict(ratio - 1, abs(ratio - 1) > margin, +1)
    how = {SUPPORTED: f"above x{1 + margin:.2f}", CONTRADICTED: f"below x{1 - margin:.2f}",
           NOT_SHOWN: f"within x{1 - margin:.2f}..x{1 + margin:.2f}"}[verdict]
    paper = _paper_speed_ratio("wikitext2", model)
    evidence = (f"one side-by-side run at the preset's shape: GAM full {gam['tokens_per_s']:,.0f} tok/s vs "
                f"{_name(model, variant)} {other['tokens_per_s']:,.0f}: x{ratio:.3f}, {how}"
                + (f"; the paper (WikiText-2): x{paper:.3f}" if pd.notna(paper) else ""))
    return _finding(setting, verdict, evidence, metric="benchmark_tokens_per_s", ratio=ratio, margin=margin,
                    preset=preset.name, versus=(model, variant), device=device, relative=(ratio - 1,) * 3,
                    paper_relative=paper - 1)


def _paper_speed_ratio(dataset: str, model: str) -> float:
    """The paper's GAM tokens/s over `model`'s (its Transformer, its Mamba): seconds per epoch, inverted; NaN
    where it ran no such model."""
    seconds = PAPER_TABLE1[PAPER_TABLE1["dataset"] == dataset].set_index("model")["seconds_per_epoch"]
    return seconds[model] / seconds["gam"] if model in seconds else math.nan


def _paper_loss_delta(dataset: str, model: str, variant: str) -> float:
    """The paper's GAM full minus `model` (its Table 1 row of that model, or its Table 3 row of that variant,
    '_matched' dropped) in nats, ln(PPL ratio); NaN where it reports no such row."""
    if model == "gam":
        ppl = PAPER_TABLE3.set_index("variant")["val_ppl"]
        other = variant.removesuffix("_matched")
        return math.log(ppl["full"] / ppl[other]) if dataset == "wikitext2" and other in ppl else math.nan
    ppl = PAPER_TABLE1[PAPER_TABLE1["dataset"] == dataset].set_index("model")["val_ppl"]
    return math.log(ppl["gam"] / ppl[model]) if model in ppl else math.nan


# ---- (d), (e), (f): validation loss -------------------------------------------------------------------

def _loss_findings(inputs: Inputs, baseline: str) -> list[dict]:
    """(d) baseline='transformer', (e) 'mamba': GAM full against each such row of the preset's Table 1, per
    dataset, on val_loss."""
    findings = []
    for preset in inputs.presets:
        rows = _fair_first(m for m in table1_models(preset) if m[0] == baseline)
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
        return _untested(setting, where, summary, rows, seeds, (_loss_so_far, "val_loss", -1), factor)
    gam = summary[GAM]
    verdict, evidence, numbers = _loss_pair(gam, summary[versus], factor)
    return _finding(setting, verdict, f"{_gam_text(gam)} vs {evidence}", preset=preset.name, dataset=dataset,
                    versus=versus, **numbers)


def _loss_pair(gam: dict, other: dict, factor: float) -> tuple[str, str, dict]:
    """`gam` vs one row on val_loss: (verdict, evidence, numbers); Δ = gam - other (negative: gam lower). `gam` is
    GAM full for the claims, a context-free GAM for (d)'s control."""
    cmp = _compare(other, gam, "val_loss", factor)
    verdict = _verdict(cmp["delta"], cmp["exceeds"], -1)
    who = "GAM" if (gam["model"], gam["variant"]) == GAM else _name(gam["model"], gam["variant"])
    how = {SUPPORTED: f"{who} lower beyond the spread", CONTRADICTED: f"{who} higher beyond the spread",
           NOT_SHOWN: "within the spread"}[verdict]
    paper = _paper_loss_delta(gam["dataset"], other["model"], other["variant"]) if who == "GAM" else math.nan
    evidence = (f"{_name(other['model'], other['variant'])} {_mean_std(other, 'val_loss', 4)} "
                f"(PPL {other['val_ppl_mean']:,.1f}, n={other['n']}): Δ {cmp['delta']:+.4f}, {_test_text(cmp, 4)}, "
                f"{factor:g} × pooled std {cmp['threshold']:.4f}, {how}"
                + (f"; the paper: Δ {paper:+.4f}" if pd.notna(paper) else ""))
    numbers = dict(metric="val_loss", delta=cmp["delta"], threshold=cmp["threshold"], exceeds=bool(cmp["exceeds"]),
                   n=(int(gam["n"]), int(other["n"])), p=cmp["p"], low=cmp["low"], high=cmp["high"],
                   paper_delta=paper)
    return verdict, evidence, numbers


def _gam_text(gam: dict) -> str:
    who = _name(gam["model"], gam["variant"]).replace("gam full", "GAM full")
    return (f"{who} {_mean_std(gam, 'val_loss', 4)} nats (PPL {gam['val_ppl_mean']:,.1f}, n={gam['n']}, "
            f"{gam['device']})")


def _loss_so_far(gam: dict, other: dict) -> str:
    return f"Δ {gam['val_loss_mean'] - other['val_loss_mean']:+.4f} nats"


def _one_seed_by_plan(where: str, summary: dict, baselines) -> dict:
    """A NOT_TESTABLE finding for a cell the study plan trains with one seed: no spread to judge a gap by."""
    gam = summary.get(GAM)
    so_far = [f"{_name(*pair)} {_loss_so_far(gam, summary[pair])}" for pair in baselines
              if gam is not None and pair in summary]
    return _finding(where, NOT_TESTABLE, f"the study plan trains one seed here (gamlib.plan.planned_seeds) and a "
                    f"verdict needs {MIN_SEEDS}" + (f" (so far: {'; '.join(so_far)})" if so_far else ""))


def _ablation_findings(inputs: Inputs, table: str = "table3_matched") -> list[dict]:
    """(f): one finding per preset: full GAM against each ablation of `table` on WikiText-2 (the parameter-matched
    ones decide; the paper's unmatched ones are (f)'s control)."""
    return [_ablation_finding(inputs.records, preset, inputs.factor, table) for preset in inputs.presets]


def _ablation_finding(records: pd.DataFrame, preset: Preset, factor: float, table: str) -> dict:
    """(f) at one preset: contradicted when an ablation beats full GAM beyond the spread, supported when full GAM
    beats every one beyond it, not shown otherwise; not testable while a pair lacks seeds (so far: what there is)."""
    where, seeds = f"{preset.name}/wikitext2", planned_seeds(preset, table, "wikitext2")
    setting = where if table == "table3_matched" else f"{where}, unmatched"
    ablations = [m for m in table_rows(preset, table) if m != GAM]
    summary = _summaries(study_runs(records, table, [preset.name], "wikitext2"), ("val_loss", "val_ppl"))
    pairs = {key: _loss_pair(summary[GAM], summary[key], factor) for key in ablations
             if not _lacking(summary, [GAM, key], seeds)}
    verdicts = {verdict for verdict, _, _ in pairs.values()}
    if CONTRADICTED not in verdicts and len(pairs) < len(ablations):
        untested = _untested(setting, where, summary, [GAM, *ablations], seeds)
        if pairs:
            untested["evidence"] += "; so far: " + "; ".join(e for _, e, _ in pairs.values())
        return untested
    lacking = _lacking(summary, [GAM, *ablations], seeds)
    evidence = (f"{_gam_text(summary[GAM])} vs " + "; vs ".join(e for _, e, _ in pairs.values())
                + (f"; missing {', '.join(lacking)}" if lacking else ""))
    verdict = CONTRADICTED if CONTRADICTED in verdicts else SUPPORTED if verdicts == {SUPPORTED} else NOT_SHOWN
    return _finding(setting, verdict, evidence, preset=preset.name, dataset="wikitext2",
                    pairs={key: {"verdict": v, **numbers} for key, (v, _, numbers) in pairs.items()})


def _unmatched_ablation_controls(inputs: Inputs) -> list[dict]:
    """(f)'s control: the paper's Table 3 ablations, which have fewer parameters than full GAM."""
    findings = _ablation_findings(inputs, "table3")
    for f in findings:
        if f["verdict"] != NOT_TESTABLE:
            f["note"] = f"with fewer parameters than full GAM (the paper's unmatched ablations): {f['verdict']} at " \
                        f"{f['setting'].removesuffix(', unmatched')}"
    return findings


def _context_controls(inputs: Inputs) -> list[dict]:
    """(d)'s control: each context-free GAM (CONTEXT_FREE) against each Transformer row, on WikiText-2 (Table 3
    runs): where one beats the Transformer too, (d)'s gap does not show that GAM uses context."""
    findings = []
    for preset in inputs.presets:
        where, seeds = f"{preset.name}/wikitext2", planned_seeds(preset, "table3", "wikitext2")
        runs = pd.concat([study_runs(inputs.records, t, [preset.name], "wikitext2") for t in ("table1", "table3")])
        summary = _summaries(runs.drop_duplicates("path") if len(runs) else runs, ("val_loss", "val_ppl"))
        for versus in _fair_first(m for m in table1_models(preset) if m[0] == "transformer"):
            pairs = []
            for free in (m for m in CONTEXT_FREE if summary and not _lacking(summary, [m, versus], seeds)):
                verdict, evidence, numbers = _loss_pair(summary[free], summary[versus], factor=inputs.factor)
                pairs.append(_finding(f"{where}: {_name(*free)} vs {_name(*versus)}", verdict,
                                      f"{_gam_text(summary[free])} vs {evidence}", free=free, versus=versus,
                                      preset=preset.name, **numbers))
            beat = [_name(*f["free"]) for f in pairs if f["verdict"] == SUPPORTED]
            if beat:  # one note per Transformer row
                pairs[-1]["note"] = (f"GAMs that read no context beyond a few tokens ({', '.join(beat)}) also beat "
                                     f"{_name(*versus)} at {where} beyond the spread: there (d)'s gap does not show "
                                     "that GAM uses context")
            findings += pairs
    return findings


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
          rule=partial(_exponent_rule, "time"), judge=partial(_scaling_findings, value="time_exponent")),
    Claim(key="b", statement="GAM's memory grows linearly with the sequence length",
          source=SCALING_SOURCE, paper_evidence=partial(_paper_table2_text, "memory_exponent", "peak-memory"),
          rule=partial(_exponent_rule, "peak-memory"), judge=partial(_scaling_findings, value="memory_exponent")),
    Claim(key="c", statement="GAM trains faster per epoch than the Transformer and Mamba",
          source="training tokens/s of the Table 1 records, `results/<preset>/<dataset>/` (notebook 07), and "
                 "training benchmarks, `results/<preset>/benchmarks/`",
          paper_evidence=partial(_paper_table1_text, "seconds_per_epoch", None),
          rule=_speed_rule, judge=_speed_findings),
    Claim(key="d", statement="GAM reaches a lower validation perplexity than the Transformer",
          source=TABLE1_SOURCE, paper_evidence=partial(_paper_table1_text, "val_ppl", "transformer"),
          rule=partial(_loss_rule, "GAM's", "the Transformer's",
                       "; control: the context-free GAMs (global_only, local_only) against the same Transformer"),
          judge=partial(_loss_findings, baseline="transformer"), controls=_context_controls),
    Claim(key="e", statement="GAM reaches a lower validation perplexity than Mamba",
          source=TABLE1_SOURCE, paper_evidence=partial(_paper_table1_text, "val_ppl", "mamba"),
          rule=partial(_loss_rule, "GAM's", "Mamba's"), judge=partial(_loss_findings, baseline="mamba")),
    Claim(key="f", statement="every component of the GAM block is needed: removing the gate, the convolution or the "
                             "memory raises the perplexity (Table 3)",
          source="Table 3 records, parameter-matched and the paper's, `results/<preset>/wikitext2/` (notebook 09)",
          paper_evidence=_paper_table3_text,
          rule=partial(_loss_rule, "full GAM's", "each parameter-matched ablation's (FFN widened to full GAM's "
                       "parameters)", "; supported when every ablation is beaten; control: the paper's unmatched "
                       "ablations"),
          judge=_ablation_findings, controls=_unmatched_ablation_controls),
    Claim(key="g", statement="the associative memory is global: it captures long-range, content-based context",
          source="`gamlib.memory_reach`, run live: receptive fields by perturbation (notebooks 03, 04, 11)",
          paper_evidence=_paper_probe_text,
          rule=_reach_rule,
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
    (VERDICTS, or which settings give which), notes (settings that point the other way before they can be judged,
    what the controls show), reason, findings (one dict per setting: setting, verdict, evidence and the numbers
    the rule read: delta, p, the interval low..high, the paper's effect), controls (findings of the same form
    that do not decide the verdict).
    """
    presets = tuple(get_preset(p) for p in presets)
    inputs = Inputs(records=records, presets=presets, scaling=_scaling_records(records, _as_list(scaling), presets),
                    reach=tuple(_as_list(reach)), factor=factor, margin=margin)
    return pd.DataFrame([_row(claim, inputs) for claim in CLAIMS.values()], columns=COLUMNS)


def _row(claim: Claim, inputs: Inputs) -> dict:
    findings = claim.judge(inputs)
    controls = claim.controls(inputs) if claim.controls else []
    judged = [f for f in findings if f["verdict"] != NOT_TESTABLE]
    shown = [f"{f['setting']}: {f['evidence']}" for f in judged]
    shown += [f"control, {f['setting']}: {f['evidence']}" for f in controls if f["verdict"] != NOT_TESTABLE]
    return dict(claim=claim.key, statement=claim.statement, paper_evidence=claim.paper_evidence(),
                source=claim.source, our_evidence="\n".join(shown) or "—", rule=claim.rule(), verdict=combine(findings),
                notes=notes_text(findings, controls), reason=_reason(findings), findings=findings, controls=controls)


def notes_text(findings: list[dict], controls: list[dict]) -> str:
    """What a verdict alone hides: settings not judged yet whose seeds point the other way, and what the
    controls show."""
    against = [f["against"] for f in findings if f.get("against")]
    notes = [f"the other way so far (not judged: too few seeds) at {'; '.join(against)}"] if against else []
    return "; ".join(notes + [f["note"] for f in controls if f.get("note")])


def forest_rows(card: pd.DataFrame) -> pd.DataFrame:
    """Every judged comparison of seeds in a scorecard, one row each, for a forest plot: claim, label, scale
    ('val loss' in nats, GAM - baseline; 'speed', GAM's tokens/s over the baseline's - 1), delta, low, high
    (the 95% interval; equal to delta for a single benchmark run), paper (the paper's effect on the same
    scale, NaN where it has none), verdict, control (True: does not decide the claim)."""
    rows = []
    for claim, findings, controls in zip(card["claim"], card["findings"], card["controls"]):
        for control, group in ((False, findings), (True, controls)):
            for f in (f for f in group if f["verdict"] != NOT_TESTABLE):
                rows += _forest_entries(claim, f, control)
    return pd.DataFrame(rows, columns=["claim", "label", "scale", "delta", "low", "high", "paper", "verdict",
                                       "control"])


def _forest_entries(claim: str, f: dict, control: bool) -> list[dict]:
    """forest_rows' rows of one finding: its comparison, or each pair of an ablation finding."""
    if "relative" in f:
        delta, low, high = f["relative"]
        return [dict(claim=claim, label=f["setting"], scale="speed", delta=delta, low=low, high=high,
                     paper=f["paper_relative"], verdict=f["verdict"], control=control)]
    if "pairs" in f:
        return [dict(claim=claim, label=f"{f['setting']}: {_name(*key)}", scale="val loss", delta=n["delta"],
                     low=n["low"], high=n["high"], paper=n["paper_delta"], verdict=n["verdict"], control=control)
                for key, n in f["pairs"].items()]
    if "low" in f:
        return [dict(claim=claim, label=f["setting"], scale="val loss", delta=f["delta"], low=f["low"],
                     high=f["high"], paper=f["paper_delta"], verdict=f["verdict"], control=control)]
    return []


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
        verdict = f"**{_cell(row['verdict'])}**" + (f" ({_cell(row['notes'])})" if row["notes"] else "")
        verdict += f". Rule: {_cell(row['rule'])}."
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
