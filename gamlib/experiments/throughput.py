"""Training throughput of several models measured side by side in one run, as a record.

    run_training_benchmark(preset)   tokens/s of one training step (forward + backward + AdamW) of each
                                     model at the preset's shape, and its ratio to GAM's

The models take turns step by step (one step of each per round, in a fresh random order each round),
so a slow spell of a shared machine hits all of them alike; each rate is the median over the timed
rounds. The record (kind 'benchmark', field 'benchmark': 'training') lives under
results/<preset>/benchmarks/training-<device>.json and is reused while its specification matches.
"""
from __future__ import annotations

import random
import statistics
import time

import torch

from ..models.registry import build_model
from ..plan import TABLE1_MODELS
from ..presets import get_preset
from ..records import find_or_measure
from ..runtime import device_name, pick_device, sync
from .inference import benchmark_path


def measure_training_steps(models, fields: dict, batch_size: int, *, steps: int = 10, warmup: int = 2,
                           device: str = "cpu", seed: int = 0) -> list[dict]:
    """One row per entry of `models`, (model, variant) or (model, variant, {build_model keywords}) such as
    {"backend": "recurrent"}, where {"compile": True} trains the model through torch.compile: params, backend,
    compiled, median step time and tokens/s over `steps` rounds. Every model is built after
    torch.manual_seed(seed), so two backends of one model start from the same weights."""
    device = torch.device(device)
    entries = []
    for name, variant, *extra in models:
        keywords = dict(extra[0]) if extra else {}
        compiled = keywords.pop("compile", False)
        torch.manual_seed(seed)
        net = build_model(name, variant, **fields, **keywords).to(device).train()
        entries.append((name, variant, net, torch.optim.AdamW(net.parameters(), lr=1e-4), [],
                        torch.compile(net) if compiled else net))
    x = torch.randint(0, fields["vocab_size"], (batch_size, fields["block_size"]),
                      generator=torch.Generator().manual_seed(seed)).to(device)
    order, shuffle = list(range(len(entries))), random.Random(seed)
    for i in range(warmup + steps):
        shuffle.shuffle(order)
        for index in order:
            _, _, _, optimizer, times, forward = entries[index]
            sync(device)
            start = time.perf_counter()
            _, loss = forward(x, x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sync(device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    rows = []
    for name, variant, net, _, times, forward in entries:
        median_s = statistics.median(times)
        rows.append(dict(model=name, variant=variant, params=net.num_params(), backend=getattr(net, "backend", None),
                         compiled=forward is not net, median_ms=1000 * median_s, tokens_per_s=x.numel() / median_s,
                         times_ms=[1000 * t for t in times]))
    gam = next((r["tokens_per_s"] for r in rows if (r["model"], r["variant"], r["compiled"]) == ("gam", "full", False)),
               None)
    for row in rows:
        row["vs_gam"] = row["tokens_per_s"] / gam if gam else None
    return rows


def run_training_benchmark(preset: str = "auto", models=None, steps: int = 10, warmup: int = 2, device: str = "auto",
                           results_root=None, force: bool = False) -> dict:
    """Training tokens/s of every Table 1 model (both attentions) at the preset's shape, side by side; a record."""
    settings = get_preset(preset)
    models = [tuple(m) for m in (models or TABLE1_MODELS)]
    device = pick_device(device)
    fields = settings.model_fields()
    spec = {"benchmark": "training", "preset": settings.name, "fields": fields, "models": models,
            "batch_size": settings.train.batch_size, "steps": steps, "warmup": warmup, "device": device.type,
            "threads": torch.get_num_threads() if device.type == "cpu" else None}

    def measure() -> tuple[dict, str]:
        rows = measure_training_steps(models, fields, settings.train.batch_size, steps=steps, warmup=warmup,
                                      device=str(device))
        return {"kind": "benchmark", "benchmark": "training", "preset": settings.name, "spec": spec,
                "rows": rows}, device_name(device)

    return find_or_measure(benchmark_path("training", settings.name, device.type, results_root), spec, measure,
                           force=force)


def run_compile_benchmark(preset: str = "auto", models=None, steps: int = 10, warmup: int = 3, device: str = "cuda",
                          results_root=None, force: bool = False, lookup_only: bool = False) -> dict | None:
    """Every Table 1 model (or `models`) eager and through torch.compile, side by side at the preset's shape: a record
    (benchmark 'training-compiled', results/<preset>/benchmarks/training-compiled-<device>.json). The warm-up rounds
    include compiling. Each row says whether it was compiled; vs_gam is against eager GAM. lookup_only=True measures
    nothing (the finished record or None, on any machine)."""
    settings = get_preset(preset)
    models = [tuple(m) for m in (models or TABLE1_MODELS)]
    device = torch.device(device) if lookup_only else pick_device(device)
    fields = settings.model_fields()
    spec = {"benchmark": "training-compiled", "preset": settings.name, "fields": fields, "models": models,
            "batch_size": settings.train.batch_size, "steps": steps, "warmup": warmup, "device": device.type,
            "torch": torch.__version__}
    entries = [(*m, {"compile": compiled}) for m in models for compiled in (False, True)]

    def measure() -> tuple[dict, str]:
        rows = measure_training_steps(entries, fields, settings.train.batch_size, steps=steps, warmup=warmup,
                                      device=str(device))
        return {"kind": "benchmark", "benchmark": "training-compiled", "preset": settings.name, "spec": spec,
                "rows": rows}, device_name(device)

    return find_or_measure(benchmark_path("training-compiled", settings.name, device.type, results_root), spec,
                           measure, force=force, lookup_only=lookup_only)
