"""Training throughput of the Mamba baseline on its pure-PyTorch backends: mambapy (parallel scan) vs recurrent.

    python scripts/bench_mamba_scan.py                       # the cpu preset's Mamba (4 layers, width 128), CPU
    python scripts/bench_mamba_scan.py --steps 20 --threads 1

One training step (forward + backward + AdamW) on random tokens at the preset's batch x context and vocabulary,
both variants ('paper', 'standard'), the two backends from the same weights, timed by
gamlib.experiments.throughput.measure_training_steps (models in turns, a fresh random order each round).
Prints tokens/s (median of timed steps) and the ratio recurrent / mambapy.
"""
from __future__ import annotations

import argparse

import torch

from gamlib.experiments.throughput import measure_training_steps
from gamlib.presets import get_preset

BACKENDS = ("mambapy", "recurrent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    preset = get_preset(args.preset)
    batch, T, V = preset.train.batch_size, preset.model.block_size, preset.vocab_size
    models = [("mamba", variant, {"backend": backend}) for variant in ("paper", "standard") for backend in BACKENDS]
    rows = measure_training_steps(models, preset.model_fields(vocab_size=V), batch, steps=args.steps,
                                  warmup=args.warmup, device=args.device)
    rate = {(r["variant"], r["backend"]): r["tokens_per_s"] for r in rows}
    print(f"Mamba, preset {preset.name}: batch {batch} x context {T}, vocab {V}, {preset.model.n_layer} layers, "
          f"width {preset.model.n_embd}, d_state {preset.model.mamba.d_state}, expand {preset.model.mamba.expand}, "
          f"device {args.device}, {torch.get_num_threads()} threads, median of {args.steps} steps")
    for variant in ("paper", "standard"):
        for backend in BACKENDS:
            print(f"mamba/{variant:<9} {backend:<10} {rate[variant, backend]:>9,.0f} tokens/s")
        print(f"mamba/{variant:<9} recurrent / mambapy: {rate[variant, 'recurrent'] / rate[variant, 'mambapy']:.1f}x")


if __name__ == "__main__":
    main()
