"""fw_perception and fw_policy nodes on their own, as real processes over DDS.

The probe stands in for the drivers (scan, odom, imu) and for perception (policy test), so each
node's contract is checked in isolation: REP-117 output, refusal of bad input without dying,
lifecycle transitions driven from outside, and the timer trigger.
"""

from __future__ import annotations

import json
import math
import struct
import time

import pytest
from geometry_msgs.msg import PoseStamped, TwistStamped
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from rclpy.time import Time
from sensor_msgs.msg import Imu, LaserScan
from std_msgs.msg import String

from fw_common import qos, topics
from support.processes import executable

pytestmark = pytest.mark.system


def scan_msg(stamp, ranges: list[float]) -> LaserScan:
    msg = LaserScan()
    msg.header.stamp, msg.header.frame_id = stamp, "laser"
    msg.angle_min = -math.pi
    msg.angle_increment = 2 * math.pi / len(ranges)
    msg.angle_max = msg.angle_min + msg.angle_increment * (len(ranges) - 1)
    msg.range_min, msg.range_max = 0.1, 12.0
    msg.ranges = [float(r) for r in ranges]
    return msg


def odom_msg(stamp, x: float = 0.0, v: float = 0.0) -> Odometry:
    msg = Odometry()
    msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, "odom", "base_link"
    msg.pose.pose.position.x = x
    msg.pose.pose.orientation.w = 1.0
    msg.twist.twist.linear.x = v
    return msg


def goal_msg(x: float, y: float, frame: str = "odom") -> PoseStamped:
    msg = PoseStamped()
    msg.header.frame_id = frame
    msg.pose.position.x, msg.pose.position.y = x, y
    msg.pose.orientation.w = 1.0
    return msg


