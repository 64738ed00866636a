"""A stand-alone command source for tests: publishes a constant TwistStamped at a fixed rate.

Run as a separate process so a test can kill it (a command source dying mid-drive).

    python cmd_vel_publisher.py --topic /cmd_vel --linear 0.5 --angular 0.0 --rate 20
"""

from __future__ import annotations

import argparse

import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, ReliabilityPolicy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", default="/cmd_vel")
    parser.add_argument("--linear", type=float, default=0.0)
    parser.add_argument("--angular", type=float, default=0.0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    rclpy.init()
    node = rclpy.create_node("test_cmd_vel_publisher")
    publisher = node.create_publisher(
        TwistStamped, args.topic, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    )

    def publish() -> None:
        msg = TwistStamped()
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.header.frame_id = "base_link"
        msg.twist.linear.x = args.linear
        msg.twist.angular.z = args.angular
        publisher.publish(msg)

    node.create_timer(1.0 / args.rate, publish)
    print("publishing", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
