"""The evaluation's interval math against published values, and its refusals."""

from __future__ import annotations

import math

import pytest

from cloud_bridge.evaluate.intervals import (
    bootstrap_mean,
    paired_bootstrap_difference,
    poisson_rate,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Statistics in Medicine 17:857-872, Table II, method 3 (score, no continuity
        # correction), 95 %.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # By symmetry: p and 1 - p swap bounds.
        (20, 20, 1 - 0.1611, 1.0),
    ],
)
def test_wilson_matches_newcombes_table(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson(successes, n)
    assert interval.value == pytest.approx(successes / n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)
    assert interval.n == n


def test_wilson_narrows_with_more_data_and_widens_with_confidence() -> None:
    assert wilson(40, 50).high - wilson(40, 50).low < wilson(4, 5).high - wilson(4, 5).low
    wide, narrow = wilson(8, 10, confidence=0.99), wilson(8, 10, confidence=0.9)
    assert wide.low < narrow.low and wide.high > narrow.high


@pytest.mark.parametrize(
    ("count", "low", "high"),
    # Exact (Garwood) 95 % limits for a Poisson count, as tabulated (e.g. Ulm 1990).
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (10, 4.795, 18.39)],
)
def test_poisson_rate_matches_the_exact_limits(count: int, low: float, high: float) -> None:
    # 250 m driven: the count's limits scaled to per 100 m.
    rate = poisson_rate(count, 250.0, per=100.0)
    assert rate.value == pytest.approx(count * 0.4)
    assert rate.low == pytest.approx(low * 0.4, abs=1e-3)
    assert rate.high == pytest.approx(high * 0.4, rel=1e-3)


def test_bootstrap_is_a_function_of_the_data() -> None:
    values = [9.1, 10.4, 11.0, 9.8, 12.5, 10.1, 9.9]
    a, b = bootstrap_mean(values), bootstrap_mean(list(values))
    assert a == b
    assert a.value == pytest.approx(sum(values) / len(values))
    assert min(values) < a.low < a.value < a.high < max(values)
    # Identical data has no spread, and a paired difference of a policy with itself is 0.
    assert bootstrap_mean([2.0] * 5).low == bootstrap_mean([2.0] * 5).high == 2.0
    same = paired_bootstrap_difference(values, values)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    better = paired_bootstrap_difference([1.0] * 30, [1.0] * 20 + [0.0] * 10)
    assert better.value == pytest.approx(1 / 3) and 0.0 < better.low < better.high <= 1.0


def test_no_data_is_nan_and_bad_input_is_refused() -> None:
    assert math.isnan(wilson(0, 0).value) and str(wilson(0, 0)) == "n/a"
    assert math.isnan(bootstrap_mean([]).low)
    assert math.isnan(poisson_rate(0, 0.0).value)
    with pytest.raises(ValueError, match="successes"):
        wilson(5, 4)
    with pytest.raises(ValueError, match="confidence"):
        wilson(1, 4, confidence=1.0)
    with pytest.raises(ValueError, match="finite"):
        bootstrap_mean([1.0, math.nan])
    with pytest.raises(ValueError, match="exposure"):
        poisson_rate(1, math.inf)
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap_difference([1.0], [1.0, 0.0])
