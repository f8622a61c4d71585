"""The study's trained weights, committed: a trained GAM and Transformer any notebook can open without training.

    study_weights_folder(model, variant, preset, seed)   results/<preset>/weights/<model>-<variant>-seed<seed>/
    export_study_weights(model, variant, preset, seed)   retrain the study's run with its weights kept (a scratch
                                                         record under runs/, never the committed one), check it
                                                         reproduces the committed record, save it there
    load_study_model(model, variant, preset, seed, data) the model in eval mode, and what it is (study.json, with
                                                         the committed record it reproduces under "record")

A folder is a save_pretrained folder (config.json, model.safetensors) plus study.json: the committed record it
reproduces (path, spec hash, validation loss), the retrained run's validation loss, and the SHA-256 of the
tokenizer its ids belong to. Loading with `data` checks that tokenizer, so weights never meet other ids.

    python -m gamlib.experiments.study_weights --preset cpu --models gam:full transformer:sdpa
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..files import atomic_write_text
from ..models.pretrained import from_pretrained, save_pretrained
from ..paths import committed_results_dir, project_root
from ..presets import get_preset
from ..records import read_record
from .lm import load_checkpoint, record_path, run_lm_experiment

STUDY_FILE = "study.json"
REPRODUCED = 0.01  # nats: a retrained run within this of the committed record reproduces it (same seed, same data)


def study_weights_folder(model: str, variant: str, preset: str = "cpu", seed: int = 0, root=None) -> Path:
    return Path(root or committed_results_dir()) / preset / "weights" / f"{model}-{variant}-seed{seed}"


def export_study_weights(model: str, variant: str, preset="cpu", seed: int = 0, data_dir=None, root=None,
                         scratch=None) -> Path:
    """Retrain (or reuse a scratch retrain of) the study's run with its weights kept, check its validation loss
    against the committed record's, and save the weights with their study.json; returns the folder."""
    preset = get_preset(preset)
    scratch = Path(scratch or (project_root() or Path.cwd()) / "runs" / "study-weights")
    study = read_record(record_path(root or committed_results_dir(), preset.name, "wikitext2", model, variant, seed))
    if study is None:
        raise FileNotFoundError(f"no committed {preset.name} record of {model}/{variant} seed {seed} to reproduce; "
                                f"run the study first (gam-study --preset {preset.name})")
    trained = run_lm_experiment(model, variant, "wikitext2", preset, seed, results_root=scratch, data_dir=data_dir,
                                checkpoint=True, progress=False)
    gap = abs(trained["metrics"]["val_loss"] - study["metrics"]["val_loss"])
    if gap > REPRODUCED:
        raise ValueError(f"the retrained {model}/{variant} seed {seed} reaches validation loss "
                         f"{trained['metrics']['val_loss']:.4f}, the committed record "
                         f"{study['metrics']['val_loss']:.4f} ({gap:.4f} apart, more than {REPRODUCED}): the code or "
                         "data changed since the study")
    folder = save_pretrained(load_checkpoint(trained), study_weights_folder(model, variant, preset.name, seed, root))
    info = {"preset": preset.name, "model": model, "variant": variant, "seed": seed,
            "study_record": str(record_path(committed_results_dir(), preset.name, "wikitext2", model, variant,
                                            seed).relative_to(committed_results_dir().parent)),
            "study_spec_hash": study["spec_hash"], "study_val_loss": study["metrics"]["val_loss"],
            "retrained_val_loss": trained["metrics"]["val_loss"],
            "tokenizer_sha256": trained["data"]["tokenizer_sha256"]}
    atomic_write_text(folder / STUDY_FILE, json.dumps(info, indent=1) + "\n")
    return folder


def load_study_model(model: str, variant: str, preset: str = "cpu", seed: int = 0, data=None, root=None):
    """(model in eval mode, study.json as a dict plus "record": the committed record the weights reproduce); with
    `data` (an LMData), a ValueError unless its tokenizer is the one the weights were trained with."""
    folder = study_weights_folder(model, variant, preset, seed, root)
    if not (folder / STUDY_FILE).is_file():
        raise FileNotFoundError(f"no committed weights of the {preset} study's {model}/{variant} seed {seed} at "
                                f"{folder}; export them with `python -m gamlib.experiments.study_weights --preset "
                                f"{preset} --models {model}:{variant} --seed {seed}`")
    info = json.loads((folder / STUDY_FILE).read_text(encoding="utf-8"))
    if data is not None and data.fingerprint["tokenizer_sha256"] != info["tokenizer_sha256"]:
        raise ValueError(f"these weights read the ids of tokenizer {info['tokenizer_sha256'][:12]}..., the data "
                         f"given has tokenizer {data.fingerprint['tokenizer_sha256'][:12]}...: load the data with "
                         f"the {preset} preset's settings "
                         f"(load_lm_data('wikitext2', **get_preset({preset!r}).data_kwargs()))")
    record = read_record(record_path(root or committed_results_dir(), preset, "wikitext2", model, variant, seed))
    return from_pretrained(folder), {**info, "record": record}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Export the study's trained weights (retrained, checked, saved).")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--models", nargs="+", default=["gam:full", "transformer:sdpa"], metavar="MODEL:VARIANT")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    for spec in args.models:
        model, variant = spec.split(":", 1)
        folder = export_study_weights(model, variant, args.preset, args.seed, args.data_dir)
        info = json.loads((folder / STUDY_FILE).read_text(encoding="utf-8"))
        print(f"{spec}: {folder} (retrained val loss {info['retrained_val_loss']:.4f}, "
              f"the study's {info['study_val_loss']:.4f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
