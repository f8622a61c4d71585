"""Datasets, the BPE tokenizer and next-token chunks.

Text comes from a local folder laid out like `shared/data`, else from the Hugging Face hub through
`datasets`:

    wikitext2    local: wikitext-2-v1/{train,validation,test}.txt   (one row per line)
                 hub:   wikitext / wikitext-2-raw-v1
    tinystories  local: tinystories/{train,validation}.txt           (stories split at <|endoftext|>)
                 hub:   roneneldan/TinyStories

The reference benchmark trims to the first 50,000 train and 5,000 validation rows, trains a
BPE tokenizer (Whitespace pre-tokenizer, vocab 10,000, specials [UNK] [PAD] [SOS] [EOS]) and
concatenates the tokens of all rows, cut into non-overlapping chunks of block_size + 1.
Unlike the reference, the tokenizer here sees the train split only (the reference also
trained it on validation and test text, a leak).

Where the text is read from (`load_rows`): a folder given explicitly, as the argument `data_dir` or
else the environment variable GAMLIB_DATA_DIR, is the only place looked at, and an error names the
file it lacks; only when neither is given are <checkout>/data and then the hub tried.

Decoding: the Whitespace pre-tokenizer drops the spaces and the reference's tokenizer has no decoder, so
`tokenizer.decode` joins the BPE pieces with spaces ("V al k y ri a"). `Detokenizer` puts the spaces back from
what the tokenizer's own training text did with each pair of adjacent pieces (see its docstring); it changes only
decoding, never the tokenizer or the ids. `LMData.decode(ids)` returns that readable text, `decode(ids, raw=True)`
the pieces as the reference prints them.

Nothing stale: the cached tokenizer and token ids are keyed by a SHA-256 of the exact rows they are
built from (and of the tokenizer settings / the tokenizer itself), so edited text is re-tokenized even
when its number of lines is unchanged. `LMData.fingerprint` records those hashes and the sizes of the
chunks returned, for run records. A cache file that cannot be read is named in a warning and rebuilt;
cache files are written atomically (gamlib.files) and ids are loaded with torch.load(weights_only=True).
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from .checks import check_choice
from .files import atomic_write, atomic_write_text
from .paths import cache_dir, project_root

SPECIAL_TOKENS = ["[UNK]", "[PAD]", "[SOS]", "[EOS]"]
STORY_SEPARATOR = "<|endoftext|>"
# What train_tokenizer builds, for the tokenizer cache key: change it when the recipe changes.
TOKENIZER_RECIPE = {"recipe": 1, "model": "BPE", "unk_token": "[UNK]", "pre_tokenizer": "Whitespace",
                    "special_tokens": SPECIAL_TOKENS}
# What build_detokenizer computes, for the detokenizer cache key: change it when the rule changes.
DETOKENIZER_RECIPE = {"detokenizer": 1, "rule": "pair majority, else the right piece's majority, else space"}


class CacheRebuiltWarning(UserWarning):
    """A cached tokenizer or token-id file could not be read and is being rebuilt."""


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
    """The folders load_rows reads local copies from: the argument alone when given, else
    $GAMLIB_DATA_DIR alone when set, else <checkout>/data (then load_rows tries the hub)."""
    if data_dir is not None and str(data_dir) != "":
        return [Path(data_dir)]
    if os.environ.get("GAMLIB_DATA_DIR"):
        return [Path(os.environ["GAMLIB_DATA_DIR"])]
    return [project_root() / "data"] if project_root() is not None else []


def read_local_rows(path: Path, fmt: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not UTF-8 text (byte {error.start}: {error.reason}), so it cannot be read as a "
            f"dataset split. Fix: replace it with the UTF-8 text file (see data/README.md for how to "
            f"build the folder, and SHA256SUMS beside the shared copy to check it)."
        ) from error
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


def _missing_split_error(source: DatasetSource, split: str, folder: Path, given_as: str) -> FileNotFoundError:
    """The error for an explicitly given data folder that does not hold the split: what is missing, and the fix."""
    path = folder / source.local_folder / f"{split}.txt"
    if not folder.is_dir():
        lacks = "that folder does not exist"
    elif not (folder / source.local_folder).is_dir():
        lacks = f"that folder has no {source.local_folder}/ folder"
    else:
        lacks = f"{folder / source.local_folder} has no {split}.txt"
    where = f"{path}" + ("" if path.is_absolute() else f" (absolute: {path.absolute()})")
    return FileNotFoundError(
        f"No {source.title} {split} data in the data folder given by {given_as}: expected the file {where}, "
        f"but {lacks}. Fix: put {source.local_folder}/{split}.txt in {folder} (see data/README.md), or point "
        f"{given_as.split('=')[0]} at the folder that holds it (e.g. ../shared/data); leave both data_dir and "
        f"GAMLIB_DATA_DIR unset to read <checkout>/data or download from the Hugging Face hub instead."
    )


def load_rows(dataset: str, split: str, data_dir=None, max_rows: int | None = None) -> tuple[list[str], str]:
    """The text rows of a split (trimmed to max_rows) and a description of where they came from.

    An explicit folder (data_dir, else $GAMLIB_DATA_DIR) is the only place looked at: when it lacks
    <folder>/<dataset folder>/<split>.txt, a FileNotFoundError names that path. With neither given,
    <checkout>/data is tried, then the Hugging Face hub.
    """
    check_choice("dataset", dataset, DATASETS)
    check_choice("split", split, SPLITS)
    source = DATASETS[dataset]
    folders = candidate_data_dirs(data_dir)
    if data_dir is not None and str(data_dir) != "":
        given_as = f"data_dir={str(data_dir)!r}"
    elif os.environ.get("GAMLIB_DATA_DIR"):
        given_as = f"GAMLIB_DATA_DIR={os.environ['GAMLIB_DATA_DIR']}"
    else:
        given_as = None
    for folder in folders:
        path = folder / source.local_folder / f"{split}.txt"
        if path.is_file():
            rows = read_local_rows(path, source.local_format)
            return rows[:max_rows] if max_rows else rows, f"local:{path}"
    if given_as is not None:
        raise _missing_split_error(source, split, folders[0], given_as)
    looked = [str(folder / source.local_folder / f"{split}.txt") for folder in folders]
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


def adjacent_pieces(tokenizer, rows: list[str]):
    """Every pair of adjacent tokens inside a row, as four equally long numpy arrays: left id, right id,
    touching, and the index of the row. `touching` is True where no whitespace lies between the two pieces in
    the row's text: the same word ("Valkyria" = V|al|k|y|ri|a), or punctuation written against a word
    ("<unk>" = <|unk|>). The encoding's character offsets say it: the end of one piece is the start of the next."""
    left, right, touching, row = [], [], [], []
    for r, encoding in enumerate(tokenizer.encode_batch(rows)):
        if len(encoding.ids) < 2:
            continue
        ids = np.asarray(encoding.ids, dtype=np.int64)
        offsets = np.asarray(encoding.offsets, dtype=np.int64)        # (tokens, 2): start, end in the row
        left.append(ids[:-1])
        right.append(ids[1:])
        touching.append(offsets[:-1, 1] == offsets[1:, 0])
        row.append(np.full(len(ids) - 1, r))
    if not left:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64)
    return np.concatenate(left), np.concatenate(right), np.concatenate(touching), np.concatenate(row)


