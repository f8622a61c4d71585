"""The scorecard: each claim of the paper, the paper's evidence, ours, and a verdict computed by a stated rule.

    scorecard(records, scaling=None, reach=None, presets=("cpu", "paper"))   one row per claim, (a)-(g)
    scorecard_markdown(card)                                                  the table as Markdown (README)
    committed_records()                                                       the records committed with the project

A verdict is one of VERDICTS, or, when settings disagree, says which ("supported at paper/wikitext2;
contradicted at cpu/wikitext2"). Each comes from records (and for (g) a receptive-field probe's result,
gamlib.memory_reach) by the rule in its row; nothing in a verdict is typed in. A *setting* is one place
the rule can be applied: a preset and dataset (and the baseline compared with, or the device), a scaling
record, a probed shape. Settings whose records are missing are "not testable yet", naming what is missing;
the row's verdict is built from the settings that could be judged.

The rules (constants below):
  (a), (b)  GAM's fitted exponent b in time (memory) ~ T^b, from a scaling record (gamlib.run_scaling), fitted
            from T >= SCALING_FIT_FROM[device] (512 on a CPU, 1024 on CUDA, where fixed costs weigh less):
            supported when b < LINEAR_EXPONENT (1.3), else contradicted.
  (c)       training tokens/s of GAM full against each Transformer and Mamba row of the preset's Table 1, runs on
            one device: gamlib.compare_to_spread on tokens_per_s (>= 2 seeds per row): supported when GAM is
            faster beyond the seed spread, else contradicted. A side-by-side training benchmark record
            (gamlib.run_training_benchmark) counts too: supported when GAM's tokens/s exceed the baseline's by
            more than SPEED_MARGIN (one run, no seeds). Mamba is judged only where it ran on the mamba_ssm
            kernels: mambapy and recurrent are pure-PyTorch scans, far slower, so their speed says little about Mamba.
  (d), (e)  validation loss of GAM full against each Transformer (Mamba) row, compare_to_spread per preset and
            dataset: supported when GAM's mean is lower beyond the spread; contradicted when it is higher beyond
            it or the gap is within it (the claimed advantage does not show in these runs).
  (f)       validation loss of GAM full against each Table 3 ablation, compare_to_spread: supported when the full
            block beats all three beyond the spread; contradicted when any ablation is not beaten beyond it.
  (g)       the probe of a preset's shape: contradicted when GAM's prediction at the last position depends on
            fewer positions than the context holds (its receptive field, with the Transformer, which must see
            the whole context, as the control); supported when it depends on all of them; not testable when the
            control fails.
"""
from __future__ import annotations

import math

import pandas as pd

from ..paths import committed_results_dir
from ..plan import TABLE1_DATASETS, planned_seeds, table1_models
from ..presets import get_preset
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
SCORECARD_PRESETS = ("cpu", "paper")      # the committed studies

CLAIMS = {
    "a": "GAM's time grows linearly with the sequence length (O(N))",
    "b": "GAM's memory grows linearly with the sequence length",
    "c": "GAM trains faster per epoch than the Transformer and Mamba",
    "d": "GAM reaches a lower validation perplexity than the Transformer",
    "e": "GAM reaches a lower validation perplexity than Mamba",
    "f": "every component of the GAM block is needed: removing the gate, the convolution or the memory "
         "raises the perplexity (Table 3)",
    "g": "the associative memory is global: it captures long-range, content-based context",
}
SOURCES = {  # where our evidence comes from (records, notebooks)
    "a": "scaling records, `results/<preset>/scaling/` (notebook 08)",
    "b": "scaling records, `results/<preset>/scaling/` (notebook 08)",
    "c": "training tokens/s of the Table 1 records, `results/<preset>/<dataset>/` (notebook 07), and "
         "training benchmarks, `results/<preset>/benchmarks/`",
    "d": "Table 1 records, `results/<preset>/<dataset>/` (notebook 07)",
    "e": "Table 1 records, `results/<preset>/<dataset>/` (notebook 07)",
    "f": "Table 3 records, `results/<preset>/wikitext2/` (notebook 09)",
    "g": "`gamlib.memory_reach`, run live: receptive fields by perturbation (notebooks 03, 04, 11)",
}
COLUMNS = ["claim", "statement", "paper_evidence", "source", "our_evidence", "rule", "verdict", "reason",
           "findings"]


