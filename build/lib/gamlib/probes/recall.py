"""Associative recall: a synthetic task that asks whether a model can use a fact seen d tokens ago.

    RecallTask              multi-query associative recall (MQAR-style, after Zoology, arXiv:2312.04927)
                            with the distance between a key-value pair and its query controlled
    make_recall_data        sequences of the task, deterministic for a seed
    recall_accuracy         a model's greedy answers at the query positions, scored by distance

Training a model on it, as a run record, is gamlib.experiments.recall.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from ..data import TokenChunks
from ..models.lm import LanguageModel
from ..runtime import eval_mode


@dataclass(frozen=True)
class RecallTask:
    """Multi-query associative recall with controlled distances.

    Vocabulary: 0 = filler, `num_keys` key tokens, `num_values` value tokens, and one pair token
    for every (key, value). A sequence of `seq_len` tokens holds `pairs` pair tokens (distinct keys,
    values drawn at random, so they must be read from the context) and `queries` query tokens: a
    key whose pair sits d positions earlier, d drawn from `distances`. The target at a query is the
    value bound to its key; every other target is -100 (not scored). A model that does not see the
    pair token from the query can only guess: chance = 1 / num_values.

    MQAR (Zoology, arXiv:2312.04927) writes a pair as two tokens, key then value; answering then
    needs a two-step "induction" circuit (find the key, read the token after it) that our tiny
    models do not learn in a CPU-minute. One token per pair keeps the lookup one step deep; it does
    not change what a receptive field allows.
    """

    seq_len: int = 32
    num_keys: int = 4
    num_values: int = 4
    pairs: int = 4
    queries: int = 8
    distances: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 12, 16, 24)

    def __post_init__(self):
        if min(self.distances) < 1:
            raise ValueError(f"distances must be >= 1 (a query comes after its pair), got {min(self.distances)}")
        if max(self.distances) >= self.seq_len:
            raise ValueError(f"distance {max(self.distances)} does not fit in seq_len {self.seq_len}")
        if self.pairs > self.num_keys:
            raise ValueError(f"{self.pairs} pairs need at least as many distinct keys, got num_keys={self.num_keys}")
        if self.pairs + self.queries > self.seq_len // 2:
            raise ValueError(f"{self.pairs} pairs + {self.queries} queries need seq_len >= "
                             f"{2 * (self.pairs + self.queries)} (half the positions stay filler), got {self.seq_len}")

    @property
    def vocab_size(self) -> int:
        return 1 + self.num_keys + self.num_values + self.num_keys * self.num_values

    @property
    def chance(self) -> float:
        return 1.0 / self.num_values

    def key(self, k: int) -> int:
        return 1 + k

    def value(self, v: int) -> int:
        return 1 + self.num_keys + v

    def pair(self, k: int, v: int) -> int:
        return 1 + self.num_keys + self.num_values + k * self.num_values + v


@dataclass
class RecallData:
    chunks: TokenChunks        # inputs (N, T), targets (N, T) with -100 except at queries
    distance: torch.Tensor     # (N, T) query-to-pair distance at query positions, 0 elsewhere
    task: RecallTask


def _layout(task: RecallTask, rng: random.Random, attempts: int = 100):
    """Pair positions {pair: p} and queries [(q, pair, d)], all positions distinct, q = p + d.

    Distances are drawn first and placed longest first; each query goes to the first pair (in
    random order) that has room for it.
    """
    for _ in range(attempts):
        free = [True] * task.seq_len
        where, queries = {}, []
        for d in sorted((rng.choice(task.distances) for _ in range(task.queries)), reverse=True):
            for j in rng.sample(range(task.pairs), task.pairs):
                if j in where:
                    starts = [where[j]] if where[j] + d < task.seq_len and free[where[j] + d] else []
                else:
                    starts = [p for p in range(task.seq_len - d) if free[p] and free[p + d]]
                if starts:
                    p = rng.choice(starts)
                    where[j], free[p], free[p + d] = p, False, False
                    queries.append((p + d, j, d))
                    break
            else:
                break  # no pair has room for this query: draw the sequence again
        else:
            for j in range(task.pairs):  # pairs that drew no query still appear
                if j not in where:
                    where[j] = rng.choice([p for p in range(task.seq_len) if free[p]])
                    free[where[j]] = False
            return where, queries
    raise ValueError(f"could not place {task.pairs} pairs and {task.queries} queries at distances "
                     f"{task.distances} in {task.seq_len} positions; use fewer queries or shorter distances")


def make_recall_data(task: RecallTask, num_sequences: int, seed: int = 0) -> RecallData:
    """`num_sequences` sequences of the task (deterministic for a seed)."""
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be >= 1, got {num_sequences}")
    rng = random.Random(seed)
    inputs, targets, distance = [], [], []
    for _ in range(num_sequences):
        x, y, dist = [0] * task.seq_len, [-100] * task.seq_len, [0] * task.seq_len
        keys = rng.sample(range(task.num_keys), task.pairs)
        values = [rng.randrange(task.num_values) for _ in range(task.pairs)]
        where, queries = _layout(task, rng)
        for j, p in where.items():
            x[p] = task.pair(keys[j], values[j])
        for q, j, d in queries:
            x[q], y[q], dist[q] = task.key(keys[j]), task.value(values[j]), d
        inputs.append(x)
        targets.append(y)
        distance.append(dist)
    inputs, targets, distance = (torch.tensor(rows, dtype=torch.long) for rows in (inputs, targets, distance))
    return RecallData(TokenChunks(inputs, targets), distance, task)


def accuracy_by_distance(predictions: torch.Tensor, targets: torch.Tensor, distance: torch.Tensor) -> list[dict]:
    """Per distance: queries, correct answers, accuracy. All (N, T); positions with distance 0 are skipped."""
    if not predictions.shape == targets.shape == distance.shape:
        raise ValueError(f"shapes differ: predictions {tuple(predictions.shape)}, targets "
                         f"{tuple(targets.shape)}, distance {tuple(distance.shape)}")
    rows = []
    for d in sorted(set(distance[distance > 0].tolist())):
        where = distance == d
        correct = int((predictions[where] == targets[where]).sum())
        total = int(where.sum())
        rows.append({"distance": d, "queries": total, "correct": correct, "accuracy": correct / total})
    return rows


@torch.no_grad()
def recall_accuracy(model: LanguageModel, data: RecallData, batch_size: int = 256) -> list[dict]:
    """The model's greedy answers at the query positions, scored by distance."""
    device = next(model.parameters()).device
    with eval_mode(model):
        predictions = torch.cat([model(x.to(device))[0].argmax(-1).cpu()
                                 for x, _ in data.chunks.batches(batch_size)])
    return accuracy_by_distance(predictions, data.chunks.targets, data.distance)
