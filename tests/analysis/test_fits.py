"""gamlib.analysis.fits: the log-log exponent fit."""
import math

import pandas as pd
import pytest

from gamlib.analysis.fits import fit_exponent


def test_fit_exponent_recovers_known_powers_and_ignores_missing():
    lengths = [128, 256, 512, 1024]
    assert fit_exponent(lengths, [3 * n**2 for n in lengths]) == pytest.approx(2.0)
    assert fit_exponent(lengths, [0.5 * n for n in lengths]) == pytest.approx(1.0)
    with_failures = [3 * 128**2, 3 * 256**2, None, math.inf]  # 'oom' / 'skipped' rows
    assert fit_exponent(lengths, with_failures) == pytest.approx(2.0)
    assert fit_exponent(lengths, pd.Series([1.0, 2.0, float("nan"), 8.0])) == pytest.approx(1.0)


def test_fit_exponent_needs_two_lengths():
    with pytest.raises(ValueError, match="two or more"):
        fit_exponent([128, 256], [5.0, None])
    with pytest.raises(ValueError):
        fit_exponent([128, 256], [1.0])  # lengths and values must pair up
