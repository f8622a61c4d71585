"""gamlib.experiments.study_weights: the committed trained weights load, say what they are, and refuse other ids."""
import types

import pytest
import torch

from gamlib import load_study_model
from gamlib.experiments import study_weights
from gamlib.models.gam import GAMModel
from gamlib.models.transformer import TransformerModel


@pytest.mark.parametrize("model, variant, cls", [("gam", "full", GAMModel), ("transformer", "sdpa", TransformerModel)])
def test_the_committed_cpu_study_weights_load_and_name_the_record_they_reproduce(model, variant, cls):
    net, info = load_study_model(model, variant, "cpu", 0)
    assert isinstance(net, cls) and not net.training and net.config.n_embd == 128 and net.config.vocab_size == 4096
    assert info["study_record"] == f"results/cpu/wikitext2/{model}-{variant}-seed0.json"
    assert abs(info["retrained_val_loss"] - info["study_val_loss"]) < study_weights.REPRODUCED
    assert info["record"]["spec_hash"] == info["study_spec_hash"] and info["record"]["params"] == net.num_params()
    logits, _ = net(torch.randint(4096, (1, 16)))
    assert logits.shape == (1, 16, 4096) and torch.isfinite(logits).all()


def test_weights_refuse_ids_of_another_tokenizer_and_a_missing_folder_says_how_to_make_it():
    other = types.SimpleNamespace(fingerprint={"tokenizer_sha256": "0" * 64})
    with pytest.raises(ValueError, match=r"load the data with the cpu preset's settings"):
        load_study_model("gam", "full", "cpu", 0, data=other)
    with pytest.raises(FileNotFoundError, match=r"python -m gamlib.experiments.study_weights --preset cpu "
                                                r"--models gam:local_only --seed 0"):
        load_study_model("gam", "local_only", "cpu", 0)


def test_a_retrain_that_does_not_reproduce_the_study_is_refused(monkeypatch, tmp_path):
    study = {"spec_hash": "x", "metrics": {"val_loss": 5.0}}
    monkeypatch.setattr(study_weights, "read_record", lambda path: study)
    monkeypatch.setattr(study_weights, "run_lm_experiment",
                        lambda *args, **kwargs: {"metrics": {"val_loss": 5.2}, "data": {"tokenizer_sha256": "t"}})
    with pytest.raises(ValueError, match=r"reaches validation loss 5.2000, the committed record 5.0000"):
        study_weights.export_study_weights("gam", "full", "cpu", 0, root=tmp_path, scratch=tmp_path / "scratch")
    assert not (tmp_path / "cpu" / "weights").exists()


def test_the_weights_read_the_ids_of_the_cpu_presets_tokenizer_and_reach_the_loss_they_name():
    from gamlib import evaluate, get_preset, load_lm_data
    from gamlib.data.sources import candidate_data_dirs
    folders = candidate_data_dirs(None)
    if not folders or not (folders[0] / "wikitext-2-v1" / "train.txt").is_file():
        pytest.skip("no local WikiText-2 (set GAMLIB_DATA_DIR to a folder like shared/data)")
    data = load_lm_data("wikitext2", **get_preset("cpu").data_kwargs())
    net, info = load_study_model("gam", "full", "cpu", 0, data=data)   # the same tokenizer: no error
    loss = evaluate(net, data.validation.take(64), batch_size=16)["val_loss"]
    assert abs(loss - info["retrained_val_loss"]) < 0.25   # 64 of the 2,000 validation chunks: close, not equal
