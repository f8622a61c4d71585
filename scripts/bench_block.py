"""One GAM block's training step with the bank read explicit vs fused, and its share of this machine's matmul rate.

    python scripts/bench_block.py                          # C = S = 512, batch 1, T = 256 .. 8192, one thread
    python scripts/bench_block.py --seq-lens 256 1024 --iters 2
    python scripts/bench_block.py --force                  # measure again (the record is otherwise reused)

For each length T: forward + output.sum().backward() of one GAM block (variant full, dropout 0, fp32)
with the read softmax(h M^T) M written out ('explicit', keeps the (B, T, S) weights for backward) and
through F.scaled_dot_product_attention ('fused'); median time of --iters steps and peak memory
(measure.py: CPU profiler peak, one untimed step). In the same run, a plain fp32 matmul of the block's
largest shape, (B T, C) @ (C, 4C), gives the machine's rate; the block's FLOPs are counted by hand
(measure.gam_block_flops: 3 x (20 C^2 + 4 S C + 2 K C) per token, elementwise work left out).
Writes a record (kind 'benchmark') to results/paper/benchmarks/memory_read-cpu.json and prints medians
and ratios.
"""
from __future__ import annotations

import argparse

from gamlib.experiments.inference import BLOCK_SEQ_LENS, run_memory_read_benchmark
from gamlib.records import machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-lens", type=int, nargs="+", default=list(BLOCK_SEQ_LENS))
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--n-embd", type=int, default=512)
    parser.add_argument("--slots", type=int, default=512)
    parser.add_argument("--iters", type=int, default=3, help="timed steps per point (median)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier numbers)")
    parser.add_argument("--force", action="store_true", help="measure again even if the record exists")
    args = parser.parse_args()
    record = run_memory_read_benchmark(args.seq_lens, batch_size=args.batch_size, n_embd=args.n_embd,
                                       num_slots=args.slots, warmup=args.warmup, iters=args.iters,
                                       num_threads=args.threads, force=args.force)
    rows = {(r["seq_len"], r["read"]): r for r in record["rows"]}
    matmul = {m["seq_len"]: m for m in record["matmul"]}
    first = record["rows"][0]
    print(f"one GAM block: batch {first['batch_size']}, C {first['n_embd']}, S {first['num_slots']}, fp32, "
          f"{first['cpu_threads']} thread(s), {machine(record['provenance'])}; median of {first['iters']} "
          f"steps; record finished {record['provenance']['finished_at']}")
    print(f"{'T':>5} {'explicit ms':>11} {'fused ms':>9} {'time f/e':>8} {'explicit MiB':>12} {'fused MiB':>10} "
          f"{'mem f/e':>8} {'GFLOP/s e':>9} {'GFLOP/s f':>9} {'matmul':>7} {'share e':>7} {'share f':>7}")
    for T in sorted({r["seq_len"] for r in record["rows"]}):
        e, f, mm = rows[T, "explicit"], rows[T, "fused"], matmul[T]["gflop_per_s"]
        print(f"{T:>5} {e['median_ms']:>11.1f} {f['median_ms']:>9.1f} {f['median_ms'] / e['median_ms']:>8.2f} "
              f"{e['peak_mb']:>12.1f} {f['peak_mb']:>10.1f} {f['peak_mb'] / e['peak_mb']:>8.3f} "
              f"{e['gflop_per_s']:>9.1f} {f['gflop_per_s']:>9.1f} {mm:>7.1f} "
              f"{e['gflop_per_s'] / mm:>7.2f} {f['gflop_per_s'] / mm:>7.2f}")


if __name__ == "__main__":
    main()
