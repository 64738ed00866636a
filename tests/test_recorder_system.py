"""fw_recorder as a real process over DDS: triggers, metadata, QoS matching, kill -9 recovery."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rosbags.highlevel import AnyReader
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from std_srvs.srv import Trigger

from fw_common import qos
from support.processes import executable

pytestmark = pytest.mark.system


def _recorder_args(spool: Path, *extra: str) -> list[str]:
    args = [
        executable("fw_recorder", "recorder"),
        "--ros-args",
        "-p",
        f"spool_dir:={spool}",
        "-p",
        "min_free_mb:=1.0",
        "-p",
        "critical_free_mb:=0.5",
        "-p",
        "pre_trigger_seconds:=2.0",
        "-p",
        "post_trigger_seconds:=1.0",
        "-p",
        "discovery_period:=0.2",
        "-p",
        'topics:=["fw/test/data", "fw/sim/scenario", "fw/policy/info", "fw/safety/events"]',
    ]
    for item in extra:
        args += ["-p", item]
    return args


def _wait_ready(spool: Path, count: int, timeout: float = 30.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = sorted((spool / "ready").glob("*")) if (spool / "ready").is_dir() else []
        if len(ready) >= count:
            return ready
        time.sleep(0.1)
    return sorted((spool / "ready").glob("*")) if (spool / "ready").is_dir() else []


def _messages(episode: Path) -> list[tuple[str, object]]:
    with AnyReader([episode / "bag"]) as reader:
        return [(c.topic, reader.deserialize(raw, c.msgtype)) for c, _, raw in reader.messages()]


def _assert_clean_exit(process, shared: bool = False) -> None:
    """Exit 0, no traceback, and no [FATAL] line (a timer or callback that failed at
    shutdown). In a ``shared`` robot process, other nodes answer for their own lines: only
    those that name the recorder count."""
    process.assert_clean_exit()
    fatal = [line for line in process.output().splitlines() if "[FATAL]" in line]
    if shared:
        fatal = [line for line in fatal if "recorder" in line or "_discover" in line]
    assert not fatal, f"{process.name} logged at shutdown: {fatal}"


def _status(log) -> dict[str, str] | None:
    msg = log.latest()
    return {kv.key: kv.value for kv in msg.status[0].values} if msg else None


def test_triggers_write_episodes_with_metadata(launch, probe, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    scenario = probe.publisher(String, "/fw/sim/scenario", qos.LATCHED)
    scenario.publish(String(data=json.dumps({"seed": 1234, "goal": [1, 2]})))
    policy = probe.publisher(String, "/fw/policy/info", qos.LATCHED)
    policy.publish(String(data=json.dumps({"version": "classic-v1"})))
    # A best-effort publisher that appears only after the recorder started.
    recorder = launch(_recorder_args(spool), name="recorder")
    status = probe.subscribe(DiagnosticArray, "/fw/recorder/status", qos.STATUS)
    assert status.wait_for(lambda m: True, timeout=30), recorder.output()[-2000:]
    data = probe.publisher(JointState, "/fw/test/data", qos.SENSOR)
    events = probe.publisher(DiagnosticStatus, "/fw/safety/events", qos.EVENT)
    assert recorder.wait_for_output("recording /fw/test/data", 30), recorder.output()[-2000:]
    assert recorder.wait_for_output("best_effort", 5)

    def publish_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            data.publish(JointState(name=["w"], position=[time.monotonic()]))
            time.sleep(0.02)

    publish_for(2.5)
    response = probe.call(Trigger, "/fw/recorder/trigger", Trigger.Request())
    assert response.success, response.message
    publish_for(2.0)
    (first,) = _wait_ready(spool, 1)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["trigger"]["kind"] == "service"
    assert manifest["scenario_seed"] == 1234 and manifest["policy_version"] == "classic-v1"
    assert manifest["status"] == "complete"
    msgs = _messages(first)
    topics = [t for t, _ in msgs]
    assert topics.count("/fw/test/data") >= 50  # ~3 s at 50 Hz, loaded machine tolerated
    assert "/fw/sim/scenario" in topics  # latched state opens every episode

    # A WARN safety event triggers; an OK one does not.
    events.publish(DiagnosticStatus(level=DiagnosticStatus.OK, name="fine", message="x"))
    publish_for(0.5)
    events.publish(
        DiagnosticStatus(level=DiagnosticStatus.WARN, name="stop_zone", message="obstacle 0.3 m")
    )
    publish_for(2.0)
    ready = _wait_ready(spool, 2)
    assert len(ready) == 2
    second = json.loads((ready[1] / "manifest.json").read_text())
    assert second["trigger"]["kind"] == "safety_event"
    assert "stop_zone" in second["trigger"]["reason"]

    # A new policy is a trigger too.
    policy.publish(String(data=json.dumps({"version": "onnx-v2"})))
    publish_for(2.0)
    ready = _wait_ready(spool, 3)
    third = json.loads((ready[2] / "manifest.json").read_text())
    assert third["trigger"]["kind"] == "policy_change"
    assert third["policy_version"] == "onnx-v2"
    s = _status(status)
    assert s is not None and int(s["episodes"]) >= 3

    # A flapping sensor: the same event every 1.6 s, each beyond the last one's post-window.
    # One incident, one episode; the repeats are counted, not recorded again.
    for i in range(4):
        events.publish(
            DiagnosticStatus(level=DiagnosticStatus.WARN, name="stale_inputs", message=f"#{i}")
        )
        publish_for(1.6)
    ready = _wait_ready(spool, 4)
    publish_for(1.0)
    assert len(_wait_ready(spool, 5, timeout=1.0)) == 4
    fourth = json.loads((ready[3] / "manifest.json").read_text())
    assert fourth["trigger"]["reason"] == "[WARN] stale_inputs: #0"
    assert status.wait_for(
        lambda m: {kv.key: kv.value for kv in m.status[0].values}["triggers_rate_limited"] == "3",
        timeout=5,
    )
    _assert_clean_exit(recorder)
    assert not list((spool / "incomplete").iterdir())


def test_kill_9_during_write_is_recovered_never_complete(
    launch, probe, ros_env, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    env = {**ros_env, "FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"}
    args = _recorder_args(spool, "mode:=continuous", "split_max_seconds:=3600.0")
    recorder = launch(args, name="recorder_killed", env=env)
    data = probe.publisher(JointState, "/fw/test/data", qos.SENSOR)
    assert recorder.wait_for_output("recording /fw/test/data", 30), recorder.output()[-2000:]
    end = time.monotonic() + 4.0
    sent = 0
    while time.monotonic() < end:
        data.publish(JointState(name=["w"], position=[float(sent)], velocity=[0.0] * 200))
        sent += 1
        time.sleep(0.005)
    recorder.kill()  # SIGKILL while the continuous bag is open
    (partial,) = list((spool / "incomplete").iterdir())
    assert json.loads((partial / "manifest.json").read_text())["status"] == "recording"
    assert not list((spool / "ready").iterdir())

    restarted = launch(args, name="recorder_restarted", env=env)
    assert restarted.wait_for_output("recovered", 30), restarted.output()[-2000:]
    ready = _wait_ready(spool, 1)
    recovered = [
        p for p in ready if json.loads((p / "manifest.json").read_text())["status"] == "recovered"
    ]
    assert len(recovered) == 1
    manifest = json.loads((recovered[0] / "manifest.json").read_text())
    assert manifest["complete"] is False
    positions = [m.position[0] for t, m in _messages(recovered[0]) if t == "/fw/test/data"]
    assert len(positions) > 0.3 * sent  # flushed every second: at most ~1 s is lost
    assert positions == sorted(positions)
    _assert_clean_exit(restarted)
    assert os.path.isdir(spool / "quarantine")


def test_two_robots_on_one_host_record_only_their_own_namespace(
    start_robot, probe, tmp_path: Path
) -> None:
    robots = {}
    for ns, seed in (("rec_1", 1), ("rec_2", 2)):
        robots[ns] = start_robot(
            namespace=ns,
            seed=seed,
            nodes="sim,actuator_bridge,perception,recorder",
            sets=[
                f"recorder.spool_dir={tmp_path / ns}",
                "recorder.discovery_period=0.2",
                "recorder.pre_trigger_seconds=1.0",
                "recorder.post_trigger_seconds=0.5",
            ],
        )
    for ns, robot in robots.items():
        line = f"recording /{ns}/fw/perception/scan"
        assert robot.wait_for_output(line, 60), robot.output()[-3000:]
    # Both robots' perception topics exist now; give discovery a few more rounds to pick up
    # whatever it would pick up.
    time.sleep(1.5)
    for ns in robots:
        response = probe.call(Trigger, f"/{ns}/fw/recorder/trigger", Trigger.Request())
        assert response.success, response.message
    for ns, robot in robots.items():
        (episode,) = _wait_ready(tmp_path / ns, 1)
        with AnyReader([episode / "bag"]) as reader:
            recorded = {c.topic for c in reader.connections}
        assert f"/{ns}/fw/perception/scan" in recorded and f"/{ns}/scan" in recorded
        foreign = sorted(t for t in recorded if not t.startswith(f"/{ns}/"))
        assert not foreign, f"{ns} recorded another namespace's topics: {foreign}"
        assert "recording /rec_" not in robot.output().replace(f"recording /{ns}/", "")
    for robot in robots.values():
        _assert_clean_exit(robot, shared=True)


def test_fresh_sim_episode_reads_with_rosbags_and_mcap(start_robot, probe, tmp_path: Path) -> None:
    """Every topic of a freshly recorded episode decodes with rosbags (strictly: no slack for
    stray bytes), and the mcap library reads the same messages, which rclpy decodes."""
    import datetime
    import importlib

    from mcap.reader import make_reader
    from rclpy.serialization import deserialize_message

    spool = tmp_path / "spool"
    robot = start_robot(
        seed=3,
        sets=[
            "recorder.discovery_period=0.2",
            "recorder.pre_trigger_seconds=2.0",
            "recorder.post_trigger_seconds=0.5",
        ],
    )
    assert robot.wait_for_output("recording /joint_states", 60), robot.output()[-3000:]
    assert robot.wait_for_output("recording /fw/perception/state", 30), robot.output()[-3000:]
    time.sleep(2.5)
    response = probe.call(Trigger, "/fw/recorder/trigger", Trigger.Request())
    assert response.success, response.message
    (episode,) = _wait_ready(spool, 1)
    _assert_clean_exit(robot, shared=True)

    by_rosbags: dict[str, list[bytes]] = {}
    with AnyReader([episode / "bag"]) as reader:
        typestore = reader.typestore
        for conn, _, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)  # raises on any stray byte
            by_rosbags.setdefault(conn.topic, []).append(bytes(raw))
            if conn.topic == "/joint_states":  # canonical bytes: zero padding, no tail
                assert bytes(typestore.serialize_cdr(msg, conn.msgtype)) == bytes(raw)
    expected = {"/scan", "/imu", "/joint_states", "/odom", "/cmd_vel", "/fw/perception/scan"}
    assert expected <= set(by_rosbags), sorted(by_rosbags)

    (mcap_file,) = (episode / "bag").glob("*.mcap")
    by_mcap: dict[str, list[bytes]] = {}
    with open(mcap_file, "rb") as stream:
        for schema, channel, message in make_reader(stream).iter_messages():
            assert schema is not None and schema.encoding == "ros2msg"
            assert channel.message_encoding == "cdr"
            pkg, _, name = schema.name.partition("/msg/")
            cls = getattr(importlib.import_module(f"{pkg}.msg"), name)
            deserialize_message(message.data, cls)
            by_mcap.setdefault(channel.topic, []).append(bytes(message.data))
    assert by_mcap == by_rosbags

    manifest = json.loads((episode / "manifest.json").read_text())
    start = datetime.datetime.fromisoformat(manifest["start_utc"])
    age = datetime.datetime.now(datetime.timezone.utc) - start
    assert datetime.timedelta(0) < age < datetime.timedelta(minutes=2), manifest["start_utc"]


def test_timers_after_shutdown_end_quietly(tmp_path: Path) -> None:
    """SIGINT invalidates the context while the executor may still run a timer: the recorder's
    discovery and status timers must then return, not raise (the executor logs a raise as
    [FATAL] ... Exception in 'timers' callback)."""
    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter

    from fw_recorder.recorder_node import RecorderNode

    context = Context()
    rclpy.init(context=context)
    node = RecorderNode(
        context=context,
        parameter_overrides=[Parameter("spool_dir", value=str(tmp_path / "spool"))],
    )
    timers = [t.callback for t in node.timers]
    assert len(timers) == 2  # discovery and status
    try:
        for callback in timers:
            callback()
        rclpy.shutdown(context=context)  # what rclpy's SIGINT handler does
        for callback in timers:
            callback()
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)
