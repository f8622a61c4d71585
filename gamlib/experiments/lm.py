"""Language-model experiments: train one (model, variant, dataset, preset, seed), write its record.

A finished record whose specification matches is reused instead of retrained (unless
force=True), so a long preset can be interrupted and resumed. Tables 1 and 3 are loops over the
runs of the study plan (gamlib.plan). From the shell:

    python -m gamlib.experiments.lm --model gam --dataset wikitext2 --preset auto --seed 0
"""
from __future__ import annotations

import argparse
import math
import statistics
from dataclasses import replace
from pathlib import Path

import torch

from ..checks import check_choice
from ..data import DATASETS, load_lm_data, unigram_loss
from ..files import sha256_file
from ..models.config import DEFAULT_VARIANTS
from ..models.pretrained import WEIGHTS_FILE, from_pretrained, save_pretrained
from ..models.registry import build_model
from ..paths import results_dir
from ..plan import ABLATION_VARIANTS, TABLE1_DATASETS, TABLE1_MODELS, Run, table_runs
from ..presets import get_preset
from ..records import find_or_measure, finished_record, spec_hash
from ..runtime import seed_everything
from ..training.config import RunOptions, TrainConfig
from ..training.loop import fit


def record_path(root, preset: str, dataset: str, model: str, variant: str, seed: int,
                sweep_lr: float | None = None) -> Path:
    """Where a run's record lives. A learning-rate sweep's run (sweep_lr: an lr other than the preset's) is
    kept apart, under <preset>/lr-sweep/, so it never takes the place of the preset's own run."""
    if sweep_lr is None:
        return results_dir(root) / preset / dataset / f"{model}-{variant}-seed{seed}.json"
    return results_dir(root) / preset / "lr-sweep" / dataset / f"{model}-{variant}-lr{sweep_lr:g}-seed{seed}.json"


def run_lm_experiment(model: str, variant: str | None = None, dataset: str = "wikitext2", preset: str = "auto",
                      seed: int = 0, results_root=None, data_dir=None, force: bool = False,
                      progress: bool = True, checkpoint: bool = False, save_every_steps: int | None = None,
                      lr: float | None = None, compile: bool = False, device: str = "auto",
                      wandb_project: str | None = None, **train_overrides) -> dict:
    """Train and evaluate one model; return its record (read from disk when already finished).

    The record's specification includes the data's fingerprint (content hashes and token counts), so
    a record made from other data is never reused. While it trains, the run saves its state after
    every epoch (and every `save_every_steps` steps) beside the record; calling again after an
    interruption continues from there. checkpoint=True also keeps the trained model, as a save_pretrained
    folder beside the record, <record name>.checkpoint/ (the record names the folder and the SHA-256 of its
    model.safetensors). lr: a learning rate for an lr sweep; when it differs from the preset's, the record is
    marked `lr_sweep` and kept apart (record_path), out of the preset's tables.
    `train_overrides` change the preset's TrainConfig (e.g. epochs). progress, save_every_steps, compile
    (torch.compile), device and wandb_project are fit's RunOptions: how the run is carried out, not what
    it is, so none of them is part of the specification (the record's history names device and compilation).
    The W&B run's id is the spec hash: a resumed run logs to the W&B run it started.
    """
    check_choice("dataset", dataset, DATASETS)
    settings = get_preset(preset)
    variant = variant or DEFAULT_VARIANTS.get(model, "")
    sweep_lr = None if lr is None or lr == settings.train.lr else lr
    config = replace(settings.train, seed=seed, lr=settings.train.lr if lr is None else lr, **train_overrides)
    data = load_lm_data(dataset, data_dir=data_dir, **settings.data_kwargs())
    spec = lm_spec(model, variant, dataset, settings, config, data)
    path = record_path(results_root, settings.name, dataset, model, variant, seed, sweep_lr)
    options = RunOptions(device=device, progress=progress, wandb_project=wandb_project, wandb_id=spec_hash(spec),
                         compile=compile, save_every_steps=save_every_steps,
                         state_path=path.with_name(f"{path.stem}.{spec_hash(spec)}.train.pt"))

    def measure() -> tuple[dict, str]:
        seed_everything(seed)  # the weights' initialisation depends on the seed too
        net = build_model(model, variant, **settings.model_fields(vocab_size=data.vocab_size))
        history = fit(net, data.train, data.validation, config, options)
        record = {"kind": "lm", "model": model, "variant": variant, "dataset": dataset, "preset": settings.name,
                  "seed": seed, "lr_sweep": sweep_lr is not None, **lm_results(net, data, config, history, seed)}
        if checkpoint:  # written before the record that names it
            folder = save_pretrained(net, path.with_suffix(".checkpoint"))  # each file written atomically
            record["checkpoint"], record["checkpoint_sha256"] = str(folder), sha256_file(folder / WEIGHTS_FILE)
        return record, history["device"]

    def has_checkpoint(record: dict) -> bool:
        return not checkpoint or checkpoint_matches(record)

    record = find_or_measure(path, spec, measure, force=force, reusable=has_checkpoint, progress=progress)
    options.state_path.unlink(missing_ok=True)  # finished: the training state is no longer needed
    return record


