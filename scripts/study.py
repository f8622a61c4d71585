"""A study in one command: Tables 1 and 3 of a preset (and Table 2 on CUDA), resumable, with a time
estimate first, a progress bar over runs with an ETA, and a summary table at the end.

    python scripts/study.py --preset cpu                  # the CPU study (docs: README "The CPU study")
    python scripts/study.py                               # cpu on a CPU machine, paper on a CUDA one
    python scripts/study.py --estimate-only --preset paper --gpu H100   # the estimate only; trains nothing
    python scripts/study.py --preset cpu --summary        # Tables 1 and 3 from the records there are
    python scripts/study.py --preset paper --only table1 --datasets wikitext2 --models gam:full --seeds 0 1 2
    python scripts/study.py --preset paper --compile      # train through torch.compile (long CUDA runs)

What runs (each preset's grids are data in gamlib/presets.py):
  Table 1  every (model, variant) of the preset's `table1_models` on WikiText-2 and TinyStories, its seeds
           (TinyStories: the first seed only, unless --seeds is given);
  Table 3  the four GAM variants on WikiText-2, same seeds (the `full` runs are Table 1's, reused);
  Table 2  (CUDA only) gamlib.run_scaling: one block, naive and fused attention, GAM and Mamba, up to the
           longest length in gamlib.SCALING_SETTINGS['cuda'] that fits (a series stops at its first OOM);
  timing   when the preset trains only one of the two attentions (cpu: SDPA, which computes the same
           function as naive): gamlib.run_training_benchmark times every Table 1 model, both attentions
           included, side by side in one run.
Every run is a record under results/<preset>/ (or --results / $GAMLIB_RESULTS_DIR): a finished record is
reused, and an interrupted training resumes from its saved state (saved every epoch and every
--save-every steps), so running the same command again continues where it stopped.

Presets sized for a GPU (colab, paper) refuse to train on a machine without CUDA. The estimate before
a run is, for a preset sized for a CPU, a MEASUREMENT: two timed training steps of each model here,
extrapolated to the run's tokens; for a GPU preset it is arithmetic on stated assumptions:
  time = FLOPs / sustained FLOP/s  +  bytes moved / sustained bandwidth  +  optimizer steps x overhead
  FLOPs per trained token = 3 x forward, forward = 2 N (N = the model's parameters: the 6 N rule)
        + attention 4 L T C (scores and weighted sum, full T x T) + GAM's memory bank 2 L S C (read twice,
        counted once in N) + Mamba's scan 9 L E C d_state; evaluation = one forward per validation token;
  bytes per trained token = tensor bytes one training step allocates per token (counted on a CPU with
        torch.profiler, fp32: TRAIN_BYTES below; `--recount` counts again) x 2 (each written byte is read
        about once more); Mamba with the mamba_ssm kernels: the fused-attention Transformer's count instead;
  tokens = the preset's rows and chunks of each dataset, from token counts measured with gamlib's
        tokenizer (DATA below; TinyStories on the hub extrapolated from the local copy's tokens per row);
  sustained FLOP/s, bandwidth and per-step overhead per GPU class: the assumptions in GPU_CLASSES,
        stated as fractions of the data-sheet peaks. A real run can differ by 2x either way;
        `make gpu-check` measures this GPU's throughput on a few steps and extrapolates from that.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from gamlib import (ABLATION_VARIANTS, SCALING_SERIES, SCALING_SETTINGS, TABLE1_DATASETS, TABLE1_MODELS, build_model,
                    display_study_table, get_preset, load_lm_data, load_records, lr_sweep_table, make_config, run_lm_experiment,
                    run_scaling, run_training_benchmark, study_table)
from gamlib.experiments.throughput import measure_training_steps
from gamlib.models.mamba import mamba_ssm_available

# ---------------------------------------------------------------------------------------------
# Assumptions (the estimate's inputs). Change them here; the printout repeats them.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPUClass:
    name: str
    memory_gb: float
    fp32: float          # sustained FLOP/s in fp32 (PyTorch's default: no TF32 for matmuls)
    mixed: float         # sustained FLOP/s under autocast (fp16 on T4, bf16 elsewhere)
    mixed_dtype: str
    bandwidth: float     # sustained bytes/s to and from GPU memory
    step_overhead_s: float   # per optimizer step: kernel launches, clipping, AdamW, loss.item()
    peaks: str           # the data-sheet numbers the assumptions are fractions of


GPU_CLASSES = {
    "T4": GPUClass("T4", 15, 4.5e12, 20e12, "fp16", 220e9, 0.010,
                   "peaks 8.1 TFLOP/s fp32, 65 fp16 tensor, 320 GB/s; assumed 55%, 30%, 70%"),
    "L4": GPUClass("L4", 22, 12e12, 36e12, "bf16", 210e9, 0.008,
                   "peaks 30 TFLOP/s fp32, 121 bf16 tensor (dense), 300 GB/s; assumed 40%, 30%, 70%"),
    "A100": GPUClass("A100", 40, 13e12, 90e12, "bf16", 1300e9, 0.006,
                     "peaks 19.5 TFLOP/s fp32, 312 bf16 tensor, 1.6-2.0 TB/s; assumed 65%, 30%, 70-80%"),
    "H100": GPUClass("H100", 80, 35e12, 250e12, "bf16", 2300e9, 0.005,
                     "peaks 67 TFLOP/s fp32, 989 bf16 tensor (SXM, dense), 3.35 TB/s; assumed 50%, 25%, 70%"),
}

# Token counts (10,000-token BPE trained on the train split, as gamlib.data does). rows: rows in the
# split; tokens_per_row: chunked tokens (chunks x (T+1)) per row at T = 256, measured with
# gamlib.load_lm_data on the local copies (WikiText-2: 9,800 train / 1,041 validation chunks from all
# 36,718 / 3,760 rows). TinyStories: the hub's split sizes; tokens per row from the local subset's
# first 2,316 train / 1,000 validation stories (479,744 / 185,088 tokens), extrapolated.
DATA = {
    "wikitext2": dict(train_rows=36_718, train_tokens_per_row=9_800 * 257 / 36_718,
                      val_rows=3_760, val_tokens_per_row=1_041 * 257 / 3_760),
    "tinystories": dict(train_rows=2_119_719, train_tokens_per_row=1_874 * 257 / 2_316,
                        val_rows=21_990, val_tokens_per_row=723 * 257 / 1_000),
}

# Per token, one training step (forward + backward, train mode, fp32), parameters and their gradients
# left out: TRAIN_BYTES = tensor bytes allocated in all, PEAK_BYTES = the most held at once; counted
# with torch.profiler's allocator events on a CPU at batch 4 (`--recount` counts and prints them again).
# Mamba: the mambapy backend (its scan materialises (B, T, E*C, d_state) states).
TRAIN_BYTES = {
    ("colab", "gam", "full"): 436_844, ("colab", "gam", "global_only"): 326_052,
    ("colab", "gam", "sum_fusion"): 379_500, ("colab", "gam", "local_only"): 352_855,
    ("colab", "transformer", "naive"): 574_095, ("colab", "transformer", "sdpa"): 530_335,
    ("colab", "mamba", "paper"): 5_163_180, ("colab", "mamba", "standard"): 5_212_429,
    ("paper", "gam", "full"): 986_251, ("paper", "gam", "global_only"): 653_875,
    ("paper", "gam", "sum_fusion"): 814_219, ("paper", "gam", "local_only"): 709_739,
    ("paper", "transformer", "naive"): 1_373_075, ("paper", "transformer", "sdpa"): 1_239_876,
    ("paper", "mamba", "paper"): 15_138_457, ("paper", "mamba", "standard"): 15_286_057,
}
PEAK_BYTES = {
    ("colab", "gam", "full"): 215_340, ("colab", "gam", "global_only"): 200_996,
    ("colab", "gam", "sum_fusion"): 205_108, ("colab", "gam", "local_only"): 197_924,
    ("colab", "transformer", "naive"): 263_684, ("colab", "transformer", "sdpa"): 263_428,
    ("colab", "mamba", "paper"): 1_139_393, ("colab", "mamba", "standard"): 1_148_621,
    ("paper", "gam", "full"): 299_274, ("paper", "gam", "global_only"): 262_386,
    ("paper", "gam", "sum_fusion"): 274_722, ("paper", "gam", "local_only"): 256_266,
    ("paper", "transformer", "naive"): 440_874, ("paper", "transformer", "sdpa"): 440_490,
    ("paper", "mamba", "paper"): 3_115_132, ("paper", "mamba", "standard"): 3_141_768,
}
SCALING_ITERS_NOTE = "Table 2: 25 timed + warm-up iterations of one block per point, fp16 autocast"


# ---------------------------------------------------------------------------------------------
# The estimate
# ---------------------------------------------------------------------------------------------
def chunks(preset, dataset: str, split: str) -> int:
    """Chunks of block_size tokens a preset trains (split 'train') or validates ('val') on."""
    data, T = DATA[dataset], preset.model["block_size"]
    rows_cap = preset.max_train_rows if split == "train" else preset.max_val_rows
    chunk_cap = preset.max_train_chunks if split == "train" else preset.max_val_chunks
    rows = min(rows_cap or math.inf, data[f"{split}_rows"])
    n = int(rows * data[f"{split}_tokens_per_row"] // (T + 1))
    return min(n, chunk_cap) if chunk_cap else n


def forward_flops_per_token(model: str, variant: str, fields: dict, params: int) -> float:
    """2 N plus what N does not count: attention scores and sums, the GAM bank's second use, Mamba's scan."""
    L, T, C = fields["n_layer"], fields["block_size"], fields["n_embd"]
    extra = 0.0
    if model == "transformer":
        extra = 4 * L * T * C
    elif model == "gam" and variant in ("full", "global_only", "sum_fusion", "context"):
        extra = 2 * L * fields["num_memory_slots"] * C
    elif model == "mamba":
        extra = 9 * L * fields["expand"] * C * fields["d_state"]
    return 2 * params + extra


def train_bytes_per_token(preset_name: str, model: str, variant: str, mamba_backend: str) -> float:
    if model == "mamba" and mamba_backend == "mamba_ssm":  # fused kernels keep no scan states
        return TRAIN_BYTES[(preset_name, "transformer", "sdpa")]
    key = (preset_name, model, variant)
    if key not in TRAIN_BYTES:
        raise KeyError(f"no byte count for {key}: run with --recount and add it to TRAIN_BYTES")
    return TRAIN_BYTES[key]


@dataclass
class RunEstimate:
    model: str
    variant: str
    dataset: str
    params: int
    train_tokens: int
    flops: float
    bytes: float
    steps: int


def estimate_run(preset, model: str, variant: str, dataset: str, mamba_backend: str = "mambapy") -> RunEstimate:
    """FLOPs, bytes moved and optimizer steps of one training run (train + every evaluation)."""
    fields = {**preset.model, "vocab_size": preset.vocab_size}
    params = build_model(model, variant, **fields, **({"backend": "mambapy"} if model == "mamba" else {})).num_params()
    T, epochs, batch = fields["block_size"], preset.train.epochs, preset.train.batch_size
    train_chunks, val_chunks = chunks(preset, dataset, "train"), chunks(preset, dataset, "val")
    train_tokens, val_tokens = train_chunks * T * epochs, val_chunks * T * (epochs + 1)  # + the initial evaluation
    forward = forward_flops_per_token(model, variant, fields, params)
    per_token_bytes = 2 * train_bytes_per_token(preset.name, model, variant, mamba_backend)
    return RunEstimate(model, variant, dataset, params, train_tokens,
                       flops=3 * forward * train_tokens + forward * val_tokens,
                       bytes=per_token_bytes * (train_tokens + val_tokens / 3),
                       steps=math.ceil(train_chunks / batch) * epochs)


def run_seconds(run: RunEstimate, gpu: GPUClass, precision: str) -> float:
    flops_per_s = gpu.fp32 if precision == "fp32" else gpu.mixed
    return run.flops / flops_per_s + run.bytes / gpu.bandwidth + run.steps * gpu.step_overhead_s


def training_runs(preset_name: str, seeds, tables=("table1", "table3"), datasets=TABLE1_DATASETS,
                  models=None) -> list[tuple[str, str, str, int, None]]:
    """The distinct (model, variant, dataset, seed, lr=None) runs of the chosen tables (Table 3's `full` = Table 1's),
    optionally only those on `datasets` and of `models` ((model, variant) pairs). A preset sized for a CPU
    trains TinyStories with the first seed only. Cheapest first: WikiText-2 before TinyStories, Mamba last."""
    preset = get_preset(preset_name)
    story_seeds = tuple(seeds)[:1] if preset.hardware == "cpu" else tuple(seeds)
    runs = []
    if "table1" in tables:
        runs += [(m, v, d, s) for d in TABLE1_DATASETS for m, v in preset.table1_models
                 for s in (seeds if d == "wikitext2" else story_seeds)]
    if "table3" in tables:
        runs += [("gam", v, "wikitext2", s) for v in ABLATION_VARIANTS for s in seeds]
    runs = [r for r in runs if r[2] in datasets and (models is None or r[:2] in models)]
    runs = list(dict.fromkeys((*r, None) for r in runs))
    return sorted(runs, key=lambda r: (r[2] != "wikitext2", r[0] == "mamba"))  # stable: table order within


def lr_sweep_runs(preset_name: str, lrs, seed: int, models=None) -> list[tuple[str, str, str, int, float | None]]:
    """One seed of each Table 1 model (or of `models`) on WikiText-2 at each lr of `lrs` and at the preset's
    own (None: the Table 1 run itself, reused when it exists), Mamba last."""
    preset = get_preset(preset_name)
    pairs = [p for p in preset.table1_models if models is None or p in models]
    runs = [(m, v, "wikitext2", seed, None if lr == preset.train.lr else lr)
            for m, v in pairs for lr in sorted({preset.train.lr, *lrs})]
    return sorted(runs, key=lambda r: r[0] == "mamba")


def print_lr_sweep(preset: str, results=None) -> None:
    """The lr sweep's table from the records there are (gamlib.lr_sweep_table)."""
    table = lr_sweep_table(load_records(results, kind="lm"), preset)
    if table.empty:
        print(f"\nlr sweep, preset {preset!r}: no runs yet (scripts/study.py --preset {preset} --lr-sweep LR ...)")
        return
    print(f"\nlr sweep, preset {preset!r}, WikiText-2 (val loss in nats per token; * the best lr of each model):")
    print(table.assign(best=table["best"].map({True: "*", False: ""}))[
        ["model", "variant", "seed", "lr", "val_loss", "below_unigram", "best"]].to_string(index=False))


