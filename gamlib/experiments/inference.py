"""Inference and speed as run records: generation cost per token, and the bank read explicit vs fused.

    run_generation_benchmark(preset)   per-token time and state bytes vs context length, for GAM, the
                                       Transformer and Mamba, each with its state ('step') and without
                                       ('recompute'), measured side by side in one run
    run_memory_read_benchmark()        one GAM block's forward + backward time and peak memory with the
                                       explicit and the fused bank read, and its GFLOP/s as a fraction of
                                       a plain matmul's rate on the same machine

Both write a record of kind 'benchmark' (field 'benchmark': 'generation' | 'memory_read') under
results/<preset>/benchmarks/ and reuse it when its specification matches (records.find_or_run).
Timings are medians of several calls; every call runs once per round, in a random order, so a slow
spell of a shared machine hits all points alike. CPU runs use one thread unless told otherwise.
"""
from __future__ import annotations

import random
import statistics
import time
from contextlib import contextmanager

import numpy as np
import torch

from ..models.generation import nbytes
from ..models.registry import build_model
from ..paths import results_dir
from ..presets import get_preset
from ..records import find_or_measure, read_record
from ..runtime import device_name, sync
from .measure import cpu_peak_bytes, gam_block_flops, matmul_rate, measure_memory_read

GENERATION_MODELS = (("gam", "full"), ("transformer", "sdpa"), ("mamba", "paper"))
GENERATION_MODES = ("step", "recompute", "forward")  # forward: model(context), as generate() did before the state
# The weights' memory order (LanguageModel.use_generation_layout): PyTorch's default, row by row, with every
# mode; and the generation layout, with the two modes generate() runs.
LAYOUT_MODES = {"default": GENERATION_MODES, "generation": ("step", "recompute")}
PAPER_CONTEXTS = (64, 128, 192, 256, 320, 512)  # tokens read before the next one; 256 = block_size
BLOCK_SEQ_LENS = (256, 512, 1024, 2048, 4096, 8192)


def benchmark_path(benchmark: str, preset: str, device: str = "cpu", results_root=None):
    """Where a benchmark record lives: results/<preset>/benchmarks/<benchmark>-<device>.json."""
    return results_dir(results_root) / get_preset(preset).name / "benchmarks" / f"{benchmark}-{device}.json"


def find_benchmark(benchmark: str, preset: str, device: str = "cpu", results_root=None) -> dict | None:
    """The record of `benchmark` ('generation' | 'memory_read') for `preset` and device, or None if there is none."""
    return read_record(benchmark_path(benchmark, preset, device, results_root))


