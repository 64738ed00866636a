"""The release gate: what a policy must show on evaluation before it may be published.

Absolute thresholds check the candidate's own metrics. Regression limits check it against the
baseline on the same seeds as a non-inferiority test: the pessimistic end of the paired
difference's confidence interval must stay within the allowed regression. A candidate that is
no worse on the estimate but whose interval still allows a larger regression fails, with the
advice to run more seeds: the gate asks the release to show it is not worse, not the reviewer to
show that it is.

A gate file is YAML with any of :class:`GateConfig`'s fields::

    min_success_rate: 0.9
    max_collision_rate: 0.02
    max_success_regression: 0.05
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloud_bridge.evaluate.comparison import Comparison
from cloud_bridge.evaluate.intervals import Interval
from cloud_bridge.evaluate.metrics import Summary

__all__ = ["GateConfig", "GateResult", "gate", "load_gate_config"]


@dataclass(frozen=True)
class GateConfig:
    """Thresholds of the gate; a ``None`` limit is not checked."""

    # Lowest success rate a release may have (fraction of episodes).
    min_success_rate: float | None = 0.8
    # Highest collision rate (fraction of episodes with a collision).
    max_collision_rate: float | None = 0.05
    # Most safety interventions per 100 m driven.
    max_interventions_per_100m: float | None = None
    # Largest drop in success rate against the baseline the interval may allow (fraction).
    max_success_regression: float | None = 0.1
    # Largest rise in collision rate against the baseline the interval may allow (fraction).
    max_collision_increase: float | None = 0.05
    # Check the absolute thresholds against the interval's pessimistic bound (the Wilson
    # lower bound of success, upper bound of collisions) instead of the estimate.
    absolute_on_interval: bool = False

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "absolute_on_interval":
                if not isinstance(value, bool):
                    raise ValueError(f"gate {f.name}: expected true or false, got {value!r}")
                continue
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"gate {f.name}: expected a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"gate {f.name}: must be a finite number >= 0, got {value!r}")
            if f.name != "max_interventions_per_100m" and value > 1:
                raise ValueError(f"gate {f.name}: a fraction is at most 1, got {value!r}")

    def replace(self, **changes: Any) -> GateConfig:
        """This config with ``changes`` (those that are not None) applied."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_gate_config(path: str | Path) -> GateConfig:
    """Read a gate file; ``ValueError`` naming the file and the problem."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"gate file {path}: cannot read: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"gate file {path}: expected a mapping of thresholds")
    known = {f.name for f in dataclasses.fields(GateConfig)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ValueError(f"gate file {path}: unknown keys {unknown}; known: {sorted(known)}")
    try:
        return GateConfig(**data)
    except ValueError as exc:
        raise ValueError(f"gate file {path}: {exc}") from exc


@dataclass(frozen=True)
class GateResult:
    """The verdict and, when it fails, every reason."""

    passed: bool
    reasons: tuple[str, ...]
    #: Each check made, passed or not: ``"<check>: <what was compared>"``.
    checks: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": list(self.reasons), "checks": list(self.checks)}


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def gate(candidate: Summary, baseline: Comparison | None, config: GateConfig) -> GateResult:
    """Judge ``candidate`` (and its paired comparison with a baseline, if any)."""
    reasons: list[str] = []
    checks: list[str] = []

    def check(ok: bool, text: str) -> None:
        checks.append(f"{'pass' if ok else 'FAIL'}: {text}")
        if not ok:
            reasons.append(text)

    if candidate.episodes == 0:
        return GateResult(False, ("no episodes were evaluated",), ())
    level = f"{100 * candidate.confidence:.0f} %"
    on_interval = config.absolute_on_interval
    if config.min_success_rate is not None:
        s = candidate.success_rate
        value = s.low if on_interval else s.value
        what = f"its {level} lower bound" if on_interval else "the estimate"
        check(
            value >= config.min_success_rate,
            f"success rate {s} over {s.n} episodes: {what} {_pct(value)} "
            f"against the minimum {_pct(config.min_success_rate)}",
        )
    if config.max_collision_rate is not None:
        c = candidate.collision_rate
        value = c.high if on_interval else c.value
        what = f"its {level} upper bound" if on_interval else "the estimate"
        check(
            value <= config.max_collision_rate,
            f"collision rate {c}: {what} {_pct(value)} "
            f"against the maximum {_pct(config.max_collision_rate)}",
        )
    if config.max_interventions_per_100m is not None:
        i = candidate.interventions_per_100m
        value = i.high if on_interval else i.value
        ok = math.isnan(value) or value <= config.max_interventions_per_100m
        check(
            ok,
            f"safety interventions per 100 m {i}: {value:.3g} "
            f"against the maximum {config.max_interventions_per_100m:.3g}",
        )
    if baseline is not None:
        _regressions(baseline, config, level, check)
    return GateResult(not reasons, tuple(reasons), tuple(checks))


def _regressions(
    comparison: Comparison, config: GateConfig, level: str, check: Callable[[bool, str], None]
) -> None:
    def non_inferior(name: str, diff: Interval, worst: float, limit: float, sign: int) -> None:
        allowed = -limit if sign < 0 else limit
        ok = worst >= allowed if sign < 0 else worst <= allowed
        advice = "" if ok or diff.value * sign > limit else " (run more seeds to narrow it)"
        check(
            ok,
            f"{name} vs {comparison.baseline} on {comparison.pairs} paired seeds: difference "
            f"{diff}, its {level} interval reaches {worst:+.3f}, allowed {allowed:+.3f}{advice}",
        )

    if config.max_success_regression is not None:
        d = comparison.success
        non_inferior("success rate", d, d.low, config.max_success_regression, -1)
    if config.max_collision_increase is not None:
        d = comparison.collision
        non_inferior("collision rate", d, d.high, config.max_collision_increase, +1)