@dataclass(frozen=True, repr=False)
class Detokenizer:
    """Readable text from token ids: puts back the spaces that the Whitespace pre-tokenizer removed.

    The ids carry no word boundaries (no "##" or "Ġ" marks), so the rule is learnt from the text the tokenizer
    was trained on. For adjacent pieces a, b it decides "touching" (no space) or "space":

    1. the pair's verdict, where the training text has the pair: touching if a and b touched more often than
       not (V|al touches: same word; "the|game" does not);
    2. else b's own verdict: touching if b touched whatever came before it more often than not ("al" mostly
       continues a word, "game" mostly starts one);
    3. else (b never seen after another piece, e.g. a special token) a space.

    Punctuation follows the corpus: WikiText is written with spaces around it ("game , which", "role @-@
    playing", but "<unk>" in one word), TinyStories as prose ("said, \"Hi!\""), and decoding reproduces that.
    Only the pairs whose verdict differs from b's are stored (the rest follow rule 2): `pair_touching` and
    `pair_space`. Special tokens ([UNK] [PAD] [SOS] [EOS]) are left out, as `tokenizer.decode` does.
    """

    pieces: tuple[str, ...]                 # id -> its BPE piece
    touching: frozenset[int]                # rule 2: ids that touch their left neighbour more often than not
    pair_touching: frozenset[tuple[int, int]]   # rule 1 where it says touching and rule 2 says space
    pair_space: frozenset[tuple[int, int]]      # rule 1 where it says space and rule 2 says touching
    special: frozenset[int] = frozenset()

    def __repr__(self) -> str:
        return (f"Detokenizer({len(self.pieces)} pieces, {len(self.touching)} touching their left neighbour, "
                f"{len(self.pair_touching)} pairs touching and {len(self.pair_space)} spaced against that)")

    def joins(self, a: int, b: int) -> bool:
        """True when piece b is written against piece a (no space between them)."""
        if (a, b) in self.pair_touching:
            return True
        if (a, b) in self.pair_space:
            return False
        return b in self.touching

    def decode(self, ids) -> str:
        """The text of `ids`: pieces joined where `joins` says so, else separated by one space."""
        out, previous = [], None
        for i in (int(i) for i in ids):
            if i in self.special:
                continue
            if previous is not None and not self.joins(previous, i):
                out.append(" ")
            out.append(self.pieces[i])
            previous = i
        return "".join(out)

    def rejoin(self, raw: str) -> str:
        """Readable text from a raw decode (pieces separated by spaces), e.g. a sample an older run record kept."""
        index = {piece: i for i, piece in enumerate(self.pieces)}
        words = raw.split()
        if not all(word in index for word in words):
            unknown = sorted({word for word in words if word not in index})[:5]
            raise ValueError(f"not a raw decode of this tokenizer: {unknown} are not among its pieces")
        return self.decode([index[word] for word in words])

    def accuracy(self, tokenizer, rows: list[str]) -> dict:
        """How well decoding restores the spacing of `rows` (text the detokenizer did not learn from, e.g.
        validation), over every pair of adjacent tokens in a row (a "gap"):

        gaps, accuracy (share of gaps decided right), raw_accuracy (the same for the raw decode, which puts a
        space in every gap), spaces_kept (share of the text's word boundaries, gaps with whitespace, that get
        a space), touching_kept (share of touching gaps that get none) and rows_exact (share of rows of two or
        more tokens whose every gap is right, i.e. decoded exactly up to runs of whitespace). Gaps next to a
        special token ([UNK] for a character the training text lacks) are left out: decode drops those tokens.
        """
        left, right, touching, row = adjacent_pieces(tokenizer, rows)
        special = np.asarray(sorted(self.special), dtype=np.int64)
        keep = ~(np.isin(left, special) | np.isin(right, special))  # decode drops special tokens: no gap to judge
        left, right, touching, row = left[keep], right[keep], touching[keep], row[keep]
        if len(touching) == 0:
            raise ValueError("no row of two or more tokens to measure on")
        decided = np.fromiter((self.joins(a, b) for a, b in zip(left.tolist(), right.tolist())), bool, len(left))
        wrong = decided != touching
        rows_with_gaps = np.unique(row)
        rows_wrong = np.unique(row[wrong])
        return {
            "gaps": int(len(touching)),
            "accuracy": float(1 - wrong.mean()),
            "raw_accuracy": float((~touching).mean()),
            "spaces_kept": float((~decided[~touching]).mean()) if (~touching).any() else float("nan"),
            "touching_kept": float(decided[touching].mean()) if touching.any() else float("nan"),
            "rows_exact": float(1 - len(rows_wrong) / len(rows_with_gaps)),
        }

    def to_dict(self) -> dict:
        return {"touching": sorted(self.touching), "pair_touching": sorted(map(list, self.pair_touching)),
                "pair_space": sorted(map(list, self.pair_space)), "special": sorted(self.special)}

    @classmethod
    def from_dict(cls, tokenizer, state: dict) -> "Detokenizer":
        return cls(tuple(tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size())),
                   frozenset(state["touching"]), frozenset(map(tuple, state["pair_touching"])),
                   frozenset(map(tuple, state["pair_space"])), frozenset(state["special"]))


