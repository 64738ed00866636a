from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from fw_common.conversions import (
    ns_to_sec_nanosec,
    ns_to_stamp,
    quaternion_from_yaw,
    stamp_to_ns,
    yaw_from_quaternion,
)


@given(st.integers(min_value=0, max_value=2**62))
def test_stamp_round_trip(ns: int) -> None:
    assert stamp_to_ns(ns_to_stamp(ns)) == ns


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_sec_nanosec_split_keeps_nanosec_in_range(ns: int) -> None:
    sec, nanosec = ns_to_sec_nanosec(ns)
    assert 0 <= nanosec < 1_000_000_000 and sec * 1_000_000_000 + nanosec == ns


@given(st.floats(min_value=-math.pi + 1e-9, max_value=math.pi))
def test_yaw_round_trip(yaw: float) -> None:
    assert math.isclose(yaw_from_quaternion(*quaternion_from_yaw(yaw)), yaw, abs_tol=1e-9)


poses = st.tuples(
    st.floats(min_value=-100, max_value=100),
    st.floats(min_value=-100, max_value=100),
    st.floats(min_value=-math.pi, max_value=math.pi),
)


@given(poses, poses)
def test_planar_compose_inverse(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> None:
    from fw_common.planar import compose, inverse, wrap_angle

    back = compose(inverse(a), compose(a, b))
    assert math.isclose(back[0], b[0], abs_tol=1e-6) and math.isclose(back[1], b[1], abs_tol=1e-6)
    assert abs(wrap_angle(back[2] - b[2])) < 1e-9