def committed_records() -> pd.DataFrame:
    """load_records of the project's own results/ folder (gamlib.paths.committed_results_dir), whatever
    $GAMLIB_RESULTS_DIR says: the records the scorecard in README.md is built from."""
    return load_records(committed_results_dir())


# ---- the paper's evidence, from gamlib.analysis.paper (typed there, once) ---------------------------------

def _name(model: str, variant: str) -> str:
    return f"{model} {variant}"


def _paper_table2_text(value: str, what: str) -> str:
    rows = paper_table2_rows()
    exponents = scaling_exponents(rows, min_seq_len=1024).set_index("series")[value]
    oom = rows[(rows["series"] == "transformer naive") & (rows["status"] == "oom")]["seq_len"]
    return (f"Table 2 (one block, GPU, fp16, T = {rows['seq_len'].min()}..{rows['seq_len'].max()}): {what} "
            f"exponent from T >= 1024 b = {exponents['gam full']:.2f} for GAM, {exponents['transformer naive']:.2f} "
            f"for the (naive) Transformer, which runs out of memory from T = {oom.min()} (single runs)")


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


PAPER_EVIDENCE = {
    "a": lambda: _paper_table2_text("time_exponent", "time"),
    "b": lambda: _paper_table2_text("memory_exponent", "peak-memory"),
    "c": lambda: _paper_table1_text("seconds_per_epoch", None),
    "d": lambda: _paper_table1_text("val_ppl", "transformer"),
    "e": lambda: _paper_table1_text("val_ppl", "mamba"),
    "f": _paper_table3_text,
    "g": lambda: "none measured: the memory is called global by design; no test of what a prediction depends on",
}


# ---- rules -------------------------------------------------------------------------------------------

RULES = {
    "a": f"GAM's time exponent b (fit from T >= 512 on a CPU, 1024 on CUDA) < {LINEAR_EXPONENT:g}",
    "b": f"GAM's peak-memory exponent b (fit from T >= 512 on a CPU, 1024 on CUDA) < {LINEAR_EXPONENT:g}",
    "c": f"GAM's tokens/s above each baseline's by more than {SPREAD_FACTOR:g} x the pooled seed std (runs on one "
         f"device, >= 2 seeds), or by more than {SPEED_MARGIN:.0%} in a side-by-side benchmark; Mamba only on "
         f"{FAST_MAMBA}",
    "d": f"GAM's mean val loss below the Transformer's by more than {SPREAD_FACTOR:g} x the pooled seed std "
         "(>= 2 seeds per row)",
    "e": f"GAM's mean val loss below Mamba's by more than {SPREAD_FACTOR:g} x the pooled seed std (>= 2 seeds per row)",
    "f": f"full GAM's mean val loss below every ablation's by more than {SPREAD_FACTOR:g} x the pooled seed std "
         "(>= 2 seeds per row)",
    "g": "GAM's receptive field at the last position covers the whole context (control: the Transformer's does)",
}


def _summaries(runs: pd.DataFrame, metrics) -> dict:
    """{(model, variant): seed_summary row as a dict} for the runs given (any number of seeds)."""
    if runs.empty:
        return {}
    summary = seed_summary(runs, [m for m in metrics if m in runs])
    return {(r["model"], r["variant"]): r for r in summary.to_dict("records")}


def _lacking(summary: dict, rows, preset: str, dataset: str = "wikitext2") -> list[str]:
    """'model variant seeds ...' (the planned seeds not found) for each row with fewer than 2 seeds."""
    out = []
    for model, variant in rows:
        have = summary.get((model, variant), {}).get("seeds", ())
        if len(have) < 2:
            lacking = [str(s) for s in planned_seeds(get_preset(preset), "table1", dataset) if s not in have]
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