def build_detokenizer(tokenizer, rows: list[str]) -> Detokenizer:
    """Count, in `rows` (the tokenizer's training text), how often each adjacent pair and each right-hand piece
    touched or was spaced, and keep the majority verdicts (rules 1-3 of Detokenizer; ties go to the next rule)."""
    V = tokenizer.get_vocab_size()
    left, right, touching, _ = adjacent_pieces(tokenizer, rows)
    # rule 2: per right-hand piece, touching vs spaced counts
    piece_touching = np.bincount(right, weights=touching, minlength=V)
    piece_spaced = np.bincount(right, minlength=V) - piece_touching
    token_verdict = piece_touching > piece_spaced                     # (V,) bool; unseen: False (space)
    # rule 1: per pair (a, b), numbered a * V + b
    pairs, index = np.unique(left * V + right, return_inverse=True)
    pair_touching = np.bincount(index, weights=touching)
    pair_spaced = np.bincount(index) - pair_touching
    a, b = pairs // V, pairs % V
    says_touching = (pair_touching > pair_spaced) & ~token_verdict[b]
    says_space = (pair_spaced > pair_touching) & token_verdict[b]
    special = {tokenizer.token_to_id(t) for t in SPECIAL_TOKENS} - {None}
    return Detokenizer(tuple(tokenizer.id_to_token(i) for i in range(V)),
                       frozenset(np.nonzero(token_verdict)[0].tolist()),
                       frozenset(zip(a[says_touching].tolist(), b[says_touching].tolist())),
                       frozenset(zip(a[says_space].tolist(), b[says_space].tolist())),
                       frozenset(special))


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
    # What the data is, for run records (JSON-serialisable): content hashes of the rows and the tokenizer,
    # and the sizes of the chunks above. See load_lm_data for the keys.
    fingerprint: dict = field(default_factory=dict)
    # The train rows the tokenizer was trained on, for the detokenizer (built on first use); not shown or compared.
    train_rows: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def detokenizer(self) -> Detokenizer:
        """The Detokenizer learnt from this tokenizer's training rows: read from the cache, or built (seconds) and
        cached on first use."""
        if getattr(self, "_detokenizer", None) is None:
            if self.train_rows is None:
                raise ValueError("this LMData has no train_rows to learn the spacing from (load it with "
                                 "load_lm_data); decode(ids, raw=True) gives the pieces without it")
            rows_hash = self.fingerprint.get("train_sha256") or rows_sha256(self.train_rows)
            self._detokenizer = _cached_detokenizer(self.dataset, self.tokenizer, self.train_rows, rows_hash)
        return self._detokenizer

    def decode(self, ids, raw: bool = False) -> str:
        """The text of token ids, readable: spaces between words, none inside them (see Detokenizer).

        raw=True: the BPE pieces joined by spaces ("V al k y ri a"), as the reference's tokenizer, which has no
        decoder, prints them. Special tokens are left out either way."""
        if raw:
            return self.tokenizer.decode([int(i) for i in ids])
        return self.detokenizer.decode(ids)

    def encode(self, text: str) -> torch.Tensor:
        return torch.tensor(self.tokenizer.encode(text).ids, dtype=torch.long)


