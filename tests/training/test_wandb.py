"""Weights & Biases never changes what a run is: logging is a RunOption (not in the spec), rows are logged at their
optimiser step, the W&B run's id is the spec hash (so a resumed run continues its W&B run), and a finished record
is reused whatever project is named. A fake `wandb` module records the calls."""
import json
import sys
import types
from pathlib import Path

import pytest
import torch

from gamlib.data import LMData, TokenChunks
from gamlib.experiments import lm as lm_experiments
from gamlib.experiments import study
from gamlib.plan import Run
from gamlib.presets import get_preset
from gamlib.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


class FakeWandb:
    """Records wandb.init's arguments and every run.log(row, step=...); `interrupt_at`: a step whose log raises
    KeyboardInterrupt (a run killed there)."""

    def __init__(self):
        self.inits, self.logs, self.interrupt_at = [], [], None

    def init(self, **kwargs):
        self.inits.append(kwargs)
        return self

    def log(self, row, step=None):
        if step == self.interrupt_at:
            raise KeyboardInterrupt
        self.logs.append((step, dict(row)))

    def finish(self):
        pass


@pytest.fixture
def fake_wandb(monkeypatch):
    fake = FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=fake.init))
    return fake


@pytest.fixture
def tiny_data(monkeypatch):
    """run_lm_experiment on 24 random training chunks (6 steps an epoch at batch 4) instead of a dataset."""
    block = get_preset("quick").model.block_size
    ids = torch.randint(0, 61, (32, block + 1), generator=torch.Generator().manual_seed(1))
    data = LMData(None, TokenChunks(ids[:24, :-1], ids[:24, 1:]), TokenChunks(ids[24:, :-1], ids[24:, 1:]),
                  {"dataset": "wikitext2", "source": "random", "tokenizer_sha256": "none", "vocab_size": 61,
                   "block_size": block})
    monkeypatch.setattr(lm_experiments, "load_lm_data", lambda *args, **kwargs: data)
    monkeypatch.setattr(lm_experiments, "sample_text", lambda *args, **kwargs: "")


def test_wandb_logs_at_optimizer_steps_and_a_resumed_run_continues_its_wandb_run(tmp_path, fake_wandb, tiny_data):
    def train(project):
        return lm_experiments.run_lm_experiment("gam", "full", "wikitext2", "quick", seed=0, results_root=tmp_path,
                                                progress=False, save_every_steps=2, wandb_project=project,
                                                batch_size=4)

    fake_wandb.interrupt_at = 3  # killed at step 3: the state saved after step 2 is where it resumes
    with pytest.raises(KeyboardInterrupt):
        train("gam-test")
    fake_wandb.interrupt_at = None
    record = train("gam-test")
    assert len(fake_wandb.inits) == 2
    assert all(init == {**fake_wandb.inits[0], "id": record["spec_hash"], "resume": "allow", "project": "gam-test"}
               for init in fake_wandb.inits)
    steps = [step for step, _ in fake_wandb.logs]
    assert steps == sorted(steps)  # one step axis, never going back
    assert [step for step, row in fake_wandb.logs if "train/batch_loss" in row] == list(range(1, 13))
    assert [(step, row["epoch"]) for step, row in fake_wandb.logs if "epoch" in row] == [(6, 1), (12, 2)]
    # Finished: reused, with or without a project (W&B is not part of the spec), and nothing is logged.
    for project in (None, "another-project"):
        again = train(project)
        assert again["provenance"] == record["provenance"] and again["spec_hash"] == record["spec_hash"]
    assert len(fake_wandb.inits) == 2


def test_wandb_is_in_no_spec():
    assert not [key for key in TrainConfig().to_dict() if "wandb" in key]
    preset = get_preset("quick")
    data = types.SimpleNamespace(fingerprint={"dataset": "wikitext2", "source": "local:x"})
    assert "wandb" not in json.dumps(lm_experiments.lm_spec("gam", "full", "wikitext2", preset, preset.train, data))


def test_the_study_command_passes_its_wandb_project_to_every_run(monkeypatch, tmp_path):
    from gamlib import study_command as script
    run_study_calls, calls = [], []
    monkeypatch.setattr(script, "estimate", lambda *args: None)
    monkeypatch.setattr(script, "print_summary", lambda *args: None)
    monkeypatch.setattr(script, "run_study", lambda *args, **kwargs: run_study_calls.append(kwargs))
    assert script.main(["--preset", "cpu", "--only", "table1", "--models", "gam:full", "--seeds", "0", "--yes",
                        "--no-benchmark", "--results", str(tmp_path), "--wandb-project", "gam-study"]) == 0
    assert run_study_calls[0]["wandb_project"] == "gam-study"
    record = {"metrics": {"val_loss": 5.0, "unigram_loss": 6.0}, "wall_s": 1.0, "mamba_backend": None}
    monkeypatch.setattr(study, "run_lm_experiment", lambda *args, **kwargs: calls.append(kwargs) or record)
    study.run_study(get_preset("cpu"), [Run("gam", "full", "wikitext2", 0)], tables=("table1",),
                    benchmark=False, wandb_project="gam-study")
    assert [call["wandb_project"] for call in calls] == ["gam-study"]
