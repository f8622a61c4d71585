"""gamlib.data: local loading, the tokenizer trained on train only, chunking, and errors naming bad input.

Every test here caches into its own temporary folder (GAMLIB_CACHE_DIR), never into data/cache.
tests/test_reliability_data.py walks through stale, corrupt and missing data case by case.
"""
import json
import random
import re

import pytest
import torch
from tokenizers import Tokenizer

import gamlib.data.sources
from gamlib.data import chunk, load_lm_data, load_rows, read_local_rows, rows_sha256, tokenizer_sha256
from gamlib.paths import project_root

SYLLABLES = "ka lo mi nu ra se ti vo ba de fi go hu je ly pa qu so we zy".split()
# 400 made-up words: enough distinct text that a vocabulary of 300 is not exhausted (the small tests rely on it).
_rng = random.Random(7)
WORDS = ["".join(_rng.choice(SYLLABLES) for _ in range(_rng.randint(1, 3))) for _ in range(400)] + \
    ["the", "a", ",", ".", "of", "and"] * 20


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMLIB_CACHE_DIR", str(tmp_path / "cache"))


def write_wikitext(folder, train_lines=300, val_lines=80, seed=0):
    """A small WikiText-like folder: <folder>/wikitext-2-v1/{train,validation}.txt, blank lines included."""
    rng = random.Random(seed)
    (folder / "wikitext-2-v1").mkdir(parents=True, exist_ok=True)
    for split, n in (("train", train_lines), ("validation", val_lines)):
        lines = ["" if i % 10 == 0 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
                 for i in range(n)]
        (folder / "wikitext-2-v1" / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def small_data(tmp_path):
    return write_wikitext(tmp_path / "data")


def small_load(data_dir, **kwargs):
    settings = {"block_size": 16, "vocab_size": 300, "data_dir": data_dir, "max_train_rows": None, "max_val_rows": None}
    return load_lm_data("wikitext2", **{**settings, **kwargs})


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
    # The reference's tokenizer has no decoder: its pieces come back separated by spaces (raw=True);
    # the default decode puts the spaces where the training text had them (tests/test_decode.py).
    raw = data.decode(data.encode("Valkyria Chronicles"), raw=True)
    assert raw.replace(" ", "") == "ValkyriaChronicles" and raw.count(" ") > 1
    assert data.decode(data.encode("Valkyria Chronicles")) == "Valkyria Chronicles"


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


def test_explicit_data_dir_is_the_only_folder_read(small_data, tmp_path, monkeypatch):
    """data_dir wins over a valid $GAMLIB_DATA_DIR and a reachable hub: a folder lacking the split is an error."""
    monkeypatch.setenv("GAMLIB_DATA_DIR", str(small_data))
    monkeypatch.setattr(gamlib.data.sources, "load_hub_rows", lambda *args: ["hub row"] * 10)
    partial = tmp_path / "partial"
    (partial / "wikitext-2-v1").mkdir(parents=True)
    (partial / "wikitext-2-v1" / "train.txt").write_text("only train\n")
    rows, source = load_rows("wikitext2", "train", data_dir=partial)
    assert (rows, source) == (["only train"], f"local:{partial}/wikitext-2-v1/train.txt")
    with pytest.raises(FileNotFoundError, match=re.escape(f"{partial}/wikitext-2-v1 has no validation.txt")):
        load_rows("wikitext2", "validation", data_dir=partial)
    assert load_rows("wikitext2", "train", max_rows=3)[1] == f"local:{small_data}/wikitext-2-v1/train.txt"


def test_relative_data_dir_error_also_gives_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        load_rows("tinystories", "validation", data_dir="nowhere")
    expected = f"nowhere/tinystories/validation.txt (absolute: {tmp_path}/nowhere/tinystories/validation.txt)"
    assert expected in str(error.value)
    assert "does not exist" in str(error.value)


def test_without_explicit_folder_checkout_data_then_hub(monkeypatch):
    """Neither data_dir nor $GAMLIB_DATA_DIR: <checkout>/data is looked at, then the hub; its failure is explained."""
    monkeypatch.delenv("GAMLIB_DATA_DIR", raising=False)
    served = []
    monkeypatch.setattr(gamlib.data.sources, "load_hub_rows",
                        lambda source, split, max_rows: served.append(split) or ["a b"])
    assert load_rows("tinystories", "validation") == (["a b"], "hub:roneneldan/TinyStories/default@f54c09f")

    def offline(*args):
        raise ConnectionError("hub unreachable")

    monkeypatch.setattr(gamlib.data.sources, "load_hub_rows", offline)
    with pytest.raises(FileNotFoundError) as error:
        load_rows("tinystories", "train")
    text = str(error.value)
    assert f"{project_root() / 'data' / 'tinystories' / 'train.txt'}" in text
    assert "ConnectionError: hub unreachable" in text and "GAMLIB_DATA_DIR" in text


def hub_like_folder(folder, config, rows_per_split=12):
    """A dataset repository laid out as the hub's (parquet files and a README naming the config), read by the
    real `datasets.load_dataset` offline: the code path a user without local copies runs."""
    import pandas as pd

    card = ["---", "configs:", f"- config_name: {config or 'default'}", "  data_files:"]
    for split in ("train", "validation"):
        (folder / (config or "data")).mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"text": [f"{split} row {i}" for i in range(rows_per_split)]}).to_parquet(
            folder / (config or "data") / f"{split}-00000-of-00001.parquet")
        card += [f"  - split: {split}", f"    path: {config or 'data'}/{split}-*"]
    (folder / "README.md").write_text("\n".join(card + ["---", ""]), encoding="utf-8")
    return folder


