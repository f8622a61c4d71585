"""Why our WikiText-2 perplexities are not the paper's: the differences between the two data setups, measured.

The reference (docs/paper.md §3) trains its BPE tokenizer on every split, validation and test included, and
reads the raw release of WikiText-2; this project trains the tokenizer on the train split only and reads the
`<unk>` release, where rare words are the string "<unk>". A per-token perplexity depends on both:

    tokenizer_leak(...)        the unigram loss (a model that ignores context) and the tokens per character of
                               the validation text, under a tokenizer trained on the train split (ours) and on
                               every split (the reference's)
    unk_continuations(...)     which tokens finish an "<unk>": the Whitespace pre-tokenizer cuts it into "<",
                               "unk", ">", and after "<" the other two are near certain
    loss_without(...)          a trained model's validation loss on every token, and on all but a mask's

The raw release itself is not in this project's offline data, so its effect is stated, not measured.
"""
from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as F

from ..data import load_rows, unigram_loss
from ..data.cache import cached_ids, cached_tokenizer, rows_sha256, tokenizer_sha256
from ..data.chunks import TokenChunks
from ..runtime import eval_mode

UNK_PIECES = ("<", "unk", ">")


def tokenizer_leak(dataset: str = "wikitext2", vocab_size: int = 10_000, data_dir=None,
                   max_train_rows: int | None = 50_000, max_val_rows: int | None = 5_000) -> pd.DataFrame:
    """One row per tokenizer, 'train split (ours)' and 'every split (the reference)': its validation tokens,
    tokens per character, the unigram loss (nats/token, add-one smoothed train frequencies), its perplexity,
    and the same loss in bits per character (comparable across tokenizers)."""
    rows = {split: load_rows(dataset, split, data_dir, limit)[0]
            for split, limit in (("train", max_train_rows), ("validation", max_val_rows), ("test", None))}
    corpora = {"train split (ours)": rows["train"],
               "every split (the reference)": rows["train"] + rows["validation"] + rows["test"]}
    characters = sum(len(row) for row in rows["validation"])
    table = []
    for name, corpus in corpora.items():
        tokenizer = cached_tokenizer(dataset, corpus, rows_sha256(corpus), vocab_size)
        ids = {split: cached_ids(dataset, split, tokenizer, tokenizer_sha256(tokenizer), rows[split],
                                 rows_sha256(rows[split])) for split in ("train", "validation")}
        loss = unigram_loss(ids["train"], ids["validation"], tokenizer.get_vocab_size())
        tokens = len(ids["validation"])
        table.append({"tokenizer trained on": name, "validation tokens": tokens,
                      "tokens per character": tokens / characters, "unigram loss (nats/token)": loss,
                      "unigram perplexity": math.exp(loss),
                      "unigram bits per character": loss * tokens / characters / math.log(2)})
    return pd.DataFrame(table).set_index("tokenizer trained on")


def unk_continuations(ids: torch.Tensor, tokenizer) -> torch.Tensor:
    """A boolean mask, the shape of `ids` (..., T): True at the "unk" right after "<" and at the ">" right after
    that "unk", the two tokens that finish an "<unk>" once its "<" is read. The first position of each row
    cannot be one (its predecessor is not in the row)."""
    lt, unk, gt = (tokenizer.token_to_id(piece) for piece in UNK_PIECES)
    if None in (lt, unk, gt):
        raise ValueError(f"the tokenizer has no token for one of {UNK_PIECES}: this is not WikiText-2's <unk> "
                         "release, or its tokenizer splits '<unk>' differently")
    mask = torch.zeros_like(ids, dtype=torch.bool)
    after_lt = (ids[..., 1:] == unk) & (ids[..., :-1] == lt)
    mask[..., 1:] |= after_lt
    mask[..., 2:] |= (ids[..., 2:] == gt) & after_lt[..., :-1]
    return mask


def loss_without(net, chunks: TokenChunks, leave_out, batch_size: int = 64) -> dict:
    """`net`'s validation loss (nats/token) on every target of `chunks`, and on the targets that
    `leave_out(tokens)` leaves in; with the share left out. `tokens` is each chunk's whole sequence (B, T + 1),
    the first input then the targets, so that the mask of a target can look at the token before it."""
    device = next(net.parameters()).device
    total = kept = 0.0
    n_total = n_kept = 0
    with eval_mode(net), torch.no_grad():
        for x, y in chunks.batches(batch_size):
            logits, _ = net(x.to(device))
            losses = F.cross_entropy(logits.flatten(0, 1).float(), y.to(device).flatten(), reduction="none").cpu()
            keep = ~leave_out(torch.cat([x[:, :1], y], dim=1))[:, 1:].flatten()
            total, n_total = total + float(losses.sum()), n_total + losses.numel()
            kept, n_kept = kept + float(losses[keep].sum()), n_kept + int(keep.sum())
    return {"loss, every token": total / n_total, "loss, the rest": kept / n_kept,
            "share left out": 1 - n_kept / n_total}
