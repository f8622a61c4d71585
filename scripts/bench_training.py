"""Training throughput of every model, measured side by side in one run (median of timed steps).

    python scripts/bench_training.py                       # the quick preset's model size, CPU
    python scripts/bench_training.py --preset paper --steps 20

Prints tokens/s per model (forward + backward + AdamW step on random tokens) and the ratio to GAM.
Machines are noisy: models are interleaved round by round so drift hits all of them alike.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gamlib.models.registry import build_model
from gamlib.presets import TABLE1_MODELS, get_preset
from gamlib.runtime import pick_device, sync


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    preset = get_preset(args.preset)
    device = pick_device("auto")
    batch, T, V = preset.train.batch_size, preset.model["block_size"], preset.vocab_size
    torch.manual_seed(0)
    runs = {}
    for name, variant in TABLE1_MODELS:
        model = build_model(name, variant, **{**preset.model, "vocab_size": V}).to(device)
        runs[(name, variant)] = (model, torch.optim.AdamW(model.parameters(), lr=1e-4), [])
    x = torch.randint(0, V, (batch, T), device=device)
    for step in range(args.warmup + args.steps):
        for model, optimizer, times in runs.values():  # interleaved: one step of each model per round
            sync(device)
            start = time.perf_counter()
            _, loss = model(x, x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sync(device)
            if step >= args.warmup:
                times.append(time.perf_counter() - start)
    print(f"preset {preset.name}: batch {batch} x context {T}, vocab {V}, {preset.model['n_layer']} layers, "
          f"width {preset.model['n_embd']}, device {device}, {torch.get_num_threads()} threads, "
          f"median of {args.steps} steps")
    gam_rate = None
    for (name, variant), (model, _, times) in runs.items():
        rate = batch * T / statistics.median(times)
        gam_rate = gam_rate or rate
        backend = f" ({model.backend})" if hasattr(model, "backend") else ""
        print(f"{name + '/' + variant + backend:<28} {model.num_params():>11,} params "
              f"{rate:>10,.0f} tokens/s   {rate / gam_rate:5.2f}x GAM")


if __name__ == "__main__":
    main()
