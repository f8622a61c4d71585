"""Next-token chunks, and LMData: a dataset's tokenizer and chunked splits, with the fingerprint saying what they are.

The tokens of all rows are concatenated and cut into non-overlapping chunks of block_size + 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import torch

from .cache import cached_detokenizer, cached_ids, cached_tokenizer, rows_sha256, tokenizer_sha256
from .detokenizer import Detokenizer
from .sources import load_rows


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


def chunk(ids: torch.Tensor, block_size: int) -> TokenChunks:
    """Cut 1-D ids into non-overlapping windows of block_size + 1: input = [:-1], target = [1:]."""
    n = len(ids) // (block_size + 1)
    if n == 0:
        raise ValueError(f"{len(ids)} tokens are fewer than one chunk of block_size + 1 = {block_size + 1}")
    windows = ids[: n * (block_size + 1)].view(n, block_size + 1)
    return TokenChunks(windows[:, :-1].contiguous(), windows[:, 1:].contiguous())


@dataclass
class LMData:
    """A tokenized dataset ready for training: tokenizer, chunked splits and their fingerprint.

    The fingerprint is the one record of what the data is; dataset, source, vocab_size and block_size read it."""

    tokenizer: object
    train: TokenChunks
    validation: TokenChunks
    # What the data is, for run records (JSON-serialisable): the dataset, its source, content hashes of the rows
    # and the tokenizer, vocab and block size, and the sizes of the chunks above. See load_lm_data for the keys.
    fingerprint: dict
    # The train rows the tokenizer was trained on, for the detokenizer (built on first use); not shown or compared.
    train_rows: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def dataset(self) -> str:
        return self.fingerprint["dataset"]

    @property
    def source(self) -> str:
        """Where the train rows were read: "local:<path>" or "hub:<path>/<name>"."""
        return self.fingerprint["source"]

    @property
    def vocab_size(self) -> int:
        return self.fingerprint["vocab_size"]

    @property
    def block_size(self) -> int:
        return self.fingerprint["block_size"]

    @cached_property
    def detokenizer(self) -> Detokenizer:
        """The Detokenizer learnt from this tokenizer's training rows: read from the cache, or built (seconds) and
        cached on first use."""
        if self.train_rows is None:
            raise ValueError("this LMData has no train_rows to learn the spacing from (load it with "
                             "load_lm_data); decode(ids, raw=True) gives the pieces without it")
        return cached_detokenizer(self.dataset, self.tokenizer, self.train_rows, self.fingerprint["train_sha256"])

    def decode(self, ids, raw: bool = False) -> str:
        """The text of token ids, readable: spaces between words, none inside them (see Detokenizer).

        raw=True: the BPE pieces joined by spaces ("V al k y ri a"), as the reference's tokenizer, which has no
        decoder, prints them. Special tokens are left out either way."""
        if raw:
            return self.tokenizer.decode([int(i) for i in ids])
        return self.detokenizer.decode(ids)

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor(self.tokenizer.encode(text).ids, dtype=torch.long)


def load_lm_data(dataset: str = "wikitext2", block_size: int = 256, vocab_size: int = 10000, data_dir=None,
                 max_train_rows: int | None = 50_000, max_val_rows: int | None = 5_000,
                 max_train_chunks: int | None = None, max_val_chunks: int | None = None) -> LMData:
    """Tokenizer + chunked train/validation splits (defaults: the reference benchmark's trimming).

    The result's `fingerprint` (a JSON-serialisable dict) says what the data is: dataset, source,
    train_rows, val_rows, train_sha256 and validation_sha256 (SHA-256 of the rows used), tokenizer_sha256,
    vocab_size, block_size, and train_tokens / val_tokens / train_chunks / val_chunks (of the chunks
    returned, after max_*_chunks). Changed text, tokenizer or trimming changes it.
    """
    train_rows, source = load_rows(dataset, "train", data_dir, max_train_rows)
    val_rows, _ = load_rows(dataset, "validation", data_dir, max_val_rows)
    hashes = {"train": rows_sha256(train_rows), "validation": rows_sha256(val_rows)}
    tokenizer = cached_tokenizer(dataset, train_rows, hashes["train"], vocab_size)
    tokenizer_hash = tokenizer_sha256(tokenizer)
    splits = {}
    for split, rows in (("train", train_rows), ("validation", val_rows)):
        ids = cached_ids(dataset, split, tokenizer, tokenizer_hash, rows, hashes[split])
        splits[split] = chunk(ids, block_size)
    train, validation = splits["train"].take(max_train_chunks), splits["validation"].take(max_val_chunks)
    fingerprint = {
        "dataset": dataset,
        "source": source,
        "train_rows": len(train_rows),
        "val_rows": len(val_rows),
        "train_sha256": hashes["train"],
        "validation_sha256": hashes["validation"],
        "tokenizer_sha256": tokenizer_hash,
        "vocab_size": tokenizer.get_vocab_size(),
        "block_size": block_size,
        "train_tokens": train.num_tokens,
        "val_tokens": validation.num_tokens,
        "train_chunks": len(train),
        "val_chunks": len(validation),
    }
    return LMData(tokenizer, train, validation, fingerprint, train_rows)


def unigram_loss(train_ids: torch.Tensor, eval_ids: torch.Tensor, vocab_size: int) -> float:
    """Mean -ln p(token) over eval_ids, with p the add-one-smoothed token frequencies of train_ids.

    The validation loss of the best model that ignores context: a yardstick for every trained model.
    """
    counts = torch.bincount(train_ids.flatten(), minlength=vocab_size).double() + 1  # (V,)
    return float(-(counts / counts.sum()).log()[eval_ids.flatten()].mean())
