"""Associative recall: a synthetic task that asks whether a model can use a fact seen d tokens ago.

    RecallTask              distance-controlled recall: multi-query associative recall after Zoology's MQAR
                            (arXiv:2312.04927) with the distance between a key-value pair and its query controlled
    MQAR                    the two-token form notebook 11 runs beside the one-token default (a variant of the
                            field's task: facts and questions interleave, values repeat; a recency shortcut
                            scores far above chance on it, most_recent_value_answers)
    make_recall_data        sequences of the task, deterministic for a seed
    recall_accuracy         a model's greedy answers at the query positions, scored by distance
    accuracy_by_position_and_distance   the same within spans of query positions (what a layout prior shows)
    accuracy_by_competitors the same split by how many other facts sit at another distance of the task
    most_recent_value_answers   the shortcut baseline: answer every question with the value of the most recent
                            fact before it, matching no key (what a recall score must beat)
    StandardMQAR            multi-query associative recall as the field runs it (Zoology's multiquery_ar): every
                            pair first, then each key asked once, distinct values, random tokens as filler;
                            make_recall_data draws it too

Training a model on it, as a run record, is gamlib.experiments.recall.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from ..data import TokenChunks
from ..models.lm import LanguageModel
from ..runtime import eval_mode


class RecallTokens:
    """What both recall tasks share: key k is token 1 + k (0 is never a key), and chance is one in num_values."""

    @property
    def chance(self) -> float:
        return 1.0 / self.num_values

    def key(self, k: int) -> int:
        return 1 + k


@dataclass(frozen=True)
class RecallTask(RecallTokens):
    """Multi-query associative recall with controlled distances.

    A sequence of `seq_len` tokens holds `pairs` facts (distinct keys, values drawn at random for every
    sequence, so they must be read from the context) and `queries` questions: a key token whose fact
    ends d positions earlier, d drawn from `distances`. The target at a question is the value bound to
    its key; every other target is -100 (not scored). A model that does not see the fact can only
    guess: chance = 1 / num_values. Token 0 is filler. MQAR below is the two-token task the series runs.

    A fact is written in one of two ways (`fact_tokens`):
      1  one token per fact, "k2=v3" (a token for every (key, value)): the lookup is one step deep;
      2  MQAR's two tokens, key then value, "k2 v3" (Zoology, arXiv:2312.04927): answering needs an
         induction step (find the earlier k2, read the token after it). The distance is counted from
         the value token, so the key sits d + 1 positions before the question.
    """

    seq_len: int = 32
    num_keys: int = 4
    num_values: int = 4
    pairs: int = 4
    queries: int = 8
    distances: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 12, 16, 24)
    fact_tokens: int = 1
    name: str = "facts"   # names its records' folder: results/<preset>/recall/<name>/

    def __post_init__(self):
        if self.fact_tokens not in (1, 2):
            raise ValueError(f"fact_tokens must be 1 (one token k=v) or 2 (MQAR: key, value), got {self.fact_tokens}")
        if min(self.distances) < 1:
            raise ValueError(f"distances must be >= 1 (a query comes after its pair), got {min(self.distances)}")
        if max(self.distances) + self.fact_tokens - 1 >= self.seq_len:
            raise ValueError(f"distance {max(self.distances)} does not fit in seq_len {self.seq_len} "
                             f"(with facts of {self.fact_tokens} tokens)")
        if self.pairs > self.num_keys:
            raise ValueError(f"{self.pairs} pairs need at least as many distinct keys, got num_keys={self.num_keys}")
        used = self.fact_tokens * self.pairs + self.queries
        if used > self.seq_len // 2:
            raise ValueError(f"{self.pairs} facts of {self.fact_tokens} token(s) + {self.queries} queries need "
                             f"seq_len >= {2 * used} (half the positions stay filler), got {self.seq_len}")

    @property
    def vocab_size(self) -> int:
        pair_tokens = self.num_keys * self.num_values if self.fact_tokens == 1 else 0
        return 1 + self.num_keys + self.num_values + pair_tokens

    def value(self, v: int) -> int:
        return 1 + self.num_keys + v

    def pair(self, k: int, v: int) -> int:
        if self.fact_tokens != 1:
            raise ValueError("pair tokens exist only with fact_tokens=1; an MQAR fact is key(k), value(v)")
        return 1 + self.num_keys + self.num_values + k * self.num_values + v


# Two tokens per fact, as MQAR writes them (the distance controlled, so not the field's generator), sized so that
# notebook 11's small models learn it in three epochs of 24,000 sequences on a CPU: 4 facts among 16 keys and 16
# values, 8 questions, distances up to 32.
MQAR = RecallTask(seq_len=64, num_keys=16, num_values=16, pairs=4, queries=8,
                  distances=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32), fact_tokens=2, name="mqar")


@dataclass(frozen=True)
class StandardMQAR(RecallTokens):
    """Multi-query associative recall as the field defines it (Zoology, arXiv:2312.04927, `multiquery_ar`).

    A sequence opens with all `pairs` key-value pairs, "k1 v1 k2 v2 ...": keys distinct, from the first half of
    the vocabulary (token 0 aside), values distinct, from the second half. Then each key is asked exactly once,
    in random order, at a position of the rest of the sequence: the question is the key token, followed by its
    value (so the target at the key is the value, as in next-token training). Question slots are drawn at even
    offsets with probability proportional to x^(power_a - 1), x = 1, 2, ...: with a small power_a most questions
    come soon after the pairs, some far. Every other position is a random token of the whole vocabulary. The
    distance of a question is from its pair's value token to the key asked. Chance = 1 / (number of values).
    """

    vocab_size: int = 256
    seq_len: int = 128
    pairs: int = 8
    power_a: float = 0.01
    name: str = "mqar-standard"
    fact_tokens: int = 2  # a fact is two tokens, key then value (read by the shortcut baseline)

    def __post_init__(self):
        if self.vocab_size < 4 or self.vocab_size % 2:
            raise ValueError(f"vocab_size must be an even number >= 4 (keys: first half, values: second half), "
                             f"got {self.vocab_size}")
        if not 1 <= self.pairs <= min(self.num_keys, self.num_values):
            raise ValueError(f"pairs must be 1 .. {min(self.num_keys, self.num_values)} (distinct keys and values "
                             f"of a {self.vocab_size}-token vocabulary), got {self.pairs}")
        if self.seq_len < 4 * self.pairs:
            raise ValueError(f"{self.pairs} pairs and their {self.pairs} questions (two tokens each) need seq_len "
                             f">= {4 * self.pairs}, got {self.seq_len}")
        if self.power_a <= 0:
            raise ValueError(f"power_a must be > 0, got {self.power_a}")

    @property
    def num_keys(self) -> int:
        return self.vocab_size // 2 - 1

    @property
    def num_values(self) -> int:
        return self.vocab_size // 2

    def value(self, v: int) -> int:
        return self.vocab_size // 2 + v


def _standard_mqar_data(task: StandardMQAR, num_sequences: int, seed: int) -> "RecallData":
    """`num_sequences` sequences of the standard task (deterministic for a seed)."""
    generator = torch.Generator().manual_seed(seed)
    n, context = num_sequences, 2 * task.pairs
    slots = (task.seq_len - context) // 2                                   # question slots, two tokens each
    weights = task.power_a * torch.arange(1, slots + 1, dtype=torch.float64) ** (task.power_a - 1)
    keys = torch.rand(n, task.num_keys, generator=generator).argsort(1)[:, :task.pairs] + task.key(0)
    values = torch.rand(n, task.num_values, generator=generator).argsort(1)[:, :task.pairs] + task.value(0)
    inputs = torch.randint(task.vocab_size, (n, task.seq_len), generator=generator)
    inputs[:, 0:context:2], inputs[:, 1:context:2] = keys, values
    slot = torch.multinomial(weights.expand(n, slots), task.pairs, replacement=False, generator=generator)
    at = context + 2 * slot                                                 # (N, pairs): where each key is asked
    rows = torch.arange(n)[:, None]
    inputs[rows, at], inputs[rows, at + 1] = keys, values
    targets = torch.full_like(inputs, -100)
    targets[rows, at] = values
    distance = torch.zeros_like(inputs)
    distance[rows, at] = at - (2 * torch.arange(task.pairs) + 1)           # from the pair's value token
    return RecallData(TokenChunks(inputs, targets), distance, task)


@dataclass
class RecallData:
    chunks: TokenChunks        # inputs (N, T), targets (N, T) with -100 except at queries
    distance: torch.Tensor     # (N, T) query-to-pair distance at query positions, 0 elsewhere
    task: RecallTask | StandardMQAR


def _layout(task: RecallTask, rng: random.Random, attempts: int = 100):
    """Fact starts {pair: p} and queries [(q, pair, d)], all positions distinct, q = p + w - 1 + d
    (w = task.fact_tokens: a fact takes positions p .. p + w - 1).

    Distances are drawn first and placed longest first; each query goes to the first pair (in
    random order) that has room for it.
    """
    w = task.fact_tokens

    def fits(j, p, q):  # the query at q is free, and so are the fact's positions (unless already placed)
        return q < task.seq_len and free[q] and (j in where or all(free[p:p + w]))

    for _ in range(attempts):
        free = [True] * task.seq_len
        where, queries = {}, []
        for d in sorted((rng.choice(task.distances) for _ in range(task.queries)), reverse=True):
            for j in rng.sample(range(task.pairs), task.pairs):
                candidates = [where[j]] if j in where else range(task.seq_len - w + 1)
                starts = [p for p in candidates if fits(j, p, p + w - 1 + d)]
                if starts:
                    p = rng.choice(starts)
                    if j not in where:  # the pair's first query places the fact
                        where[j] = p
                        free[p:p + w] = [False] * w
                    free[p + w - 1 + d] = False
                    queries.append((p + w - 1 + d, j, d))
                    break
            else:
                break  # no pair has room for this query: draw the sequence again
        else:
            for j in range(task.pairs):  # pairs that drew no query still appear
                if j not in where:
                    where[j] = rng.choice([p for p in range(task.seq_len - w + 1) if all(free[p:p + w])])
                    free[where[j]:where[j] + w] = [False] * w
            return where, queries
    raise ValueError(f"could not place {task.pairs} pairs and {task.queries} queries at distances "
                     f"{task.distances} in {task.seq_len} positions; use fewer queries or shorter distances")


def make_recall_data(task: RecallTask | StandardMQAR, num_sequences: int, seed: int = 0) -> RecallData:
    """`num_sequences` sequences of the task (deterministic for a seed)."""
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be >= 1, got {num_sequences}")
    if isinstance(task, StandardMQAR):
        return _standard_mqar_data(task, num_sequences, seed)
    rng = random.Random(seed)
    inputs, targets, distance = [], [], []
    for _ in range(num_sequences):
        x, y, dist = [0] * task.seq_len, [-100] * task.seq_len, [0] * task.seq_len
        keys = rng.sample(range(task.num_keys), task.pairs)
        values = [rng.randrange(task.num_values) for _ in range(task.pairs)]
        where, queries = _layout(task, rng)
        for j, p in where.items():
            if task.fact_tokens == 1:
                x[p] = task.pair(keys[j], values[j])
            else:
                x[p], x[p + 1] = task.key(keys[j]), task.value(values[j])
        for q, j, d in queries:
            x[q], y[q], dist[q] = task.key(keys[j]), task.value(values[j]), d
        inputs.append(x)
        targets.append(y)
        distance.append(dist)
    inputs, targets, distance = (torch.tensor(rows, dtype=torch.long) for rows in (inputs, targets, distance))
    return RecallData(TokenChunks(inputs, targets), distance, task)


def most_recent_value_answers(data: RecallData) -> torch.Tensor:
    """(N, T) answers that read no key: at every position, the value of the most recent fact before it (its value
    token, or the value inside a one-token fact); filler (0) where no fact came yet. Scored like a model's, it is
    the accuracy a recall curve gets from recency alone."""
    task, x = data.task, data.chunks.inputs
    first_value, first_pair = task.value(0), task.value(0) + task.num_values
    if task.fact_tokens == 2:
        value = torch.where((x >= first_value) & (x < first_pair), x, 0)
    else:
        value = torch.where(x >= first_pair, first_value + (x - first_pair) % task.num_values, 0)
    positions = torch.arange(x.shape[1]).expand_as(x)
    last = torch.where(value > 0, positions, -1).cummax(dim=1).values              # latest fact position so far
    before = torch.cat([torch.full_like(last[:, :1], -1), last[:, :-1]], dim=1)   # strictly before t
    return torch.where(before >= 0, value.gather(1, before.clamp(min=0)), 0)


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


def accuracy_by_position_and_distance(predictions: torch.Tensor, targets: torch.Tensor, distance: torch.Tensor,
                                     bands: int = 3) -> list[dict]:
    """accuracy_by_distance within each of `bands` equal spans of query positions ("positions": "lo-hi")."""
    T = distance.shape[-1]
    band = (torch.arange(T) * bands // T).expand_as(distance)
    rows = []
    for b in range(bands):
        where = band == b
        span = torch.arange(T)[band[0] == b]
        rows += [{"positions": f"{int(span[0])}-{int(span[-1])}", **row}
                 for row in accuracy_by_distance(predictions[where], targets[where], distance[where])]
    return rows


def accuracy_by_competitors(predictions: torch.Tensor, data: RecallData) -> list[dict]:
    """accuracy_by_distance split by a question's competitors ("competitors": 0, 1 or 2 for two or more).

    A question at distance d finds its answer-bearing token (the value, or the one-token fact) d positions back. A
    competitor is another fact's answer-bearing token at an offset o back that is also one of the task's
    distances, o != d: a model that answers "the value o positions back, for an o I was trained on" cannot tell
    the two apart without matching the key. Predictions and the data's tensors are (N, T).
    """
    task, inputs, distance = data.task, data.chunks.inputs, data.distance
    first_answer = 1 + task.num_keys + (task.num_values if task.fact_tokens == 1 else 0)
    is_answer = inputs >= first_answer                                  # value (MQAR) or pair tokens (N, T)
    competitors = torch.zeros_like(distance)
    for o in task.distances:
        back = torch.zeros_like(is_answer)
        back[:, o:] = is_answer[:, :-o]                                  # an answer-bearing token o positions back
        competitors += (back & (distance > 0) & (distance != o)).long()
    competitors = competitors.clamp(max=2)
    rows = []
    for count in (0, 1, 2):
        where = competitors == count
        rows += [{"competitors": count, **row}
                 for row in accuracy_by_distance(predictions[where], data.chunks.targets[where], distance[where])]
    return rows


@torch.no_grad()
def greedy_answers(model: LanguageModel, data: RecallData, batch_size: int = 256) -> torch.Tensor:
    """The model's greedy prediction at every position, (N, T)."""
    device = next(model.parameters()).device
    with eval_mode(model):
        return torch.cat([model(x.to(device))[0].argmax(-1).cpu() for x, _ in data.chunks.batches(batch_size)])


def recall_accuracy(model: LanguageModel, data: RecallData, batch_size: int = 256) -> list[dict]:
    """The model's greedy answers at the query positions, scored by distance."""
    return accuracy_by_distance(greedy_answers(model, data, batch_size), data.chunks.targets, data.distance)
