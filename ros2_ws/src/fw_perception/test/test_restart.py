"""A restart (``fw/perception/reset``): the state starts again at the origin of ``odom`` from
the next odometry sample, only later increments move it, and the old goal is gone."""

from __future__ import annotations

import math

import pytest

from fw_common.profile import PerceptionConfig
from fw_perception.perception_step import PerceptionStep, StateUpdate

MS = 1_000_000


def test_restart_puts_the_state_at_the_origin_and_forgets_the_goal() -> None:
    step = PerceptionStep(PerceptionConfig())
    first = step.odometry(5.0, -1.0, 0.7, 0.0, 0.0, 10 * MS)
    assert isinstance(first, StateUpdate) and first.state.x == 5.0  # starts at the wheels
    assert step.goal(step.config.odom_frame, 6.0, -1.0, 0.0) is None
    step.restart()
    assert step.goal_odom is None
    at_origin = step.odometry(5.0, -1.0, 0.7, 0.0, 0.0, 20 * MS)
    assert isinstance(at_origin, StateUpdate) and at_origin.goal is None
    assert (at_origin.state.x, at_origin.state.y, at_origin.state.yaw) == (0.0, 0.0, 0.0)
    # 0.5 m along the wheels' heading (0.7 rad) is 0.5 m straight ahead of the new origin.
    moved = step.odometry(
        5.0 + 0.5 * math.cos(0.7), -1.0 + 0.5 * math.sin(0.7), 0.7, 0.5, 0.0, 30 * MS
    )
    assert isinstance(moved, StateUpdate)
    assert (moved.state.x, moved.state.y) == pytest.approx((0.5, 0.0))
