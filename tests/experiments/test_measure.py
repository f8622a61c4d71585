"""gamlib.experiments.measure: one-block time and memory rows, the CPU memory measure, the skip estimate, bad input."""
import statistics

import pytest
import torch

from gamlib.analysis.fits import fit_exponent
from gamlib.experiments.measure import MB, activation_bytes_estimate, build_block, cpu_peak_bytes, measure_block

SETTINGS = dict(batch_size=1, n_embd=32, n_head=4, device="cpu", warmup=1, iters=2)  # a tiny, quick measurement
MODELS = [("gam", "full"), ("transformer", "naive"), ("transformer", "sdpa"), ("mamba", "paper")]
ROW_KEYS = {"model", "variant", "seq_len", "batch_size", "n_embd", "n_head", "backend", "device",
            "device_name", "cpu_threads", "dropout", "precision", "warmup", "iters",
            "memory_measure", "status", "reason", "median_ms", "times_ms", "peak_mb"}


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: CPU flash attention keeps a buffer per thread, so peaks are the same
    on every machine, and tiny ops do not stall when other processes share the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def peak_mb_over(model, variant, seq_lens, **settings):
    settings = {**SETTINGS, "warmup": 0, "iters": 1, **settings}
    return [measure_block(model, variant, n, **settings)["peak_mb"] for n in seq_lens]


@pytest.mark.parametrize("model, variant", MODELS)
def test_row_for_each_model(model, variant):
    row = measure_block(model, variant, 32, **SETTINGS)
    assert set(row) == ROW_KEYS and row["cpu_threads"] == 1
    assert (row["model"], row["variant"], row["seq_len"]) == (model, variant, 32)
    assert row["status"] == "ok" and row["reason"] == ""
    assert (row["precision"], row["memory_measure"]) == ("fp32", "cpu_profiler_peak")
    assert len(row["times_ms"]) == 2 and row["median_ms"] == statistics.median(row["times_ms"])
    assert row["backend"] == ("mambapy" if model == "mamba" else None)
    assert row["n_head"] == (4 if model == "transformer" else None)
    block, _, _ = build_block(model, variant, 32, n_embd=32, n_head=4)
    held_throughout = sum(p.numel() * 4 for p in block.parameters()) + 32 * 32 * 4  # + input
    assert row["peak_mb"] > held_throughout / MB


def test_cpu_peak_counts_tensors_alive_at_once():
    before = torch.zeros(1000)  # 4000 bytes; a view of it shares the storage and counts once

    def step():
        a = torch.ones(2**18)  # 1 MiB
        b = torch.ones(2**19)  # 2 MiB while a is alive: 3 MiB held
        del a, b
        torch.ones(2**19)      # 2 MiB alone

    assert cpu_peak_bytes(step, [before, before[10:]]) == 4000 + 3 * 2**20


def test_memory_measure_is_deterministic():
    first, second = (measure_block("transformer", "naive", 64, **SETTINGS)["peak_mb"] for _ in range(2))
    assert first == second


def test_memory_exponents_naive_attention_quadratic_gam_and_sdpa_linear():
    lengths = [128, 256, 512, 1024]
    assert fit_exponent(lengths, peak_mb_over("transformer", "naive", lengths)) > 1.5
    assert fit_exponent(lengths, peak_mb_over("gam", "full", lengths)) < 1.3
    # PyTorch's fused CPU attention has no dropout, so SDPA is linear only with dropout 0
    assert fit_exponent(lengths, peak_mb_over("transformer", "sdpa", lengths, dropout=0.0)) < 1.3


@pytest.mark.parametrize("model, variant", MODELS)
def test_skip_estimate_within_factor_two_of_measured(model, variant):
    row = measure_block(model, variant, 256, **SETTINGS)
    _, config, _ = build_block(model, variant, 256, n_embd=32, n_head=4)
    ratio = activation_bytes_estimate(config, 1, 256) / MB / row["peak_mb"]
    assert 0.5 < ratio < 2, ratio


def test_point_above_cpu_cap_is_skipped_with_reason():
    row = measure_block("transformer", "naive", 64, **SETTINGS, max_cpu_bytes=1000)
    assert row["status"] == "skipped" and "max_cpu_bytes" in row["reason"]
    assert row["median_ms"] is None and row["peak_mb"] is None


@pytest.mark.parametrize("args, settings, message", [
    (("rnn", None, 32), {}, "unknown model 'rnn'"),
    (("transformer", "flash", 32), {}, "unknown TransformerConfig variant 'flash'"),
    (("gam", "full", 0), {}, "seq_len must be an integer >= 1"),
    (("gam", "full", 32), {"batch_size": 0}, "batch_size must be"),
    (("gam", "full", 32), {"iters": 0}, "iters must be"),
    (("gam", "full", 32), {"warmup": -1}, "warmup must be an integer >= 0"),
    (("gam", "full", 32), {"precision": "fp8"}, "unknown precision 'fp8'"),
    (("gam", "full", 32), {"precision": "fp16"}, "CPU measurements run in fp32"),
    (("gam", "full", 32), {"device": "mps"}, "unknown device type 'mps'"),
    (("mamba", "paper", 32), {"backend": "mamba_ssm"}, "CUDA only"),
    (("mamba", "paper", 32), {"backend": "triton"}, "unknown Mamba backend 'triton'"),
])
def test_bad_input_names_the_problem(args, settings, message):
    with pytest.raises(ValueError, match=message):
        measure_block(*args, **{**SETTINGS, **settings})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        measure_block("gam", "full", 32, **{**SETTINGS, "device": "cuda"})