def rows_sha256(rows: list[str]) -> str:
    """SHA-256 (hex) of exactly these rows in this order; each row is length-prefixed, so that
    moving a line break (or splitting a row in two) changes the hash."""
    digest = hashlib.sha256()
    for row in rows:
        data = row.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    """SHA-256 (hex) of the tokenizer's own compact serialisation (the same for a fresh and a reloaded one)."""
    return hashlib.sha256(tokenizer.to_str().encode("utf-8")).hexdigest()


def _content_key(**parts) -> str:
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


def _cached_tokenizer(dataset: str, rows: list[str], rows_hash: str, vocab_size: int):
    """The tokenizer trained on `rows` (their hash given), from the cache or trained and cached."""
    key = _content_key(rows_sha256=rows_hash, vocab_size=vocab_size, **TOKENIZER_RECIPE)
    path = cache_dir() / f"tokenizer-{dataset}-{vocab_size}-{key[:16]}.json"
    if path.exists():
        try:
            return Tokenizer.from_file(str(path))
        except Exception as error:  # noqa: BLE001 (truncated or garbage JSON: tokenizers raises a bare Exception)
            _unreadable(path, error)
    tokenizer = train_tokenizer(rows, vocab_size)
    atomic_write_text(path, tokenizer.to_str(pretty=True))
    return tokenizer


