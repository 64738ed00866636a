"""The bridge core: watchdog, refusals, odometry."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw_actuator_bridge.bridge import ActuatorBridgeCore
from fw_actuator_bridge.watchdog import CommandWatchdog
from fw_common.profile import ActuatorBridgeConfig

MS = 1_000_000
JOINTS = ["front_left_wheel", "rear_left_wheel", "front_right_wheel", "rear_right_wheel"]


def make_core(**overrides: object) -> ActuatorBridgeCore:
    config = ActuatorBridgeConfig(**overrides)  # type: ignore[arg-type]
    return ActuatorBridgeCore(config)


def run(core: ActuatorBridgeCore, start_ms: int, end_ms: int, step_ms: int = 20) -> list[float]:
    left = []
    for t in range(start_ms, end_ms, step_ms):
        left.append(core.tick(t * MS).velocities[0])
    return left


def test_command_drives_and_watchdog_stops() -> None:
    core = make_core(command_timeout=0.5, max_wheel_acceleration=1000.0)
    assert core.command(0.5, 0.0, "base_link", 0) is None
    speeds = run(core, 0, 400)
    assert speeds[-1] == pytest.approx(0.5 / 0.1651)
    # no further command: zero once the timeout has passed
    after = run(core, 400, 700)
    assert after[-1] == 0.0
    assert core.tick(700 * MS).watchdog_active


def test_watchdog_fires_before_first_command_and_on_clock_jump_back() -> None:
    dog = CommandWatchdog(500 * MS)
    assert dog.expired(0)
    dog.feed(1000 * MS)
    assert not dog.expired(1200 * MS)
    assert dog.expired(900 * MS)  # sim reset: time went backwards
    assert dog.expired(1600 * MS)


@pytest.mark.parametrize(
    ("linear", "angular", "frame", "reason"),
    [
        (math.nan, 0.0, "", "non-finite"),
        (0.0, math.inf, "base_link", "non-finite"),
        (0.3, 0.0, "map", "frame 'map'"),
    ],
)
def test_bad_commands_are_refused_and_stop_the_wheels(
    linear: float, angular: float, frame: str, reason: str
) -> None:
    core = make_core(max_wheel_acceleration=1000.0)
    core.command(0.5, 0.0, "", 0)
    run(core, 0, 100)
    refusal = core.command(linear, angular, frame, 100 * MS)
    assert refusal is not None and reason in refusal
    assert run(core, 100, 200)[-1] == 0.0
    assert core.refused_commands == 1


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_output_is_always_finite_and_limited(linear: float, angular: float) -> None:
    core = make_core()
    core.command(linear, angular, "", 0)
    for t in range(0, 2000, 20):
        for v in core.tick(t * MS).velocities:
            assert math.isfinite(v) and abs(v) <= core.config.max_wheel_speed + 1e-9


def test_odometry_straight_and_turn() -> None:
    core = make_core()
    r = core.config.robot.wheels.radius
    track = core.kinematics.track
    core.joint_state(JOINTS, [0, 0, 0, 0], 0)
    # 1 m straight ahead in 100 steps
    for i in range(1, 101):
        a = i * 0.01 / r
        state = core.joint_state(JOINTS, [a, a, a, a], i * 10 * MS)
    assert not isinstance(state, str)
    assert state.x == pytest.approx(1.0) and state.y == pytest.approx(0.0, abs=1e-9)
    assert state.linear == pytest.approx(1.0)
    # quarter turn in place (counter-clockwise)
    base = 1.0 / r
    arc = (math.pi / 2) * track / 2 / r
    for i in range(1, 51):
        d = arc * i / 50
        state = core.joint_state(
            JOINTS, [base - d, base - d, base + d, base + d], (1000 + i * 10) * MS
        )
    assert not isinstance(state, str)
    assert state.yaw == pytest.approx(math.pi / 2)
    assert state.x == pytest.approx(1.0, abs=1e-9)


def test_bad_joint_states_are_refused() -> None:
    core = make_core()
    assert "lacks wheel joints" in str(core.joint_state(["a"], [0.0], 0))
    assert "names but" in str(core.joint_state(JOINTS, [0.0], 0))
    assert "non-finite" in str(core.joint_state(JOINTS, [0, math.nan, 0, 0], 0))
    assert core.refused_joint_states == 3
