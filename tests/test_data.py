"""gamlib.data: local loading, the tokenizer trained on train only, chunking, and errors naming bad input."""
import pytest
import torch

from gamlib.data import chunk, load_lm_data, load_rows, read_local_rows


def test_chunks_are_next_token_pairs():
    chunks = chunk(torch.arange(23), block_size=4)  # 23 // 5 = 4 chunks of 5 tokens
    assert chunks.inputs.shape == (4, 4)
    assert torch.equal(chunks.inputs[1], torch.tensor([5, 6, 7, 8]))
    assert torch.equal(chunks.targets[1], torch.tensor([6, 7, 8, 9]))
    batches = list(chunks.batches(3))
    assert [len(x) for x, _ in batches] == [3, 1]


def test_story_format(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("One day.\nThe end.\n<|endoftext|>\nSecond story.\n<|endoftext|>\n")
    assert read_local_rows(path, "stories") == ["One day.\nThe end.", "Second story."]


def test_wikitext_rows_and_trimming(wikitext_dir):
    rows, source = load_rows("wikitext2", "validation")
    assert source.startswith("local:") and len(rows) == 3760  # the published row count
    assert len(load_rows("wikitext2", "train", max_rows=100)[0]) == 100


def test_tokenizer_sees_train_split_only_and_is_cached(wikitext_dir):
    data = load_lm_data("wikitext2", block_size=32, vocab_size=512, max_train_rows=2000, max_val_rows=500)
    assert data.vocab_size == 512
    assert data.train.inputs.shape[1] == 32 and int(data.train.inputs.max()) < 512
    assert data.tokenizer.token_to_id("[UNK]") == 0 and data.tokenizer.token_to_id("[EOS]") == 3
    again = load_lm_data("wikitext2", block_size=32, vocab_size=512, max_train_rows=2000, max_val_rows=500)
    assert again.tokenizer.to_str() == data.tokenizer.to_str()
    assert torch.equal(again.validation.inputs, data.validation.inputs)
    # The reference's tokenizer has no decoder: pieces come back separated by spaces.
    assert data.decode(data.encode("Valkyria Chronicles")).replace(" ", "") == "ValkyriaChronicles"


@pytest.mark.parametrize("call,message", [
    (lambda: load_rows("ptb", "train"), "unknown dataset 'ptb'"),
    (lambda: load_rows("wikitext2", "dev"), "unknown split 'dev'"),
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
