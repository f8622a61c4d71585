"""Readable text from token ids: the spaces the Whitespace pre-tokenizer dropped, learnt from the training text.

The Whitespace pre-tokenizer drops the spaces and the reference's tokenizer has no decoder, so
`tokenizer.decode` joins the BPE pieces with spaces ("V al k y ri a"). `Detokenizer` puts the spaces back from
what the tokenizer's own training text did with each pair of adjacent pieces (see its docstring); it changes only
decoding, never the tokenizer or the ids. `LMData.decode(ids)` returns that readable text, `decode(ids, raw=True)`
the pieces as the reference prints them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tokenizer import SPECIAL_TOKENS

# What build_detokenizer computes, for the detokenizer cache key: change it when the rule changes.
DETOKENIZER_RECIPE = {"detokenizer": 1, "rule": "pair majority, else the right piece's majority, else space"}


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
