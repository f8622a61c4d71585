"""Is this CUDA machine ready for the paper's experiments? A few minutes on any NVIDIA GPU, one screen, one record.

    python -m gamlib.experiments.gpu_check [--steps 4] [--skip-tests]     (make gpu-check; scripts/gpu_check.py)
    run_gpu_check(...)    the same from Python; the GPU session's first job (gamlib.experiments.gpu_session)

1. the CUDA tests (pytest tests/cuda of the checkout): bf16/fp16 autocast training with the GradScaler, the device
   and precision choices, CUDA timing, peak memory and out-of-memory handling of the scaling measurement, and the
   parity of the two Mamba backends (when mamba_ssm is installed);
2. every model at the paper configuration (6 layers, 512 wide, context 256, vocabulary 10,000, batch 32) trained
   for a few optimizer steps through gamlib's own fit(), in fp32 (the paper) and under autocast (bf16, or fp16
   with the GradScaler; the colab preset's choice), on token sequences it can learn: the loss must stay finite and
   must not rise (most models' falls clearly within these few steps; the paper's bare Mamba stack barely moves).
   A model that runs out of memory is retried at half the batch;
3. the report, with the paper preset's Tables 1 and 3 time extrapolated from the tokens/s measured here.

The result is a record (kind 'benchmark', benchmark 'gpu-check': rows, test summary, passed) at
results/<preset>/benchmarks/gpu-check-cuda.json; a passed one is what lets the GPU session skip this job.
Exit status of the CLI: 0 all passed; 1 a test or a training failed; 2 no CUDA GPU is visible (nothing run).
"""
from __future__ import annotations

import argparse
import math
import subprocess
import sys

import torch

from ..data import TokenChunks
from ..models.mamba import mamba_ssm_available
from ..models.registry import build_model
from ..paths import project_root
from ..plan import planned_runs
from ..presets import get_preset
from ..records import find_or_measure
from ..runtime import device_name, resolve_precision
from ..training.config import RunOptions, TrainConfig
from ..training.loop import fit
from .cost import chunks
from .inference import benchmark_path

MODELS = (("gam", "full"), ("gam", "global_only"), ("gam", "sum_fusion"), ("gam", "local_only"), ("gam", "context"),
          ("transformer", "naive"), ("transformer", "sdpa"), ("mamba", "paper"), ("mamba", "standard"))
STEPS = 4   # optimizer steps per epoch (2 epochs) per model and precision
BATCH = 32  # the paper's (halved on out-of-memory)


def no_cuda_message() -> str:
    return (f"gpu_check: no CUDA GPU is visible (torch {torch.__version__}, built for CUDA {torch.version.cuda}; "
            "torch.cuda.is_available() is False). Run it on a machine with an NVIDIA GPU and a CUDA build of "
            "PyTorch (on Linux, PyPI's torch wheels are CUDA builds: `make gpu-check TORCH_SPEC=torch` in a fresh "
            "clone); nothing was run.")


def run_tests(timeout: int, path: str = "tests/cuda") -> tuple[bool, list[str]]:
    """pytest `path` in the checkout; (passed, the summary lines worth showing)."""
    root = project_root()
    if root is None or not (root / path).is_dir():
        return False, [f"no {path} here: run from a checkout of the project (pip install -e .)"]
    command = [sys.executable, "-m", "pytest", path, "-q", "-ra", "-p", "no:cacheprovider"]
    try:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, [f"pytest {path} did not finish in {timeout} s"]
    lines = result.stdout.strip().splitlines()
    shown = [ln for ln in lines if ln.startswith(("FAILED", "ERROR", "SKIPPED"))][:8]
    return result.returncode == 0, shown + lines[-1:]