def scaling_seconds(gpu: GPUClass, mamba_backend: str) -> tuple[float, list[str]]:
    """Table 2 on this GPU class: seconds, and the points expected to run out of memory."""
    settings, total, oom = SCALING_SETTINGS["cuda"], 0.0, []
    B, C, H = settings["batch_size"], settings["n_embd"], settings["n_head"]
    iterations = settings["warmup"] + settings["iters"]
    for series in SCALING_SERIES["cuda"]:
        for T in settings["seq_lens"]:
            fields = dict(n_embd=C, n_head=H, block_size=T, n_layer=1)
            config = make_config(series["model"], series["variant"], **fields)
            block_params = 0  # one block, vocabulary-free: the matmul weights
            if series["model"] == "transformer":
                block_params, extra, floats = 12 * C * C, 4 * T * C, 22 * C + (4 * H * T if series["variant"] == "naive" else 0)
            elif series["model"] == "gam":
                S = config.num_memory_slots
                block_params, extra, floats = 10 * C * C + S * C, 2 * S * C, 22 * C + S
            else:
                E, N = config.expand, config.d_state
                block_params, extra = 2 * E * C * C + E * C * (2 * N + math.ceil(C / 16)), 9 * E * C * N
                floats = 22 * C + (8 * E * C * N if mamba_backend == "mambapy" else 0)
            held = 4 * B * T * floats  # fp32 upper bound of what forward + backward holds at once
            if held > gpu.memory_gb * 1e9:
                oom.append(f"{series['model']} {series['variant']} at {T}")
                break  # the sweep stops a series at its first OOM
            flops = 3 * B * T * (2 * block_params + extra)
            total += iterations * (flops / gpu.mixed + 2 * held / gpu.bandwidth)
    return total, oom