def lm_spec(model: str, variant: str, dataset: str, settings, config: TrainConfig, data) -> dict:
    """What defines a language-model run (its record's spec hash): model, data and training, not how it ran."""
    return {"model": model, "variant": variant, "dataset": dataset, "preset": settings.name,
            "model_fields": settings.model.fields(), "train_config": config.to_dict(),
            "data": settings.data_kwargs(),  # the content, not where it was read from (machines differ):
            "data_fingerprint": {k: v for k, v in data.fingerprint.items() if k != "source"}}


def finished_lm_record(run: Run, preset, results_root=None, data_dir=None, data=None) -> dict | None:
    """The finished record of a planned run, as run_lm_experiment would reuse it, or None. The data (for their
    fingerprint) are loaded only when a record file exists; `data`: a callable returning them, to load them once."""
    settings = get_preset(preset)
    sweep_lr = None if run.lr is None or run.lr == settings.train.lr else run.lr
    path = record_path(results_root, settings.name, run.dataset, run.model, run.variant, run.seed, sweep_lr)
    if not path.exists():
        return None
    config = replace(settings.train, seed=run.seed, lr=settings.train.lr if run.lr is None else run.lr)
    data = data() if data else load_lm_data(run.dataset, data_dir=data_dir, **settings.data_kwargs())
    return finished_record(path, lm_spec(run.model, run.variant, run.dataset, settings, config, data))


def lm_results(net, data, config: TrainConfig, history: dict, seed: int) -> dict:
    """What a trained language model's record holds besides what was run: configs, metrics, history, a sample."""
    final, epochs = history["epochs"][-1], history["epochs"]
    diverged = not math.isfinite(final["val_loss"])  # e.g. an lr too high: the record keeps the NaN
    return {
        "diverged": diverged, "model_config": net.config.to_dict(), "train_config": config.to_dict(),
        "data": data.fingerprint, "params": net.num_params(), "mamba_backend": getattr(net, "backend", None),
        "metrics": {
            "val_loss": final["val_loss"], "val_ppl": final["val_ppl"], "train_loss": final["train_loss"],
            "initial_val_loss": history["initial_val_loss"],
            # the yardstick: a model that knows only this run's training-token frequencies
            "unigram_loss": unigram_loss(data.train.targets, data.validation.targets, data.vocab_size),
            "seconds_per_epoch": statistics.mean(e["seconds"] for e in epochs),
            "tokens_per_s": statistics.median(e["tokens_per_s"] for e in epochs),
        },
        "history": history,
        "sample": None if diverged else sample_text(net, data, seed),  # NaN logits: nothing to sample
    }


def checkpoint_matches(record: dict) -> bool:
    """True when the record names a checkpoint folder whose model.safetensors exists and still has the bytes it
    was written with."""
    folder = record.get("checkpoint")
    if not folder:
        return False
    weights = Path(folder) / WEIGHTS_FILE
    return weights.is_file() and sha256_file(weights) == record.get("checkpoint_sha256")


def run_planned(runs: list[Run], preset, results_root=None, data_dir=None, force: bool = False,
                progress: bool = False) -> list[dict]:
    """Train (or reuse) each run of the study plan; return the records in the same order."""
    return [run_lm_experiment(r.model, r.variant, r.dataset, preset, r.seed, results_root=results_root,
                              data_dir=data_dir, force=force, progress=progress, lr=r.lr) for r in runs]