@pytest.mark.parametrize("dataset", ["wikitext2", "tinystories"])
def test_the_hub_is_streamed_at_the_pinned_revision_and_only_the_rows_asked_for_are_read(dataset, tmp_path,
                                                                                          monkeypatch):
    from dataclasses import replace
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    source = gamlib.data.sources.DATASETS[dataset]
    assert re.fullmatch(r"[0-9a-f]{40}", source.hub_revision)
    assert source.hub_path in ("Salesforce/wikitext", "roneneldan/TinyStories")  # the canonical ids
    local = replace(source, hub_path=str(hub_like_folder(tmp_path / "repo", source.hub_name)))
    assert gamlib.data.sources.load_hub_rows(local, "validation", 5) == [f"validation row {i}" for i in range(5)]
    assert len(gamlib.data.sources.load_hub_rows(local, "train", None)) == 12


def test_rows_hash_sees_every_character_and_row_boundary():
    base = rows_sha256(["ab", "c"])
    assert len(base) == 64 and base == rows_sha256(["ab", "c"])
    assert len({base, rows_sha256(["a", "bc"]), rows_sha256(["ab", "c", ""]), rows_sha256(["ab", "d"]),
                rows_sha256(["abc"])}) == 5


def test_fingerprint_describes_the_chunks_returned(small_data):
    data = small_load(small_data, max_train_chunks=5, max_val_chunks=3)
    fingerprint = data.fingerprint
    assert sorted(fingerprint) == sorted([
        "dataset", "source", "train_rows", "val_rows", "train_sha256", "validation_sha256", "tokenizer_sha256",
        "vocab_size", "block_size", "train_tokens", "val_tokens", "train_chunks", "val_chunks"])
    assert json.loads(json.dumps(fingerprint)) == fingerprint
    train_rows, _ = load_rows("wikitext2", "train", data_dir=small_data)
    assert fingerprint["train_sha256"] == rows_sha256(train_rows) and fingerprint["train_rows"] == 300
    assert fingerprint["validation_sha256"] != fingerprint["train_sha256"] and fingerprint["val_rows"] == 80
    assert (fingerprint["train_chunks"], fingerprint["val_chunks"]) == (5, 3)
    assert (fingerprint["train_tokens"], fingerprint["val_tokens"]) == (5 * 16, 3 * 16)
    assert fingerprint["source"] == data.source == f"local:{small_data}/wikitext-2-v1/train.txt"
    assert fingerprint["vocab_size"] == data.vocab_size and fingerprint["block_size"] == 16
    assert fingerprint["tokenizer_sha256"] == gamlib.data.tokenizer_sha256(data.tokenizer)
    # Anything that changes what a model sees changes the fingerprint.
    variants = [small_load(small_data, max_train_chunks=6, max_val_chunks=3).fingerprint,
                small_load(small_data, max_train_chunks=5, max_val_chunks=3, block_size=8).fingerprint,
                small_load(small_data, max_train_chunks=5, max_val_chunks=3, max_train_rows=200).fingerprint,
                small_load(small_data, max_train_chunks=5, max_val_chunks=3, vocab_size=200).fingerprint]
    assert all(variant != fingerprint for variant in variants)
    assert variants[3]["tokenizer_sha256"] != fingerprint["tokenizer_sha256"]


