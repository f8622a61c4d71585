"""The content-keyed cache of tokenizers, token ids and detokenizers (in gamlib.paths.cache_dir()).

Nothing stale: the cached tokenizer and token ids are keyed by a SHA-256 of the exact rows they are
built from (and of the tokenizer settings / the tokenizer itself), so edited text is re-tokenized even
when its number of lines is unchanged. A tokenizer's hash (tokenizer_sha256) is of its content, whatever
version of `tokenizers` serialised it. `LMData.fingerprint` records those hashes and the sizes of the
chunks returned, for run records. A cache file that cannot be read is named in a warning and rebuilt;
cache files are written atomically (gamlib.files) and ids are loaded with torch.load(weights_only=True).
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import torch
from tokenizers import Tokenizer

from ..files import atomic_write, atomic_write_text
from ..paths import cache_dir
from .detokenizer import DETOKENIZER_RECIPE, Detokenizer, build_detokenizer
from .tokenizer import TOKENIZER_RECIPE, encode_rows, train_tokenizer


class CacheRebuiltWarning(UserWarning):
    """A cached tokenizer or token-id file could not be read and is being rebuilt."""


def rows_sha256(rows: list[str]) -> str:
    """SHA-256 (hex) of exactly these rows in this order; each row is length-prefixed, so that
    moving a line break (or splitting a row in two) changes the hash."""
    digest = hashlib.sha256()
    for row in rows:
        data = row.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def merge_pair(merge) -> list[str]:
    """A BPE merge as a [left, right] pair, from either serialisation: ["t", "h"] or the older "t h"."""
    parts = merge.split(" ") if isinstance(merge, str) else list(merge)
    if len(parts) != 2 or not all(isinstance(part, str) for part in parts):
        raise ValueError(f"a BPE merge must be two tokens, got {merge!r}")
    return parts


def canonical_tokenizer(serialised: dict) -> dict:
    """What a tokenizer is, from its JSON (Tokenizer.to_str, any `tokenizers` version), in one form: the model's
    type and settings, its vocabulary (token -> id, sorted when hashed) and merges (in rank order, as pairs), the
    normalizer, pre-tokenizer, post-processor, decoder, truncation, padding and added tokens (by id). Left out: the
    format's version, and model settings that are None or False (a newer library writes those it added that way)."""
    model = {key: value for key, value in serialised["model"].items() if value is not None and value is not False}
    if "merges" in model:
        model["merges"] = [merge_pair(merge) for merge in model["merges"]]
    return {
        "model": model,
        **{part: serialised.get(part) for part in ("normalizer", "pre_tokenizer", "post_processor", "decoder",
                                                   "truncation", "padding")},
        "added_tokens": sorted(serialised.get("added_tokens") or [], key=lambda token: token["id"]),
    }


def tokenizer_sha256(tokenizer) -> str:
    """SHA-256 (hex) of what the tokenizer is (canonical_tokenizer, keys sorted), not of how the installed
    `tokenizers` writes it: the same for a fresh, a reloaded and an older library's tokenizer. `tokenizer`: a
    Tokenizer, or its serialised JSON as a dict."""
    serialised = tokenizer if isinstance(tokenizer, dict) else json.loads(tokenizer.to_str())
    text = json.dumps(canonical_tokenizer(serialised), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_key(**parts) -> str:
    """SHA-256 (hex) of the JSON of `parts`, keys sorted: the key of a cache file."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _unreadable(path: Path, error: Exception) -> None:
    """Warn that a cache file cannot be used, naming it, and remove it (it is rebuilt next)."""
    message = str(error)
    if "WeightsUnpickler error:" in message:  # torch's advice to retry with weights_only=False is not ours
        detail = message.split("WeightsUnpickler error:", 1)[1].split("Check the documentation")[0]
        detail = " ".join(detail.split("Please use")[0].split())
        message = f"torch.load(weights_only=True) refused its pickle, which is not a plain tensor: {detail}"
    reason = f"{type(error).__name__}: {' '.join(message.split())[:300]}"
    warnings.warn(f"gamlib cache file {path} is unreadable ({reason}); rebuilding it", CacheRebuiltWarning,
                  stacklevel=3)
    path.unlink(missing_ok=True)


def cached_tokenizer(dataset: str, rows: list[str], rows_hash: str, vocab_size: int):
    """The tokenizer trained on `rows` (their hash given), from the cache or trained and cached."""
    key = content_key(rows_sha256=rows_hash, vocab_size=vocab_size, **TOKENIZER_RECIPE)
    path = cache_dir() / f"tokenizer-{dataset}-{vocab_size}-{key[:16]}.json"
    if path.exists():
        try:
            return Tokenizer.from_file(str(path))
        except Exception as error:  # noqa: BLE001 (truncated or garbage JSON: tokenizers raises a bare Exception)
            _unreadable(path, error)
    tokenizer = train_tokenizer(rows, vocab_size)
    atomic_write_text(path, tokenizer.to_str(pretty=True))
    return tokenizer


def cached_ids(dataset: str, split: str, tokenizer, tokenizer_hash: str, rows: list[str], rows_hash: str):
    """All rows' token ids, from the cache (torch.load with weights_only=True) or encoded and cached."""
    key = content_key(rows_sha256=rows_hash, tokenizer_sha256=tokenizer_hash, ids="int64 1-D")
    path = cache_dir() / f"ids-{dataset}-{split}-{key[:16]}.pt"
    if path.exists():
        try:
            with warnings.catch_warnings():  # our own warning below says what is wrong with the file
                warnings.filterwarnings("ignore", message="Detected pickle protocol")
                ids = torch.load(path, map_location="cpu", weights_only=True)
            if not (isinstance(ids, torch.Tensor) and ids.dtype == torch.long and ids.dim() == 1):
                raise ValueError(f"expected a 1-D int64 tensor, found {type(ids).__name__} "
                                 f"{getattr(ids, 'dtype', '')} {tuple(getattr(ids, 'shape', ()))}")
            if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= tokenizer.get_vocab_size()):
                raise ValueError(f"token ids outside 0..{tokenizer.get_vocab_size() - 1}")
            return ids
        except Exception as error:  # noqa: BLE001 (truncated zip, garbage, or a pickle weights_only refuses)
            _unreadable(path, error)
    ids = encode_rows(tokenizer, rows)
    atomic_write(path, lambda handle: torch.save(ids, handle), mode="wb")
    return ids


def cached_detokenizer(dataset: str, tokenizer, rows: list[str], rows_hash: str) -> Detokenizer:
    """The Detokenizer of `tokenizer` learnt from `rows` (their hash given), from the cache or built and cached."""
    key = content_key(rows_sha256=rows_hash, tokenizer_sha256=tokenizer_sha256(tokenizer), **DETOKENIZER_RECIPE)
    path = cache_dir() / f"detokenizer-{dataset}-{tokenizer.get_vocab_size()}-{key[:16]}.json"
    if path.exists():
        try:
            return Detokenizer.from_dict(tokenizer, json.loads(path.read_text(encoding="utf-8")))
        except Exception as error:  # noqa: BLE001 (truncated or garbage JSON, missing keys)
            _unreadable(path, error)
    detokenizer = build_detokenizer(tokenizer, rows)
    atomic_write_text(path, json.dumps(detokenizer.to_dict()))
    return detokenizer
