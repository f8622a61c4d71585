"""Nothing stale, nothing lost: run records, checkpoints and training states, case by case.

Each row: the case, what is done, and the outcome the code must give (checked by its function).
The runs train the `quick` preset on a tiny dataset written to a temporary folder (seconds each).
"""
import json
import math
import pickle
import threading
import warnings
from pathlib import Path

import pytest
import torch

from gamlib.experiments import lm as lm_experiments
from gamlib.experiments.lm import load_checkpoint, record_path, run_lm_experiment
from gamlib.models.pretrained import from_pretrained
from gamlib.presets import get_preset
from gamlib.records import (
    SCHEMA_VERSION,
    UnreadableRecord,
    load_records,
    machine,
    processor,
    provenance,
    read_record,
    save_record,
)

WORDS = "the a cat dog sat ran on under mat tree and but it was big small red blue one two".split()


def write_dataset(folder, seed=0, edit=False):
    """A tiny WikiText-like dataset: 300 lines of words; `edit` changes some words, not the line count."""
    g = torch.Generator().manual_seed(seed)
    lines = [" ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (12,), generator=g)) for _ in range(300)]
    if edit:
        lines[5] = lines[5].replace("the", "cat")
    for split in ("train", "validation"):
        (folder / "wikitext-2-v1").mkdir(parents=True, exist_ok=True)
        (folder / "wikitext-2-v1" / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def run(tmp_path, monkeypatch):
    """run(**kwargs) trains GAM on the tiny dataset (quick preset, 1 epoch) into tmp_path/results."""
    monkeypatch.setenv("GAMLIB_CACHE_DIR", str(tmp_path / "cache"))
    data = write_dataset(tmp_path / "data")

    def train(**kwargs):
        kwargs = {"results_root": tmp_path / "results", "data_dir": data, "progress": False, "epochs": 1, **kwargs}
        return run_lm_experiment("gam", "full", "wikitext2", "quick", 0, **kwargs)
    train.path = record_path(tmp_path / "results", "quick", "wikitext2", "gam", "full", 0)
    train.data = data
    return train


def edited_text_is_retrained(run, tmp_path, monkeypatch):
    first = run()
    write_dataset(run.data, edit=True)  # same number of lines, other words
    second = run()
    assert second["spec_hash"] != first["spec_hash"]
    assert second["data"]["train_sha256"] != first["data"]["train_sha256"]
    assert second["provenance"]["finished_at"] >= first["provenance"]["finished_at"]


def unchanged_data_is_reused(run, tmp_path, monkeypatch):
    first = run()
    assert run() == first  # read back from disk: same spec hash, same provenance, nothing retrained


def corrupt_record_is_named_and_retrained(run, tmp_path, monkeypatch):
    for content in (b"\x00\xff binary", b"[1, 2, 3]", json.dumps({"schema": SCHEMA_VERSION}).encode()):
        first = run(force=True)
        spec_hash = first["spec_hash"]
        run.path.write_bytes(content)
        with pytest.warns(UserWarning, match=f"run record {run.path} is unreadable"):
            again = run()
        assert again["spec_hash"] == spec_hash and again["metrics"]["val_loss"] > 0


def record_without_metrics_is_retrained_not_a_keyerror(run, tmp_path, monkeypatch):
    record = run()
    del record["metrics"]
    run.path.write_text(json.dumps(record))
    with pytest.warns(UserWarning, match="lacks metrics"):
        assert "val_loss" in run()["metrics"]


def unreadable_files_are_listed_by_load_records(run, tmp_path, monkeypatch):
    run()
    root = tmp_path / "results"
    (root / "quick" / "binary.json").write_bytes(b"\x00\xff")
    (root / "quick" / "list.json").write_text("[]")
    (root / "quick" / "folder.json").mkdir()
    with pytest.warns(UserWarning, match="3 record file"):
        frame = load_records(root)
    assert len(frame) == 1 and len(frame.attrs["unreadable"]) == 3
    assert all(name in " ".join(frame.attrs["unreadable"]) for name in ("binary.json", "list.json", "folder.json"))


def failed_record_write_never_pairs_an_old_record_with_new_weights(run, tmp_path, monkeypatch):
    old = run(checkpoint=True)
    assert load_checkpoint(old) is not None

    def fail(record, path):
        raise OSError("disk full")
    monkeypatch.setattr("gamlib.records.save_record", fail)
    with pytest.raises(OSError, match="disk full"):
        run(checkpoint=True, warmup_steps=3)  # new settings: new weights are written, then the record write fails
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match="SHA-256 differs"):
        load_checkpoint(read_record(run.path))  # the old record does not accept the new weights
    again = run(checkpoint=True)  # the old settings again: their weights are gone, so it retrains
    assert again != old and load_checkpoint(again) is not None


def concurrent_writers_never_crash_and_readers_never_see_half(run, tmp_path, monkeypatch):
    path = tmp_path / "concurrent" / "shared.json"
    record = {"schema": SCHEMA_VERSION, "spec_hash": "x", "kind": "scaling", "rows": list(range(20000)),
              "provenance": {}}
    errors, reads = [], []

    def write():
        try:
            for _ in range(20):
                save_record(record, path)
        except Exception as error:  # noqa: BLE001 - any exception is the failure being tested
            errors.append(error)

    def read():
        for _ in range(200):
            try:
                found = read_record(path)
            except UnreadableRecord as error:
                errors.append(error)
            else:
                reads.append(found is None or found == record)

    threads = [threading.Thread(target=write) for _ in range(3)] + [threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and all(reads)
    assert [p.name for p in path.parent.iterdir()] == ["shared.json"]  # no temporary files left behind


class Payload:
    """Unpickling this creates a file: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def malicious_checkpoint_is_refused(run, tmp_path, monkeypatch):
    record = run(checkpoint=True)
    marker, weights = tmp_path / "pwned", Path(record["checkpoint"]) / "model.safetensors"
    with open(weights, "wb") as handle:
        pickle.dump({"state_dict": Payload(str(marker))}, handle)
    record["checkpoint_sha256"] = lm_experiments.sha256_file(weights)  # even with a matching hash
    with pytest.raises(ValueError, match="is not a safetensors file"):
        load_checkpoint(record)
    assert not marker.exists()


def checkpoint_is_a_shareable_folder_beside_the_record(run, tmp_path, monkeypatch):
    record = run(checkpoint=True)
    folder = Path(record["checkpoint"])
    assert folder == run.path.with_suffix(".checkpoint") and {p.name for p in folder.iterdir()} == \
        {"config.json", "model.safetensors"}
    assert record["checkpoint_sha256"] == lm_experiments.sha256_file(folder / "model.safetensors")
    net = load_checkpoint(record)
    assert not net.training and net.config == from_pretrained(folder).config
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the folder's config.json is no unreadable record
        assert load_records(tmp_path / "results")["path"].tolist() == [str(run.path)]
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"no checkpoint matching this record .*missing, or its "
                                                r"model\.safetensors's SHA-256 differs"):
        load_checkpoint(record)


def finished_run_drops_its_training_state(run, tmp_path, monkeypatch):
    run()
    assert run.path.exists() and not list(run.path.parent.glob("*.train.pt"))


def lr_sweep_run_never_takes_the_place_of_the_preset_run(run, tmp_path, monkeypatch):
    first = run()
    lr = get_preset("quick").train.lr
    swept = run(lr=2 * lr)
    sweep_path = record_path(tmp_path / "results", "quick", "wikitext2", "gam", "full", 0, sweep_lr=2 * lr)
    assert swept["lr_sweep"] and not first["lr_sweep"] and swept["train_config"]["lr"] == 2 * lr
    assert sweep_path.exists() and sweep_path.parent.parent.name == "lr-sweep"
    assert read_record(run.path)["provenance"] == first["provenance"]  # the preset's record is untouched
    assert run(lr=lr)["provenance"] == first["provenance"]  # the preset's own lr is the preset's run, reused


def diverged_run_is_recorded_as_such(run, tmp_path, monkeypatch):
    record = run(lr=1e6)  # far too high: the weights blow up and the loss becomes NaN
    assert record["diverged"] and record["sample"] is None and math.isnan(record["metrics"]["val_loss"])
    path = record_path(tmp_path / "results", "quick", "wikitext2", "gam", "full", 0, sweep_lr=1e6)
    assert read_record(path)["diverged"]


CASES = [
    ("dataset text edited, same number of lines", "train again", "new spec hash and data hash: retrained",
     edited_text_is_retrained),
    ("same data, same settings", "train again", "the record is read back, not retrained", unchanged_data_is_reused),
    ("record file binary / a JSON list / a record without a kind", "train again",
     "a warning names the file; the run is retrained", corrupt_record_is_named_and_retrained),
    ("record with a valid hash but no metrics", "train again", "a warning names what it lacks; retrained",
     record_without_metrics_is_retrained_not_a_keyerror),
    ("binary, list and folder files among the records", "load_records",
     "a warning and attrs['unreadable'] name each; the good record is kept",
     unreadable_files_are_listed_by_load_records),
    ("record write fails after retraining with new settings", "load the old record's checkpoint",
     "refused (hash differs); the next call retrains", failed_record_write_never_pairs_an_old_record_with_new_weights),
    ("three writers and a reader on one record", "save_record / read_record concurrently",
     "no error; every read is a whole record; no temporary files",
     concurrent_writers_never_crash_and_readers_never_see_half),
    ("a checkpoint whose weights file is a malicious pickle", "load_checkpoint",
     "refused (safetensors holds tensors, never code); no code runs", malicious_checkpoint_is_refused),
    ("a run kept with checkpoint=True", "load_checkpoint, load_records, delete its weights",
     "a save_pretrained folder beside the record; load_records passes over its config.json; missing weights "
     "are refused", checkpoint_is_a_shareable_folder_beside_the_record),
    ("a finished run", "look beside its record", "its training state is gone", finished_run_drops_its_training_state),
    ("a finished run trained again at another lr", "an lr sweep", "a record of its own under lr-sweep/; the "
     "preset's record untouched", lr_sweep_run_never_takes_the_place_of_the_preset_run),
    ("a run whose loss becomes NaN (lr far too high)", "train it", "a record marked diverged, loss NaN, no sample "
     "(sampling NaN logits would crash)", diverged_run_is_recorded_as_such),
]


@pytest.mark.parametrize("case,action,outcome,check", CASES, ids=[c[0] for c in CASES])
def test_case(case, action, outcome, check, run, tmp_path, monkeypatch):
    check(run, tmp_path, monkeypatch)


def test_provenance_names_the_processor():
    """Benchmarks from different machines can be told apart: the CPU's model and count are recorded."""
    named = provenance("cpu")["processor"]
    assert named == processor() and named.endswith(" CPUs") and not named.startswith(",")
    assert machine(provenance("cpu")) == f"cpu ({named})"
    assert machine({"device": "cpu"}) == "cpu (processor not recorded)"  # records older than the field
