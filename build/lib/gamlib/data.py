"""Datasets, the BPE tokenizer and next-token chunks.

Text comes from a local folder laid out like `shared/data` (argument `data_dir` or the
environment variable GAMLIB_DATA_DIR), else from the Hugging Face hub through `datasets`:

    wikitext2    local: wikitext-2-v1/{train,validation,test}.txt   (one row per line)
                 hub:   wikitext / wikitext-2-raw-v1
    tinystories  local: tinystories/{train,validation}.txt           (stories split at <|endoftext|>)
                 hub:   roneneldan/TinyStories

The reference benchmark trims to the first 50,000 train and 5,000 validation rows, trains a
BPE tokenizer (Whitespace pre-tokenizer, vocab 10,000, specials [UNK] [PAD] [SOS] [EOS]) and
concatenates the tokens of all rows, cut into non-overlapping chunks of block_size + 1.
Unlike the reference, the tokenizer here sees the train split only (the reference also
trained it on validation and test text, a leak).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from .checks import check_choice
from .paths import cache_dir, project_root

SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[SOS]", "[EOS]"]
STORY_SEPARATOR = "<|endoftext|>"


@dataclass(frozen=True)
class DatasetSource:
    local_folder: str            # folder under the data dir
    local_format: str            # "lines" (a row per line) or "stories" (rows split at separator lines)
    hub_path: str
    hub_name: str | None
    title: str


DATASETS = {
    "wikitext2": DatasetSource("wikitext-2-v1", "lines", "wikitext", "wikitext-2-raw-v1", "WikiText-2"),
    "tinystories": DatasetSource("tinystories", "stories", "roneneldan/TinyStories", None, "TinyStories"),
}
SPLITS = ("train", "validation", "test")


def candidate_data_dirs(data_dir: str | os.PathLike | None) -> list[Path]:
    """Folders searched for local copies, in order: the argument, $GAMLIB_DATA_DIR, <checkout>/data."""
    dirs = [Path(d) for d in (data_dir, os.environ.get("GAMLIB_DATA_DIR")) if d]
    if project_root() is not None:
        dirs.append(project_root() / "data")
    return dirs


def read_local_rows(path: Path, fmt: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if fmt == "lines":
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    stories, current = [], []
    for line in text.split("\n"):
        if line == STORY_SEPARATOR:
            stories.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if any(current):
        stories.append("\n".join(current))
    return stories


def load_rows(dataset: str, split: str, data_dir=None, max_rows: int | None = None) -> tuple[list[str], str]:
    """The text rows of a split (trimmed to max_rows) and a description of where they came from."""
    check_choice("dataset", dataset, DATASETS)
    check_choice("split", split, SPLITS)
    source = DATASETS[dataset]
    looked = []
    for folder in candidate_data_dirs(data_dir):
        path = folder / source.local_folder / f"{split}.txt"
        looked.append(str(path))
        if path.exists():
            rows = read_local_rows(path, source.local_format)
            return rows[:max_rows] if max_rows else rows, f"local:{path}"
        if data_dir is not None and folder == Path(data_dir) and (folder / source.local_folder).exists():
            raise FileNotFoundError(f"{source.title} has no {split} split under {folder / source.local_folder}")
    try:
        rows = load_hub_rows(source, split, max_rows)
    except Exception as error:  # no internet, HF_HUB_OFFLINE, missing package, unknown split
        raise FileNotFoundError(
            f"No {source.title} {split} data found. Looked for: {', '.join(looked) or '(no local folder given)'}; "
            f"then the Hugging Face hub download of {source.hub_path!r} failed ({type(error).__name__}: "
            f"{str(error)[:200]}). Fix: point GAMLIB_DATA_DIR (or data_dir=) at a folder holding "
            f"{source.local_folder}/{split}.txt (e.g. export GAMLIB_DATA_DIR=../shared/data), "
            f"or run where the hub is reachable (unset HF_HUB_OFFLINE)."
        ) from error
    return rows, f"hub:{source.hub_path}/{source.hub_name or 'default'}"


def load_hub_rows(source: DatasetSource, split: str, max_rows: int | None) -> list[str]:
    from datasets import load_dataset  # slow to import, and only needed without local copies

    hub_split = f"{split}[:{max_rows}]" if max_rows else split
    return list(load_dataset(source.hub_path, source.hub_name, split=hub_split)["text"])


def train_tokenizer(rows: list[str], vocab_size: int):
    """A BPE tokenizer as the reference's (Whitespace pre-tokenizer, four special tokens)."""
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    tokenizer.train_from_iterator(rows, trainer=trainer)
    return tokenizer


