"""A short real training run on WikiText-2 learns, and its record says what ran where."""
import json
import math

import pytest

from gamlib.experiments import run_lm_experiment
from gamlib.train import warmup_cosine
from conftest import needs_wikitext


def test_schedule_warms_up_then_decays_to_zero():
    assert warmup_cosine(0, 10, 100) == 0 and warmup_cosine(5, 10, 100) == 0.5
    assert warmup_cosine(10, 10, 100) == 1.0
    assert math.isclose(warmup_cosine(100, 10, 100), 0.0, abs_tol=1e-12)


@needs_wikitext
@pytest.mark.slow
def test_short_training_run_learns_and_writes_a_record(tmp_path):
    record = run_lm_experiment("gam", "full", "wikitext2", "quick", seed=0, results_root=tmp_path,
                               progress=False, epochs=1)
    m = record["metrics"]
    # A uniform guess over the 2,048-token vocabulary costs ln(2048) = 7.6 nats; one short epoch
    # must get far below the initial loss (the unigram entropy of WikiText-2 is about 6.1 nats).
    assert m["initial_val_loss"] > 7.4
    assert m["val_loss"] < m["initial_val_loss"] - 1.2
    assert math.isclose(m["val_ppl"], math.exp(m["val_loss"]))
    saved = json.loads((tmp_path / "quick" / "wikitext2" / "gam-full-seed0.json").read_text())
    assert saved["provenance"]["device"] == "cpu" and saved["provenance"]["torch"]
    assert saved["params"] == record["params"] and saved["data"]["source"].startswith("local:")
    assert len(saved["history"]["epochs"]) == 1 and saved["metrics"]["tokens_per_s"] > 0
    # A finished record is reused, not retrained.
    assert run_lm_experiment("gam", "full", "wikitext2", "quick", seed=0, results_root=tmp_path,
                             progress=False, epochs=1)["provenance"] == saved["provenance"]