def test_cache_files_are_named_by_content_and_written_atomically(small_data, tmp_path):
    data = small_load(small_data)
    names = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert len(names) == 3, names  # no temporary files left behind
    assert re.fullmatch(r"ids-wikitext2-train-[0-9a-f]{16}\.pt", names[0])
    assert re.fullmatch(r"ids-wikitext2-validation-[0-9a-f]{16}\.pt", names[1])
    assert re.fullmatch(r"tokenizer-wikitext2-300-[0-9a-f]{16}\.json", names[2])
    # The same text in another folder is the same data: the cache is reused.
    moved = write_wikitext(tmp_path / "elsewhere")
    again = small_load(moved)
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == names
    assert {k: v for k, v in again.fingerprint.items() if k != "source"} == \
        {k: v for k, v in data.fingerprint.items() if k != "source"}


def test_ids_cache_with_out_of_range_ids_is_rebuilt(small_data, tmp_path):
    clean = small_load(small_data)
    path = next((tmp_path / "cache").glob("ids-wikitext2-validation-*.pt"))
    torch.save(torch.full((500,), 10_000, dtype=torch.long), path)
    with pytest.warns(gamlib.data.CacheRebuiltWarning, match=re.escape(str(path))):
        rebuilt = small_load(small_data)
    assert torch.equal(rebuilt.validation.inputs, clean.validation.inputs)
    assert torch.equal(torch.load(path, weights_only=True)[:10], rebuilt.validation.inputs[0, :10])


def test_binary_split_names_the_file(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"fine\n\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(ValueError, match=re.escape(f"{path} is not UTF-8 text")):
        read_local_rows(path, "lines")


def test_tokenizer_hash_is_of_its_content_not_of_how_the_library_writes_it(tokenizer):
    """tokenizers 0.19 writes a merge as "t h", later versions as ["t", "h"]: the same tokenizer, the same hash."""
    original = json.loads(tokenizer.to_str())
    model = original["model"]
    assert model["merges"] and all(isinstance(merge, list) for merge in model["merges"])
    old_format = {**original, "model": {**model, "vocab": dict(reversed(model["vocab"].items())),
                                        "merges": [" ".join(pair) for pair in model["merges"]]}}
    expected = tokenizer_sha256(tokenizer)
    assert tokenizer_sha256(old_format) == tokenizer_sha256(original) == expected
    assert tokenizer_sha256(Tokenizer.from_str(json.dumps(old_format))) == expected
    assert tokenizer_sha256(Tokenizer.from_str(tokenizer.to_str(pretty=True))) == expected
    # What the tokenizer does differs: so does the hash.
    merges, vocab = model["merges"], dict(model["vocab"])
    first, second = sorted(vocab, key=vocab.get)[-2:]
    vocab[first], vocab[second] = vocab[second], vocab[first]
    changed = [{"merges": merges[:-1]}, {"merges": [merges[1], merges[0], *merges[2:]]}, {"vocab": vocab},
               {"unk_token": "[PAD]"}]
    hashes = {tokenizer_sha256({**original, "model": {**model, **change}}) for change in changed}
    assert len(hashes) == len(changed) and expected not in hashes
    assert tokenizer_sha256({**original, "pre_tokenizer": {"type": "WhitespaceSplit"}}) != expected
    with pytest.raises(ValueError, match="two tokens"):
        tokenizer_sha256({**original, "model": {**model, "merges": ["a b c"]}})
