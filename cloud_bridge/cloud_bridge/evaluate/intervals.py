"""Confidence intervals for the evaluation's metrics.

* Rates (success, collision): Wilson's score interval, which stays inside [0, 1] and keeps its
  coverage at 0 % and 100 %, where the normal approximation collapses to a point.
* Counts per distance (safety interventions per 100 m): the exact (Garwood) Poisson interval on
  the count, divided by the distance driven.
* Means of continuous values (time to goal, clearance) and paired differences against a
  baseline: a percentile bootstrap with a fixed seed, so the same episodes always give the same
  interval, serial or on Ray.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = [
    "DEFAULT_CONFIDENCE",
    "Interval",
    "bootstrap_mean",
    "paired_bootstrap_difference",
    "poisson_rate",
    "wilson",
]

#: Two-sided confidence level of every interval unless told otherwise.
DEFAULT_CONFIDENCE = 0.95
#: Bootstrap resamples: enough that the percentile bounds move by well under their width.
_RESAMPLES = 4000
#: The bootstrap's generator seed: intervals are a function of the data alone.
_BOOTSTRAP_SEED = 0x0E7A1


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided confidence interval; all NaN when there is no data."""

    value: float
    low: float
    high: float
    #: Sample size behind the estimate (episodes, or pairs of episodes).
    n: int
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, float | int]:
        """Plain data (NaN stays NaN; the JSON writer turns it into null)."""
        return asdict(self)

    def __str__(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        return f"{self.value:.3g} [{self.low:.3g}, {self.high:.3g}]"


def _no_data(n: int, confidence: float) -> Interval:
    return Interval(math.nan, math.nan, math.nan, n, confidence)


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence!r}")
    return float(stats.norm.ppf(0.5 + 0.5 * confidence))


def wilson(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval of the proportion ``successes / n``."""
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return _no_data(0, confidence)
    z = _z(confidence)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    # At 0 and n the formula's bound is 0 (or 1) up to rounding; say so exactly.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high, n, confidence)


def poisson_rate(
    count: int, exposure: float, per: float = 1.0, confidence: float = DEFAULT_CONFIDENCE
) -> Interval:
    """Events per ``per`` units of ``exposure`` (e.g. per 100 m of ``exposure`` metres), with
    the exact Poisson interval on ``count``; NaN when nothing was driven."""
    if count < 0 or not math.isfinite(exposure) or exposure < 0:
        raise ValueError(f"need count >= 0 and a finite exposure >= 0, got {count}, {exposure}")
    if exposure == 0:
        return _no_data(count, confidence)
    _z(confidence)  # refuses a confidence outside (0, 1)
    alpha = 1.0 - confidence
    low = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2.0, 2 * count)) / 2.0
    high = float(stats.chi2.ppf(1.0 - alpha / 2.0, 2 * count + 2)) / 2.0
    scale = per / exposure
    return Interval(count * scale, low * scale, high * scale, count, confidence)


def _percentiles(
    estimates: npt.NDArray[np.float64], value: float, n: int, confidence: float
) -> Interval:
    alpha = 1.0 - confidence
    low, high = np.quantile(estimates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return Interval(value, float(low), float(high), n, confidence)


def bootstrap_mean(values: Sequence[float], confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """The mean of ``values`` with a percentile-bootstrap interval (fixed seed)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return _no_data(0, confidence)
    if not np.all(np.isfinite(data)):
        raise ValueError("bootstrap_mean needs finite values")
    _z(confidence)  # refuses a confidence outside (0, 1)
    rng = np.random.default_rng(_BOOTSTRAP_SEED)
    picks = rng.integers(0, data.size, size=(_RESAMPLES, data.size))
    return _percentiles(data[picks].mean(axis=1), float(data.mean()), int(data.size), confidence)


def paired_bootstrap_difference(
    candidate: Sequence[float], baseline: Sequence[float], confidence: float = DEFAULT_CONFIDENCE
) -> Interval:
    """Mean of ``candidate - baseline`` over paired values (same seeds), resampling the pairs,
    so what the scenarios share (their difficulty) cancels out."""
    a = np.asarray(candidate, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
    return bootstrap_mean((a - b).tolist(), confidence)