@contextmanager
def threads(n: int | None):
    """torch.set_num_threads(n) inside the body (None: leave it), restored afterwards."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def next_token_call(model, ids: torch.Tensor, mode: str):
    """What generate() does for the next token after reading `ids` (B, c) -> (call, state or None, window).

    step: the state after c-1 tokens and one step (c <= block_size), else the receptive-field window;
    recompute: the whole cropped context, only the last position through the head (generate(use_cache=False));
    forward: model(cropped context), logits at every position, which is what generate() did before it had
    a state. `window` = how many positions the blocks run over.
    """
    block_size = model.config.block_size
    c = ids.shape[1]
    if mode == "step" and c <= block_size:
        state = model.prefill(ids[:, :-1])[1] if c > 1 else model.initial_state(ids.shape[0])
        last = ids[:, -1]
        return (lambda: model.step(last, state)), state, 1
    if mode == "forward":
        return (lambda: model(ids[:, -block_size:])), None, min(c, block_size)
    window = model.receptive_field if mode == "step" else block_size
    return (lambda: model.last_logits(ids, window)), None, min(window, c, block_size)


@torch.no_grad()
def measure_generation(models, fields: dict, contexts, *, repeats: int = 7, warmup: int = 2, step_burst: int = 5,
                       batch_size: int = 1, device: str = "cpu", seed: int = 0) -> list[dict]:
    """Per-token cost of each (model, variant) in each layout and mode at each context length c, on random ids.

    One row per model, layout (LAYOUT_MODES: the same weights in PyTorch's default memory order and in
    use_generation_layout's), mode and c: median_ms, p25_ms (its first quartile: on a shared machine the
    times are often bimodal, and the quartile is less moved by other processes) and times_ms of the call
    generate() makes for the token after c tokens (next_token_call), tokens_per_s, params, window
    (positions run through the blocks), state_bytes (the state after that token; None where none is
    kept) and, on CPU, peak_bytes: the state plus everything the call allocates, by cpu_peak_bytes (the
    weights are not counted). Each round runs every (model, layout, mode, c) in a fresh random order, so
    drift of a shared machine spreads over all points; and each runs as generation does, back to back: one
    untimed call first (the previous token's, which leaves that model's weights in cache; without it every
    call would pay for re-reading weights another model evicted), then its timed calls (a one-position
    step `step_burst` times: it is cheap and noisy). Fresh untrained models (the cost does not depend on
    the weights), in eval mode, under no_grad.
    """
    device = torch.device(device)
    nets, calls = _generation_calls(models, fields, contexts, batch_size, device, seed)
    times = _time_calls(calls, repeats, warmup, step_burst, device, seed)
    rows = []
    for (name, variant, layout, mode, c), (call, state, window) in calls.items():
        net = nets[name, variant, layout]
        measured = times[name, variant, layout, mode, c]
        median_ms = statistics.median(measured)
        state_bytes = nbytes(call()[1]) if state is not None else None  # the state after this token
        peak = cpu_peak_bytes(call, list(_tensors(state))) if device.type == "cpu" else None
        rows.append(dict(model=name, variant=variant, layout=layout, mode=mode, context=c, window=window,
                         receptive_field=net.receptive_field, params=net.num_params(),
                         past_block_size=c > fields["block_size"], median_ms=median_ms,
                         p25_ms=float(np.percentile(measured, 25)), times_ms=measured,
                         tokens_per_s=batch_size * 1000 / median_ms,
                         state_bytes=state_bytes, peak_bytes=peak))
    return rows


def _generation_calls(models, fields: dict, contexts, batch_size: int, device: torch.device, seed: int):
    """The models, (model, variant, layout) -> net, each built after torch.manual_seed(seed) (the same weights in
    both layouts), and their calls, (model, variant, layout, mode, c) -> next_token_call on random ids."""
    nets = {}
    for name, variant in models:
        extra = {"backend": "mambapy"} if name == "mamba" and device.type == "cpu" else {}
        for layout in LAYOUT_MODES:
            torch.manual_seed(seed)  # the same weights in both layouts
            net = build_model(name, variant, **fields, **extra).to(device).eval()
            nets[name, variant, layout] = net.use_generation_layout() if layout == "generation" else net
    generator = torch.Generator().manual_seed(seed)
    calls = {}                                      # (model, variant, layout, mode, c) -> (call, state, window)
    for c in contexts:
        ids = torch.randint(0, fields["vocab_size"], (batch_size, c), generator=generator).to(device)
        for (name, variant, layout), net in nets.items():
            for mode in LAYOUT_MODES[layout]:
                calls[name, variant, layout, mode, c] = next_token_call(net, ids, mode)
    return nets, calls


def _time_calls(calls: dict, repeats: int, warmup: int, step_burst: int, device: torch.device, seed: int) -> dict:
    """key -> the milliseconds of each timed call: every round runs each call (an untimed one first, then the
    timed ones) in a fresh random order; the first `warmup` rounds are not kept."""
    times = {key: [] for key in calls}
    order = list(calls)
    shuffle = random.Random(seed)
    for i in range(warmup + repeats):
        shuffle.shuffle(order)
        for key in order:
            call, _, window = calls[key]
            call()  # the previous token: this model's weights are in cache, as in a generation loop
            for _ in range(step_burst if window == 1 else 1):
                sync(device)
                start = time.perf_counter()
                call()
                sync(device)
                if i >= warmup:
                    times[key].append((time.perf_counter() - start) * 1000)
    return times


def _tensors(state):
    """Every tensor in a (nested) state."""
    if isinstance(state, torch.Tensor):
        yield state
    elif isinstance(state, (tuple, list)):
        for part in state:
            yield from _tensors(part)
    elif state is not None:
        yield from _tensors(state.layers)


def run_generation_benchmark(preset: str = "paper", contexts=None, models=GENERATION_MODELS, *,
                             repeats: int = 9, warmup: int = 2, step_burst: int = 5, num_threads: int | None = 1,
                             device: str = "cpu", results_root=None, force: bool = False, seed: int = 0) -> dict:
    """Per-token generation cost vs context length at `preset`'s model size -> a record.

    contexts None: PAPER_CONTEXTS scaled to the preset's block_size (1/4, 1/2, 3/4, 1, 5/4, 2 of it).
    Written to results/<preset>/benchmarks/generation-<device>.json; reused unless force=True.
    """
    settings = get_preset(preset)
    block_size = settings.model.block_size
    contexts = tuple(contexts or (c * block_size // 256 for c in PAPER_CONTEXTS))
    fields = settings.model_fields()
    models = [tuple(m) for m in models]
    spec = {"kind": "benchmark", "benchmark": "generation", "preset": settings.name, "fields": fields,
            "models": models, "contexts": contexts, "layouts": LAYOUT_MODES, "repeats": repeats, "warmup": warmup,
            "step_burst": step_burst, "batch_size": 1, "timing": "back to back: one untimed call, then the timed ones",
            "num_threads": num_threads, "device": device, "torch": torch.__version__, "seed": seed}
    path = benchmark_path("generation", settings.name, device, results_root)

    def measure() -> tuple[dict, str]:
        with threads(num_threads if device == "cpu" else None):
            rows = measure_generation(models, fields, contexts, repeats=repeats, warmup=warmup,
                                      step_burst=step_burst, device=device, seed=seed)
            used = torch.get_num_threads()
        return {"kind": "benchmark", "benchmark": "generation", "preset": settings.name, "device": device,
                "cpu_threads": used, "fields": fields, "models": models, "contexts": contexts,
                "rows": rows}, device_name(torch.device(device))

    return find_or_measure(path, spec, measure, force=force)


def run_memory_read_benchmark(seq_lens=BLOCK_SEQ_LENS, *, batch_size: int = 1, n_embd: int = 512,
                              num_slots: int = 512, warmup: int = 1, iters: int = 3, num_threads: int | None = 1,
                              device: str = "cpu", preset: str = "paper", results_root=None,
                              force: bool = False) -> dict:
    """One GAM block, explicit vs fused bank read, over `seq_lens` -> a record (rows per length and read,
    plus a matmul of the block's largest shape (B T, C) @ (C, 4C) at each length, timed in the same run).

    Written to results/<preset>/benchmarks/memory_read-<device>.json (preset only names the folder).
    """
    seq_lens = tuple(seq_lens)
    spec = {"kind": "benchmark", "benchmark": "memory_read", "seq_lens": seq_lens, "batch_size": batch_size,
            "n_embd": n_embd, "num_slots": num_slots, "warmup": warmup, "iters": iters,
            "num_threads": num_threads, "device": device, "torch": torch.__version__}
    path = benchmark_path("memory_read", preset, device, results_root)

    def measure() -> tuple[dict, str]:
        rows, matmuls = [], []
        with threads(num_threads if device == "cpu" else None):
            for T in seq_lens:
                for read in ("explicit", "fused"):
                    rows.append(measure_memory_read(T, read, batch_size=batch_size, n_embd=n_embd,
                                                    num_slots=num_slots, warmup=warmup, iters=iters, device=device))
                matmuls.append({"seq_len": T, **matmul_rate(batch_size * T, n_embd, 4 * n_embd, device=device)})
        flops = {T: gam_block_flops(batch_size, T, n_embd, num_slots) for T in seq_lens}
        return {"kind": "benchmark", "benchmark": "memory_read", "device": device, "rows": rows, "matmul": matmuls,
                "flops": {str(T): f for T, f in flops.items()}}, device_name(torch.device(device))

    return find_or_measure(path, spec, measure, force=force)