def test_perception_cleans_fuses_and_refuses_bad_input(launch, probe) -> None:
    node = launch([executable("fw_perception", "perception")], name="perception")
    scans = probe.subscribe(LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
    states = probe.subscribe(Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
    goals = probe.subscribe(PoseStamped, topics.PERCEPTION_GOAL, qos.SENSOR)
    scan_pub = probe.publisher(LaserScan, topics.SCAN, qos.SENSOR)
    odom_pub = probe.publisher(Odometry, topics.ODOM, qos.SENSOR)
    imu_pub = probe.publisher(Imu, topics.IMU, qos.SENSOR)
    goal_pub = probe.publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
    assert probe.wait_for_subscribers(scan_pub, timeout=30), "perception did not subscribe"
    assert probe.wait_for_subscribers(odom_pub, timeout=30)
    # The goal topic is latched with depth 1: a subscription that matched only after the three
    # goals below would see the last one alone, so the refusals must not race discovery.
    assert probe.wait_for_subscribers(goal_pub, timeout=30)

    # 36 beams every 10°: beam 0 points backwards (body), then REP-117 cases at the sides.
    ranges = [4.0] * 36
    ranges[9] = math.nan  # -90°: a lone dropout, the median fills it
    ranges[26] = 30.0  # +80°: a pre-REP-117 "no return": +inf
    ranges[27] = 30.0
    ranges[28] = 30.0
    ranges[0] = 0.4  # straight back from a laser 0.2 m ahead: x = -0.2 m, on the body
    ranges[1] = 0.4
    ranges[35] = 0.4
    goal_pub.publish(goal_msg(math.nan, 0.0))  # refused, the node lives on
    time.sleep(0.2)
    goal_pub.publish(goal_msg(3.0, 4.0, frame="map"))  # wrong frame: refused
    time.sleep(0.2)
    goal_pub.publish(goal_msg(3.0, 4.0))
    # Odometry whose bytes stop short (a broken driver or a foreign publisher): the middleware
    # cannot deserialize it and drops it; the node lives on and takes what follows.
    odom_pub.publish(serialize_message(odom_msg(probe.node.get_clock().now().to_msg()))[:40])
    # A scan whose ranges claim more beams than its bytes hold.
    whole = serialize_message(scan_msg(probe.node.get_clock().now().to_msg(), ranges))
    ranges_at = 4 + 8 + 4 + 8 + 28  # encapsulation, stamp, "laser" + NUL + padding, 7 floats
    scan_pub.publish(whole[:ranges_at] + struct.pack("<I", 10**6) + whole[ranges_at + 4 :])
    deadline = time.monotonic() + 20
    x = 0.0
    while time.monotonic() < deadline and not (len(scans) and len(goals) and len(states) > 10):
        stamp = probe.node.get_clock().now().to_msg()
        odom_pub.publish(odom_msg(stamp, x=x, v=0.5))
        imu = Imu()
        imu.header.stamp = stamp
        imu.angular_velocity.z = math.nan  # refused and counted; wheels only
        imu_pub.publish(imu)
        scan_pub.publish(scan_msg(stamp, ranges))
        x += 0.01
        time.sleep(0.05)
    out = scans.latest()
    assert out is not None, "no cleaned scan"
    r = list(out.ranges)
    assert math.isnan(r[0]) and math.isnan(r[1]) and math.isnan(r[35]), r[:2]
    assert r[9] == pytest.approx(4.0), "a lone dropout should be filled by the median"
    assert r[27] == math.inf
    assert (out.range_min, out.range_max) == pytest.approx((0.15, 10.0))
    finite = [v for v in r if math.isfinite(v)]
    assert all(out.range_min <= v <= out.range_max for v in finite)

    state = states.latest()
    assert state is not None and state.twist.twist.linear.x == pytest.approx(0.5)
    assert state.pose.pose.position.x > 0.0
    goal = goals.latest()
    assert goal is not None and goal.header.frame_id == "base_link"
    # The goal (3, 4) in odom, seen from the robot at (x, 0) facing +x.
    assert goal.pose.position.x == pytest.approx(3.0 - state.pose.pose.position.x, abs=0.05)
    assert goal.pose.position.y == pytest.approx(4.0, abs=1e-6)
    assert node.wait_for_output("refused goal (2 so far)", timeout=10), node.output()
    text = node.output()
    assert "refused goal (1 so far): non-finite goal" in text
    assert "refused goal (2 so far)" in text and "'map'" in text
    assert "refused imu: non-finite yaw rate nan" in text
    node.assert_clean_exit()


def imu_msg(stamp_ns: int, yaw_rate: float) -> Imu:
    msg = Imu()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.header.frame_id = "imu_link"
    msg.angular_velocity.z = yaw_rate
    return msg


def test_perception_integrates_every_imu_sample_of_a_burst(launch, probe) -> None:
    """A driver that batches (USB IMUs) or a node back from a stall sees a burst of IMU samples;
    the state filter integrates each one, so none may be dropped from the subscription's queue.

    The wheels report no rotation and the gyro a steady 1 rad/s: the fused heading after one
    odometry step is ``imu_weight`` times the gyro's integral, which misses 5 ms of rotation
    for every sample lost."""
    launch([executable("fw_perception", "perception")], name="perception")
    states = probe.subscribe(Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
    odom_pub = probe.publisher(Odometry, topics.ODOM, qos.SENSOR)
    imu_pub = probe.publisher(Imu, topics.IMU, qos.INTEGRATED_SENSOR)  # keeps the burst whole
    assert probe.wait_for_subscribers(odom_pub, timeout=30), "perception did not subscribe"
    assert probe.wait_for_subscribers(imu_pub, timeout=30)
    # Standing still until the state output reaches the probe (best effort: its first samples
    # may go out before the two have matched).
    t0 = probe.node.get_clock().now().nanoseconds
    deadline = time.monotonic() + 20
    while not len(states) and time.monotonic() < deadline:
        t0 += 1_000_000
        odom_pub.publish(odom_msg(Time(nanoseconds=t0).to_msg()))
        time.sleep(0.05)
    assert len(states), "no fused state"
    samples, period_ns, rate = 45, 5_000_000, 1.0
    for i in range(1, samples + 1):  # back to back: as fast as this process can publish
        imu_pub.publish(imu_msg(t0 + i * period_ns, rate))
    end_ns = t0 + samples * period_ns
    odom_pub.publish(odom_msg(Time(nanoseconds=end_ns).to_msg()))
    state = states.wait_for(lambda m: Time.from_msg(m.header.stamp).nanoseconds == end_ns)
    assert state is not None, "no state for the odometry sample after the burst"
    q = state.pose.pose.orientation
    yaw = 2.0 * math.atan2(q.z, q.w)
    integral = rate * (samples - 1) * period_ns * 1e-9  # trapezoid from the first sample
    assert yaw == pytest.approx(0.95 * integral, abs=1e-6), (
        f"fused yaw {yaw:.4f} rad: {0.95 * integral - yaw:.4f} rad of gyro rotation lost "
        f"(about {(0.95 * integral - yaw) / (0.95 * rate * period_ns * 1e-9):.0f} samples)"
    )
    assert state.twist.twist.angular.z == pytest.approx(0.95 * rate)


def change_state(probe, transition_id: int) -> bool:
    request = ChangeState.Request()
    request.transition = Transition(id=transition_id)
    return bool(probe.call(ChangeState, "/policy/change_state", request, timeout=30).success)


def test_policy_lifecycle_driven_from_outside_with_timer_trigger(launch, probe) -> None:
    node = launch(
        [
            executable("fw_policy", "policy"),
            "--ros-args",
            "-p",
            "autostart:=false",
            "-p",
            "trigger:=timer",
            "-p",
            "timer_rate:=20.0",
            "-p",
            "kind:=classic",
        ],
        name="policy",
    )
    info = probe.subscribe(String, topics.POLICY_INFO, qos.LATCHED)
    commands = probe.subscribe(TwistStamped, topics.CMD_VEL_RAW, qos.COMMAND)
    scan_pub = probe.publisher(LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
    state_pub = probe.publisher(Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
    goal_pub = probe.publisher(PoseStamped, topics.PERCEPTION_GOAL, qos.SENSOR)

    def feed(seconds: float) -> list:
        sent = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            stamp = probe.node.get_clock().now().to_msg()
            state_pub.publish(odom_msg(stamp))
            goal = goal_msg(5.0, 0.0, frame="base_link")
            goal.header.stamp = stamp
            goal_pub.publish(goal)
            scan_pub.publish(scan_msg(stamp, [math.inf] * 360))
            sent.append(stamp)
            time.sleep(0.1)  # 10 Hz scans, 20 Hz timer
        return sent

    assert change_state(probe, Transition.TRANSITION_CONFIGURE)
    assert info.wait_for(lambda m: json.loads(m.data)["state"] == "inactive", timeout=20)
    assert probe.wait_for_subscribers(scan_pub, timeout=20)
    feed(1.0)
    assert len(commands) == 0, "an inactive policy must not command"

    assert change_state(probe, Transition.TRANSITION_ACTIVATE)
    assert info.wait_for(lambda m: json.loads(m.data)["state"] == "active", timeout=20)
    start = time.monotonic()
    sent = feed(3.0)
    recent = commands.since(start + 0.5)
    # Timer-driven: about twice as many commands as scans, each stamped with a scan's stamp.
    assert len(recent) >= 1.4 * 2.5 * 10, f"{len(recent)} commands in ~2.5 s at 20 Hz"
    stamps = {(s.sec, s.nanosec) for s in sent}
    assert all((m.header.stamp.sec, m.header.stamp.nanosec) in stamps for m in recent)
    assert all(m.twist.linear.x > 0.1 for m in recent), "free space, goal ahead: drive"

    assert change_state(probe, Transition.TRANSITION_DEACTIVATE)
    assert info.wait_for(lambda m: json.loads(m.data)["state"] == "inactive", timeout=20)
    time.sleep(0.3)
    stopped = time.monotonic()
    feed(1.0)
    assert not commands.since(stopped + 0.2), "deactivated policy kept commanding"
    # State and scan bytes that stop short: the middleware cannot deserialize them and drops
    # them; the robot is not moved by them (its inputs go stale: zero commands), and the node
    # lives on and drives again on good inputs.
    assert change_state(probe, Transition.TRANSITION_ACTIVATE)
    assert info.wait_for(lambda m: json.loads(m.data)["state"] == "active", timeout=20)
    broken = time.monotonic()
    state_pub.publish(serialize_message(odom_msg(probe.node.get_clock().now().to_msg()))[:20])
    scan_pub.publish(
        serialize_message(scan_msg(probe.node.get_clock().now().to_msg(), [1.0]))[:30]
    )
    time.sleep(1.5)
    stale = commands.since(broken + 0.7)
    assert stale and all(m.twist.linear.x == 0.0 for m in stale), "moved on malformed bytes"
    resumed = time.monotonic()
    feed(2.0)
    assert any(m.twist.linear.x > 0.1 for m in commands.since(resumed + 0.5))
    node.assert_clean_exit()
