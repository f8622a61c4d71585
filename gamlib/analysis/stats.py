"""Statistics over seeds: mean and spread per row, and which differences exceed the seed-to-seed spread.

The spread rule (`compare_to_spread`): two rows differ beyond seed-to-seed noise when
    |mean_a - mean_b| > 2 * pooled_std,   pooled_std^2 = ((n_a-1) s_a^2 + (n_b-1) s_b^2) / (n_a+n_b-2),
i.e. the gap is more than twice the typical distance between two seeds of the same row.
It needs at least 2 seeds per row; with 3 seeds the std itself is rough, so read a "no" as
"not shown by these runs", not as "equal".

The statistic beside it (`welch`): Welch's t-test of the two means, its two-sided p-value and a 95% interval of
the difference. For two rows of n seeds with the same std, the spread rule's threshold is a Welch t of
factor / sqrt(2 / n) on 2n - 2 degrees of freedom; `spread_rule_p(n)` gives the p-value that corresponds to
(about 0.07 for n = 3, 0.18 for n = 2): the rule is a test at that level, not at 0.05.
"""
from __future__ import annotations

import math
from itertools import combinations

import pandas as pd

SPREAD_FACTOR = 2.0
METRICS = ("val_loss", "val_ppl", "seconds_per_epoch", "tokens_per_s")
KEYS = ["dataset", "model", "variant"]


def seed_summary(runs: pd.DataFrame, metrics=METRICS) -> pd.DataFrame:
    """One row per (dataset, model, variant): n, seeds, mean and sample std of each metric, params.

    The std is NaN for a single seed. Params and Mamba backend must agree across seeds (they do
    when the runs share a preset), otherwise this raises ValueError; the devices are listed.
    """
    rows = []
    for key, group in runs.groupby(KEYS, sort=False):
        row = dict(zip(KEYS, key), n=len(group), seeds=tuple(sorted(int(s) for s in group["seed"])))
        for metric in metrics:
            row[f"{metric}_mean"] = group[metric].mean()
            row[f"{metric}_std"] = group[metric].std(ddof=1) if len(group) > 1 else math.nan
        for column in ("params", "mamba_backend"):
            values = set(group[column].fillna("-")) if column in group else {"-"}
            if len(values) > 1:
                raise ValueError(f"{'/'.join(key)}: seeds disagree on {column} ({sorted(values)}); "
                                 "were they trained with different presets?")
            row[column] = values.pop()
        row["device"] = ", ".join(sorted({r["provenance"]["device"] for r in group["record"]}))
        rows.append(row)
    return pd.DataFrame(rows)


def compare_to_spread(summary: pd.DataFrame, metric: str = "val_loss", label: str = "variant",
                      factor: float = SPREAD_FACTOR) -> pd.DataFrame:
    """Every pair of rows of a seed summary: does |Δ mean| exceed `factor` x the pooled seed std?

    summary: from seed_summary/table1/table3 (needs n, {metric}_mean, {metric}_std). One row per
    pair (a, b) with delta = mean_b - mean_a, pooled_std, threshold = factor * pooled_std and
    exceeds (bool). Raises ValueError when a row has fewer than 2 seeds: no spread to compare with.
    """
    few = summary[summary["n"] < 2]
    if len(few):
        raise ValueError(f"the spread rule needs >= 2 seeds per row; {list(few[label])} have "
                         f"{list(few['n'])}: run more seeds")
    rows = []
    for (_, a), (_, b) in combinations(summary.iterrows(), 2):
        na, nb = a["n"], b["n"]
        pooled = math.sqrt(((na - 1) * a[f"{metric}_std"] ** 2 + (nb - 1) * b[f"{metric}_std"] ** 2)
                           / (na + nb - 2))
        delta = b[f"{metric}_mean"] - a[f"{metric}_mean"]
        rows.append(dict(a=a[label], b=b[label], mean_a=a[f"{metric}_mean"], mean_b=b[f"{metric}_mean"],
                         delta=delta, pooled_std=pooled, threshold=factor * pooled, n_a=na, n_b=nb,
                         exceeds=abs(delta) > factor * pooled))
    return pd.DataFrame(rows)


def welch(mean_a: float, std_a: float, n_a: int, mean_b: float, std_b: float, n_b: int,
          level: float = 0.95) -> dict:
    """Welch's t-test of mean_b - mean_a from two rows' seed means, sample stds and counts (>= 2 each):
    delta, t, df (Welch-Satterthwaite), p (two-sided) and the `level` interval of delta (low, high)."""
    from scipy import stats  # only the scorecard's statistics need scipy

    if min(n_a, n_b) < 2:
        raise ValueError(f"Welch's test needs >= 2 seeds per row, got {n_a} and {n_b}: run more seeds")
    va, vb = std_a ** 2 / n_a, std_b ** 2 / n_b
    delta, se = mean_b - mean_a, math.sqrt(va + vb)
    if se == 0:
        return dict(delta=delta, t=math.copysign(math.inf, delta) if delta else 0.0, df=math.nan,
                    p=0.0 if delta else 1.0, low=delta, high=delta)
    df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
    t = delta / se
    half = stats.t.ppf(0.5 + level / 2, df) * se
    return dict(delta=delta, t=t, df=df, p=2 * stats.t.sf(abs(t), df), low=delta - half, high=delta + half)


def spread_rule_p(n: int, factor: float = SPREAD_FACTOR) -> float:
    """The two-sided Welch p-value at the spread rule's threshold, for two rows of n seeds with equal stds."""
    from scipy import stats

    return float(2 * stats.t.sf(factor / math.sqrt(2 / n), 2 * n - 2))


def spread_sentence(comparison: pd.DataFrame, metric: str = "val_loss", factor: float = SPREAD_FACTOR) -> str:
    """One sentence, from compare_to_spread's output, naming which differences exceed the spread."""
    def pair(r):
        return f"{r['b']} vs {r['a']} (Δ {r['delta']:+.4f}, threshold {r['threshold']:.4f})"

    beyond = [pair(r) for _, r in comparison.iterrows() if r["exceeds"]]
    within = [pair(r) for _, r in comparison.iterrows() if not r["exceeds"]]
    rule = f"|Δ mean {metric}| > {factor:g} × pooled seed std"
    text = f"By the rule {rule}, {len(beyond)} of {len(comparison)} differences exceed the seed-to-seed spread"
    text += f": {'; '.join(beyond)}." if beyond else "."
    if within:
        text += f" Within the spread (not shown to differ): {'; '.join(within)}."
    return text
