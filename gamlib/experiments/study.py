"""Running a study: the plan's runs (gamlib.plan) trained one by one with a progress bar whose ETA weighs each
remaining run by its estimated cost, Table 2 and the side-by-side training benchmark where the plan asks for
them, and the time estimates scripts/study.py prints before it starts.
"""
from __future__ import annotations

import math
import time

from tqdm.auto import tqdm

from ..plan import (
    TABLE1_DATASETS,
    TABLE1_MODELS,
    TABLES,
    Run,
    runs_scaling,
    scaling_device,
    table_datasets,
    table_rows,
    times_attention_side_by_side,
)
from ..presets import Preset
from .cost import GPU_CLASSES, chunks, estimate_run, peak_gb, precision_mode, run_seconds, scaling_seconds
from .lm import run_lm_experiment
from .scaling import run_scaling
from .throughput import run_training_benchmark


def hours(seconds: float) -> str:
    """'  27.4 h' or '   1.5 min': right-aligned, to stack in a column."""
    return f"{seconds / 3600:6.1f} h" if seconds >= 3600 else f"{seconds / 60:6.1f} min"


def measured_estimate_lines(preset: Preset, runs: list[Run], seconds: dict) -> list[str]:
    """The estimate of a CPU preset's runs, measured here (cost.measured_run_seconds), model by model."""
    lines = [f"TIME ESTIMATE, measured here: preset {preset.name!r}, {len(runs)} training runs; two timed training "
             "steps of each model, extrapolated to each run's tokens (evaluation counted as a third of a training "
             "token)"]
    for pair in dict.fromkeys(r.pair for r in runs):
        cells = [f"{r.dataset} {r.seed}{f' lr {r.lr:g}' if r.lr else ''}: {hours(seconds[r]).strip()}" for r in runs
                 if r.pair == pair]
        lines.append(f"  {' '.join(pair)}: {', '.join(cells)}")
    return lines + [f"  total: {hours(sum(seconds.values())).strip()}"]


def gpu_estimate_lines(preset: Preset, runs: list[Run], tables, gpus, mamba_backend: str) -> tuple[list[str], dict]:
    """The estimate of a GPU preset's runs for each GPU class (arithmetic on assumptions, gamlib.experiments.cost):
    (lines to print, {gpu: seconds})."""
    precision = preset.train.precision
    estimates = {(r.model, r.variant, r.dataset): None for r in runs}
    estimates = {key: estimate_run(preset, *key, mamba_backend) for key in estimates}
    seeds = tuple(sorted({r.seed for r in runs}))
    lines = [f"TIME ESTIMATE (not a measurement): preset {preset.name!r}, seeds {seeds}, "
             f"tables {', '.join(tables)}, Mamba backend {mamba_backend}",
             f"  {len(runs)} training runs: " + ", ".join(
                 f"{d} {preset.model.block_size}-token chunks: {chunks(preset, d, 'train'):,} train / "
                 f"{chunks(preset, d, 'val'):,} val" for d in TABLE1_DATASETS),
             "  method: FLOPs / assumed sustained FLOP/s + bytes / assumed bandwidth + steps x overhead "
             "(gamlib.experiments.cost)",
             f"  precision: {precision}" + (" (autocast: fp16 on a T4, bf16 on the others)" if precision != "fp32"
                                            else " (the paper)")]
    totals = {}
    for gpu in gpus:
        more, totals[gpu] = _gpu_lines(preset, runs, tables, GPU_CLASSES[gpu], estimates, mamba_backend, len(gpus) == 1)
        lines += more
    slowest = max(estimates.values(), key=lambda r: r.flops)
    lines.append(f"\n  largest run: {slowest.model} {slowest.variant} on {slowest.dataset}: {slowest.params:,} "
                 f"parameters, {slowest.train_tokens:,} trained tokens, {slowest.flops:.2e} FLOPs")
    return lines, totals


def first_table(preset: Preset, run: Run, tables) -> str | None:
    """The first of `tables` that has `run` (Table 3's full runs are Table 1's), or None."""
    return next((t for t in tables if t in TABLES and run.pair in table_rows(preset, t)
                 and run.dataset in table_datasets(t)), None)


