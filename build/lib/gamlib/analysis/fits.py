"""Scaling laws read off measurements: the exponent b in value ~ T^b, by a least-squares log-log fit."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def fit_exponent(seq_lens, values) -> float:
    """Least-squares slope of log(value) against log(seq_len): value ~ seq_len ** slope.

    Points whose value is missing (None, NaN, inf, from 'oom' or 'skipped' rows) or not positive
    are ignored; at least two distinct lengths must remain.
    """
    pairs = [(n, v) for n, v in zip(seq_lens, values, strict=True)
             if v is not None and math.isfinite(v) and v > 0]
    if len({n for n, _ in pairs}) < 2:
        raise ValueError(f"need values at two or more distinct sequence lengths, got {pairs}")
    lengths, measured = np.array(pairs, dtype=float).T
    return float(np.polyfit(np.log(lengths), np.log(measured), 1)[0])


def scaling_exponents(rows: pd.DataFrame, min_seq_len: int = 0) -> pd.DataFrame:
    """Fitted exponents b in time ~ T^b and memory ~ T^b per series, from 'ok' rows with T >= min_seq_len.

    rows: scaling rows with a 'series' column (gamlib.analysis.tables.scaling_frame, or paper_table2_rows()).
    A series with fewer than two usable lengths gets NaN.
    """
    out = []
    for series, group in rows.groupby("series", sort=False):
        group = group[(group["status"] == "ok") & (group["seq_len"] >= min_seq_len)]
        row = dict(series=series, lengths=f"{group['seq_len'].min()}..{group['seq_len'].max()}" if len(group) else "—",
                   points=len(group))
        for value, name in (("median_ms", "time_exponent"), ("peak_mb", "memory_exponent")):
            try:
                row[name] = fit_exponent(group["seq_len"].tolist(), group[value].astype(float).tolist())
            except ValueError:
                row[name] = math.nan
        out.append(row)
    return pd.DataFrame(out)
