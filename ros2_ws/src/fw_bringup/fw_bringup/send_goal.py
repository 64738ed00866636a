"""``send_goal``: give a running robot a goal on ``goal_pose``, as a mission planner would.

A robot started by hand (``python -m fw_bringup.main --profile sim``) waits for a goal and does
not move until it has one. This sends it one, in the ``odom`` frame the policy steers in, and
returns once the robot's perception has taken it (``fw/perception/goal``), or fails with the
reason (no robot on this ROS domain, a different scenario running, a bad number).

    python -m fw_bringup.send_goal --scenario        # the goal of the scenario the sim runs
    python -m fw_bringup.send_goal --seed 3          # the same, checking it is scenario 3
    python -m fw_bringup.send_goal 2.0 -1.5          # x y in odom (m): from where it started
    python -m fw_bringup.send_goal 2.0 -1.5 --namespace husky_2

Run it with the robot's ``ROS_DOMAIN_ID`` (and ``ROS_AUTOMATIC_DISCOVERY_RANGE``). A scenario's
goal is in the simulator's world frame: it is moved into ``odom`` with one ground-truth and one
odometry sample taken while the robot stands still (simulation only; a real robot takes x y).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from fw_common.planar import Pose2, compose, inverse

__all__ = ["goal_in_odom", "main"]

#: Exit codes: 0 the robot took the goal; 1 it did not (no robot, timeout); 2 bad arguments.
EXIT_NOT_TAKEN = 1
EXIT_USAGE = 2
#: How far perception's goal (in base_link, from a state a few ms newer or older than the one
#: this compares with) may lie from the sent one and still be it (m).
TAKEN_TOLERANCE = 0.25


def goal_in_odom(state_odom: Pose2, truth_world: Pose2, goal_world: tuple[float, float]) -> Pose2:
    """A world-frame goal in ``odom``, from the robot's pose in both frames at one instant:
    ``T_odom_world = state ∘ truth⁻¹``."""
    return compose(compose(state_odom, inverse(truth_world)), (goal_world[0], goal_world[1], 0.0))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="python -m fw_bringup.send_goal",
        description=doc.splitlines()[0].replace("``", ""),
        epilog=doc.split("\n\n", 1)[1].replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("x", nargs="?", type=_finite, help="goal x in odom (m)")
    parser.add_argument("y", nargs="?", type=_finite, help="goal y in odom (m)")
    parser.add_argument(
        "--scenario", action="store_true", help="the goal of the scenario the simulator runs"
    )
    parser.add_argument(
        "--seed", type=int, help="the goal of scenario SEED (the simulator must be running it)"
    )
    parser.add_argument("--namespace", default="", help="the robot's namespace (default: root)")
    parser.add_argument(
        "--timeout", type=_finite, default=30.0, help="seconds to wait for the robot (default 30)"
    )
    return parser


class _GoalSender:
    """The rclpy side: one node that reads the robot's state and publishes the goal."""

    def __init__(self, namespace: str) -> None:
        import rclpy
        from geometry_msgs.msg import PoseStamped
        from nav_msgs.msg import Odometry
        from std_msgs.msg import String

        from fw_common import qos, topics

        rclpy.init()
        self._rclpy = rclpy
        self.node = rclpy.create_node("send_goal", namespace=namespace or "/")
        self.latest: dict[str, Any] = {}
        sub = self.node.create_subscription
        sub(String, topics.SIM_SCENARIO, self._keep("scenario"), qos.LATCHED)
        sub(Odometry, topics.SIM_GROUND_TRUTH, self._keep("truth"), qos.SENSOR)
        sub(Odometry, topics.PERCEPTION_STATE, self._keep("state"), qos.SENSOR)
        sub(PoseStamped, topics.PERCEPTION_GOAL, self._keep("taken"), qos.SENSOR)
        self.goal = self.node.create_publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
        self._pose_type = PoseStamped

    def _keep(self, key: str) -> Any:
        def store(msg: Any) -> None:
            self.latest[key] = msg

        return store

    def spin_until(self, done: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            self._rclpy.spin_once(self.node, timeout_sec=0.05)
        return True

    def pose(self, key: str) -> Pose2:
        from fw_common.conversions import yaw_from_quaternion

        pose = self.latest[key].pose.pose
        q = pose.orientation
        return pose.position.x, pose.position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)

    def fresh(self, keys: tuple[str, ...], timeout: float) -> bool:
        """Wait for a new message on each of ``keys``."""
        for key in keys:
            self.latest.pop(key, None)
        return self.spin_until(lambda: all(k in self.latest for k in keys), timeout)

    def publish(self, goal: Pose2) -> None:
        from fw_common.conversions import quaternion_from_yaw

        msg = self._pose_type()
        msg.header.frame_id = "odom"
        state = self.latest.get("state")
        if state is not None:  # the robot's clock (sim time on a simulated robot)
            msg.header.stamp = state.header.stamp
        msg.pose.position.x, msg.pose.position.y = goal[0], goal[1]
        q = msg.pose.orientation
        q.x, q.y, q.z, q.w = quaternion_from_yaw(goal[2])
        self.latest.pop("taken", None)
        self.goal.publish(msg)

    def took(self, goal: Pose2) -> bool:
        """Whether perception's latest goal is ``goal`` (odom), seen from the robot's latest
        state. Perception republishes the goal it holds with every state, so any message after
        the publish may still be the previous goal: only a match says the new one arrived."""
        taken, state = self.latest.get("taken"), self.latest.get("state")
        if taken is None or state is None:
            return False
        ahead, left, _ = compose(inverse(self.pose("state")), goal)
        position = taken.pose.position
        return math.hypot(position.x - ahead, position.y - left) < TAKEN_TOLERANCE

    def close(self) -> None:
        self.node.destroy_node()
        self._rclpy.try_shutdown()