def _gpu_lines(preset: Preset, runs, tables, gpu, estimates: dict, mamba_backend: str, each_run: bool):
    """gpu_estimate_lines for one GPU class: (lines, total seconds)."""
    mode = precision_mode(preset, gpu)
    seconds = {key: run_seconds(r, gpu, mode) for key, r in estimates.items()}
    per_table, oom = {}, []
    for table in tables:
        if table == "table2":
            per_table[table], oom = scaling_seconds(gpu, mamba_backend)
        else:
            per_table[table] = sum(seconds[(r.model, r.variant, r.dataset)] for r in runs
                                   if first_table(preset, r, tables) == table)
    flops = gpu.fp32 if mode == "fp32" else gpu.mixed
    lines = [f"\n  {gpu.name} (assumed {flops / 1e12:.1f} TFLOP/s {mode}, {gpu.bandwidth / 1e9:.0f} GB/s, "
             f"{gpu.step_overhead_s * 1e3:.0f} ms/step; {gpu.peaks}):"]
    lines += [f"    {table}: {hours(s)}" for table, s in per_table.items()]
    lines.append(f"    total : {hours(sum(per_table.values()))}")
    if each_run:
        for pair in dict.fromkeys(key[:2] for key in estimates):
            cells = [f"{d} {hours(seconds[(m, v, d)]).strip()}" for m, v, d in estimates if (m, v) == pair]
            lines.append(f"      one run of {' '.join(pair)}: {', '.join(cells)}")
    for pair in dict.fromkeys(key[:2] for key, r in estimates.items() if peak_gb(r, preset, mode, mamba_backend)
                              > gpu.memory_gb):
        need = max(peak_gb(r, preset, mode, mamba_backend) for key, r in estimates.items() if key[:2] == pair)
        lines.append(f"    warning: {' '.join(pair)} needs about {need:.0f} GB at batch {preset.train.batch_size} "
                     f"(> {gpu.memory_gb} GB): expect out of memory on this GPU class")
    if oom:
        lines.append(f"    Table 2 points expected out of memory (the series stop there): {', '.join(oom)}")
    return lines, sum(per_table.values())


def train_runs(preset: Preset, runs: list[Run], results=None, data_dir=None, save_every: int = 500,
               seconds: dict | None = None, compile: bool = False, wandb_project: str | None = None) -> None:
    """Train (or reuse) each run, with a progress bar over runs whose ETA weighs each remaining run by its
    estimated seconds (`seconds`, else all alike), scaled by how the runs trained here so far compared with
    their estimate. wandb_project: log the runs trained to this W&B project (never part of a run's spec)."""
    cost = seconds or {r: 1.0 for r in runs}
    spent = estimated = 0.0   # over the runs trained (not reused) in this call
    bar = tqdm(runs, desc="study", unit="run", bar_format="{desc}: {n_fmt}/{total_fmt} runs |{bar:20}| "
               "{elapsed} elapsed{postfix}")
    for i, run in enumerate(bar):
        left = sum(cost[r] for r in runs[i:]) * (spent / estimated if estimated else 1.0)
        bar.set_postfix_str(f", ETA {hours(left).strip() if seconds or estimated else '?'}: {run.describe()}")
        started = time.perf_counter()
        record = run_lm_experiment(run.model, run.variant, run.dataset, preset, run.seed, results_root=results,
                                   data_dir=data_dir, progress=True, save_every_steps=save_every, lr=run.lr,
                                   compile=compile, wandb_project=wandb_project)
        took = time.perf_counter() - started
        if took > 0.2 * record["wall_s"]:  # trained now (a reused record returns at once)
            spent, estimated = spent + took, estimated + cost[run]
        m = record["metrics"]
        bar.write(f"[{i + 1}/{len(runs)}] {run.describe()}: val loss {m['val_loss']:.4f} "
                  f"({m.get('unigram_loss', math.nan) - m['val_loss']:.2f} below unigram), backend "
                  f"{record.get('mamba_backend')}, {took:.0f} s here ({record['wall_s']:.0f} s when trained)")
    bar.close()


def run_study(preset: Preset, runs: list[Run], tables, results=None, data_dir=None, save_every: int = 500,
              seconds: dict | None = None, benchmark: bool = True, compile: bool = False,
              wandb_project: str | None = None) -> None:
    """The study's training runs (train_runs), then Table 2 and the side-by-side training benchmark where the plan
    asks for them."""
    train_runs(preset, runs, results, data_dir, save_every, seconds, compile, wandb_project)
    if "table2" in tables and runs_scaling(preset):
        device = scaling_device(preset)
        print(f"Table 2: the scaling sweep on {device} ...", flush=True)
        record = run_scaling(preset, device=device, results_root=results)
        done = sum(r["status"] == "ok" for r in record["rows"])
        print(f"    {done}/{len(record['rows'])} points measured ({record['wall_s']:.0f} s when measured)")
    if benchmark and times_attention_side_by_side(preset):
        print("timing every Table 1 model side by side (both attentions: they compute the same function) ...",
              flush=True)
        record = run_training_benchmark(preset.name, TABLE1_MODELS, results_root=results)
        for row in record["rows"]:
            print(f"    {row['model']} {row['variant']}: {row['tokens_per_s']:,.0f} tokens/s "
                  f"({row['vs_gam']:.2f}x GAM)")
