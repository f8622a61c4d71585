"""gamlib.models.pretrained: every model the registry builds survives save_pretrained -> from_pretrained bit for
bit, from a folder or (offline) a Hub repository; bad folders are errors that name the problem and the fix."""
import json

import huggingface_hub
import pytest
import torch
from huggingface_hub import constants

from gamlib import from_pretrained, save_pretrained
from gamlib.models.config import MODEL_CONFIGS
from gamlib.models.lm import LanguageModel
from gamlib.models.registry import build_model

EVERY_MODEL = [(name, variant) for name, cls in MODEL_CONFIGS.items() for variant in cls.VARIANTS]
CPU_BACKEND = {"mamba": {"backend": "recurrent"}}  # the pure-PyTorch scan, fast on a CPU


def trained_like(name, variant, tiny) -> LanguageModel:
    """A tiny model whose every parameter is moved off its initial value (LayerNorm ones, zero biases too)."""
    model = build_model(name, variant, **tiny, **CPU_BACKEND.get(name, {}))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return model.eval()


def logits(model, tiny) -> torch.Tensor:
    idx = torch.randint(0, tiny["vocab_size"], (2, tiny["block_size"]), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return model(idx)[0]


@pytest.fixture
def saved(tmp_path, tiny):
    """A tiny GAM full saved to tmp_path/gam: (model, folder)."""
    model = trained_like("gam", "full", tiny)
    return model, save_pretrained(model, tmp_path / "gam")


@pytest.mark.parametrize("name,variant", EVERY_MODEL, ids=[f"{n}-{v}" for n, v in EVERY_MODEL])
def test_every_model_is_reloaded_bit_for_bit(name, variant, tiny, tmp_path):
    model = trained_like(name, variant, tiny)
    folder = save_pretrained(model, tmp_path / "saved")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]  # no temporary files
    config = json.loads((folder / "config.json").read_text())
    assert (config["model"], config["variant"], config["format_version"]) == (name, variant, 1)
    assert config["config"] == model.config.to_dict()

    loaded = from_pretrained(folder)
    assert type(loaded) is type(model) and loaded.config == model.config and not loaded.training
    assert loaded.head.weight is loaded.token_embedding.weight  # still tied
    torch.testing.assert_close(logits(loaded, tiny), logits(model, tiny), rtol=0, atol=0)
    fresh = build_model(name, variant, **tiny, **CPU_BACKEND.get(name, {})).eval()
    assert not torch.equal(logits(fresh, tiny), logits(model, tiny))  # the weights came from the file


def test_saving_the_same_model_again_gives_the_same_bytes(saved, tmp_path):
    model, folder = saved
    again = save_pretrained(model, tmp_path / "again")
    assert (again / "model.safetensors").read_bytes() == (folder / "model.safetensors").read_bytes()


def test_loading_leaves_the_random_stream_alone(saved):
    before = torch.get_rng_state()
    from_pretrained(saved[1])
    assert torch.equal(torch.get_rng_state(), before)


def test_saving_again_overwrites(saved, tiny, tmp_path):
    model, folder = saved
    other = trained_like("transformer", "sdpa", tiny)
    save_pretrained(other, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    torch.testing.assert_close(logits(from_pretrained(folder), tiny), logits(other, tiny), rtol=0, atol=0)


def test_only_the_series_models_are_saved(tmp_path):
    with pytest.raises(TypeError, match=r"saves the series' language models \(GAMModel, TransformerModel, "
                                        r"MambaModel\), got Linear"):
        save_pretrained(torch.nn.Linear(2, 2), tmp_path / "linear")


def test_missing_folder_or_file(saved, tmp_path):
    model, folder = saved
    with pytest.raises(FileNotFoundError, match=r"no folder .*nowhere: give a folder written by save_pretrained, "
                                                r"or the id of a Hugging Face Hub repository"):
        from_pretrained(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no folder"):
        from_pretrained(tmp_path / "owner" / "name")  # a Path is never a Hub id
    with pytest.raises(NotADirectoryError, match=r"config\.json is a file: give the folder that holds config\.json "
                                                 r"and model\.safetensors"):
        from_pretrained(folder / "config.json")
    for name in ("model.safetensors", "config.json"):
        (folder / name).unlink()
        with pytest.raises(FileNotFoundError, match=rf"has no {name}: a saved model is a folder with config\.json "
                                                    rf"and model\.safetensors; write it with save_pretrained"):
            from_pretrained(folder)
        save_pretrained(model, folder)


def edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))
    return config


@pytest.mark.parametrize("changes,error,message", [
    ({"model": "rwkv"}, ValueError, r"unknown model family 'rwkv'; known: \['gam', 'mamba', 'transformer'\]"),
    ({"format_version": 2}, ValueError, r"format_version 2, this gamlib reads 1; load it with the gamlib version"),
    ({"format": None}, ValueError, r"is not a gamlib model config"),
    ({"variant": "local_only"}, ValueError, r"must hold \"variant\" .* with the same variant\), got variant "
                                            r"'local_only'"),
    ({"variant": "turbo", "config": {"variant": "turbo"}}, ValueError, r"config\.json: unknown GAMConfig variant "
                                                                       r"'turbo'"),
    ({"config": {"nembd": 16}}, ValueError, r"config\.json: unknown model config field 'nembd'"),
])
def test_bad_config_is_named(saved, changes, error, message):
    edit_config(saved[1], **changes)
    with pytest.raises(error, match=message):
        from_pretrained(saved[1])


@pytest.mark.parametrize("field,value", [("n_embd", 32), ("n_layer", 2), ("num_memory_slots", 4)])
def test_config_that_does_not_match_the_weights(saved, field, value):
    config = json.loads((saved[1] / "config.json").read_text())["config"]
    edit_config(saved[1], config={**config, field: value})
    with pytest.raises(ValueError, match=r"config\.json does not match the weights in model\.safetensors \(.+\); "
                                         r"write both together with save_pretrained"):
        from_pretrained(saved[1])


def test_files_that_are_not_what_they_say(saved):
    folder = saved[1]
    (folder / "model.safetensors").write_bytes(b"\x80\x04not safetensors")
    with pytest.raises(ValueError, match=r"model\.safetensors is not a safetensors file"):
        from_pretrained(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config\.json is not JSON"):
        from_pretrained(folder)


def test_a_hub_repository_is_downloaded_then_loaded(saved, tiny, monkeypatch):
    model, folder = saved
    calls = []

    def snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(folder)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    loaded = from_pretrained("someone/gam-tiny")
    torch.testing.assert_close(logits(loaded, tiny), logits(model, tiny), rtol=0, atol=0)
    assert calls == [("someone/gam-tiny", {"allow_patterns": ["config.json", "model.safetensors"]})]
    (folder / "model.safetensors").unlink()  # a repository without weights
    with pytest.raises(FileNotFoundError, match="someone/gam-tiny has no model.safetensors"):
        from_pretrained("someone/gam-tiny")


def test_offline_hub_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(FileNotFoundError, match=r"'nobody/no-such-gam' is not a local folder, and downloading it "
                                                r"from the Hugging Face Hub failed .*HF_HUB_OFFLINE is set"):
        from_pretrained("nobody/no-such-gam")


def test_unreachable_hub_is_a_clear_error(monkeypatch):
    def snapshot_download(repo_id, **kwargs):
        raise OSError("network unreachable")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(FileNotFoundError, match=r"'nobody/gam' is not a local folder.*network unreachable.*check "
                                                r"the id and the network connection"):
        from_pretrained("nobody/gam")