def _untested(setting: str, where: str, summary: dict, rows, preset: str, so_far=None,
              dataset: str = "wikitext2") -> dict:
    """A NOT_TESTABLE finding naming what is missing; `so_far(gam, other)` words what one seed shows."""
    if not summary:
        lacking = ["no records yet"]
    else:
        lacking = _lacking(summary, rows, preset, dataset)
        gam, other = summary.get(rows[0]), summary.get(rows[1])
        if so_far and gam is not None and other is not None:
            lacking[-1] += f" (so far: {so_far(gam, other)})"
    return _finding(setting, NOT_TESTABLE, "missing " + "; ".join(lacking), where=where, lacking=lacking)


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


def _loss_findings(records, presets, baselines, factor: float) -> list[dict]:
    """(d), (e): GAM full against each Transformer (Mamba) row of the preset's Table 1, per dataset, on val_loss."""
    findings = []
    for preset in presets:
        settings = get_preset(preset)
        for dataset in TABLE1_DATASETS:
            where = f"{settings.name}/{dataset}"
            summary = _summaries(study_runs(records, "table1", [settings.name], dataset), ("val_loss", "val_ppl"))
            if len(planned_seeds(settings, "table1", dataset)) < 2:
                findings.append(_one_seed_by_plan(where, summary, baselines(settings)))
                continue
            for model, variant in baselines(settings):
                rows = [("gam", "full"), (model, variant)]
                setting = f"{where} vs {_name(model, variant)}"
                if _lacking(summary, rows, settings.name, dataset) or not summary:
                    findings.append(_untested(setting, where, summary, rows, settings.name, _loss_so_far, dataset))
                    continue
                gam = summary[("gam", "full")]
                verdict, evidence, numbers = _loss_pair(gam, summary[(model, variant)], factor)
                findings.append(_finding(setting, verdict, f"{_gam_text(gam)} vs {evidence}", preset=settings.name,
                                         dataset=dataset, versus=(model, variant), **numbers))
    return findings


def _one_seed_by_plan(where: str, summary: dict, baselines) -> dict:
    """A NOT_TESTABLE finding for a cell the study plan trains with one seed: no spread to judge a gap by."""
    gam = summary.get(("gam", "full"))
    so_far = [f"{_name(*pair)} {_loss_so_far(gam, summary[pair])}" for pair in baselines
              if gam is not None and pair in summary]
    return _finding(where, NOT_TESTABLE, "the study plan trains one seed here (gamlib.plan.planned_seeds) and the "
                    "spread rule needs two" + (f" (so far: {'; '.join(so_far)})" if so_far else ""))


ABLATIONS = (("gam", "global_only"), ("gam", "sum_fusion"), ("gam", "local_only"))


def _ablation_findings(records, presets, factor: float) -> list[dict]:
    """(f): one finding per preset: full GAM against global_only, sum_fusion and local_only on WikiText-2."""
    findings = []
    for preset in presets:
        name = get_preset(preset).name
        where = f"{name}/wikitext2"
        summary = _summaries(study_runs(records, "table3", [name], "wikitext2"), ("val_loss", "val_ppl"))
        pairs = {key: _loss_pair(summary[("gam", "full")], summary[key], factor) for key in ABLATIONS
                 if not _lacking(summary, [("gam", "full"), key], name)}
        verdicts = [verdict for verdict, _, _ in pairs.values()]
        if CONTRADICTED in verdicts:
            verdict = CONTRADICTED
        elif len(pairs) == len(ABLATIONS):
            verdict = SUPPORTED
        else:
            untested = _untested(where, where, summary, [("gam", "full"), *ABLATIONS], name)
            if pairs:
                untested["evidence"] += "; so far: " + "; ".join(e for _, e, _ in pairs.values())
            findings.append(untested)
            continue
        lacking = _lacking(summary, [("gam", "full"), *ABLATIONS], name)
        evidence = (f"{_gam_text(summary[('gam', 'full')])} vs " + "; vs ".join(e for _, e, _ in pairs.values())
                    + (f"; missing {', '.join(lacking)}" if lacking else ""))
        findings.append(_finding(where, verdict, evidence, preset=name, dataset="wikitext2",
                                 pairs={key: {"verdict": v, **numbers} for key, (v, _, numbers) in pairs.items()}))
    return findings


