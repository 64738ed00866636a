"""State fusion (complementary filter) and the goal frame transform."""

from __future__ import annotations

import math

import pytest

from fw_perception.goal import goal_in_base
from fw_perception.state_fusion import FusedState, StateFusion, wrap_angle

MS = 1_000_000


def drive(
    fusion: StateFusion, steps: list[tuple[float, float, float, float]], gyro: float | None
) -> FusedState:
    """Feed odometry ``(x, y, yaw, angular)`` at 20 ms with a gyro at 10 ms (if given)."""
    state: FusedState | str = "no samples"
    t = 0
    for i, (x, y, yaw, w) in enumerate(steps):
        if gyro is not None:
            fusion.imu(gyro, t - 10 * MS)
            fusion.imu(gyro, t)
        state = fusion.odom(x, y, yaw, 0.0, w, t)
        assert not isinstance(state, str), state
        t += 20 * MS
        del i
    assert isinstance(state, FusedState)
    return state


def test_first_sample_starts_where_the_wheels_say() -> None:
    s = StateFusion(0.9, 0.2).odom(1.0, 2.0, 0.5, 0.3, 0.1, 0)
    assert isinstance(s, FusedState)
    assert (s.x, s.y, s.yaw) == (1.0, 2.0, 0.5)


def test_heading_blends_gyro_and_wheel_increments() -> None:
    # Wheels claim a 0.02 rad step per 20 ms (slip), the gyro measures 0.5 rad/s = 0.01 rad.
    steps = [(0.0, 0.0, 0.02 * i, 1.0) for i in range(11)]
    weight = 0.8
    s = drive(StateFusion(weight, 0.2), steps, gyro=0.5)
    expected = 10 * (weight * 0.01 + (1 - weight) * 0.02)
    assert s.yaw == pytest.approx(expected, rel=1e-6)
    assert s.angular == pytest.approx(weight * 0.5 + (1 - weight) * 1.0)
    assert s.imu_used


def test_without_imu_the_state_is_wheels_only() -> None:
    steps = [(0.0, 0.0, 0.02 * i, 1.0) for i in range(11)]
    s = drive(StateFusion(0.8, 0.2), steps, gyro=None)
    assert s.yaw == pytest.approx(0.2) and s.angular == 1.0 and not s.imu_used


def test_stale_imu_is_not_fused() -> None:
    f = StateFusion(1.0, 0.05)
    f.imu(3.0, 0)
    f.odom(0.0, 0.0, 0.0, 0.0, 0.0, 0)
    s = f.odom(0.0, 0.0, 0.1, 0.0, 1.0, 200 * MS)  # the gyro sample is 200 ms old
    assert isinstance(s, FusedState)
    assert s.yaw == pytest.approx(0.1) and s.angular == 1.0 and not s.imu_used


def test_translation_follows_the_fused_heading() -> None:
    # The wheels think the robot turned 90° (pure slip) while the gyro saw no rotation; with
    # the gyro fully trusted, a 1 m forward wheel step goes along +x, not +y.
    f = StateFusion(1.0, 0.2)
    f.imu(0.0, 0)
    f.odom(0.0, 0.0, 0.0, 0.0, 0.0, 0)
    f.imu(0.0, 10 * MS)
    s = f.odom(1.0, 0.0, math.pi / 2, 1.0, 0.0, 20 * MS)
    assert isinstance(s, FusedState)
    assert (s.x, s.y, s.yaw) == pytest.approx((1.0, 0.0, 0.0))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_inputs_are_refused_and_counted(bad: float) -> None:
    f = StateFusion(0.9, 0.2)
    assert isinstance(f.imu(bad, 0), str) and f.refused_imu == 1
    assert isinstance(f.odom(bad, 0.0, 0.0, 0.0, 0.0, 0), str) and f.refused_odom == 1
    # The filter still works afterwards.
    assert isinstance(f.odom(0.0, 0.0, 0.0, 0.0, 0.0, 0), FusedState)


def test_stamps_that_go_back_are_refused() -> None:
    f = StateFusion(0.9, 0.2)
    f.odom(0.0, 0.0, 0.0, 0.0, 0.0, 100)
    assert isinstance(f.odom(0.0, 0.0, 0.0, 0.0, 0.0, 100), str)
    f.imu(0.0, 100)
    assert isinstance(f.imu(0.0, 50), str)


def test_wrap_angle() -> None:
    assert wrap_angle(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert wrap_angle(-math.pi) == pytest.approx(-math.pi)


@pytest.mark.parametrize(
    ("goal", "robot", "expected"),
    [
        ((2.0, 0.0, 0.0), (0.0, 0.0, 0.0), (2.0, 0.0, 0.0)),
        ((2.0, 0.0, 0.0), (0.0, 0.0, math.pi / 2), (0.0, -2.0, -math.pi / 2)),
        ((1.0, 1.0, 0.0), (1.0, 0.0, math.pi), (0.0, -1.0, -math.pi)),
        ((5.0, 5.0, 1.0), (5.0, 5.0, 1.0), (0.0, 0.0, 0.0)),
    ],
)
def test_goal_in_base(
    goal: tuple[float, float, float],
    robot: tuple[float, float, float],
    expected: tuple[float, float, float],
) -> None:
    assert goal_in_base(goal, robot) == pytest.approx(expected, abs=1e-12)


def test_goal_in_base_round_trips() -> None:
    goal, robot = (3.0, -1.0, 0.4), (1.5, 2.0, -2.5)
    gx, gy, gyaw = goal_in_base(goal, robot)
    c, s = math.cos(robot[2]), math.sin(robot[2])
    assert (robot[0] + c * gx - s * gy, robot[1] + s * gx + c * gy) == pytest.approx(goal[:2])
    assert wrap_angle(robot[2] + gyaw) == pytest.approx(goal[2])
