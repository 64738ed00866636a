"""Does the simulator's serialized publishing still pay for itself? Templates against typed.

The sim node publishes every sensor message from its physics thread by rewriting the changing
fields of bytes serialized once (``fw_sim.serialized_template``); the robot's nodes publish
typed messages. This measures, in one run, what one second of sim time costs the physics
thread in ``publish`` calls both ways, at the sim profile's rates (scan 10 Hz with 360 beams,
IMU 100 Hz, joint states 50 Hz, ground truth 50 Hz, clock 100 Hz), and what that means at the
20× real time the simulator aims for (the share of each wall second spent publishing).

Run it from the repository root in the workspace environment (see the README)::

    python bench/bench_sim_publish.py --seconds 3

Target (issue 14): keep the templates only while typed publishing would take more than 10 % of
the physics thread at 20× real time.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

RATES_HZ = {"scan": 10, "imu": 100, "joint_states": 50, "ground_truth": 50, "clock": 100}
WHEELS = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]
TARGET_SHARE = 0.10
REAL_TIME_FACTOR = 20.0


def _publishers() -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], None]]:
    import rclpy
    from nav_msgs.msg import Odometry
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Imu, JointState, LaserScan

    from fw_sim.serialized_template import SerializedTemplate

    rclpy.init()
    node = rclpy.create_node("bench_sim_publish")
    pubs = {
        "scan": node.create_publisher(LaserScan, "scan", 10),
        "imu": node.create_publisher(Imu, "imu", 10),
        "joint_states": node.create_publisher(JointState, "joint_states", 10),
        "ground_truth": node.create_publisher(Odometry, "fw/sim/ground_truth", 10),
        "clock": node.create_publisher(Clock, "clock", 10),
    }
    ranges = np.random.default_rng(0).uniform(0.2, 10.0, 360).astype(np.float32)
    stamp = ("header.stamp.sec", "header.stamp.nanosec")
    scan = LaserScan()
    scan.header.frame_id = "laser"
    scan.ranges = [0.0] * 360
    templates = {
        "scan": SerializedTemplate(scan, {"stamp": stamp, "ranges": ("ranges",)}),
        "imu": SerializedTemplate(Imu(), {"stamp": stamp, "rate": ("angular_velocity.z",)}),
        "ground_truth": SerializedTemplate(
            Odometry(), {"stamp": stamp, "x": ("pose.pose.position.x",)}
        ),
        "clock": SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")}),
    }
    joints = JointState()
    joints.name = WHEELS
    joints.position = joints.velocity = [0.0] * 4
    templates["joint_states"] = SerializedTemplate(
        joints, {"stamp": stamp, "position": ("position",)}
    )

    def typed(kind_index: int) -> None:
        kind = list(RATES_HZ)[kind_index]
        if kind == "scan":
            msg = LaserScan()
            msg.header.frame_id = "laser"
            msg.ranges = ranges
        elif kind == "imu":
            msg = Imu()
            msg.angular_velocity.z = 0.1
        elif kind == "joint_states":
            msg = JointState()
            msg.name = WHEELS
            msg.position = msg.velocity = [0.1] * 4
        elif kind == "ground_truth":
            msg = Odometry()
            msg.pose.pose.position.x = 1.0
        else:
            msg = Clock()
        pubs[kind].publish(msg)

    def serialized(kind_index: int) -> None:
        kind = list(RATES_HZ)[kind_index]
        template = templates[kind]
        template.write["stamp"](1, 2)
        if kind == "scan":
            template.write["ranges"](ranges)
        elif kind == "imu":
            template.write["rate"](0.1)
        elif kind == "ground_truth":
            template.write["x"](1.0)
        elif kind == "joint_states":
            template.write["position"]([0.1] * 4)
        pubs[kind].publish(template.data())

    def close() -> None:
        node.destroy_node()
        rclpy.shutdown()

    return typed, serialized, close


def _cost_per_sim_second(publish: Callable[[int], None], seconds: float) -> float:
    """Wall seconds that publishing one sim second's messages takes (mean over ``seconds``)."""
    schedule = [i for i, rate in enumerate(RATES_HZ.values()) for _ in range(rate)]
    for i in schedule:  # warm-up
        publish(i)
    sim_seconds, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for i in schedule:
            publish(i)
        sim_seconds += 1
    return (time.perf_counter() - start) / sim_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="wall seconds per way")
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    typed, serialized, close = _publishers()
    try:
        costs = {}
        for _round in range(2):  # interleaved, the second round counts
            costs["typed"] = _cost_per_sim_second(typed, args.seconds / 2)
            costs["templates"] = _cost_per_sim_second(serialized, args.seconds / 2)
    finally:
        close()
    print("| publishing | ms per sim second | share of the physics thread at 20x |")
    print("|---|---|---|")
    for way, cost in costs.items():
        print(f"| {way} | {cost * 1e3:.2f} | {cost * REAL_TIME_FACTOR:.0%} |")
    typed_share = costs["typed"] * REAL_TIME_FACTOR
    print(f"templates are {costs['typed'] / costs['templates']:.1f}x cheaper than typed messages")
    verdict = "keep the templates" if typed_share > TARGET_SHARE else "typed messages suffice"
    print(f"typed publishing would take {typed_share:.0%} at 20x real time: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
