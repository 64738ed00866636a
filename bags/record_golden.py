"""Record the golden replay episodes in bags/ from the simulated robot (``make bags``).

Each episode runs the whole simulated robot in one bringup process (sim, actuator_bridge,
perception, policy ``classic``, safety, recorder in continuous mode) with a fixed scenario seed,
gives the scenario's goal on ``goal_pose`` in ``odom`` exactly as ``tests/test_policy_drive.py``'s
``Mission`` does, and copies the recorder's episode into ``bags/<name>/`` (bag/ + manifest.json).

* ``sim_seed3_drive``: seed 3, the classic policy drives to the scenario goal and stops there.
* ``sim_seed2_safety``: seed 2 (a box 2.5 m straight ahead of the start pose). The goal is given
  and, at the same moment, a person drives straight ahead on ``fw/teleop/cmd_vel`` (0.5 m/s):
  the safety layer reports the override, slows down in front of the box and stops in the stop
  zone; the teleop then lets go, and an e-stop is pressed and latched.

The bag is rewritten once, message for message (same raw CDR, receive times, connections, QoS
offers, message definitions and ``fw.*`` metadata), into an MCAP with zstd chunk compression
(what ``ros2 bag record --storage-preset-profile zstd_fast`` writes) so that bags/ stays small.

    python bags/record_golden.py                     # both episodes
    python bags/record_golden.py sim_seed2_safety    # one
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]

#: Everything the replay stages need as input and output.
TOPICS = [
    "clock",
    "scan",
    "imu",
    "joint_states",
    "odom",
    "goal_pose",
    "fw/perception/scan",
    "fw/perception/state",
    "fw/perception/goal",
    "fw/cmd_vel_raw",
    "fw/teleop/cmd_vel",
    "fw/estop",
    "cmd_vel",
    "fw/safety/events",
    "fw/safety/status",
    "fw/policy/info",
    "fw/sim/scenario",
]
NODES = "sim,actuator_bridge,perception,policy,safety,recorder"


def _start_robot(seed: int, spool: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    sets = [
        f"recorder.spool_dir={spool}",
        "recorder.mode=continuous",
        "recorder.topics=" + json.dumps(TOPICS),
        "recorder.discovery_period=0.2",
        "recorder.min_free_mb=10.0",
        "recorder.critical_free_mb=5.0",
        "policy.kind=classic",
    ]
    args = [sys.executable, "-m", "fw_bringup.main", "--profile", "sim", "--seed", str(seed)]
    args += ["--nodes", NODES]
    for item in sets:
        args += ["--set", item]
    return subprocess.Popen(args, env=env)


#: An episode's driver: ``setup(probe, mission)`` creates its publishers and subscriptions
#: (before the recorder's discovery wait, so the recording has every message they send) and
#: returns ``run()``, which drives the episode and returns details for the manifest.
Driver = Callable[[Any, Any], Callable[[], dict[str, Any]]]


def _drive_to_goal(probe: Any, mission: Any) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        goal = mission.send_scenario_goal()
        reached, collisions = mission.drive(goal, timeout=90.0)
        time.sleep(1.0)  # a few zero commands at the goal
        if not reached or collisions:
            raise SystemExit(f"golden drive failed: reached={reached} collisions={collisions}")
        return {"goal_world": goal, "reached": reached}

    return run


def _teleop_into_box_then_estop(probe: Any, mission: Any) -> Callable[[], dict[str, Any]]:
    from diagnostic_msgs.msg import DiagnosticStatus
    from geometry_msgs.msg import TwistStamped
    from rosgraph_msgs.msg import Clock
    from std_msgs.msg import Bool

    from fw_common import qos, topics

    clock = probe.subscribe(Clock, topics.CLOCK, qos.SENSOR)
    events = probe.subscribe(DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT)
    teleop = probe.publisher(TwistStamped, topics.TELEOP_CMD_VEL, qos.COMMAND)
    estop = probe.publisher(Bool, topics.ESTOP, qos.LATCHED)
    assert probe.wait_for_subscribers(teleop, 1, timeout=30), "safety does not listen to teleop"

    def send(linear: float) -> None:
        msg = TwistStamped()
        now = clock.latest()
        if now is not None:
            msg.header.stamp = now.clock  # sim time, as a teleop node on use_sim_time stamps
        msg.header.frame_id = "base_link"
        msg.twist.linear.x = linear
        teleop.publish(msg)

    def kinds() -> list[str]:
        return [m.name.removeprefix("safety/") for m in events.messages]

    def run() -> dict[str, Any]:
        mission.send_scenario_goal()
        deadline = time.monotonic() + 30.0
        while "stop_zone" not in kinds() and time.monotonic() < deadline:
            send(0.5)
            time.sleep(0.05)
        if "stop_zone" not in kinds():
            raise SystemExit(f"no stop_zone intervention; events: {kinds()}")
        for _ in range(20):  # keep pushing against the stop zone for 1 s
            send(0.5)
            time.sleep(0.05)
        time.sleep(1.5)  # teleop times out; the policy takes over again
        estop.publish(Bool(data=True))
        assert events.wait_for(lambda m: m.name == "safety/estop", timeout=10), kinds()
        time.sleep(1.0)
        return {"events": kinds()}

    return run


#: name → (seed, what the driver does, description for the manifest)
EPISODES: dict[str, tuple[int, Driver, str]] = {
    "sim_seed3_drive": (3, _drive_to_goal, "classic policy drives to the scenario goal"),
    "sim_seed2_safety": (
        2,
        _teleop_into_box_then_estop,
        "goal given; teleop 0.5 m/s straight into a box (override, slowdown, stop zone); "
        "teleop lets go; e-stop pressed",
    ),
}


def _compress(episode: Path, target: Path) -> None:
    """Rewrite ``episode``'s bag into ``target`` (MCAP, zstd chunks), message for message."""
    from rosbags.rosbag2 import Reader, Writer
    from rosbags.rosbag2.enums import CompressionFormat, CompressionMode, StoragePlugin

    source = episode / "bag"
    meta = yaml.safe_load((source / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    writer = Writer(target, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP)
    writer.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
    for key, value in (meta.get("custom_data") or {}).items():
        writer.set_custom_data(key, str(value))
    with Reader(source) as reader:
        writer.open()
        conns = {
            c.id: writer.add_connection(
                c.topic,
                c.msgtype,
                msgdef=c.msgdef.data,
                rihs01=c.digest,
                offered_qos_profiles=c.ext.offered_qos_profiles,
            )
            for c in reader.connections
        }
        for conn, t_ns, raw in reader.messages():
            writer.write(conns[conn.id], t_ns, raw)
        writer.close()


def record(name: str) -> Path:
    import rclpy  # noqa: F401  (fails early without a sourced workspace)
    from test_policy_drive import Mission

    from support.probe import RosProbe

    seed, driver, description = EPISODES[name]
    spool = Path(tempfile.mkdtemp(prefix="fw_golden_"))
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    env.setdefault("ROS_DOMAIN_ID", "198")
    os.environ.update(env)
    robot = _start_robot(seed, spool, env)
    probe = RosProbe("golden_driver")
    try:
        mission = Mission(probe)
        mission.wait_ready(seed)
        run = driver(probe, mission)
        time.sleep(3.0)  # the recorder discovers every topic
        details = run()
    finally:
        probe.close()
        robot.send_signal(signal.SIGINT)
        robot.wait(60)
    (episode,) = list((spool / "ready").iterdir())
    target = REPO / "bags" / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _compress(episode, target / "bag")
    manifest = json.loads((episode / "manifest.json").read_text())
    manifest["golden"] = {
        "seed": seed,
        "nodes": NODES,
        "topics": TOPICS,
        "episode": description,
        "command": f"make bags  (python bags/record_golden.py {name})",
        "storage": "mcap, zstd chunk compression (rewritten from the recorder's bag)",
        **details,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(spool, ignore_errors=True)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"wrote {target} ({size / 1e3:.0f} kB, {manifest['message_count']} messages)")
    return target


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(EPISODES)
    unknown = [n for n in names if n not in EPISODES]
    if unknown:
        print(f"unknown episode(s) {unknown}; known: {list(EPISODES)}", file=sys.stderr)
        return 2
    for name in names:
        record(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
