"""``make demo``: the simulated robot, headless, driven around a scripted course; a report.

Starts the robot's nodes with the Python bringup in a child process (its own ROS domain, DDS on
loopback), drives a square course by publishing ``cmd_vel`` the way any command source would,
and reports, leg by leg, where the robot really went (simulator ground truth) against where its
wheel odometry thinks it is, plus collisions and the simulator's speed.

    python -m fw_bringup.demo [--profile sim] [--side 2.0] [--laps 1]
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

__all__ = ["main"]


@dataclass
class _Pose:
    x: float
    y: float
    yaw: float
    t_ns: int


def _pose(msg) -> _Pose:  # type: ignore[no-untyped-def]
    from fw_common.conversions import stamp_to_ns, yaw_from_quaternion

    p = msg.pose.pose
    q = p.orientation
    return _Pose(
        p.position.x,
        p.position.y,
        yaw_from_quaternion(q.x, q.y, q.z, q.w),
        stamp_to_ns(msg.header.stamp),
    )


def _wrap(a: float) -> float:
    return math.atan2(math.sin(a), math.cos(a))


class _Driver:
    """The demo's command source and observer (an ordinary rclpy node)."""

    def __init__(self) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticStatus
        from geometry_msgs.msg import TwistStamped
        from nav_msgs.msg import Odometry

        from fw_common import qos, topics

        rclpy.init()
        self._rclpy = rclpy
        self.node = rclpy.create_node("demo_driver")
        self.gt: _Pose | None = None
        self.odom: _Pose | None = None
        self.collisions: list[str] = []
        self.node.create_subscription(Odometry, topics.SIM_GROUND_TRUTH, self._on_gt, qos.SENSOR)
        self.node.create_subscription(Odometry, topics.ODOM, self._on_odom, qos.SENSOR)
        self.node.create_subscription(
            DiagnosticStatus, topics.SIM_COLLISIONS, self._on_collision, qos.EVENT
        )
        self.cmd = self.node.create_publisher(TwistStamped, topics.CMD_VEL, qos.COMMAND)
        self._twist_type = TwistStamped
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set():
            self._rclpy.spin_once(self.node, timeout_sec=0.05)

    def _on_gt(self, msg) -> None:  # type: ignore[no-untyped-def]
        self.gt = _pose(msg)

    def _on_odom(self, msg) -> None:  # type: ignore[no-untyped-def]
        self.odom = _pose(msg)

    def _on_collision(self, msg) -> None:  # type: ignore[no-untyped-def]
        self.collisions.append(msg.message)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gt and self.odom and self.cmd.get_subscription_count() > 0:
                return True
            time.sleep(0.1)
        return False

    def drive(self, linear: float, angular: float, sim_seconds: float) -> None:
        assert self.gt is not None
        end = self.gt.t_ns + int(sim_seconds * 1e9)
        while self.gt.t_ns < end:
            msg = self._twist_type()
            msg.header.frame_id = "base_link"
            msg.twist.linear.x = linear
            msg.twist.angular.z = angular
            self.cmd.publish(msg)
            time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.node.destroy_node()
        self._rclpy.try_shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Drive the simulated robot around a square.")
    parser.add_argument("--profile", default="sim")
    parser.add_argument("--side", type=float, default=2.0, help="side of the square (m)")
    parser.add_argument("--speed", type=float, default=0.5, help="linear speed (m/s)")
    parser.add_argument("--seed", type=int, default=0, help="scenario seed")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    # A private graph: the demo must not drive someone else's robot on this network.
    env.setdefault("ROS_DOMAIN_ID", str(200 + os.getpid() % 30))
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    robot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fw_bringup.main",
            "--profile",
            args.profile,
            "--nodes",
            "sim,actuator_bridge",
            "--seed",
            str(args.seed),
            # An empty arena: the scripted course does not steer around obstacles.
            "--set",
            "sim.scenario.box_count=0",
            "--set",
            "sim.scenario.cylinder_count=0",
        ],
        env=env,
        start_new_session=True,
    )
    driver = _Driver()
    code = 0
    try:
        print("[demo] starting the simulated Husky (PyBullet, headless) ...", flush=True)
        if not driver.wait_ready(90):
            print("[demo] the robot did not come up", file=sys.stderr)
            return 1
        assert driver.gt is not None and driver.odom is not None
        gt0, od0 = driver.gt, driver.odom
        wall0 = time.monotonic()
        legs = 4
        turn_rate = 0.6
        print(f"[demo] driving a {args.side:.1f} m square at {args.speed} m/s", flush=True)
        print(
            f"{'leg':>4} {'true x':>8} {'true y':>8} {'odom x':>8} {'odom y':>8} "
            f"{'pos err':>8} {'yaw err':>8}"
        )
        for leg in range(1, legs + 1):
            driver.drive(args.speed, 0.0, args.side / args.speed)
            driver.drive(0.0, turn_rate, (math.pi / 2) / turn_rate)
            driver.drive(0.0, 0.0, 0.5)
            gt, od = driver.gt, driver.odom
            true_x, true_y = _relative(gt0, gt)
            odom_x, odom_y = _relative(od0, od)
            err = math.hypot(true_x - odom_x, true_y - odom_y)
            yaw_err = _wrap((gt.yaw - gt0.yaw) - (od.yaw - od0.yaw))
            print(
                f"{leg:>4} {true_x:8.2f} {true_y:8.2f} {odom_x:8.2f} {odom_y:8.2f} "
                f"{err:8.3f} {math.degrees(yaw_err):7.1f}°",
                flush=True,
            )
        sim_s = (driver.gt.t_ns - gt0.t_ns) * 1e-9
        wall_s = time.monotonic() - wall0
        print(
            f"[demo] {sim_s:.1f} s simulated in {wall_s:.1f} s wall "
            f"(real-time factor {sim_s / wall_s:.1f}); collisions: {len(driver.collisions)}"
        )
        print(
            f"[demo] odometry drift after {4 * args.side:.0f} m: {err:.3f} m "
            f"({100 * err / (4 * args.side):.1f} % of distance)"
        )
    finally:
        driver.close()
        robot.send_signal(signal.SIGINT)
        try:
            code = robot.wait(20)
        except subprocess.TimeoutExpired:
            robot.kill()
            code = 1
    return code


def _relative(origin: _Pose, pose: _Pose) -> tuple[float, float]:
    """``pose`` in the frame of ``origin`` (so both start at 0, 0 facing +x)."""
    dx, dy = pose.x - origin.x, pose.y - origin.y
    c, s = math.cos(origin.yaw), math.sin(origin.yaw)
    return c * dx + s * dy, -s * dx + c * dy


if __name__ == "__main__":
    sys.exit(main())
