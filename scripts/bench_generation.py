"""Generation cost per token vs context length: GAM, the Transformer and Mamba, with and without their state.

    python scripts/bench_generation.py                      # the paper configuration, this CPU, one thread
    python scripts/bench_generation.py --preset quick       # a small model, seconds
    python scripts/bench_generation.py --force              # measure again (the record is otherwise reused)

For each model (GAM full, Transformer sdpa, Mamba paper via mambapy) and each context length c it
times the call generate() makes for the token after c tokens, two ways: 'step' (the state: GAM's
conv inputs, the Transformer's key/value cache, Mamba's scan state; past block_size: GAM's receptive
field, the others' whole window) and 'recompute' (the whole cropped context, the head on the last
position only), plus 'forward' (model(context): every position's logits, what generate() did before
it had a state). Step and recompute run twice, on the same weights in two memory orders: PyTorch's
default and model.use_generation_layout()'s (weights with more outputs than inputs stored column by
column), since at batch 1 a step's time is one read of the weights. Batch 1, random untrained
weights (the cost does not depend on them), median (and first quartile) over --repeats rounds (a
step is timed --step-burst times per round); every round runs every call in a random order, so drift
of a shared machine spreads over all points, and each back to back as a generation loop does: an
untimed call first, so the model's weights are in cache (as the previous token leaves them), not
evicted by the model timed before. Writes a record (kind 'benchmark') to
results/<preset>/benchmarks/generation-cpu.json for notebook 12, and prints medians and ratios.
About 5 minutes at the paper configuration on a 2-core CPU.
"""
from __future__ import annotations

import argparse

from gamlib.experiments.inference import GENERATION_MODELS, run_generation_benchmark
from gamlib.records import machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--contexts", type=int, nargs="+", default=None,
                        help="context lengths (default: 1/4, 1/2, 3/4, 1, 5/4 and 2 x block_size)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (median)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--step-burst", type=int, default=5, help="timed one-position steps per round")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier numbers)")
    parser.add_argument("--force", action="store_true", help="measure again even if the record exists")
    args = parser.parse_args()
    record = run_generation_benchmark(args.preset, args.contexts, GENERATION_MODELS, repeats=args.repeats,
                                      warmup=args.warmup, step_burst=args.step_burst, num_threads=args.threads,
                                      force=args.force)
    rows = {(r["model"], r["layout"], r["mode"], r["context"]): r for r in record["rows"]}
    block_size = record["fields"]["block_size"]
    print(f"preset {record['preset']}: {record['fields']['n_layer']} layers, width {record['fields']['n_embd']}, "
          f"block_size {block_size}, vocab {record['fields']['vocab_size']}; batch 1, "
          f"{record['cpu_threads']} thread(s), {machine(record['provenance'])}; median of "
          f"{min(len(r['times_ms']) for r in record['rows'])} calls (steps: "
          f"{max(len(r['times_ms']) for r in record['rows'])}); record finished {record['provenance']['finished_at']}")
    print("ms per token (median); 'gen.': the same weights after model.use_generation_layout()")
    print(f"{'model':<12} {'context':>7} {'step':>7} {'(p25)':>7} {'gen. step':>10} {'recompute':>10} "
          f"{'gen. recomp.':>13} {'recompute/step':>15} {'forward':>8} {'state bytes':>12}")
    for name, _ in record["models"]:
        for c in record["contexts"]:
            step, full, old = (rows[name, "default", mode, c] for mode in ("step", "recompute", "forward"))
            gen_step, gen_full = (rows[name, "generation", mode, c] for mode in ("step", "recompute"))
            state = f"{step['state_bytes']:,}" if step["state_bytes"] is not None else f"({step['window']} tok)"
            print(f"{name:<12} {c:>7} {step['median_ms']:>7.2f} {step['p25_ms']:>7.2f} {gen_step['median_ms']:>10.2f} "
                  f"{full['median_ms']:>10.2f} {gen_full['median_ms']:>13.2f} "
                  f"{full['median_ms'] / step['median_ms']:>6.1f}x "
                  f"/{gen_full['median_ms'] / gen_step['median_ms']:>5.1f}x "
                  f"{old['median_ms']:>8.2f} {state:>12}")
    contexts_in = [c for c in record["contexts"] if c <= block_size]
    lo, hi = min(contexts_in), max(contexts_in)
    for name, _ in record["models"]:
        for layout in ("default", "generation"):
            ms = {(mode, c): rows[name, layout, mode, c]["median_ms"]
                  for mode in ("step", "recompute") for c in (lo, hi)}
            p25 = rows[name, layout, "step", hi]["p25_ms"] / rows[name, layout, "step", lo]["p25_ms"]
            weights = rows[name, layout, "step", hi]["params"] * 4
            print(f"{name} ({layout} layout): step at {hi} / at {lo} tokens of context = "
                  f"{ms['step', hi] / ms['step', lo]:.2f} (p25: {p25:.2f}); at {hi}: recompute / step = "
                  f"{ms['recompute', hi] / ms['step', hi]:.1f}x; weights {weights / 2**20:.0f} MiB read per step = "
                  f"{weights / ms['step', hi] / 1e6:.1f} GB/s")


if __name__ == "__main__":
    main()
