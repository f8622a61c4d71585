"""One point of Table 2: forward+backward time and peak memory of ONE block at one sequence length.

The paper times one block (batch 16, C=512, 8 heads, fp16 autocast, 5 warm-up + 20 timed
iterations of forward + `output.sum().backward()` in train mode) and reports CUDA peak memory
(reference: rishiraj/gam, scale.py). `measure_block` does the same for a GAM block, a Transformer
block (naive or fused attention) or a Mamba layer; gamlib.analysis.fits reads the scaling law off a
log-log fit of the sweep's rows. Unlike the reference,
the input is fp32 and requires grad (autocast casts it) and no GradScaler multiplies the loss.

Peak memory is measured two ways, and they are NOT the same quantity:
  cuda: torch.cuda.max_memory_allocated over the timed iterations (after reset_peak_memory_stats);
        everything allocated on the device counts, including tensors from before the call.
  cpu:  the most bytes held at once by the block's parameters, buffers and input plus every tensor
        one forward+backward allocates (activations, temporaries, gradients), summed from the
        profiler's allocator events in one extra, untimed step (see `cpu_peak_bytes`).
On CPU the run is fp32 and lengths whose estimated activations exceed `max_cpu_bytes` are
skipped (status 'skipped', with the reason) instead of exhausting the machine's memory.
"""
from __future__ import annotations

import gc
import os
import statistics
import time
from contextlib import contextmanager

import torch
import torch.nn as nn
from torch.profiler import ProfilerActivity, profile

from ..checks import check_choice, check_count
from ..models.config import GAMConfig, LMConfig, MambaConfig, TransformerConfig
from ..models.gam import GAMBlock
from ..models.mamba import MambaLayer, resolve_backend
from ..models.registry import make_config
from ..models.transformer import TransformerBlock
from ..runtime import AUTOCAST_DTYPES, default_device, device_name, sync

PAPER_SEQ_LENS = (256, 512, 1024, 2048, 4096, 8192)
PAPER_SETTINGS = dict(batch_size=16, n_embd=512, n_head=8, warmup=5, iters=20, precision="fp16")
MAX_CPU_BYTES = 4 * 2**30  # skip CPU points whose estimated activations exceed this
MB = 2**20  # the reference divides bytes by 1024 * 1024
# Bumped when what a measurement means changes, so records of the old kind are not reused.
# 2: GAM's memory read runs fused (scaled_dot_product_attention) when training.
MEASURE_VERSION = 2


def build_block(model_name: str, variant: str | None, seq_len: int, *, n_embd: int, n_head: int,
                backend: str = "auto", dropout: float | None = None
                ) -> tuple[nn.Module, LMConfig, str | None]:
    """One block of `model_name` for `seq_len` tokens -> (block, config, Mamba backend or None).

    dropout None keeps the config default (0.1, as the reference benchmark).
    """
    fields = dict(n_embd=n_embd, n_head=n_head, backend=backend, block_size=seq_len, n_layer=1)
    if dropout is not None:
        fields["dropout"] = dropout
    config = make_config(model_name, variant, **fields)
    if isinstance(config, GAMConfig):
        return GAMBlock(config), config, None
    if isinstance(config, TransformerConfig):
        return TransformerBlock(config), config, None
    resolved = resolve_backend(config.backend)
    return MambaLayer(config, resolved), config, resolved


def activation_floats_per_token(config: LMConfig, seq_len: int, device_type: str = "cpu",
                                mamba_backend: str = "mambapy") -> int:
    """Floats one block holds per token at the peak of a forward+backward, rounded up from CPU measurements
    at small sizes (a test checks agreement within a factor 2): about 22 C for every block (LayerNorms,
    projections, the 4C FFN), plus
      GAM: S (slot weights);
      Mamba on mambapy: 8 E C N (its parallel-scan states, E = expand, N = d_state; mamba_ssm keeps none);
      attention: 4 H T (scores, softmax, dropout mask and their gradients) for naive attention, and, on a
      CPU, for SDPA with dropout too, since PyTorch's fused CPU kernels lack dropout and fall back to the
      T x T math path.
    """
    C = config.n_embd
    per_token = 22 * C
    if isinstance(config, GAMConfig) and config.use_global:
        per_token += config.num_memory_slots
    if isinstance(config, TransformerConfig) and (
            config.variant == "naive" or (device_type == "cpu" and config.dropout > 0)):
        per_token += 4 * config.n_head * seq_len
    if isinstance(config, MambaConfig) and mamba_backend == "mambapy":
        per_token += 8 * config.expand * C * config.d_state
    return per_token


