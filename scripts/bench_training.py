"""Training throughput of every Table 1 model, measured side by side in one run (median of timed steps).

    python scripts/bench_training.py                       # the quick preset's model size, CPU
    python scripts/bench_training.py --preset cpu --steps 20
    python scripts/bench_training.py --preset paper        # on a CUDA machine

Prints tokens/s per model (forward + backward + AdamW step on random tokens) and the ratio to GAM, from
gamlib.run_training_benchmark, which takes the models in turns step by step (a fresh random order each
round, so drift of a shared machine hits all alike) and keeps the result as a record under
results/<preset>/benchmarks/training-<device>.json (reused while its specification matches; --force
measures again).
"""
from __future__ import annotations

import argparse

import torch

from gamlib import get_preset, run_training_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--force", action="store_true", help="measure again even if a matching record exists")
    args = parser.parse_args()
    preset = get_preset(args.preset)
    record = run_training_benchmark(preset.name, steps=args.steps, warmup=args.warmup, force=args.force)
    spec = record["spec"]
    print(f"preset {preset.name}: batch {spec['batch_size']} x context {preset.model.block_size}, vocab "
          f"{preset.vocab_size}, {preset.model.n_layer} layers, width {preset.model.n_embd}, device "
          f"{record['provenance']['device']}, {spec['threads'] or torch.get_num_threads()} threads, median of "
          f"{spec['steps']} steps")
    for row in record["rows"]:
        backend = f" ({row['backend']})" if row["backend"] else ""
        print(f"{row['model'] + '/' + row['variant'] + backend:<28} {row['params']:>11,} params "
              f"{row['tokens_per_s']:>10,.0f} tokens/s   {row['vs_gam']:5.2f}x GAM")


if __name__ == "__main__":
    main()
