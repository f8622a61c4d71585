"""Bad input raises an error that names the problem."""
import pytest
import torch

from gamlib import GAMConfig, ModelConfig, build_model
from gamlib.data import load_lm_data, load_rows
from gamlib.presets import get_preset
from gamlib.train import TrainConfig

TINY = dict(vocab_size=50, block_size=16, n_embd=8, n_layer=1, num_memory_slots=4, n_head=2, d_state=4, expand=2)


@pytest.fixture(params=["gam", "transformer", "mamba"])
def model(request):
    return build_model(request.param, **TINY)


def test_sequence_longer_than_block_size(model):
    with pytest.raises(ValueError, match="sequence length 17 exceeds block_size 16"):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_token_id_out_of_vocabulary(model):
    with pytest.raises(ValueError, match="token id 50 outside vocabulary of 50"):
        model(torch.tensor([[1, 2, 50]]))
    with pytest.raises(ValueError, match="token id -1 outside vocabulary"):
        model(torch.tensor([[1, -1]]))


def test_wrong_dtype_and_rank(model):
    with pytest.raises(TypeError, match="integer token ids.*float32"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"shape \(batch, seq_len\), got shape \(4,\).*unsqueeze"):
        model(torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="targets shape"):
        model(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long))


@pytest.mark.parametrize("call,message", [
    (lambda: build_model("rwkv"), "unknown model 'rwkv'"),
    (lambda: build_model("gam", "gates_only"), "unknown GAMConfig variant 'gates_only'"),
    (lambda: build_model("transformer", "flash"), "unknown TransformerConfig variant 'flash'"),
    (lambda: build_model("mamba", "paper", backend="triton"), "unknown Mamba backend 'triton'"),
    (lambda: build_model("transformer", n_embd=10, n_head=4), "not divisible by n_head"),
    (lambda: get_preset("huge"), "unknown preset 'huge'"),
    (lambda: load_rows("ptb", "train"), "unknown dataset 'ptb'"),
    (lambda: load_rows("wikitext2", "dev"), "unknown split 'dev'"),
    (lambda: TrainConfig(precision="fp8"), "unknown precision 'fp8'"),
    (lambda: GAMConfig(n_layer=0), "n_layer must be a positive integer"),
])
def test_unknown_names(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_missing_data_says_where_it_looked_and_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError) as error:
        load_lm_data("tinystories", data_dir=tmp_path)
    text = str(error.value)
    assert str(tmp_path / "tinystories" / "train.txt") in text
    assert "GAMLIB_DATA_DIR" in text and "hub" in text


def test_reference_config_converts():
    config = ModelConfig(N_EMBED=32, N_LAYER=2, NUM_MEMORY_SLOTS=4, VOCAB_SIZE=20, BLOCK_SIZE=8).to_gam_config()
    assert (config.n_embd, config.n_layer, config.num_memory_slots, config.variant) == (32, 2, 4, "full")
