"""gamlib.experiments.lm: the Table 1 and ablation grids, and a short real training run that writes its record."""
import json
import math

import pytest

from gamlib.experiments import lm as lm_experiments
from gamlib.experiments.lm import preset_unigram_loss, run_lm_experiment
from gamlib.presets import get_preset
from gamlib.runtime import default_device, device_name


def test_experiment_grids_call_run_lm_experiment_with_shared_defaults(monkeypatch):
    calls = []
    monkeypatch.setattr(lm_experiments, "run_lm_experiment", lambda *args, **kwargs: calls.append((args, kwargs)) or {})
    quick = get_preset("quick")
    lm_experiments.run_table1("quick", models=[("gam", "full"), ("mamba", "paper")])
    assert [args for args, _ in calls] == [
        ("gam", "full", "wikitext2", quick, 0), ("mamba", "paper", "wikitext2", quick, 0),
        ("gam", "full", "tinystories", quick, 0), ("mamba", "paper", "tinystories", quick, 0)]
    assert calls[0][1] == dict(results_root=None, data_dir=None, force=False, progress=False, lr=None)
    calls.clear()
    lm_experiments.run_ablations("quick", variants=["full", "local_only"])
    assert [(args[1], args[4]) for args, _ in calls] == [
        ("full", 0), ("full", 1), ("full", 2), ("local_only", 0), ("local_only", 1), ("local_only", 2)]


@pytest.mark.slow
def test_short_training_run_learns_and_writes_a_record(tmp_path, wikitext_dir):
    record = run_lm_experiment("gam", "full", "wikitext2", "quick", seed=0, results_root=tmp_path,
                               progress=False, epochs=1)
    m = record["metrics"]
    # A uniform guess over the 2,048-token vocabulary costs ln(2048) = 7.6 nats; one short epoch
    # must get far below the initial loss (the unigram entropy of WikiText-2 is about 6.1 nats).
    assert m["initial_val_loss"] > 7.4
    assert m["val_loss"] < m["initial_val_loss"] - 1.2
    assert math.isclose(m["val_ppl"], math.exp(m["val_loss"]))
    saved = json.loads((tmp_path / "quick" / "wikitext2" / "gam-full-seed0.json").read_text())
    assert saved["provenance"]["device"] == device_name(default_device()) and saved["provenance"]["torch"]
    assert saved["params"] == record["params"] and saved["data"]["source"].startswith("local:")
    assert len(saved["history"]["epochs"]) == 1 and saved["metrics"]["tokens_per_s"] > 0
    assert saved["history"]["train_curve"] and saved["history"]["val_curve"][0]["step"] == 0
    # the yardstick is the unigram loss of this run's own tokenizer and chunks
    assert m["unigram_loss"] == preset_unigram_loss("wikitext2", "quick")
    # A finished record is reused, not retrained.
    assert run_lm_experiment("gam", "full", "wikitext2", "quick", seed=0, results_root=tmp_path,
                             progress=False, epochs=1)["provenance"] == saved["provenance"]