def peak_gb(run: RunEstimate, preset, precision: str, mamba_backend: str = "mambapy") -> float:
    """Weights, gradients and AdamW state (16 bytes per parameter) + one step's activations held at once
    (PEAK_BYTES, fp32; taken as 0.6 of it under autocast): used only to warn about out-of-memory."""
    tokens = preset.train.batch_size * preset.model["block_size"]
    model, variant = (("transformer", "sdpa") if run.model == "mamba" and mamba_backend == "mamba_ssm"
                      else (run.model, run.variant))
    activations = PEAK_BYTES.get((preset.name, model, variant), 0) * tokens * (1 if precision == "fp32" else 0.6)
    return (16 * run.params + activations) / 1e9


def hours(seconds: float) -> str:
    return f"{seconds / 3600:6.1f} h" if seconds >= 3600 else f"{seconds / 60:6.1f} min"


def print_estimate(preset_name: str, seeds, tables, gpus, mamba_backend: str, out=sys.stdout,
                   datasets=TABLE1_DATASETS, models=None) -> dict:
    """Print the estimate for each GPU class; return {gpu: seconds} (all chosen tables)."""
    preset = get_preset(preset_name)
    precision = preset.train.precision
    runs = training_runs(preset.name, seeds, tables, datasets, models)
    estimates = {}
    for m, v, d, *_ in runs:
        if (m, v, d) not in estimates:
            estimates[(m, v, d)] = estimate_run(preset, m, v, d, mamba_backend)
    def p(*parts):
        print(*parts, file=out)

    p(f"TIME ESTIMATE (not a measurement): preset {preset.name!r}, seeds {tuple(seeds)}, tables {', '.join(tables)}, "
      f"Mamba backend {mamba_backend}")
    p(f"  {len(runs)} training runs: " + ", ".join(
        f"{d} {preset.model['block_size']}-token chunks: {chunks(preset, d, 'train'):,} train / {chunks(preset, d, 'val'):,} val"
        for d in TABLE1_DATASETS))
    p("  method: FLOPs / assumed sustained FLOP/s + bytes / assumed bandwidth + steps x overhead (see the script's docstring)")
    p(f"  precision: {precision}" + (" (autocast: fp16 on a T4, bf16 on the others)" if precision != "fp32" else " (the paper)"))
    totals = {}
    for gpu in gpus:
        g = GPU_CLASSES[gpu]
        mode = "fp32" if precision == "fp32" else g.mixed_dtype
        seconds = {key: run_seconds(r, g, mode) for key, r in estimates.items()}
        per_table = {}
        for table in tables:
            if table == "table2":
                per_table[table], oom = scaling_seconds(g, mamba_backend)
            else:
                keys = training_runs(preset.name, seeds, (table,), datasets, models)
                if table == "table3" and "table1" in tables:  # full = Table 1's records, reused
                    keys = [k for k in keys if k not in training_runs(preset.name, seeds, ("table1",), datasets, models)]
                per_table[table] = sum(seconds[k[:3]] for k in keys)
        totals[gpu] = sum(per_table.values())
        fl = g.fp32 if mode == "fp32" else g.mixed
        p(f"\n  {g.name} (assumed {fl / 1e12:.1f} TFLOP/s {mode}, {g.bandwidth / 1e9:.0f} GB/s, "
          f"{g.step_overhead_s * 1e3:.0f} ms/step; {g.peaks}):")
        for table, s in per_table.items():
            p(f"    {table}: {hours(s)}")
        p(f"    total : {hours(totals[gpu])}")
        if len(gpus) == 1:  # the runs one by one
            for model, variant in dict.fromkeys((m, v) for m, v, _ in estimates):
                cells = [f"{d} {hours(seconds[(model, variant, d)]).strip()}" for m, v, d in estimates
                         if (m, v) == (model, variant)]
                p(f"      one run of {model} {variant}: {', '.join(cells)}")
        warned = set()
        for (m, v, _d), r in estimates.items():
            need = peak_gb(r, preset, mode, mamba_backend)
            if need > g.memory_gb and (m, v) not in warned:
                warned.add((m, v))
                p(f"    warning: {m} {v} needs about {need:.0f} GB at batch {preset.train.batch_size} "
                  f"(> {g.memory_gb} GB): expect out of memory on this GPU class")
        if "table2" in tables and oom:
            p(f"    Table 2 points expected out of memory (the series stop there): {', '.join(oom)}")
    slowest = max(estimates.values(), key=lambda r: r.flops)
    p(f"\n  largest run: {slowest.model} {slowest.variant} on {slowest.dataset}: {slowest.params:,} parameters, "
      f"{slowest.train_tokens:,} trained tokens, {slowest.flops:.2e} FLOPs")
    return totals