def _cached_ids(dataset: str, split: str, tokenizer, tokenizer_hash: str, rows: list[str], rows_hash: str):
    """All rows' token ids, from the cache (torch.load with weights_only=True) or encoded and cached."""
    key = _content_key(rows_sha256=rows_hash, tokenizer_sha256=tokenizer_hash, ids="int64 1-D")
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


def _cached_detokenizer(dataset: str, tokenizer, rows: list[str], rows_hash: str) -> Detokenizer:
    """The Detokenizer of `tokenizer` learnt from `rows` (their hash given), from the cache or built and cached."""
    key = _content_key(rows_sha256=rows_hash, tokenizer_sha256=tokenizer_sha256(tokenizer), **DETOKENIZER_RECIPE)
    path = cache_dir() / f"detokenizer-{dataset}-{tokenizer.get_vocab_size()}-{key[:16]}.json"
    if path.exists():
        try:
            return Detokenizer.from_dict(tokenizer, json.loads(path.read_text(encoding="utf-8")))
        except Exception as error:  # noqa: BLE001 (truncated or garbage JSON, missing keys)
            _unreadable(path, error)
    detokenizer = build_detokenizer(tokenizer, rows)
    atomic_write_text(path, json.dumps(detokenizer.to_dict()))
    return detokenizer


def load_tokenizer(dataset: str, vocab_size: int = 10000, data_dir=None, max_train_rows: int | None = 50_000):
    """The BPE tokenizer of `dataset`, trained on its train split only, cached on disk.

    The cache is keyed by a SHA-256 of the train rows used (after trimming) and the tokenizer settings.
    """
    rows, source = load_rows(dataset, "train", data_dir, max_train_rows)
    return _cached_tokenizer(dataset, rows, rows_sha256(rows), vocab_size), rows, source


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
    tokenizer = _cached_tokenizer(dataset, train_rows, hashes["train"], vocab_size)
    tokenizer_hash = tokenizer_sha256(tokenizer)
    splits = {}
    for split, rows in (("train", train_rows), ("validation", val_rows)):
        ids = _cached_ids(dataset, split, tokenizer, tokenizer_hash, rows, hashes[split])
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
    return LMData(dataset, tokenizer, train, validation, source, tokenizer.get_vocab_size(), block_size,
                  fingerprint, train_rows)


def unigram_loss(train_ids: torch.Tensor, eval_ids: torch.Tensor, vocab_size: int) -> float:
    """Mean -ln p(token) over eval_ids, with p the add-one-smoothed token frequencies of train_ids.

    The validation loss of the best model that ignores context: a yardstick for every trained model.
    """
    counts = torch.bincount(train_ids.flatten(), minlength=vocab_size).double() + 1  # (V,)
    return float(-(counts / counts.sum()).log()[eval_ids.flatten()].mean())
