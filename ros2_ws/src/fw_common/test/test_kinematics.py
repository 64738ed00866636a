"""Skid-steer kinematics and limits (properties that must hold for any input)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from fw_common.kinematics import SkidSteerKinematics, WheelSpeeds, limit_acceleration

KIN = SkidSteerKinematics(wheel_radius=0.165, track=0.6)
speeds = st.floats(min_value=-5, max_value=5)


def test_forward_and_turn_directions() -> None:
    forward = KIN.wheel_speeds(1.0, 0.0)
    assert forward.left > 0 and math.isclose(forward.left, forward.right)
    left_turn = KIN.wheel_speeds(0.0, 1.0)  # counter-clockwise: right side forward
    assert left_turn.right > 0 > left_turn.left


@given(speeds, speeds)
def test_inverse_kinematics_round_trip(v: float, w: float) -> None:
    s = KIN.wheel_speeds(v, w)
    v2, w2 = KIN.twist(s.left, s.right)
    assert math.isclose(v, v2, abs_tol=1e-9) and math.isclose(w, w2, abs_tol=1e-9)


@given(speeds, speeds, st.floats(min_value=0.1, max_value=20))
def test_speed_limit_keeps_curvature(v: float, w: float, limit: float) -> None:
    s = KIN.limited_wheel_speeds(v, w, limit)
    assert abs(s.left) <= limit + 1e-9 and abs(s.right) <= limit + 1e-9
    v2, w2 = KIN.twist(s.left, s.right)
    # same direction of travel and same curvature w/v
    assert math.isclose(v2 * w, w2 * v, abs_tol=1e-6)
    assert v2 * v >= 0 and w2 * w >= 0


@given(speeds, speeds, speeds, speeds, st.floats(min_value=0.1, max_value=100))
def test_acceleration_limit(cl: float, cr: float, tl: float, tr: float, acc: float) -> None:
    dt = 0.02
    out = limit_acceleration(WheelSpeeds(cl, cr), WheelSpeeds(tl, tr), acc, dt)
    assert abs(out.left - cl) <= acc * dt + 1e-9
    assert abs(out.right - cr) <= acc * dt + 1e-9
    # moves toward the target, never past it
    assert abs(out.left - tl) <= abs(cl - tl) + 1e-9
    assert abs(out.right - tr) <= abs(cr - tr) + 1e-9