def detect_gpu_class() -> str | None:
    """The GPU_CLASSES entry for the visible GPU (H200 and GH200 count as H100), or None."""
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(0).upper()
    for key, match in (("H100", ("H100", "H200", "GH200")), ("A100", ("A100",)), ("L4", ("L4",)), ("T4", ("T4",))):
        if any(m in name for m in match):
            return key
    return None


# ---------------------------------------------------------------------------------------------
# Counting bytes per token (how TRAIN_BYTES was made)
# ---------------------------------------------------------------------------------------------
def count_train_bytes(preset_name: str, model: str, variant: str, batch: int = 4) -> tuple[int, int]:
    """Per token, for one fp32 training step on the CPU (parameters and their gradients left out):
    (tensor bytes allocated in all, the most bytes held at once), from torch.profiler's allocator events."""
    from torch.profiler import ProfilerActivity, profile

    from gamlib.experiments.measure import _native_stderr_silenced

    preset = get_preset(preset_name)
    fields = {**preset.model, "vocab_size": preset.vocab_size}
    net = build_model(model, variant, **fields, **({"backend": "mambapy"} if model == "mamba" else {})).train()
    x = torch.randint(0, preset.vocab_size, (batch, fields["block_size"]))
    profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with _native_stderr_silenced():
        profiler.start()
    _, loss = net(x, x)
    loss.backward()
    with _native_stderr_silenced():
        profiler.stop()
    events = sorted((e for e in profiler.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    held = peak = 0
    for event in events:
        held += event.nbytes()
        peak = max(peak, held)
    allocated = sum(e.nbytes() for e in events if e.nbytes() > 0)
    grads = sum(p.numel() * p.element_size() for p in net.parameters())
    tokens = batch * fields["block_size"]
    return round((allocated - grads) / tokens), round((peak - grads) / tokens)


def recount() -> None:
    """Print TRAIN_BYTES and PEAK_BYTES as counted on this CPU (paste them above)."""
    models = [*TABLE1_MODELS, *(("gam", v) for v in ABLATION_VARIANTS if v != "full")]
    counts = {(p, m, v): count_train_bytes(p, m, v) for p in ("colab", "paper") for m, v in models}
    for index, name in enumerate(("TRAIN_BYTES", "PEAK_BYTES")):
        print(f"{name} = {{")
        for (p, m, v), pair in counts.items():
            print(f'    ("{p}", "{m}", "{v}"): {pair[index]:_},')
        print("}")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------
def run_tokens(preset, dataset: str, data_dir=None) -> float:
    """Token-equivalents one run on `dataset` costs: its training tokens plus a third of its evaluated tokens
    (an evaluation is a forward pass only)."""
    data = load_lm_data(dataset, data_dir=data_dir, **preset.data_kwargs())
    train, T = preset.train, preset.model["block_size"]
    evaluations = 1 + train.epochs * train.evals_per_epoch
    return len(data.train) * T * train.epochs + len(data.validation) * T * evaluations / 3


def measured_run_seconds(preset, runs, data_dir=None) -> dict:
    """{run: seconds}, extrapolated from two timed training steps of each model on this machine."""
    pairs = list(dict.fromkeys(r[:2] for r in runs))
    fields = {**preset.model, "vocab_size": preset.vocab_size}
    rows = measure_training_steps(pairs, fields, preset.train.batch_size, steps=2, warmup=1, device=
                                  str(torch.device("cuda" if torch.cuda.is_available() else "cpu")))
    rate = {(r["model"], r["variant"]): r["tokens_per_s"] for r in rows}
    tokens = {d: run_tokens(preset, d, data_dir) for d in dict.fromkeys(r[2] for r in runs)}
    return {r: tokens[r[2]] / rate[r[:2]] for r in runs}


def print_measured_estimate(preset, runs, seconds: dict) -> None:
    print(f"TIME ESTIMATE, measured here: preset {preset.name!r}, {len(runs)} training runs; two timed training "
          "steps of each model, extrapolated to each run's tokens (evaluation counted as a third of a training token)")
    for model, variant in dict.fromkeys(r[:2] for r in runs):
        cells = [f"{r[2]} {r[3]}{f' lr {r[4]:g}' if r[4] else ''}: {hours(seconds[r]).strip()}" for r in runs
                 if r[:2] == (model, variant)]
        print(f"  {model} {variant}: {', '.join(cells)}")
    print(f"  total: {hours(sum(seconds.values())).strip()}")


def train_runs(preset: str, runs, results=None, data_dir=None, save_every: int = 500,
               seconds: dict | None = None, compile: bool = False) -> None:
    """Train (or reuse) each (model, variant, dataset, seed, lr) run (lr None: the preset's), with a progress bar
    over runs whose ETA weighs each remaining run by its estimated seconds (`seconds`, else all alike), scaled
    by how the runs trained here so far compared with their estimate."""
    cost = seconds or {r: 1.0 for r in runs}
    spent = estimated = 0.0   # over the runs trained (not reused) in this call
    bar = tqdm(runs, desc="study", unit="run", bar_format="{desc}: {n_fmt}/{total_fmt} runs |{bar:20}| "
               "{elapsed} elapsed{postfix}")
    for i, run in enumerate(bar):
        model, variant, dataset, seed, lr = run
        named = f"{model} {variant} on {dataset}, seed {seed}" + (f", lr {lr:g}" if lr else "")
        left = sum(cost[r] for r in runs[i:]) * (spent / estimated if estimated else 1.0)
        bar.set_postfix_str(f", ETA {hours(left).strip() if seconds or estimated else '?'}: {named}")
        t0 = time.perf_counter()
        record = run_lm_experiment(model, variant, dataset, preset, seed, results_root=results, data_dir=data_dir,
                                   progress=True, save_every_steps=save_every, lr=lr, compile=compile)
        took = time.perf_counter() - t0
        if took > 0.2 * record["wall_s"]:  # trained now (a reused record returns at once)
            spent, estimated = spent + took, estimated + cost[run]
        m = record["metrics"]
        bar.write(f"[{i + 1}/{len(runs)}] {named}: val loss {m['val_loss']:.4f} "
                  f"({m.get('unigram_loss', math.nan) - m['val_loss']:.2f} below unigram), backend "
                  f"{record.get('mamba_backend')}, {took:.0f} s here ({record['wall_s']:.0f} s when trained)")
    bar.close()


def run_experiments(preset: str, seeds, tables, results=None, data_dir=None, save_every: int = 500,
                    datasets=TABLE1_DATASETS, models=None, seconds: dict | None = None, benchmark: bool = True,
                    compile: bool = False) -> None:
    """The chosen tables' training runs (train_runs), Table 2 on CUDA, the side-by-side training benchmark when
    the preset trains one attention only, then the summary."""
    started = time.perf_counter()
    settings = get_preset(preset)
    if "table1" in tables or "table3" in tables:
        runs = training_runs(preset, seeds, tuple(t for t in tables if t != "table2"), datasets, models)
        train_runs(preset, runs, results, data_dir, save_every, seconds, compile)
    if "table2" in tables:
        print("Table 2: the scaling sweep on CUDA ...", flush=True)
        record = run_scaling(preset, device="cuda", results_root=results)
        done = sum(r["status"] == "ok" for r in record["rows"])
        print(f"    {done}/{len(record['rows'])} points measured ({record['wall_s']:.0f} s when measured)")
    if benchmark and set(TABLE1_MODELS) - set(settings.table1_models):
        print("timing every Table 1 model side by side (both attentions: they compute the same function) ...", flush=True)
        record = run_training_benchmark(preset, TABLE1_MODELS, results_root=results)
        for row in record["rows"]:
            print(f"    {row['model']} {row['variant']}: {row['tokens_per_s']:,.0f} tokens/s ({row['vs_gam']:.2f}x GAM)")
    print(f"all done in {hours(time.perf_counter() - started).strip()}")
    print_summary(preset, results)


def print_summary(preset: str, results=None) -> None:
    """Tables 1 and 3 of this preset from the records there are (gamlib.study_table): mean ± std over seeds,
    the distance to the unigram loss, and each row's difference from GAM against twice the pooled seed spread."""
    records = load_records(results, kind="lm")
    columns = ["dataset", "model", "seeds", "val loss (nats)", "below unigram", "Δ loss vs GAM full",
               "2 × pooled std", "|Δ| > 2 × pooled std"]
    for table in ("table1", "table3"):
        shown = display_study_table(study_table(records, table, presets=(preset,)))
        print(f"\n{'Table 1' if table == 'table1' else 'Table 3'}, preset {preset!r} (val loss in nats per token):")
        print(shown[columns].to_string(index=False))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=None, help="cpu | paper | colab | quick (default: paper on a CUDA machine, "
                        "cpu elsewhere)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the preset's (0 1 2)")
    parser.add_argument("--only", nargs="+", choices=("table1", "table2", "table3"), default=None)
    parser.add_argument("--datasets", nargs="+", choices=TABLE1_DATASETS, default=TABLE1_DATASETS,
                        help="train only on these datasets (default: both)")
    parser.add_argument("--models", nargs="+", default=None, metavar="MODEL:VARIANT",
                        help="train only these, e.g. gam:full transformer:sdpa (default: every model of the tables)")
    parser.add_argument("--gpu", choices=sorted(GPU_CLASSES), default=None,
                        help="GPU class of the estimate (default: the visible GPU's, else all)")
    parser.add_argument("--mamba-backend", choices=("auto", "mamba_ssm", "mambapy"), default="auto",
                        help="for the estimate: auto = what this machine would use")
    parser.add_argument("--estimate-only", action="store_true", help="print the estimate and stop")
    parser.add_argument("--summary", action="store_true",
                        help="print Tables 1 and 3 from the records there are (which runs exist) and stop")
    parser.add_argument("--recount", action="store_true", help="count TRAIN_BYTES again on this CPU and print them")
    parser.add_argument("--yes", action="store_true", help="start without the 10-second pause after the estimate")
    parser.add_argument("--results", default=None, help="results folder (default: $GAMLIB_RESULTS_DIR or results/)")
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR, else the hub)")
    parser.add_argument("--no-benchmark", action="store_true",
                        help="skip the side-by-side training benchmark (when another process shares the machine)")
    parser.add_argument("--save-every", type=int, default=500, help="also save the training state every N steps")
    parser.add_argument("--compile", action="store_true",
                        help="train through torch.compile (for long CUDA runs; compiling takes minutes; off by default)")
    parser.add_argument("--lr-sweep", type=float, nargs="+", default=None, metavar="LR",
                        help="instead of the tables: train the first seed of each Table 1 model (or of --models) on "
                             "WikiText-2 at these learning rates, beside the preset's own lr; records go to "
                             "<preset>/lr-sweep/ and never replace the tables' runs")
    args = parser.parse_args(argv)
    if args.recount:
        recount()
        return 0
    preset = get_preset(args.preset or ("paper" if torch.cuda.is_available() else "cpu"))
    models = None
    if args.models:
        models = [tuple(m.split(":", 1)) for m in args.models]
        known = {*preset.table1_models, *(("gam", v) for v in ABLATION_VARIANTS)}
        unknown = [":".join(m) for m in models if m not in known]
        if unknown:
            parser.error(f"--models {' '.join(unknown)}: not in the tables; choose from "
                         f"{' '.join(sorted(':'.join(m) for m in known))}")
    if args.gpu and preset.hardware == "cpu":
        parser.error(f"--gpu estimates a GPU preset (paper, colab); {preset.name!r} is sized for a CPU: its estimate "
                     "is measured here, without --gpu")
    if args.summary:
        print_summary(preset.name, args.results)
        print_lr_sweep(preset.name, args.results)
        return 0
    seeds = tuple(args.seeds) if args.seeds else preset.seeds
    tables = tuple(args.only or ("table1", "table3", "table2"))
    if preset.hardware == "cpu":
        tables = tuple(t for t in tables if t != "table2")  # the CUDA scaling sweep: notebook 08 runs it on a CPU
    seconds = None
    backend = args.mamba_backend if args.mamba_backend != "auto" else ("mamba_ssm" if mamba_ssm_available() else "mambapy")
    detected = detect_gpu_class()
    gpus = [args.gpu] if args.gpu else ([detected] if detected else list(GPU_CLASSES))
    if detected and not args.gpu:
        print(f"GPU: {torch.cuda.get_device_name(0)} -> estimated as class {detected}")
    if args.lr_sweep:
        runs = lr_sweep_runs(preset.name, args.lr_sweep, seeds[0], models)
    else:
        runs = training_runs(preset.name, seeds, tables, args.datasets, models)
    if preset.hardware == "gpu":
        print_estimate(preset.name, seeds, tables, gpus, backend, datasets=args.datasets, models=models)
    else:
        seconds = measured_run_seconds(preset, runs, args.data_dir)
        print_measured_estimate(preset, runs, seconds)
    if args.estimate_only:
        return 0
    if preset.hardware == "gpu" and not torch.cuda.is_available():
        print(f"\nstudy: no CUDA GPU is visible, so nothing was started. Preset {preset.name!r} is sized for a GPU (it "
              "would take days on a CPU); --preset cpu is the study sized for a CPU; --estimate-only works anywhere.",
              file=sys.stderr)
        return 2
    if not args.yes:
        print("\nstarting in 10 s (Ctrl-C to stop; the same command resumes later) ...", flush=True)
        time.sleep(10)
    try:
        if args.lr_sweep:
            train_runs(preset.name, runs, args.results, args.data_dir, args.save_every, seconds, args.compile)
            print_lr_sweep(preset.name, args.results)
        else:
            run_experiments(preset.name, seeds, tables, args.results, args.data_dir, args.save_every, args.datasets,
                            models, seconds, benchmark=not args.no_benchmark, compile=args.compile)
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume (finished runs are reused, the interrupted "
              "one continues from its last saved state)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