def learnable_chunks(n: int, block: int, vocab: int, seed: int) -> TokenChunks:
    """Chunks of short repeating patterns over 200 of the vocabulary's tokens: the loss can fall in a few steps."""
    g = torch.Generator().manual_seed(seed)
    patterns = torch.randint(0, min(vocab, 200), (n, 7), generator=g)
    ids = patterns.repeat(1, (block + 1) // 7 + 1)[:, : block + 1]
    return TokenChunks(ids[:, :-1].contiguous(), ids[:, 1:].contiguous())


def train_briefly(model: str, variant: str, precision: str, steps: int, batch: int) -> dict:
    """A few steps of fit() at the paper configuration; halves the batch on out-of-memory (down to 4)."""
    paper = get_preset("paper")
    fields = paper.model_fields()
    row = dict(model=model, variant=variant, precision=resolve_precision(precision, torch.device("cuda")))
    while True:
        net = None
        try:
            torch.manual_seed(0)
            net = build_model(model, variant, **fields)
            row.update(params=net.num_params(), backend=getattr(net, "backend", ""), batch=batch)
            train = learnable_chunks(batch * steps, fields["block_size"], fields["vocab_size"], 0)
            validation = learnable_chunks(batch, fields["block_size"], fields["vocab_size"], 1)
            config = TrainConfig(epochs=2, batch_size=batch, lr=paper.train.lr * 3, warmup_steps=1, precision=precision)
            torch.cuda.reset_peak_memory_stats()
            history = fit(net, train, validation, config, RunOptions(progress=False))
            return judged(row, history, steps)
        except torch.cuda.OutOfMemoryError:
            pass
        except Exception as error:  # report it and go on with the next model
            row.update(status=f"{type(error).__name__}: {str(error).splitlines()[0][:60] if str(error) else ''}")
            return row
        finally:
            del net
            torch.cuda.empty_cache()
        if batch <= 4:
            return {**row, "status": "out of memory even at batch 4"}
        batch //= 2


def judged(row: dict, history: dict, steps: int) -> dict:
    """The row of a finished brief training: speed, memory, losses and its status."""
    last = history["epochs"][-1]  # the second epoch: warm-up (allocator, kernels) is behind us
    row = {**row, "tokens_per_s": last["tokens_per_s"], "ms_per_step": 1000 * last["seconds"] / steps,
           "peak_gb": torch.cuda.max_memory_allocated() / 1e9, "loss_from": history["initial_val_loss"],
           "loss_to": last["val_loss"]}
    status = ("loss is not finite" if not math.isfinite(row["loss_to"]) else
              "loss rose" if row["loss_to"] > row["loss_from"] + 0.05 else "ok")
    return {**row, "status": status}


def extrapolate(rows: list[dict]) -> list[str]:
    """Tables 1 and 3 at the paper preset on this GPU, from the fp32 tokens/s measured here."""
    paper = get_preset("paper")
    rate = {(r["model"], r["variant"]): r.get("tokens_per_s") for r in rows if r["precision"] == "fp32"}
    total, missing = 0.0, set()
    runs = planned_runs(paper, ("table1", "table3"))
    for run in runs:
        speed = rate.get(run.pair)
        if not speed:
            missing.add(" ".join(run.pair))
            continue
        T, epochs = paper.model.block_size, paper.train.epochs
        trained = chunks(paper, run.dataset, "train") * T * epochs
        evaluated = chunks(paper, run.dataset, "val") * T * (epochs + 1)
        total += (trained + evaluated / 3) / speed
    lines = [f"paper preset, Tables 1 + 3 ({len(runs)} runs, fp32), extrapolated from the tokens/s above: about "
             f"{total / 3600:.1f} h on this GPU (from training-step throughput; start-up, data and logging add some)"]
    if missing:
        lines.append(f"  (without {', '.join(sorted(missing))}: not measured)")
    lines.append("  the same before running, from assumptions instead: python scripts/study.py --estimate-only")
    return lines


def device_line() -> str:
    props = torch.cuda.get_device_properties(0)
    return (f"GPU {props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor}; "
            f"torch {torch.__version__}, CUDA {torch.version.cuda}; "
            f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}; "
            f"Mamba kernels (mamba_ssm): {'yes' if mamba_ssm_available() else 'no, mambapy'}")


