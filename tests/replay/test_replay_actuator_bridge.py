"""Replay regression: recorded joint_states → wheel odometry, against the recorded odom.

Stage: actuator_bridge odometry (``joint_states`` → ``odom``), from the golden bag
``bags/sim_seed3_drive`` (``make bags``). Tolerance, for every odom matched by stamp: pose
within 1 mm / 1 mrad (a best-effort joint_states sample missed by the recorder or the node makes
one integration step longer), twist within 1e-6 for at least 90 % of them (it is a finite
difference over one step, so exact only where both saw the same previous sample). At least 90 %
of the recorded odom must be reproduced.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from nav_msgs.msg import Odometry

from fw_common import qos
from fw_common.profile import load_profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_harness import decode, read_bag, replay_core, replay_node, stamp_ns

REPO = Path(__file__).resolve().parents[2]
BAG = REPO / "bags" / "sim_seed3_drive"
PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"
POSE_TOL = 1e-3
TWIST_TOL = 1e-6


def _yaw(o: Odometry) -> float:
    q = o.pose.pose.orientation
    return math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z))


def _recorded_odom() -> dict[int, Odometry]:
    return {stamp_ns(o): o for o in (decode(m) for m in read_bag(BAG) if m.topic == "/odom")}


def _check(x: float, y: float, yaw: float, lin: float, ang: float, ref: Odometry) -> bool:
    """Asserts the pose; returns whether the twist matched exactly (to TWIST_TOL)."""
    p = ref.pose.pose.position
    assert abs(x - p.x) < POSE_TOL and abs(y - p.y) < POSE_TOL, (x, y, p)
    assert abs(math.remainder(yaw - _yaw(ref), math.tau)) < POSE_TOL
    return (
        abs(lin - ref.twist.twist.linear.x) < TWIST_TOL
        and abs(ang - ref.twist.twist.angular.z) < TWIST_TOL
    )


@pytest.fixture(scope="module")
def recorded() -> dict[int, Odometry]:
    if not BAG.is_dir():
        pytest.fail(f"golden bag missing: {BAG} (run `make bags`)")
    odom = _recorded_odom()
    assert len(odom) > 100
    moved = max(math.hypot(o.pose.pose.position.x, o.pose.pose.position.y) for o in odom.values())
    assert moved > 0.5, "the golden episode must actually drive"
    return odom


def test_core_reproduces_recorded_odometry(recorded: dict[int, Odometry]) -> None:
    from fw_actuator_bridge.bridge import ActuatorBridgeCore

    core = ActuatorBridgeCore(load_profile(PROFILE).actuator_bridge)
    messages = read_bag(BAG)

    def feed(_topic: str, js: object) -> object:
        result = core.joint_state(js.name, js.position, stamp_ns(js))  # type: ignore[attr-defined]
        return None if isinstance(result, str) else result

    states = replay_core(messages, {"/joint_states"}, feed)
    by_stamp = {s.stamp_ns: s for s in states}
    common = [stamp for stamp in recorded if stamp in by_stamp]
    assert len(common) >= 0.9 * len(recorded), f"{len(common)} of {len(recorded)}"
    exact = sum(
        _check(s.x, s.y, s.yaw, s.linear, s.angular, recorded[stamp])
        for stamp in common
        for s in [by_stamp[stamp]]
    )
    assert exact >= 0.9 * len(common), f"twist exact for {exact} of {len(common)}"


@pytest.mark.system
def test_node_reproduces_recorded_odometry(
    recorded: dict[int, Odometry], start_robot, probe
) -> None:
    start_robot(nodes="actuator_bridge")
    outputs = replay_node(
        probe, read_bag(BAG), {"/joint_states": qos.SENSOR}, "/odom", Odometry, qos.SENSOR
    )
    matched = [(o, recorded[stamp_ns(o)]) for o in outputs if stamp_ns(o) in recorded]
    assert len(matched) >= 0.9 * len(recorded), f"{len(matched)} of {len(recorded)}"
    exact = 0
    for out, ref in matched:
        p = out.pose.pose.position
        exact += _check(
            p.x, p.y, _yaw(out), out.twist.twist.linear.x, out.twist.twist.angular.z, ref
        )
    assert exact >= 0.9 * len(matched), f"twist exact for {exact} of {len(matched)}"
