"""The simulator publishes what real drivers publish, field by field, on its own clock.

The sim node writes its sensor messages as serialized templates (``SerializedTemplate``), so
this test reads them back through DDS as ordinary subscribers do.
"""

from __future__ import annotations

import itertools
import math

import pytest
from nav_msgs.msg import Odometry
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState, LaserScan

from fw_common import frames, qos, topics
from fw_common.conversions import stamp_to_ns
from fw_sim.sim_node import CLOCK_QOS

pytestmark = pytest.mark.system

WHEELS = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]


def test_sensor_messages_follow_the_driver_contract(start_robot, probe) -> None:  # type: ignore[no-untyped-def]
    robot = start_robot(seed=3, nodes="sim")
    scans = probe.subscribe(LaserScan, "/" + topics.SCAN, qos.SENSOR)
    imus = probe.subscribe(Imu, "/" + topics.IMU, qos.SENSOR)
    joints = probe.subscribe(JointState, "/" + topics.JOINT_STATES, qos.SENSOR)
    truths = probe.subscribe(Odometry, "/" + topics.SIM_GROUND_TRUTH, qos.SENSOR)
    clocks = probe.subscribe(Clock, "/" + topics.CLOCK, CLOCK_QOS)
    for log in (scans, imus, joints, truths, clocks):
        assert log.wait_for_count(5, timeout=30.0), "the sim did not publish every sensor"

    for scan in scans.since(0.0):
        assert scan.header.frame_id == frames.LASER
        assert len(scan.ranges) == 360 and len(scan.intensities) == 0
        assert scan.angle_increment == pytest.approx(2 * math.pi / 360)
        assert scan.angle_max == pytest.approx(scan.angle_min + 359 * scan.angle_increment)
        assert (scan.range_min, scan.range_max) == pytest.approx((0.1, 12.0))
        assert scan.scan_time == pytest.approx(0.1)
        finite = [r for r in scan.ranges if math.isfinite(r)]
        assert finite, "a scan among obstacles hits something"
        assert all(scan.range_min <= r <= scan.range_max for r in finite)
        assert all(r == math.inf for r in scan.ranges if not math.isfinite(r))  # no dropout

    for imu in imus.since(0.0):
        assert imu.header.frame_id == frames.IMU_LINK
        q = imu.orientation
        assert math.sqrt(q.x**2 + q.y**2 + q.z**2 + q.w**2) == pytest.approx(1.0, abs=1e-6)
        assert imu.linear_acceleration.z == pytest.approx(9.81, abs=0.5)  # parked: gravity
        assert imu.angular_velocity_covariance[0] > 0.0
        assert imu.angular_velocity_covariance[1] == 0.0

    for js in joints.since(0.0):
        assert js.name == WHEELS
        assert len(js.position) == len(js.velocity) == 4 and len(js.effort) == 0

    for truth in truths.since(0.0):
        assert (truth.header.frame_id, truth.child_frame_id) == (frames.WORLD, frames.BASE_LINK)
        q = truth.pose.pose.orientation
        assert math.sqrt(q.x**2 + q.y**2 + q.z**2 + q.w**2) == pytest.approx(1.0, abs=1e-6)

    # Every stamp is sim time on the published clock, and each topic's stamps advance at its
    # rate (10 Hz scans, 100 Hz IMU, 50 Hz joints and ground truth), give or take the first
    # physics step (240 Hz).
    last_clock = stamp_to_ns(clocks.latest().clock)
    for log, period_ns in ((scans, 100e6), (imus, 10e6), (joints, 20e6), (truths, 20e6)):
        stamps = [stamp_to_ns(m.header.stamp) for m in log.since(0.0)]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert min(gaps) >= period_ns - 1e9 / 240 - 1, gaps
        assert stamps[-1] <= last_clock + 100e6
    robot.assert_clean_exit()