def _speed_so_far(gam: dict, other: dict) -> str:
    return f"GAM x{gam['tokens_per_s_mean'] / other['tokens_per_s_mean']:.3f} its tokens/s"


def _speed_findings(records, presets, factor: float, margin: float) -> list[dict]:
    """(c): GAM full's training tokens/s against each baseline of the preset's Table 1, runs on one device."""
    findings = []
    for preset in presets:
        settings = get_preset(preset)
        baselines = [m for m in table1_models(settings) if m[0] != "gam"]
        if settings.hardware == "cpu":
            slow = [_name(*m) for m in baselines if m[0] == "mamba"]
            if slow:
                findings.append(_finding(f"{settings.name} vs {', '.join(slow)}", NOT_TESTABLE,
                                         f"a CPU runs Mamba on a pure-PyTorch scan, never {FAST_MAMBA}: its speed is not judged"))
            # a CPU study's runs share the machine with each other and other work: their times are not compared
            findings.append(_finding(f"{settings.name} study runs", NOT_TESTABLE, "runs of a CPU study share the "
                                     "machine, so their times are not compared; its side-by-side training "
                                     "benchmark decides"))
        else:
            for dataset in TABLE1_DATASETS:
                findings += _run_speed_findings(records, settings, dataset, baselines, factor)
        findings += _benchmark_findings(records, settings, margin)
    return findings


def _run_speed_findings(records, settings, dataset: str, baselines, factor: float) -> list[dict]:
    """(c) from a GPU study's own runs on one dataset: GAM full vs each baseline, runs on one device compared."""
    findings, where = [], f"{settings.name}/{dataset}"
    runs = study_runs(records, "table1", [settings.name], dataset)
    runs = runs.assign(on_device=[r["provenance"]["device"] for r in runs["record"]])
    devices = sorted(set(runs["on_device"]))
    for model, variant in baselines:
        rows, setting, judged = [("gam", "full"), (model, variant)], f"{where} vs {_name(model, variant)}", []
        for device in devices:
            summary = _summaries(runs[runs["on_device"] == device], ("tokens_per_s",))
            if not _lacking(summary, rows, settings.name):
                judged.append(_speed_pair(f"{setting} on {device}", summary[rows[0]], summary[rows[1]], factor)
                              | dict(preset=settings.name, dataset=dataset, versus=(model, variant), device=device))
        summary = _summaries(runs, ("tokens_per_s",))
        other = summary.get((model, variant))
        if model == "mamba" and other is not None and other.get("mamba_backend") != FAST_MAMBA:
            findings.append(_finding(setting, NOT_TESTABLE, f"ran on {other.get('mamba_backend')}, not "
                                     f"{FAST_MAMBA}: not a fair speed test"))
        elif judged:
            findings += judged
        elif _lacking(summary, rows, settings.name) or not summary:
            findings.append(_untested(setting, where, summary, rows, settings.name, _speed_so_far))
        else:
            findings.append(_finding(setting, NOT_TESTABLE, "no one device holds >= 2 seeds of both rows "
                                     f"(devices: {', '.join(devices)})"))
    return findings


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


