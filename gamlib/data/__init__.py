"""Datasets, the BPE tokenizer and next-token chunks, one file per job:

    sources.py      where the text comes from (a local folder, else the Hugging Face hub): DATASETS, load_rows
    tokenizer.py    the BPE tokenizer (train_tokenizer) and rows to ids (encode_rows)
    detokenizer.py  readable text from ids: the spaces the pre-tokenizer dropped, learnt from the training text
    cache.py        the content-keyed cache of tokenizers, ids and detokenizers, and the hashes that key it
    chunks.py       next-token chunks, LMData and its fingerprint (load_lm_data), the unigram yardstick

Imports point one way: sources, tokenizer <- detokenizer <- cache <- chunks.

The reference benchmark trims to the first 50,000 train and 5,000 validation rows, trains a
BPE tokenizer (Whitespace pre-tokenizer, vocab 10,000, specials [UNK] [PAD] [SOS] [EOS]) and
concatenates the tokens of all rows, cut into non-overlapping chunks of block_size + 1.
Unlike the reference, the tokenizer here sees the train split only (see tokenizer.py).
"""
from .cache import CacheRebuiltWarning, rows_sha256, tokenizer_sha256
from .chunks import LMData, TokenChunks, chunk, load_lm_data, unigram_loss
from .detokenizer import Detokenizer, build_detokenizer
from .sources import DATASETS, load_rows, read_local_rows
from .tokenizer import encode_rows, train_tokenizer

__all__ = ["DATASETS", "CacheRebuiltWarning", "Detokenizer", "LMData", "TokenChunks", "build_detokenizer", "chunk",
           "encode_rows", "load_lm_data", "load_rows", "read_local_rows", "rows_sha256", "tokenizer_sha256",
           "train_tokenizer", "unigram_loss"]
