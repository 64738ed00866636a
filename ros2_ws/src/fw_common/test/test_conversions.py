from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from fw_common.conversions import (
    ns_to_stamp,
    quaternion_from_yaw,
    stamp_to_ns,
    yaw_from_quaternion,
)


@given(st.integers(min_value=0, max_value=2**62))
def test_stamp_round_trip(ns: int) -> None:
    assert stamp_to_ns(ns_to_stamp(ns)) == ns


@given(st.floats(min_value=-math.pi + 1e-9, max_value=math.pi))
def test_yaw_round_trip(yaw: float) -> None:
    assert math.isclose(yaw_from_quaternion(*quaternion_from_yaw(yaw)), yaw, abs_tol=1e-9)