def activation_bytes_estimate(config: LMConfig, batch_size: int, seq_len: int) -> int:
    """A rough fp32 size of what one CPU forward+backward holds at its peak; used to skip points."""
    return 4 * batch_size * seq_len * activation_floats_per_token(config, seq_len)


def mixing_flops_per_token(config: LMConfig, seq_len: int) -> int:
    """Forward FLOPs per token of one block that its parameter count does not give (2 x parameters does the
    rest): attention's scores and weighted sum over the full T x T, 4 T C; GAM's bank used a second time,
    2 S C; Mamba's selective scan, 9 E C N."""
    C = config.n_embd
    if isinstance(config, TransformerConfig):
        return 4 * seq_len * C
    if isinstance(config, GAMConfig):
        return 2 * config.num_memory_slots * C if config.use_global else 0
    if isinstance(config, MambaConfig):
        return 9 * config.expand * C * config.d_state
    return 0


@contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null: kineto prints profiler start/stop lines there."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def allocator_bytes(step) -> tuple[int, int]:
    """(bytes allocated in all, the most bytes held at once) by PyTorch's CPU allocator while `step()` runs.

    torch.profiler(profile_memory=True) records every allocation and free made through that allocator
    (activations, temporaries inside an op, saved tensors, gradients); the running sum of those events,
    taken in time order, peaks at the largest number of bytes alive at once.
    """
    profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
    with _native_stderr_silenced():
        profiler.start()
    try:
        step()
    finally:
        with _native_stderr_silenced():
            profiler.stop()
    events = [e for e in profiler.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_ns())  # stable: same-time events keep their recorded order
    held = peak = 0
    for event in events:
        held += event.nbytes()  # negative for a free
        peak = max(peak, held)
    return sum(e.nbytes() for e in events if e.nbytes() > 0), peak


def cpu_peak_bytes(step, alive_before: list[torch.Tensor]) -> int:
    """Peak bytes of CPU tensors alive while `step()` runs (allocator_bytes), counting `alive_before` as held.

    Tensors already alive (parameters, buffers, the input) add their sizes, each storage once.
    This is the CPU counterpart of, not the same number as, CUDA max_memory_allocated: sizes are
    as requested (no block rounding, no cache), memory that libraries obtain without PyTorch's
    allocator is missed, and nothing allocated before the step counts beyond `alive_before`.
    Some fused kernels (e.g. CPU flash attention) hold one buffer per thread, so the peak depends
    a little on torch.get_num_threads(); measure_block records it.
    """
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in alive_before}
    return sum(storages.values()) + allocator_bytes(step)[1]


