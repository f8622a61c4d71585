"""One-off and rerunnable: give run records the content hash of their tokenizer (gamlib.data.tokenizer_sha256).

    python scripts/migrate_records.py [--results DIR] [--data-dir DIR] [--dry-run]

Records written before the tokenizer hash was of the tokenizer's content hold the SHA-256 of the `tokenizers`
library's own serialisation, which changes with the library's version (0.19 writes merges as "t h", later
versions as ["t", "h"]). That hash is in an lm record's data fingerprint (`data.tokenizer_sha256`) and, through
the spec's `data_fingerprint`, in the spec hash of lm and context records (and in a context record's
`training_spec_hash`). For each lm and context record this rebuilds the tokenizer the record names (its dataset
at its preset's data settings, from the local data; cached tokenizers are reused), and rewrites the record with
the new tokenizer hash and the spec hashes the current code computes with it; no measured number changes.

A record is rewritten only when its spec hash is the one the current code computes with the rebuilt tokenizer's
old hash (the SHA-256 of the installed library's serialisation: run this with the `tokenizers` the records were
written with, 0.23 for the committed ones). A record already migrated is left alone, so running it again changes
nothing; a stale record (made under other settings or data) is left as it is and named.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from types import SimpleNamespace

from gamlib.data import load_lm_data
from gamlib.experiments.context import context_spec
from gamlib.experiments.lm import lm_spec
from gamlib.plan import Run
from gamlib.presets import PRESETS, get_preset
from gamlib.records import read_record, record_paths, save_record, spec_hash


def library_tokenizer_sha256(tokenizer) -> str:
    """The old tokenizer hash: SHA-256 of the installed library's serialisation of the tokenizer."""
    return hashlib.sha256(tokenizer.to_str().encode("utf-8")).hexdigest()


class Fingerprints:
    """Each (preset, dataset)'s data fingerprint with the old and with the new tokenizer hash, built once."""

    def __init__(self, data_dir=None):
        self.data_dir, self.built = data_dir, {}

    def old_and_new(self, preset: str, dataset: str) -> tuple[dict, dict]:
        if (preset, dataset) not in self.built:
            data = load_lm_data(dataset, data_dir=self.data_dir, **get_preset(preset).data_kwargs())
            old = {**data.fingerprint, "tokenizer_sha256": library_tokenizer_sha256(data.tokenizer)}
            self.built[preset, dataset] = old, data.fingerprint
        return self.built[preset, dataset]


def lm_spec_hash(record: dict, fingerprint: dict, lr: float | None = None) -> str:
    """The spec hash of the lm run a record describes, with this data fingerprint (lr None: the preset's)."""
    settings = get_preset(record["preset"])
    config = replace(settings.train, seed=record["seed"], lr=settings.train.lr if lr is None else lr)
    spec = lm_spec(record["model"], record["variant"], record["dataset"], settings, config,
                   SimpleNamespace(fingerprint=fingerprint))
    return spec_hash(spec)


def migrated(record: dict, fingerprints: Fingerprints) -> tuple[dict | None, str]:
    """(the record with the new tokenizer hash, "migrated"), or (None, why it is left as it is)."""
    if record.get("kind") not in ("lm", "context"):
        return None, "no tokenizer in its spec"
    if record.get("preset") not in PRESETS:
        return None, f"unknown preset {record.get('preset')!r}"
    old, new = fingerprints.old_and_new(record["preset"], record["dataset"])
    if record["kind"] == "lm":
        lr = record["train_config"]["lr"]
        hashes = {"spec_hash": (lm_spec_hash(record, old, lr), lm_spec_hash(record, new, lr)),
                  "tokenizer_sha256": (old["tokenizer_sha256"], new["tokenizer_sha256"])}
        recorded = {"spec_hash": record["spec_hash"], "tokenizer_sha256": record["data"]["tokenizer_sha256"]}
    else:  # a context record names the tokenizer through its spec only
        run, preset = Run(record["model"], record["variant"], record["dataset"], record["seed"]), record["preset"]
        hashes = {"spec_hash": tuple(spec_hash(context_spec(run, get_preset(preset), fp)) for fp in (old, new)),
                  "training_spec_hash": (lm_spec_hash(record, old), lm_spec_hash(record, new))}
        recorded = {key: record[key] for key in hashes}
    if all(recorded[key] == after for key, (_, after) in hashes.items()):
        return None, "already migrated"
    stale = [key for key, (before, _) in hashes.items() if recorded[key] != before]
    if stale:
        return None, f"stale: its {', '.join(stale)} is not what the current code computes"
    after = {key: value for key, (_, value) in hashes.items()}
    record = {**record, "spec_hash": after["spec_hash"]}
    if record["kind"] == "lm":
        record["data"] = {**record["data"], "tokenizer_sha256": after["tokenizer_sha256"]}
    else:
        record["training_spec_hash"] = after["training_spec_hash"]
    return record, "migrated"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=None, help="results folder (default: $GAMLIB_RESULTS_DIR or results/)")
    parser.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    args = parser.parse_args(argv)
    fingerprints, counts = Fingerprints(args.data_dir), {}
    for path in record_paths(args.results):
        record = read_record(path)
        new, outcome = migrated(record, fingerprints)
        if new is not None and not args.dry_run:
            save_record(new, path)
        if outcome not in ("no tokenizer in its spec", "already migrated"):
            print(f"{path}: {outcome}{' (dry run: not written)' if new is not None and args.dry_run else ''}")
        counts[outcome.split(":")[0]] = counts.get(outcome.split(":")[0], 0) + 1
    print(", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
