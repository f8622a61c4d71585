"""The committed cpu records are reused, not retrained: each lm and context record's spec hash is the one the current
code computes for the cpu preset (its data fingerprint included, built from the local data)."""
from functools import cache

import pytest

from gamlib.data import DATASETS, load_lm_data
from gamlib.data.sources import candidate_data_dirs
from gamlib.experiments.context import context_spec
from gamlib.experiments.lm import finished_lm_record
from gamlib.paths import committed_results_dir
from gamlib.plan import Run
from gamlib.presets import get_preset
from gamlib.records import read_record, record_paths, spec_hash

PRESET = get_preset("cpu")
RECORDS = [read_record(path) | {"path": path, "sweep": "lr-sweep" in path.parts}
           for path in record_paths(committed_results_dir() / "cpu")]


@cache
def cpu_data(dataset: str):
    """The cpu preset's data of `dataset`, from the local copy; the test is skipped without one."""
    folders = candidate_data_dirs(None)
    if not folders or not (folders[0] / DATASETS[dataset].local_folder / "train.txt").is_file():
        pytest.skip(f"no local {dataset} data (set GAMLIB_DATA_DIR to a folder like shared/data): the records' "
                    "data fingerprint cannot be computed")
    return load_lm_data(dataset, **PRESET.data_kwargs())


def test_committed_cpu_lm_records_match_the_current_specs():
    records = [r for r in RECORDS if r["kind"] == "lm"]
    assert len(records) >= 40
    for record in records:
        run = Run(record["model"], record["variant"], record["dataset"], record["seed"],
                  record["train_config"]["lr"] if record["sweep"] else None)
        found = finished_lm_record(run, PRESET, committed_results_dir(), data=lambda: cpu_data(run.dataset))
        assert found is not None, f"{record['path']} would be retrained: its spec hash is not the current spec's"


def test_committed_cpu_context_records_match_the_current_specs():
    studies = {(r["model"], r["variant"], r["dataset"], r["seed"]): r for r in RECORDS
               if r["kind"] == "lm" and not r["sweep"]}
    records = [r for r in RECORDS if r["kind"] == "context"]
    assert records
    for record in records:
        run = Run(record["model"], record["variant"], record["dataset"], record["seed"])
        spec = context_spec(run, PRESET, cpu_data(run.dataset).fingerprint)
        assert record["spec_hash"] == spec_hash(spec), f"{record['path']} would be measured again"
        assert record["training_spec_hash"] == studies[run.model, run.variant, run.dataset, run.seed]["spec_hash"]