def _scenario_goal(sender: _GoalSender, seed: int | None, timeout: float) -> Pose2 | str:
    """The running scenario's goal in odom, or why there is none."""
    if not sender.spin_until(lambda: "scenario" in sender.latest, timeout):
        return "no fw/sim/scenario: is a simulated robot running on this ROS domain/namespace?"
    scenario = json.loads(sender.latest["scenario"].data)
    if seed is not None and scenario.get("seed") != seed:
        return (
            f"the simulator runs scenario seed {scenario.get('seed')}, not {seed}: start the "
            f"robot with --seed {seed}, or send --scenario"
        )
    if not sender.fresh(("truth", "state"), timeout):
        return "no fw/sim/ground_truth and fw/perception/state from the robot"
    goal = scenario["goal"]
    return goal_in_odom(sender.pose("state"), sender.pose("truth"), (goal["x"], goal["y"]))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from_scenario = args.scenario or args.seed is not None
    if from_scenario == (args.x is not None):
        parser.print_usage(sys.stderr)
        print("give either x y, or --scenario / --seed SEED", file=sys.stderr)
        return EXIT_USAGE
    if args.x is not None and args.y is None:
        parser.print_usage(sys.stderr)
        print("a goal needs both x and y", file=sys.stderr)
        return EXIT_USAGE

    sender = _GoalSender(args.namespace)
    try:
        if from_scenario:
            goal = _scenario_goal(sender, args.seed, args.timeout)
            if isinstance(goal, str):
                print(goal, file=sys.stderr)
                return EXIT_NOT_TAKEN
        else:
            goal = (args.x, args.y, 0.0)
        if not sender.spin_until(lambda: sender.goal.get_subscription_count() > 0, args.timeout):
            print(
                "nobody subscribes to goal_pose: is the robot running on this ROS_DOMAIN_ID, "
                "in this namespace?",
                file=sys.stderr,
            )
            return EXIT_NOT_TAKEN
        sender.publish(goal)
        if not sender.spin_until(lambda: sender.took(goal), args.timeout):
            print("the robot's perception did not take the goal (fw/perception/goal)")
            return EXIT_NOT_TAKEN
        taken = sender.latest["taken"].pose.position
        print(
            f"goal x={goal[0]:.2f} y={goal[1]:.2f} (odom) taken: "
            f"{math.hypot(taken.x, taken.y):.2f} m from the robot"
        )
        return 0
    finally:
        sender.close()


if __name__ == "__main__":
    sys.exit(main())