def run_table1(preset="auto", seeds=None, datasets=TABLE1_DATASETS, models=TABLE1_MODELS, results_root=None,
               data_dir=None, force: bool = False, progress: bool = False, first_seed: int | None = None) -> list[dict]:
    """Train (or reuse) every run of Table 1 (gamlib.plan.table_runs): the plan's seeds unless `seeds` are given
    (first_seed: the seed of a one-seed cell); only `datasets` and `models` ((model, variant) pairs)."""
    preset = get_preset(preset)
    runs = table_runs(preset, "table1", seeds, datasets, models, first_seed)
    return run_planned(runs, preset, results_root, data_dir, force, progress)


def run_ablations(preset="auto", seeds=None, variants=ABLATION_VARIANTS, dataset: str = "wikitext2",
                  results_root=None, data_dir=None, force: bool = False, progress: bool = False) -> list[dict]:
    """Train (or reuse) each GAM variant of Table 3 for each seed (None: the plan's)."""
    preset = get_preset(preset)
    runs = table_runs(preset, "table3", seeds, None, [("gam", v) for v in variants])
    return run_planned([replace(r, dataset=dataset) for r in runs], preset, results_root, data_dir, force, progress)


def preset_unigram_loss(dataset: str, preset: str = "auto", data_dir=None) -> float:
    """gamlib.data.unigram_loss on the chunks a preset trains and validates on: the validation loss
    (nats/token) of a model that knows only the training targets' token frequencies."""
    data = load_lm_data(dataset, data_dir=data_dir, **get_preset(preset).data_kwargs())
    return unigram_loss(data.train.targets, data.validation.targets, data.vocab_size)


def sample_text(net, data, seed: int, prompt: str = "The", tokens: int = 30) -> str:
    """A short generated continuation (top-k 40), to read beside the perplexity."""
    generator = torch.Generator(device=next(net.parameters()).device).manual_seed(seed)
    idx = data.encode(prompt).unsqueeze(0).to(next(net.parameters()).device)
    out = net.generate(idx, tokens, temperature=0.8, top_k=40, generator=generator)
    return data.decode(out[0])


def load_checkpoint(record: dict, device="cpu"):
    """The trained model, in eval mode, that a record's checkpoint folder holds (records written with
    checkpoint=True); the folder is also what from_pretrained reads and what can be shared on the Hub."""
    if not checkpoint_matches(record):
        raise FileNotFoundError(f"no checkpoint matching this record ({record.get('checkpoint')}: missing, or "
                                f"its {WEIGHTS_FILE}'s SHA-256 differs from the record's); rerun with "
                                f"checkpoint=True, force=True")
    return from_pretrained(Path(record["checkpoint"]), device)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train one model and write its run record.")
    parser.add_argument("--model", default="gam", choices=sorted(DEFAULT_VARIANTS))
    parser.add_argument("--variant", default=None, help="gam: full|global_only|sum_fusion|local_only; "
                        "transformer: naive|sdpa; mamba: paper|standard")
    parser.add_argument("--dataset", default="wikitext2", choices=sorted(DATASETS))
    parser.add_argument("--preset", default="auto", help="quick | colab | paper | auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=None, help="results folder (default: results/)")
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR)")
    parser.add_argument("--force", action="store_true", help="retrain even if a finished record exists")
    args = parser.parse_args(argv)
    record = run_lm_experiment(args.model, args.variant, args.dataset, args.preset, args.seed,
                               args.results, args.data_dir, args.force)
    m = record["metrics"]
    print(f"{record['model']}/{record['variant']} on {record['dataset']} ({record['preset']}, seed {record['seed']}, "
          f"{record['params']:,} params, {record['provenance']['device']}): val loss {m['val_loss']:.4f}, "
          f"val ppl {m['val_ppl']:.2f}, {m['seconds_per_epoch']:.1f} s/epoch, {m['tokens_per_s']:.0f} tok/s")
    path = record_path(args.results, record["preset"], args.dataset, args.model, record["variant"], args.seed)
    print(f"record: {path}")


if __name__ == "__main__":
    main()