def print_row(row: dict, batch: int) -> None:
    loss = f"{row['loss_from']:.2f} -> {row['loss_to']:.2f}" if "loss_to" in row else "-"
    numbers = (f"{row['tokens_per_s']:>10,.0f}{row['ms_per_step']:>9.0f}{row['peak_gb']:>9.1f}"
               if "tokens_per_s" in row else f"{'-':>10}{'-':>9}{'-':>9}")
    print(f"  {row['model'] + ' ' + row['variant']:<22}{row.get('params', 0):>12,} {row.get('backend') or '-':<10}"
          f"{row['precision']:<5}{row.get('batch', batch):>6}{numbers}  {loss:<15} {row['status']}", flush=True)


def check(steps: int, batch: int, tests: bool, test_timeout: int) -> dict:
    """Run the check, printing as it goes; the record's content."""
    print(device_line())
    passed, summary = run_tests(test_timeout) if tests else (True, ["(skipped)"])
    if tests:
        print(f"CUDA tests (pytest tests/cuda): {'passed' if passed else 'FAILED'}")
        for line in summary:
            print(f"  {line[:150]}")
    print(f"training at the paper configuration, {steps} x 2 steps each (batch {batch}, context 256, vocab 10,000):")
    print(f"  {'model':<22}{'params':>12} {'backend':<10}{'prec':<5}{'batch':>6}{'tok/s':>10}{'ms/step':>9}"
          f"{'peak GB':>9}  {'val loss':<15} status")
    rows = []
    for model, variant in MODELS:
        for precision in ("fp32", "auto"):
            rows.append(train_briefly(model, variant, precision, steps, batch))
            print_row(rows[-1], batch)
    for line in extrapolate(rows):
        print(line)
    ok = passed and all(r["status"] == "ok" for r in rows)
    return {"kind": "benchmark", "benchmark": "gpu-check", "device_line": device_line(), "tests_passed": passed,
            "tests": summary, "rows": rows, "passed": ok}


def run_gpu_check(preset: str = "paper", steps: int = STEPS, batch: int = BATCH, tests: bool = True,
                  test_timeout: int = 900, results_root=None, force: bool = False,
                  lookup_only: bool = False) -> dict | None:
    """The check as a record (results/<preset>/benchmarks/gpu-check-cuda.json); a passed record is reused unless
    force=True, a failed one never is. Needs CUDA, except lookup_only=True (the passed record or None)."""
    spec = {"benchmark": "gpu-check", "models": [list(m) for m in MODELS], "steps": steps, "batch": batch,
            "tests": tests, "device": "cuda"}

    def measure() -> tuple[dict, str]:
        if not torch.cuda.is_available():
            raise RuntimeError(no_cuda_message())
        return check(steps, batch, tests, test_timeout), device_name(torch.device("cuda"))

    return find_or_measure(benchmark_path("gpu-check", preset, "cuda", results_root), spec, measure, force=force,
                           reusable=lambda record: record.get("passed", False), lookup_only=lookup_only)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps per epoch (2 epochs) per model")
    parser.add_argument("--batch", type=int, default=BATCH, help="the paper's batch (halved on out-of-memory)")
    parser.add_argument("--skip-tests", action="store_true", help="only the training check")
    parser.add_argument("--test-timeout", type=int, default=900)
    parser.add_argument("--preset", default="paper", help="the results folder the record goes to")
    parser.add_argument("--results", default=None, help="results folder (default: $GAMLIB_RESULTS_DIR or results/)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(no_cuda_message(), file=sys.stderr)
        return 2
    record = run_gpu_check(args.preset, args.steps, args.batch, not args.skip_tests, args.test_timeout,
                           args.results, force=True)
    print(f"gpu-check {'PASSED' if record['passed'] else 'FAILED'} in {record['wall_s']:.0f} s")
    return 0 if record["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
