"""Record the golden replay episodes in bags/ from the simulated robot (``make bags``).

Runs the Python bringup (sim, actuator_bridge, recorder in continuous mode) with a fixed
scenario seed, drives the robot with a scripted cmd_vel (an arc, a turn on the spot, a stop),
and copies the recorded bag into ``bags/<name>/`` (bag/ + manifest.json).

    python bags/record_golden.py            # writes bags/sim_seed3_drive
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 3
NAME = f"sim_seed{SEED}_drive"
TOPICS = ["joint_states", "odom", "cmd_vel", "imu", "scan", "fw/sim/scenario", "fw/joint_commands"]
#: (duration (s), linear (m/s), angular (rad/s))
SCRIPT = [(2.0, 0.4, 0.3), (1.5, 0.0, -0.8), (1.0, 0.5, 0.0), (0.5, 0.0, 0.0)]


def main() -> int:
    import rclpy
    from geometry_msgs.msg import TwistStamped
    from rclpy.node import Node

    from fw_common import qos

    repo = Path(__file__).resolve().parent.parent
    spool = Path(tempfile.mkdtemp(prefix="fw_golden_"))
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    env.setdefault("ROS_DOMAIN_ID", "198")
    sets = [
        f"recorder.spool_dir={spool}",
        "recorder.mode=continuous",
        "recorder.topics=" + json.dumps(TOPICS),
        "recorder.discovery_period=0.2",
        "recorder.min_free_mb=10.0",
        "recorder.critical_free_mb=5.0",
    ]
    args = [
        sys.executable,
        "-m",
        "fw_bringup.main",
        "--profile",
        "sim",
        "--seed",
        str(SEED),
        "--nodes",
        "sim,actuator_bridge,recorder",
    ]
    for item in sets:
        args += ["--set", item]
    robot = subprocess.Popen(args, env=env)
    os.environ.update(env)
    rclpy.init()
    node = Node("golden_driver")
    pub = node.create_publisher(TwistStamped, "/cmd_vel", qos.COMMAND)
    deadline = time.monotonic() + 60
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3.0)  # the recorder discovers every topic
    for duration, linear, angular in SCRIPT:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            msg = TwistStamped()
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.header.frame_id = "base_link"
            msg.twist.linear.x, msg.twist.angular.z = linear, angular
            pub.publish(msg)
            time.sleep(0.05)
    node.destroy_node()
    rclpy.try_shutdown()
    robot.send_signal(signal.SIGINT)
    robot.wait(30)
    (episode,) = list((spool / "ready").iterdir())
    target = repo / "bags" / NAME
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(episode, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["golden"] = {"seed": SEED, "script": SCRIPT, "command": "make bags"}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    shutil.rmtree(spool, ignore_errors=True)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"wrote {target} ({size / 1e3:.0f} kB, {manifest['message_count']} messages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
