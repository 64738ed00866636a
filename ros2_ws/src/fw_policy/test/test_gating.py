"""The policy's input gate: when it must command zero instead of acting."""

from __future__ import annotations

import pytest

from fw_policy.gating import stop_reason

S = 1_000_000_000
GATE = {"input_timeout": 0.5, "goal_tolerance": 0.3}


def test_acts_when_everything_is_fresh_and_the_goal_is_away() -> None:
    assert stop_reason(10 * S, 10 * S, 10 * S, 10 * S, (2.0, 1.0), **GATE) is None


@pytest.mark.parametrize(
    ("scan", "now", "state", "goal", "goal_xy", "reason"),
    [
        (10 * S, 11 * S, 10 * S, 10 * S, (2.0, 0.0), "scan is stale"),
        (10 * S, 10 * S, None, 10 * S, (2.0, 0.0), "no state yet"),
        (10 * S, 10 * S, 9 * S, 10 * S, (2.0, 0.0), "state is stale"),
        (10 * S, 10 * S, 10 * S, None, None, "no goal"),
        (10 * S, 10 * S, 10 * S, 8 * S, (2.0, 0.0), "goal is stale"),
        (10 * S, 10 * S, 10 * S, 10 * S, (0.2, 0.1), "goal reached"),
    ],
)
def test_each_rule(
    scan: int,
    now: int,
    state: int | None,
    goal: int | None,
    goal_xy: tuple[float, float] | None,
    reason: str,
) -> None:
    assert stop_reason(scan, now, state, goal, goal_xy, **GATE) == reason


def test_a_state_slightly_newer_than_the_scan_is_fresh() -> None:
    # Odometry often arrives stamped after the scan it is paired with.
    assert stop_reason(10 * S, 10 * S, 10 * S + S // 4, 10 * S, (2.0, 0.0), **GATE) is None
