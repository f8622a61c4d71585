"""Generation cost per token vs context length: GAM, the Transformer and Mamba, with and without their state.

    python scripts/bench_generation.py                      # the paper configuration, this CPU, one thread
    python scripts/bench_generation.py --preset quick       # a small model, seconds
    python scripts/bench_generation.py --force              # measure again (the record is otherwise reused)

For each model (GAM full, Transformer sdpa, Mamba paper via mambapy) and each context length c it
times the call generate() makes for the token after c tokens, two ways: 'step' (the state: GAM's
conv inputs, the Transformer's key/value cache, Mamba's scan state; past block_size: GAM's receptive
field, the others' whole window) and 'recompute' (the whole cropped context, the head on the last
position only), plus 'forward' (model(context): every position's logits, what generate() did before
it had a state). Batch 1, random untrained weights (the cost does not depend on them), median (and
first quartile) over --repeats rounds (a step is timed --step-burst times per round); every round runs
every call in a random order, so drift of a shared machine spreads over all points, and each back to back
as a generation loop does: an untimed call first, so the model's weights are in cache (as the previous
token leaves them), not evicted by the model timed before. Writes a
record (kind 'benchmark') to results/<preset>/benchmarks/generation-cpu.json for notebook 12, and
prints medians and ratios. About 2 minutes at the paper configuration on a 2-core CPU.
"""
from __future__ import annotations

import argparse

from gamlib.experiments.inference import GENERATION_MODELS, run_generation_benchmark


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
    rows = {(r["model"], r["mode"], r["context"]): r for r in record["rows"]}
    block_size = record["fields"]["block_size"]
    print(f"preset {record['preset']}: {record['fields']['n_layer']} layers, width {record['fields']['n_embd']}, "
          f"block_size {block_size}, vocab {record['fields']['vocab_size']}; batch 1, "
          f"{record['cpu_threads']} thread(s), {record['provenance']['device']}; median of "
          f"{min(len(r['times_ms']) for r in record['rows'])} calls (steps: "
          f"{max(len(r['times_ms']) for r in record['rows'])}); record finished {record['provenance']['finished_at']}")
    print(f"{'model':<12} {'context':>7} {'step ms':>9} {'(p25)':>7} {'recompute ms':>13} {'ratio':>7} "
          f"{'forward ms':>11} {'ratio':>7} {'state bytes':>12}")
    for name, _ in record["models"]:
        for c in record["contexts"]:
            step, full, old = rows[name, "step", c], rows[name, "recompute", c], rows[name, "forward", c]
            state = f"{step['state_bytes']:,}" if step["state_bytes"] is not None else f"({step['window']} tok)"
            print(f"{name:<12} {c:>7} {step['median_ms']:>9.2f} {step['p25_ms']:>7.2f} {full['median_ms']:>13.2f} "
                  f"{full['median_ms'] / step['median_ms']:>6.1f}x {old['median_ms']:>11.2f} "
                  f"{old['median_ms'] / step['median_ms']:>6.1f}x {state:>12}")
    contexts_in = [c for c in record["contexts"] if c <= block_size]
    lo, hi = min(contexts_in), max(contexts_in)
    for name, _ in record["models"]:
        step_lo, step_hi = rows[name, "step", lo]["median_ms"], rows[name, "step", hi]["median_ms"]
        p25 = rows[name, "step", hi]["p25_ms"] / rows[name, "step", lo]["p25_ms"]
        print(f"{name}: step cost at {hi} / at {lo} tokens of context = {step_hi / step_lo:.2f} (p25: {p25:.2f}); "
              f"at {hi}: "
              f"recompute / step = {rows[name, 'recompute', hi]['median_ms'] / step_hi:.1f}x, "
              f"forward / step = {rows[name, 'forward', hi]['median_ms'] / step_hi:.1f}x; weights "
              f"{rows[name, 'step', hi]['params'] * 4 / 2**20:.0f} MiB read per step = "
              f"{rows[name, 'step', hi]['params'] * 4 / step_hi / 1e6:.1f} GB/s")


if __name__ == "__main__":
    main()