def _benchmark_findings(records, settings, margin: float) -> list[dict]:
    """(c) from side-by-side training benchmarks (kind 'benchmark', benchmark 'training') of a preset: GAM full
    against every other row the benchmark timed (both attentions, also where the preset trains only one)."""
    if records.empty or "benchmark" not in records:
        return []
    found = records[(records["kind"] == "benchmark") & (records["benchmark"] == "training")
                    & (records["preset"] == settings.name)]
    findings = []
    for record in found["record"]:
        device = record["provenance"]["device"]
        gam = next((r for r in record["rows"] if (r["model"], r["variant"]) == ("gam", "full")), None)
        for other in record["rows"] if gam is not None else []:
            model, variant = other["model"], other["variant"]
            if model == "gam" or (model == "mamba" and settings.hardware == "cpu"):  # the CPU note covers Mamba
                continue
            setting = f"{settings.name} benchmark vs {_name(model, variant)} on {device}"
            ratio = gam["tokens_per_s"] / other["tokens_per_s"]
            if model == "mamba" and other.get("backend") != FAST_MAMBA:
                findings.append(_finding(setting, NOT_TESTABLE, f"ran on {other.get('backend')}, not {FAST_MAMBA}: "
                                         "not a fair speed test"))
                continue
            verdict = SUPPORTED if ratio > 1 + margin else CONTRADICTED
            evidence = (f"one side-by-side run at the preset's shape: GAM full {gam['tokens_per_s']:,.0f} tok/s vs "
                        f"{_name(model, variant)} {other['tokens_per_s']:,.0f}: x{ratio:.3f}, "
                        f"{'above' if verdict == SUPPORTED else 'not above'} x{1 + margin:.2f}")
            findings.append(_finding(setting, verdict, evidence, metric="benchmark_tokens_per_s", ratio=ratio,
                                     margin=margin, preset=settings.name, versus=(model, variant), device=device))
    return findings


def _scaling_records(records, scaling, presets) -> list[dict]:
    given = [] if scaling is None else [scaling] if isinstance(scaling, dict) else list(scaling)
    names = {get_preset(p).name for p in presets}
    if not records.empty and "kind" in records:
        found = records[(records["kind"] == "scaling") & records["preset"].isin(names)]
        given += list(found["record"])
    unique = {}
    for record in given:
        if record.get("kind") != "scaling":
            raise ValueError(f"scaling: expected records of kind 'scaling', got {record.get('kind')!r}")
        key = (record.get("preset"), record.get("device"), record["provenance"].get("finished_at"))
        unique.setdefault(key, record)
    return list(unique.values())


def _scaling_findings(scaling_records, value: str, presets) -> list[dict]:
    """(a) value='time_exponent', (b) value='memory_exponent', one finding per scaling record."""
    if not scaling_records:
        names = " or ".join(get_preset(p).name for p in presets)
        return [_finding("scaling", NOT_TESTABLE, f"no scaling record for {names} (gamlib.run_scaling, notebook 08)")]
    findings = []
    for record in scaling_records:
        device = record.get("device", "cpu")
        start = SCALING_FIT_FROM.get(device, SCALING_FIT_FROM["cpu"])
        fits = scaling_exponents(scaling_frame(record), min_seq_len=start).set_index("series")
        setting = f"{record['preset']} scaling record ({record['provenance']['device']})"
        b = fits[value].get("gam full", math.nan)
        if pd.isna(b):
            findings.append(_finding(setting, NOT_TESTABLE, f"GAM has fewer than two usable lengths from T >= {start}"))
            continue
        others = ", ".join(f"{s} {v:.2f}" for s, v in fits[value].items() if s != "gam full" and pd.notna(v))
        verdict = SUPPORTED if b < LINEAR_EXPONENT else CONTRADICTED
        evidence = (f"GAM b = {b:.2f} (T = {fits.loc['gam full', 'lengths']}), "
                    f"{'below' if verdict == SUPPORTED else 'not below'} {LINEAR_EXPONENT:g}; others: {others}")
        findings.append(_finding(setting, verdict, evidence, exponent=b, threshold=LINEAR_EXPONENT,
                                 preset=record["preset"], device=device, fit_from=start))
    return findings


