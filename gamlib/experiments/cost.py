"""What a study costs before it runs: time and memory estimates of its training runs and of Table 2.

For a GPU preset the estimate is arithmetic on stated assumptions, NOT a measurement:
  time = FLOPs / sustained FLOP/s  +  bytes moved / sustained bandwidth  +  optimizer steps x overhead
  FLOPs per trained token = 3 x forward, forward = 2 N (N = the model's parameters: the 6 N rule) plus what N
        does not count (measure.mixing_flops_per_token, per layer); evaluation = one forward per validation token;
  bytes per trained token = the tensor bytes one training step allocates per token (counted on a CPU with
        torch.profiler, fp32: TRAIN_BYTES, `count_train_bytes` counts them again) x 2 (each written byte is read
        about once more); Mamba on the mamba_ssm kernels: the fused-attention Transformer's count instead;
  tokens = the preset's rows and chunks of each dataset, from token counts measured with gamlib's tokenizer (DATA);
  sustained FLOP/s, bandwidth and per-step overhead per GPU class: GPU_CLASSES, stated as fractions of the
        data-sheet peaks. A real run can differ by 2x either way.
For a preset sized for a CPU it is a measurement: two timed training steps of each model, extrapolated
(measured_run_seconds).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from ..data import load_lm_data
from ..models.config import DEFAULT_VARIANTS
from ..models.registry import build_model, make_config
from ..plan import Run, study_models
from ..presets import Preset, get_preset
from .measure import activation_floats_per_token, allocator_bytes, build_block, mixing_flops_per_token
from .scaling import SCALING_SERIES, SCALING_SETTINGS
from .throughput import measure_training_steps


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
GPU_NAMES = (("H100", ("H100", "H200", "GH200")), ("A100", ("A100",)), ("L4", ("L4",)), ("T4", ("T4",)))

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
# by count_train_bytes on a CPU at batch 4 (torch 2.13; a test recounts one entry).
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
    ("colab", "gam", "global_only_matched"): 342_564, ("colab", "gam", "sum_fusion_matched"): 395_884,
    ("colab", "gam", "local_only_matched"): 377_431,
    ("paper", "gam", "global_only_matched"): 703_219, ("paper", "gam", "sum_fusion_matched"): 863_371,
    ("paper", "gam", "local_only_matched"): 783_467,
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
    ("colab", "gam", "global_only_matched"): 207_184, ("colab", "gam", "sum_fusion_matched"): 211_248,
    ("colab", "gam", "local_only_matched"): 207_134,
    ("paper", "gam", "global_only_matched"): 274_710, ("paper", "gam", "sum_fusion_matched"): 286_998,
    ("paper", "gam", "local_only_matched"): 274_680,
}


def gpu_class_of(name: str) -> str | None:
    """The GPU_CLASSES entry a GPU's name falls in ('NVIDIA H200' -> 'H100', 'T4' -> 'T4'), or None."""
    name = name.upper()
    return next((key for key, match in GPU_NAMES if any(m in name for m in match)), None)


def detect_gpu_class() -> str | None:
    """The GPU_CLASSES entry for the visible GPU (H200 and GH200 count as H100), or None."""
    return gpu_class_of(torch.cuda.get_device_name(0)) if torch.cuda.is_available() else None


def precision_mode(preset: Preset, gpu: GPUClass) -> str:
    """What a preset's runs compute in on this GPU class: 'fp32', or the autocast dtype of the class."""
    return "fp32" if preset.train.precision == "fp32" else gpu.mixed_dtype


