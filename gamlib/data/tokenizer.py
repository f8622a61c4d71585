"""The BPE tokenizer as the reference's: Whitespace pre-tokenizer, specials [UNK] [PAD] [SOS] [EOS].

Unlike the reference, load_lm_data trains it on the train split only (the reference also trained it on validation
and test text, a leak).
"""
from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[SOS]", "[EOS]"]
# What train_tokenizer builds, for the tokenizer cache key: change it when the recipe changes.
TOKENIZER_RECIPE = {"recipe": 1, "model": "BPE", "unk_token": "[UNK]", "pre_tokenizer": "Whitespace",
                    "special_tokens": SPECIAL_TOKENS}


def train_tokenizer(rows: list[str], vocab_size: int):
    """A BPE tokenizer as the reference's (Whitespace pre-tokenizer, four special tokens)."""
    tokenizer = Tokenizer(models.BPE(unk_token=TOKENIZER_RECIPE["unk_token"]))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(TOKENIZER_RECIPE["special_tokens"]),
                                  show_progress=False)
    tokenizer.train_from_iterator(rows, trainer=trainer)
    return tokenizer


def encode_rows(tokenizer, rows: list[str]) -> torch.Tensor:
    """All rows' token ids, concatenated in order, as one 1-D int64 tensor."""
    ids = [i for encoding in tokenizer.encode_batch(rows) for i in encoding.ids]
    return torch.tensor(ids, dtype=torch.long)