def encode_rows(tokenizer, rows: list[str]) -> torch.Tensor:
    """All rows' token ids, concatenated in order, as one 1-D int64 tensor."""
    ids = [i for encoding in tokenizer.encode_batch(rows) for i in encoding.ids]
    return torch.tensor(ids, dtype=torch.long)


def chunk(ids: torch.Tensor, block_size: int) -> "TokenChunks":
    """Cut 1-D ids into non-overlapping windows of block_size + 1: input = [:-1], target = [1:]."""
    n = len(ids) // (block_size + 1)
    if n == 0:
        raise ValueError(f"{len(ids)} tokens are fewer than one chunk of block_size + 1 = {block_size + 1}")
    windows = ids[: n * (block_size + 1)].view(n, block_size + 1)
    return TokenChunks(windows[:, :-1].contiguous(), windows[:, 1:].contiguous())


@dataclass
class TokenChunks:
    """(N, T) inputs and (N, T) next-token targets (target -100 = position not scored)."""

    inputs: torch.Tensor
    targets: torch.Tensor

    def __post_init__(self):
        if self.inputs.shape != self.targets.shape or self.inputs.dim() != 2:
            raise ValueError(f"inputs {tuple(self.inputs.shape)} and targets {tuple(self.targets.shape)} "
                             "must both be (N, T)")

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def num_tokens(self) -> int:
        return self.inputs.numel()

    def take(self, n: int | None) -> "TokenChunks":
        """The first n chunks (all when n is None)."""
        return self if n is None else TokenChunks(self.inputs[:n], self.targets[:n])

    def batches(self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None):
        """Yield (inputs, targets) batches of up to batch_size chunks (the last may be smaller)."""
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        for start in range(0, len(self), batch_size):
            index = order[start:start + batch_size]
            yield self.inputs[index], self.targets[index]


@dataclass
class LMData:
    """A tokenized dataset ready for training: tokenizer, chunked splits and their provenance."""

    dataset: str
    tokenizer: object
    train: TokenChunks
    validation: TokenChunks
    source: str
    vocab_size: int
    block_size: int

    def decode(self, ids) -> str:
        return self.tokenizer.decode([int(i) for i in ids])

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor(self.tokenizer.encode(text).ids, dtype=torch.long)


def cache_key(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def load_tokenizer(dataset: str, vocab_size: int = 10000, data_dir=None, max_train_rows: int | None = 50_000):
    """The BPE tokenizer of `dataset`, trained on its train split only, cached on disk."""
    rows, source = load_rows(dataset, "train", data_dir, max_train_rows)
    path = cache_dir() / f"tokenizer-{dataset}-{vocab_size}-{cache_key(source, len(rows), vocab_size)}.json"
    if path.exists():
        return Tokenizer.from_file(str(path)), rows, source
    tokenizer = train_tokenizer(rows, vocab_size)
    tokenizer.save(str(path.with_suffix(".tmp")))
    path.with_suffix(".tmp").replace(path)  # atomic: a half-written cache is never read
    return tokenizer, rows, source


def load_lm_data(dataset: str = "wikitext2", block_size: int = 256, vocab_size: int = 10000, data_dir=None,
                 max_train_rows: int | None = 50_000, max_val_rows: int | None = 5_000,
                 max_train_chunks: int | None = None, max_val_chunks: int | None = None) -> LMData:
    """Tokenizer + chunked train/validation splits (defaults: the reference benchmark's trimming)."""
    tokenizer, train_rows, source = load_tokenizer(dataset, vocab_size, data_dir, max_train_rows)
    val_rows, _ = load_rows(dataset, "validation", data_dir, max_val_rows)
    splits = {}
    for split, rows in (("train", train_rows), ("validation", val_rows)):
        path = cache_dir() / f"ids-{dataset}-{split}-{cache_key(source, len(rows), vocab_size, tokenizer.to_str())}.pt"
        if path.exists():
            ids = torch.load(path)
        else:
            ids = encode_rows(tokenizer, rows)
            torch.save(ids, path.with_suffix(".tmp"))
            path.with_suffix(".tmp").replace(path)
        splits[split] = chunk(ids, block_size)
    return LMData(dataset, tokenizer, splits["train"].take(max_train_chunks),
                  splits["validation"].take(max_val_chunks), source, tokenizer.get_vocab_size(), block_size)


def unigram_loss(train_ids: torch.Tensor, eval_ids: torch.Tensor, vocab_size: int) -> float:
    """Mean -ln p(token) over eval_ids, with p the add-one-smoothed token frequencies of train_ids.

    The validation loss of the best model that ignores context: a yardstick for every trained model.
    """
    counts = torch.bincount(train_ids.flatten(), minlength=vocab_size).double() + 1  # (V,)
    return float(-(counts / counts.sum()).log()[eval_ids.flatten()].mean())