def _measure_device(device, precision: str | None) -> tuple[torch.device, str]:
    """The device (None: CUDA when available) and precision (None: fp16 on CUDA, fp32 on a CPU) of a measurement."""
    device = torch.device(device or default_device())
    check_choice("device type", device.type, ("cpu", "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available; use device='cpu'")
    precision = precision or ("fp16" if device.type == "cuda" else "fp32")
    check_choice("precision", precision, AUTOCAST_DTYPES)
    if device.type != "cuda" and precision != "fp32":
        raise ValueError(f"precision {precision!r} is CUDA-only here; CPU measurements run in fp32")
    return device, precision


def measure_block(model_name: str, variant: str | None, seq_len: int, *, batch_size: int = 16,
                  n_embd: int = 512, n_head: int = 8, device: str | torch.device | None = None,
                  warmup: int = 5, iters: int = 20, precision: str | None = None,
                  backend: str = "auto", dropout: float | None = None,
                  max_cpu_bytes: int = MAX_CPU_BYTES, seed: int = 0) -> dict:
    """Time forward + backward of one block on random (B, T, C) input; report time and peak memory.

    Each iteration: grads set to None, output = block(x) (under autocast on CUDA), then
    output.sum().backward(), in train mode as the reference (dropout None keeps its 0.1; dropout=0
    lets CPU SDPA use its fused kernel). x requires grad. Defaults are the paper's Table 2 settings.
    device: None -> 'cuda' when available, else 'cpu'. precision: 'fp16' (default, the paper's
    autocast) | 'bf16' | 'fp32' on CUDA; only 'fp32' on CPU.
    Returns a dict: the settings, median_ms, times_ms (one per timed iteration), peak_mb (MiB; see
    the module docstring for what it measures on each device), status 'ok' | 'oom' (CUDA out of
    memory) | 'skipped' (CPU estimate above max_cpu_bytes), and the reason when not 'ok'.
    """
    device, precision = _measure_device(device, precision)
    on_cuda = device.type == "cuda"
    seq_len, batch_size, n_embd, n_head, iters = (
        check_count(name, value) for name, value in
        (("seq_len", seq_len), ("batch_size", batch_size), ("n_embd", n_embd), ("n_head", n_head),
         ("iters", iters)))
    warmup = check_count("warmup", warmup, minimum=0)
    if not on_cuda and model_name == "mamba":
        if backend == "mamba_ssm":
            raise ValueError("Mamba backend 'mamba_ssm' runs on CUDA only; use backend='mambapy'")
        backend = "mambapy" if backend == "auto" else backend  # auto would pick the CUDA kernels whenever a GPU exists
    torch.manual_seed(seed)
    block, config, resolved_backend = build_block(model_name, variant, seq_len, n_embd=n_embd,
                                                  n_head=n_head, backend=backend, dropout=dropout)
    row = dict(model=model_name, variant=config.variant, seq_len=seq_len, batch_size=batch_size,
               n_embd=n_embd, n_head=n_head if isinstance(config, TransformerConfig) else None,
               backend=resolved_backend, device=device.type,
               device_name=device_name(device),
               cpu_threads=torch.get_num_threads(),
               dropout=config.dropout, precision=precision, warmup=warmup, iters=iters,
               memory_measure="cuda_max_allocated" if on_cuda else "cpu_profiler_peak",
               status="ok", reason="", median_ms=None, times_ms=[], peak_mb=None)

    if not on_cuda:
        estimate = activation_bytes_estimate(config, batch_size, seq_len)
        if estimate > max_cpu_bytes:
            row.update(status="skipped", reason=f"estimated {estimate / MB:.0f} MB of activations "
                       f"exceeds max_cpu_bytes ({max_cpu_bytes / MB:.0f} MB)")
            return row
    try:
        times, peak = _run(block, (batch_size, seq_len, n_embd), device,
                           AUTOCAST_DTYPES[precision], warmup, iters)
    except torch.cuda.OutOfMemoryError:
        times = None
    if times is None:  # outside the except clause, so no traceback holds the tensors any more
        del block
        gc.collect()
        torch.cuda.empty_cache()
        row.update(status="oom", reason=f"CUDA out of memory at seq_len {seq_len}")
        return row
    row.update(median_ms=statistics.median(times), times_ms=times, peak_mb=peak / MB)
    return row


def _run(block, shape, device, autocast_dtype, warmup, iters):
    """Warm-up, timed iterations and peak memory -> (times in ms, peak bytes)."""
    block = block.to(device).train()
    x = torch.randn(shape, device=device, requires_grad=True)  # (B, T, C)

    def step():
        block.zero_grad(set_to_none=True)
        x.grad = None
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = block(x).sum()
        loss.backward()

    for _ in range(warmup):
        step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    if device.type == "cuda":
        return times, torch.cuda.max_memory_allocated(device)
    block.zero_grad(set_to_none=True)  # the profiled step starts like every step: no grads held
    x.grad = None
    alive = [*block.parameters(), *block.buffers(), x]
    return times, cpu_peak_bytes(step, alive)


# ---- The bank read, explicit vs fused (scripts/bench_block.py) -----------------------------------
MEMORY_READS = ("explicit", "fused")


def gam_block_flops(batch_size: int, seq_len: int, n_embd: int, num_slots: int, kernel_size: int = 3) -> dict:
    """FLOPs of one full GAM block's forward and backward, counted by hand (a multiply-add is 2 FLOPs).

    Per token, forward: the gate Linear(C, 2C) 4C^2; the FFN Linear(C, 4C) + Linear(4C, C) 16C^2; the bank
    read h M^T then weights @ M 4SC; the depthwise conv 2KC; in all 20C^2 + 4SC + 2KC. Backward: twice the
    forward (every product gives a gradient for each of its two inputs; the input x requires grad too).
    Elementwise work (LayerNorms, softmax, GELU, sigmoids, residuals: O(C + S) per token) is left out, and
    so is the fused kernel's recomputation of the scores in its backward: this is the useful work.
    """
    C, S, K = n_embd, num_slots, kernel_size
    forward = batch_size * seq_len * (20 * C * C + 4 * S * C + 2 * K * C)
    return {"forward": forward, "backward": 2 * forward, "total": 3 * forward}


def measure_memory_read(seq_len: int, read: str, *, batch_size: int = 1, n_embd: int = 512,
                        num_slots: int = 512, kernel_size: int = 3, warmup: int = 1, iters: int = 3,
                        device: str | torch.device = "cpu", seed: int = 0) -> dict:
    """Forward + backward time and peak memory of one GAM block (variant full, dropout 0, fp32) with its
    bank read 'explicit' (softmax(h M^T) M, keeps the (B, T, S) weights for backward) or 'fused' (SDPA).

    Same loop and memory measures as measure_block (module docstring). Returns a dict: the settings,
    median_ms, times_ms, peak_mb, flops (gam_block_flops total) and gflop_per_s at the median time.
    """
    check_choice("read", read, MEMORY_READS)
    device = torch.device(device)
    seq_len, batch_size, n_embd, num_slots, iters = (
        check_count(name, value) for name, value in
        (("seq_len", seq_len), ("batch_size", batch_size), ("n_embd", n_embd), ("num_slots", num_slots),
         ("iters", iters)))
    torch.manual_seed(seed)
    config = GAMConfig(n_embd=n_embd, num_memory_slots=num_slots, conv_kernel_size=kernel_size,
                       block_size=seq_len, n_layer=1, dropout=0.0)
    block = GAMBlock(config)
    block.memory.fused = read == "fused"
    times, peak = _run(block, (batch_size, seq_len, n_embd), device, None, check_count("warmup", warmup, 0), iters)
    flops = gam_block_flops(batch_size, seq_len, n_embd, num_slots, kernel_size)["total"]
    median_ms = statistics.median(times)
    return dict(read=read, seq_len=seq_len, batch_size=batch_size, n_embd=n_embd, num_slots=num_slots,
                kernel_size=kernel_size, device=device.type, device_name=device_name(device),
                cpu_threads=torch.get_num_threads(), warmup=warmup, iters=iters,
                memory_measure="cuda_max_allocated" if device.type == "cuda" else "cpu_profiler_peak",
                median_ms=median_ms, times_ms=times, peak_mb=peak / MB, flops=flops,
                gflop_per_s=flops / (median_ms / 1000) / 1e9)


def matmul_rate(m: int, k: int, n: int, *, warmup: int = 2, iters: int = 5,
                device: str | torch.device = "cpu", seed: int = 0) -> dict:
    """The machine's reference rate: median time and GFLOP/s of a plain fp32 (m, k) @ (k, n) matmul."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(m, k, generator=generator).to(device)
    b = torch.randn(k, n, generator=generator).to(device)
    times = []
    for i in range(warmup + iters):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    median_ms = statistics.median(times)
    return dict(m=m, k=k, n=n, median_ms=median_ms, times_ms=times,
                gflop_per_s=2 * m * k * n / (median_ms / 1000) / 1e9)