def chunks(preset: Preset, dataset: str, split: str) -> int:
    """Chunks of block_size tokens a preset trains (split 'train') or validates ('val') on."""
    data, T = DATA[dataset], preset.model.block_size
    rows_cap = preset.max_train_rows if split == "train" else preset.max_val_rows
    chunk_cap = preset.max_train_chunks if split == "train" else preset.max_val_chunks
    rows = min(rows_cap or math.inf, data[f"{split}_rows"])
    n = int(rows * data[f"{split}_tokens_per_row"] // (T + 1))
    return min(n, chunk_cap) if chunk_cap else n


def forward_flops_per_token(model: str, variant: str, fields: dict, params: int) -> float:
    """2 N plus what N does not count, in every layer (measure.mixing_flops_per_token)."""
    config = make_config(model, variant, **fields)
    return 2 * params + fields["n_layer"] * mixing_flops_per_token(config, fields["block_size"])


def train_bytes_per_token(preset: Preset, model: str, variant: str, mamba_backend: str) -> float:
    if model == "mamba" and mamba_backend == "mamba_ssm":  # fused kernels keep no scan states
        return TRAIN_BYTES[(preset.name, "transformer", "sdpa")]
    key = (preset.name, model, variant)
    if key not in TRAIN_BYTES:
        raise KeyError(f"no byte count for {key}: count it with gamlib.experiments.cost.count_train_bytes "
                       "and add it to TRAIN_BYTES")
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


@functools.lru_cache(maxsize=None)
def param_count(model: str, variant: str, fields: tuple) -> int:
    """Parameters of a model built from `fields` ((name, value) pairs), counted once per process."""
    backend = {"backend": "mambapy"} if model == "mamba" else {}
    return build_model(model, variant, **dict(fields), **backend).num_params()


def estimate_run(preset: Preset, model: str, variant: str, dataset: str, mamba_backend: str = "mambapy") -> RunEstimate:
    """FLOPs, bytes moved and optimizer steps of one training run (train + every evaluation)."""
    fields = preset.model_fields()
    params = param_count(model, variant, tuple(sorted(fields.items())))
    T, epochs, batch = fields["block_size"], preset.train.epochs, preset.train.batch_size
    train_chunks, val_chunks = chunks(preset, dataset, "train"), chunks(preset, dataset, "val")
    train_tokens, val_tokens = train_chunks * T * epochs, val_chunks * T * (epochs + 1)  # + the initial evaluation
    forward = forward_flops_per_token(model, variant, fields, params)
    per_token_bytes = 2 * train_bytes_per_token(preset, model, variant, mamba_backend)
    return RunEstimate(model, variant, dataset, params, train_tokens,
                       flops=3 * forward * train_tokens + forward * val_tokens,
                       bytes=per_token_bytes * (train_tokens + val_tokens / 3),
                       steps=math.ceil(train_chunks / batch) * epochs)


def recall_run_seconds(preset: Preset, model: str, variant: str, width: int, vocab_size: int, seq_len: int,
                       training: dict, gpu: GPUClass, mamba_backend: str = "mambapy") -> float:
    """One run of a recall grid at `width` on the preset's depth: estimate_run's arithmetic on its sequences (bytes
    per token: the preset's count for the variant, or its family's default, scaled by width)."""
    fields = preset.model_fields(vocab_size=vocab_size, block_size=seq_len, dropout=0.0, n_embd=width)
    params = param_count(model, variant, tuple(sorted(fields.items())))
    epochs, batch = training["epochs"], training["batch_size"]
    train_tokens = training["train_sequences"] * seq_len * epochs
    val_tokens = training["eval_sequences"] * seq_len * (epochs + 2)  # every evaluation, the first, the answers
    forward = forward_flops_per_token(model, variant, fields, params)
    counted = variant if (preset.name, model, variant) in TRAIN_BYTES else DEFAULT_VARIANTS[model]
    per_token_bytes = 2 * train_bytes_per_token(preset, model, counted, mamba_backend) * width / preset.model.n_embd
    run = RunEstimate(model, variant, "recall", params, train_tokens, flops=3 * forward * train_tokens +
                      forward * val_tokens, bytes=per_token_bytes * (train_tokens + val_tokens / 3),
                      steps=math.ceil(training["train_sequences"] / batch) * epochs)
    return run_seconds(run, gpu, precision_mode(preset, gpu))


def run_seconds(run: RunEstimate, gpu: GPUClass, precision: str) -> float:
    flops_per_s = gpu.fp32 if precision == "fp32" else gpu.mixed
    return run.flops / flops_per_s + run.bytes / gpu.bandwidth + run.steps * gpu.step_overhead_s


def peak_gb(run: RunEstimate, preset: Preset, precision: str, mamba_backend: str = "mambapy") -> float:
    """Weights, gradients and AdamW state (16 bytes per parameter) + one step's activations held at once
    (PEAK_BYTES, fp32; taken as 0.6 of it under autocast): used only to warn about out-of-memory."""
    tokens = preset.train.batch_size * preset.model.block_size
    model, variant = (("transformer", "sdpa") if run.model == "mamba" and mamba_backend == "mamba_ssm"
                      else (run.model, run.variant))
    activations = PEAK_BYTES.get((preset.name, model, variant), 0) * tokens * (1 if precision == "fp32" else 0.6)
    return (16 * run.params + activations) / 1e9


def block_params(model: str, variant: str, seq_len: int, n_embd: int, n_head: int) -> int:
    """Parameters of one block (built on the meta device: nothing is allocated, whatever the length)."""
    with torch.device("meta"):
        block, _, _ = build_block(model, variant, seq_len, n_embd=n_embd, n_head=n_head, backend="mambapy")
    return sum(p.numel() for p in block.parameters())


def scaling_seconds(gpu: GPUClass, mamba_backend: str) -> tuple[float, list[str]]:
    """Table 2 on this GPU class: seconds, and the points expected to run out of memory."""
    settings, total, oom = SCALING_SETTINGS["cuda"], 0.0, []
    B, C, H = settings["batch_size"], settings["n_embd"], settings["n_head"]
    iterations = settings["warmup"] + settings["iters"]
    for series in SCALING_SERIES["cuda"]:
        model, variant = series["model"], series["variant"]
        for T in settings["seq_lens"]:
            config = make_config(model, variant, n_embd=C, n_head=H, block_size=T, n_layer=1)
            held = 4 * B * T * activation_floats_per_token(config, T, "cuda", mamba_backend)  # fp32 upper bound
            if held > gpu.memory_gb * 1e9:
                oom.append(f"{model} {variant} at {T}")
                break  # the sweep stops a series at its first OOM
            flops = 3 * B * T * (2 * block_params(model, variant, T, C, H) + mixing_flops_per_token(config, T))
            total += iterations * (flops / gpu.mixed + 2 * held / gpu.bandwidth)
    return total, oom


def count_train_bytes(preset, model: str, variant: str, batch: int = 4) -> tuple[int, int]:
    """Per token, for one fp32 training step on the CPU (parameters and their gradients left out):
    (tensor bytes allocated in all, the most bytes held at once), from torch.profiler's allocator events."""
    preset = get_preset(preset)
    fields = preset.model_fields()
    net = build_model(model, variant, **fields, **({"backend": "mambapy"} if model == "mamba" else {})).train()
    x = torch.randint(0, preset.vocab_size, (batch, fields["block_size"]))

    def step():
        _, loss = net(x, x)
        loss.backward()

    allocated, peak = allocator_bytes(step)
    grads = sum(p.numel() * p.element_size() for p in net.parameters())
    tokens = batch * fields["block_size"]
    return round((allocated - grads) / tokens), round((peak - grads) / tokens)


def recount_lines() -> list[str]:
    """TRAIN_BYTES and PEAK_BYTES as counted on this CPU, as Python to paste above."""
    counts = {(p, m, v): count_train_bytes(p, m, v) for p in ("colab", "paper")
              for m, v in sorted(study_models(get_preset(p)))}
    lines = []
    for index, name in enumerate(("TRAIN_BYTES", "PEAK_BYTES")):
        entries = [f'    ("{p}", "{m}", "{v}"): {pair[index]:_},' for (p, m, v), pair in counts.items()]
        lines += [f"{name} = {{", *entries, "}"]
    return lines


def run_tokens(preset: Preset, dataset: str, data_dir=None) -> float:
    """Token-equivalents one run on `dataset` costs: its training tokens plus a third of its evaluated tokens
    (an evaluation is a forward pass only)."""
    data = load_lm_data(dataset, data_dir=data_dir, **preset.data_kwargs())
    train, T = preset.train, preset.model.block_size
    evaluations = 1 + train.epochs * train.evals_per_epoch
    return len(data.train) * T * train.epochs + len(data.validation) * T * evaluations / 3


def measured_run_seconds(preset: Preset, runs: list[Run], data_dir=None) -> dict[Run, float]:
    """{run: seconds}, extrapolated from two timed training steps of each model on this machine."""
    pairs = list(dict.fromkeys(r.pair for r in runs))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = measure_training_steps(pairs, preset.model_fields(), preset.train.batch_size, steps=2, warmup=1,
                                  device=device)
    rate = {(r["model"], r["variant"]): r["tokens_per_s"] for r in rows}
    tokens = {d: run_tokens(preset, d, data_dir) for d in dict.fromkeys(r.dataset for r in runs)}
    return {r: tokens[r.dataset] / rate[r.pair] for r in runs}


# Jobs of the GPU session that are not training runs. What the arithmetic cannot give is assumed, not measured:
GPU_CHECK_FIXED_S = 180.0     # pytest tests/cuda (its start-up and 32 tests) plus building each model twice
COMPILE_S_PER_MODEL = 60.0    # torch.compile of one paper-size model's training step (a first call)
KERNEL_BUILD_S = {"causal-conv1d": 300.0, "mamba-ssm": 1200.0}   # source builds, one GPU architecture, 16 cores
KERNEL_CHECKS_S = 120.0       # the parity tests and the side-by-side timing on the kernels


def training_step_seconds(preset: Preset, model: str, variant: str, gpu: GPUClass, precision: str,
                          mamba_backend: str = "mambapy") -> float:
    """One optimizer step of a model at the preset's shape: a WikiText-2 run's estimate over its steps."""
    run = estimate_run(preset, model, variant, "wikitext2", mamba_backend)
    return run_seconds(run, gpu, precision) / run.steps


def gpu_check_seconds(gpu: GPUClass, models, steps: int) -> float:
    """make gpu-check: GPU_CHECK_FIXED_S plus, per model, fp32 and autocast training of 2 x `steps` steps and three
    evaluations (a variant without a byte count is timed as its family's default)."""
    paper, total = get_preset("paper"), GPU_CHECK_FIXED_S
    for model, variant in models:
        counted = variant if (paper.name, model, variant) in TRAIN_BYTES else DEFAULT_VARIANTS[model]
        for precision in ("fp32", gpu.mixed_dtype):
            total += (2 * steps + 3) * training_step_seconds(paper, model, counted, gpu, precision)
    return total


def compile_benchmark_seconds(preset: Preset, gpu: GPUClass, models, rounds: int) -> float:
    """Every model eager and compiled, `rounds` steps each, plus COMPILE_S_PER_MODEL per compiled model."""
    mode = precision_mode(preset, gpu)
    return sum(2 * rounds * training_step_seconds(preset, m, v, gpu, mode) + COMPILE_S_PER_MODEL for m, v in models)


def kernels_seconds(preset: Preset, gpu: GPUClass, models, rounds: int) -> float:
    """Building the official Mamba kernels (assumed, KERNEL_BUILD_S), their checks, and timing `models`."""
    mode = precision_mode(preset, gpu)
    timing = sum(rounds * training_step_seconds(preset, m, v, gpu, mode, backend)
                 for m, v in models for backend in ("mamba_ssm", "mambapy"))
    return sum(KERNEL_BUILD_S.values()) + KERNEL_CHECKS_S + timing
