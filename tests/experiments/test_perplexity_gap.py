"""gamlib.experiments.perplexity_gap: the tokenizer trained on every split sees the validation words (fewer
tokens, a lower unigram loss); the tokens that finish an "<unk>" are found exactly; a loss leaves out what the
mask says and nothing else."""
import math
import random

import pytest
import torch

from gamlib.data import TokenChunks
from gamlib.data.tokenizer import train_tokenizer
from gamlib.experiments.perplexity_gap import loss_without, tokenizer_leak, unk_continuations

WORDS = ["ka", "lo", "mi", "nu", "ra", "the", "of", "<unk>", ","]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMLIB_CACHE_DIR", str(tmp_path / "cache"))


def test_a_tokenizer_trained_on_every_split_knows_the_validation_words(tmp_path):
    rng = random.Random(0)
    folder = tmp_path / "data" / "wikitext-2-v1"
    folder.mkdir(parents=True)
    seen = [" ".join(rng.choice(WORDS) for _ in range(10)) for _ in range(200)]
    unseen = " ".join(f"zor{'x' * (i % 5)}quen" for i in range(40))  # words of validation and test only
    for split, rows in (("train", seen), ("validation", seen[:20] + [unseen] * 5), ("test", [unseen] * 5)):
        (folder / f"{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = tokenizer_leak(vocab_size=120, data_dir=tmp_path / "data", max_train_rows=None, max_val_rows=None)
    ours, reference = table.loc["train split (ours)"], table.loc["every split (the reference)"]
    assert reference["validation tokens"] < ours["validation tokens"]
    bits = ours["unigram loss (nats/token)"] * ours["tokens per character"] / math.log(2)
    assert ours["unigram bits per character"] == pytest.approx(bits)
    assert ours["unigram perplexity"] == pytest.approx(math.exp(ours["unigram loss (nats/token)"]))


def test_the_two_tokens_that_finish_an_unk_are_marked_and_nothing_else():
    tokenizer = train_tokenizer([" ".join(WORDS)] * 50 + ["a < b > c unk d"] * 5, 60)
    ids = torch.tensor([tokenizer.encode("the <unk> of < ka > unk <unk>").ids])
    pieces = [tokenizer.id_to_token(int(i)) for i in ids[0]]
    marked = [piece for piece, flag in zip(pieces, unk_continuations(ids, tokenizer)[0]) if flag]
    assert pieces.count("<") == 3 and marked == ["unk", ">", "unk", ">"]


def test_a_tokenizer_without_the_pieces_is_refused():
    tokenizer = train_tokenizer(["ka lo mi nu"] * 20, 30)
    with pytest.raises(ValueError, match="no token for one of"):
        unk_continuations(torch.tensor([[1, 2]]), tokenizer)


class Uniform(torch.nn.Module):
    """Logits of zeros: every target costs ln V."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.weight = vocab, torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.zeros(*x.shape, self.vocab) + 0 * self.weight, None


def test_the_loss_leaves_out_exactly_the_masked_targets():
    x = torch.tensor([[1, 2, 3, 4], [4, 3, 2, 1]])
    y = torch.tensor([[2, 3, 4, 5], [3, 2, 1, 0]])
    chunks = TokenChunks(x, y)
    seen = []

    def leave_out(tokens):  # the target 3 when it follows a 2
        seen.append(tokens.clone())
        mask = torch.zeros_like(tokens, dtype=torch.bool)
        mask[:, 1:] = (tokens[:, 1:] == 3) & (tokens[:, :-1] == 2)
        return mask

    result = loss_without(Uniform(8), chunks, leave_out)
    assert torch.equal(seen[0], torch.tensor([[1, 2, 3, 4, 5], [4, 3, 2, 1, 0]]))
    assert result["share left out"] == pytest.approx(1 / 8)
    assert result["loss, every token"] == pytest.approx(math.log(8)) == result["loss, the rest"]