def _reach_findings(reach) -> list[dict]:
    """(g): one finding per probed shape (gamlib.memory_reach)."""
    if not reach:
        return [_finding("probe", NOT_TESTABLE, "no probe result given: pass reach=[gamlib.memory_reach(preset), ...]")]
    findings = []
    for probe in ([reach] if isinstance(reach, dict) else reach):
        T, gam, control = probe["block_size"], probe["gam"], probe["transformer"]
        setting = f"{probe['preset']} shape (L={probe['n_layer']}, K={probe['conv_kernel_size']}, T={T})"
        read = probe["memory_read_changes"]
        per_token = read == [probe["memory_read_source"]]
        source = probe["memory_read_source"]
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
        findings.append(_finding(setting, verdict, evidence, gam=gam, transformer=control, block_size=T,
                                 per_token_read=per_token))
    return findings


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


def scorecard(records: pd.DataFrame, scaling=None, reach=None, presets=SCORECARD_PRESETS,
              factor: float = SPREAD_FACTOR, margin: float = SPEED_MARGIN) -> pd.DataFrame:
    """One row per claim of the paper (CLAIMS, (a)-(g)): the paper's evidence, ours, the rule and the verdict.

    records: load_records' DataFrame (e.g. committed_records()); its LM runs, training benchmarks and scaling
    records of `presets` are used, whatever exists (a partly run study is judged where it can be and named
    where it cannot). scaling: further scaling records (one dict or a list; e.g. gamlib.run_scaling("quick")).
    reach: gamlib.memory_reach results (one dict or a list), for (g). factor: the spread rule's factor,
    margin: the benchmark rule's. Columns: claim, statement, paper_evidence, our_evidence, rule, verdict
    (VERDICTS, or which settings give which), reason, findings (one dict per setting: setting, verdict,
    evidence and the numbers the rule read).
    """
    presets = [get_preset(p).name for p in presets]
    transformers = lambda s: [m for m in table1_models(s) if m[0] == "transformer"]  # noqa: E731
    mambas = lambda s: [m for m in table1_models(s) if m[0] == "mamba"]  # noqa: E731
    scaling_records = _scaling_records(records, scaling, presets)
    findings = {
        "a": _scaling_findings(scaling_records, "time_exponent", presets),
        "b": _scaling_findings(scaling_records, "memory_exponent", presets),
        "c": _speed_findings(records, presets, factor, margin),
        "d": _loss_findings(records, presets, transformers, factor),
        "e": _loss_findings(records, presets, mambas, factor),
        "f": _ablation_findings(records, presets, factor),
        "g": _reach_findings(reach),
    }
    rows = []
    for claim, found in findings.items():
        judged = [f for f in found if f["verdict"] != NOT_TESTABLE]
        rows.append(dict(claim=claim, statement=CLAIMS[claim], paper_evidence=PAPER_EVIDENCE[claim](),
                         source=SOURCES[claim],
                         our_evidence="\n".join(f"{f['setting']}: {f['evidence']}" for f in judged) or "—",
                         rule=RULES[claim], verdict=combine(found), reason=_reason(found), findings=found))
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def scorecard_markdown(card: pd.DataFrame) -> str:
    """The scorecard as a Markdown table: claim, the paper's evidence, ours (where it comes from, then one
    line per judged setting), and the verdict in bold with its rule and what is not testable yet."""
    lines = ["| | claim | the paper's evidence | our evidence | verdict |", "|---|---|---|---|---|"]
    for row in card.to_dict("records"):
        judged = [f for f in row["findings"] if f["verdict"] != NOT_TESTABLE]
        evidence = "<br>".join([f"*{_cell(SOURCES[row['claim']])}*"]
                               + [_cell(f"{f['setting']}: {f['evidence']}") for f in judged])
        verdict = f"**{_cell(row['verdict'])}**. Rule: {_cell(row['rule'])}."
        untested = untested_text(row["findings"])
        if untested:
            verdict += f" Not testable yet: {_cell(untested)}."
        lines.append(f"| ({row['claim']}) | {_cell(row['statement'])} | {_cell(row['paper_evidence'])} | {evidence} "
                     f"| {verdict} |")
    return "\n".join(lines)
