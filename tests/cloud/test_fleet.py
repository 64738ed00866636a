"""``flywheel fleet``: a fleet of simulated robots on one host, and the parts it is built from.

The system test runs the real command: ``flywheel fleet up --robots 3`` against a real S3
server (moto's, on 127.0.0.1), each robot with its cloud agent. A person takes over each robot
in turn through its teleop topic; only that robot's ``cmd_vel`` moves, every ``cmd_vel`` is
published by its own robot's nodes only, each robot's take-over episode reaches the store
under ``episodes/<robot_id>/`` and holds only its own namespace's topics, ``fleet status``
shows each robot from the status object its agent writes, and ``fleet down`` stops every
process with SIGINT, exit status 0, leaving no Fast DDS shared-memory file behind.

The other tests drive the fleet's parts with plain processes: the command lines, the state
file, the keeper's exit status, the SIGINT → SIGTERM → SIGKILL escalation, and status objects
that are stale, hostile or corrupt.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.fleet import (
    AgentOptions,
    FleetError,
    FleetState,
    RobotProcess,
    plan_fleet,
    read_fleet_status,
    robot_command,
    start_fleet,
    stop_fleet,
)
from cloud_bridge.fleet.processes import group_alive, group_members, process_start_ticks
from cloud_bridge.fleet.status import parse_status, status_key
from cloud_bridge.store import LocalStore, S3Store
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.moto_server import MotoServer
from support.shm import used_shm_paths

ROBOTS = ["robot_1", "robot_2", "robot_3"]


def _flywheel(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLYWHEEL, *args],
        env=flywheel_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _shm_paths_of(pids: list[int]) -> set[str]:
    """The Fast DDS files that ``pids`` map or hold open (segments with their lock files)."""
    paths = set()
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text(errors="replace").splitlines()
            fds = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        named = [line.split(None, 5)[5] for line in maps if len(line.split(None, 5)) == 6]
        found = [p.removesuffix(" (deleted)") for p in [*named, *fds]]
        paths |= {p for p in found if p.startswith("/dev/shm/") and "fastdds_" in p}
    return paths | {f"{p}_el" for p in paths if not p.endswith("_el")}


def _wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _recorder_subscribes(probe: Any, topic: str, namespace: str) -> bool:
    """True once ``namespace``'s recorder node subscribes to ``topic`` (as the probe sees it)."""
    subscriptions = probe.node.get_subscriptions_info_by_topic(topic)
    return any(s.node_name == "recorder" and s.node_namespace == namespace for s in subscriptions)


def _manifests(store: S3Store, robot_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every episode manifest ``robot_id`` uploaded, with its key."""
    keys = [i.key for i in store.list(f"episodes/{robot_id}/") if i.key.endswith("/manifest.json")]
    return [(key, json.loads(store.get_bytes(key)[0])) for key in keys]


def _episodes_seen(store: S3Store, state: FleetState | None, recorders: dict[str, Any]) -> str:
    """What each robot uploaded, its recorder's counters and its log's end, for a take-over
    episode that never came."""
    lines = []
    for ns, log in recorders.items():
        latest = log.latest()
        values = {kv.key: kv.value for kv in latest.status[0].values} if latest else {}
        counters = ("triggers", "episodes", "episode_open", "last_episode", "triggers_refused")
        shown = {k: values.get(k) for k in counters}
        lines.append(f"{ns}'s recorder: {shown}")
    for ns in ROBOTS:
        for key, manifest in _manifests(store, ns):
            recorder = manifest["recorder"]
            reasons = [t["reason"] for t in recorder.get("triggers", [])]
            lines.append(f"{key}: {recorder.get('status')}, triggers {reasons}")
    for robot in state.robots if state is not None else []:
        log = Path(robot.log_path).read_text(errors="replace").splitlines()
        log = [line for line in log if "]: recording /" not in line]  # one per recorded topic
        lines += [f"{robot.robot_id}'s log ends:", *log[-40:]]
    return "\n".join(lines)


# --- the fleet on one host ---------------------------------------------------------------------


@pytest.mark.system
def test_three_robots_on_one_host_stay_apart_and_upload_under_their_own_prefix(
    probe, moto_server: MotoServer, make_bucket, tmp_path: Path
) -> None:
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    from geometry_msgs.msg import TwistStamped

    from fw_common import qos, topics

    bucket = make_bucket(moto_server)
    store_url, endpoint = f"s3://{bucket}/fleet", moto_server.url
    store = S3Store(bucket, "fleet", endpoint_url=endpoint)
    keys = _flywheel(
        "keys", "init", "--out", str(tmp_path / "keys"), "--store", store_url,
        "--endpoint-url", endpoint,
    )  # fmt: skip
    assert keys.returncode == 0, keys.stderr
    run_dir = tmp_path / "run"
    up = _flywheel(
        "fleet", "up", "--robots", "3", "--seed-base", "4", "--run-dir", str(run_dir),
        "--store", store_url, "--endpoint-url", endpoint,
        "--trusted-root", str(tmp_path / "keys" / "root.json"), "--poll-period", "1",
        # Short episodes around each take-over. A take-over soon after the start can still fall
        # in the window of a start-up event (a stale scan) and is then merged into that episode.
        "--set", "recorder.pre_trigger_seconds=1.0", "--set", "recorder.post_trigger_seconds=0.5",
    )  # fmt: skip
    state = FleetState.load(run_dir)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert state is not None and [r.robot_id for r in state.robots] == ROBOTS
        assert [r.seed for r in state.robots] == [4, 5, 6]
        assert len({r.pgid for r in state.robots}) == 3, "robots share a process group"
        assert all(r.pgid != os.getpgid(0) for r in state.robots)

        commands = {ns: probe.subscribe(TwistStamped, f"/{ns}/{topics.CMD_VEL}", qos.COMMAND)
                    for ns in ROBOTS}  # fmt: skip
        teleop = {ns: probe.publisher(TwistStamped, f"/{ns}/{topics.TELEOP_CMD_VEL}", qos.COMMAND)
                  for ns in ROBOTS}  # fmt: skip
        events = {ns: probe.subscribe(DiagnosticStatus, f"/{ns}/{topics.SAFETY_EVENTS}", qos.EVENT)
                  for ns in ROBOTS}  # fmt: skip
        recorders = {ns: probe.subscribe(DiagnosticArray, f"/{ns}/{topics.RECORDER_STATUS}",
                                         qos.STATUS) for ns in ROBOTS}  # fmt: skip
        for ns in ROBOTS:
            assert probe.wait_for_subscribers(teleop[ns], timeout=60), f"{ns}'s safety not up"
            assert commands[ns].wait_for(lambda m: True, timeout=60), f"{ns} sends no cmd_vel"
            # Safety events are volatile: a take-over before the recorder listens is never
            # recorded, on a robot as here. Wait for the recorder and its events subscription.
            assert recorders[ns].wait_for(lambda m: True, timeout=60), f"{ns}'s recorder not up"
            events_topic = f"/{ns}/{topics.SAFETY_EVENTS}"
            _wait(lambda t=events_topic, ns=ns: _recorder_subscribes(probe, t, f"/{ns}"), 30,
                  f"{ns}'s recorder to subscribe to its safety events")  # fmt: skip

        # Cross-talk: each cmd_vel is published by its own robot's nodes only, none at the root.
        for ns in ROBOTS:
            assert probe.publisher_namespaces(f"/{ns}/{topics.CMD_VEL}") == {f"/{ns}"}
        assert probe.node.count_publishers(f"/{topics.CMD_VEL}") == 0

        def turning(ns: str, since: float) -> bool:
            return any(abs(m.twist.angular.z) > 0.2 for m in commands[ns].since(since))

        def still(ns: str) -> bool:
            latest = commands[ns].latest()
            return latest is not None and abs(latest.twist.angular.z) < 0.05

        for ns in ROBOTS:  # a person takes over each robot in turn: it turns on the spot
            # The previous take-over's robot has let go (its teleop timed out, it has stopped).
            _wait(lambda: all(still(o) for o in ROBOTS), 10, "every robot to stand still")
            started = time.monotonic()
            deadline = started + 3.0
            while time.monotonic() < deadline:
                msg = TwistStamped()
                msg.header.frame_id = "base_link"
                msg.header.stamp = probe.node.get_clock().now().to_msg()
                msg.twist.angular.z = -0.6
                teleop[ns].publish(msg)
                time.sleep(0.05)
            assert turning(ns, started), f"{ns} did not follow its teleop"
            took_over = events[ns].wait_for(lambda m: m.name.endswith("/teleop_override"), 5)
            assert took_over, f"{ns}'s safety announced no take-over"
            others = [o for o in ROBOTS if o != ns and turning(o, started)]
            assert not others, f"teleop of {ns} moved {others}"

        # Each robot's take-over episode, under its own prefix, with its own topics only.
        def takeover_episodes() -> dict[str, dict[str, Any]] | None:
            found = {}
            for ns in ROBOTS:
                for key, manifest in _manifests(store, ns):
                    # The take-over opened the episode or was merged into an open one.
                    triggers = manifest["recorder"]["triggers"]  # the recorder's manifest
                    if any("teleop_override" in t["reason"] for t in triggers):
                        found[ns] = {**manifest, "key": key}
            return found if len(found) == len(ROBOTS) else None

        try:
            episodes = _wait(takeover_episodes, 45, "every robot's take-over episode in the store")
        except AssertionError as timed_out:
            seen = _episodes_seen(store, state, recorders)
            raise AssertionError(f"{timed_out}\n{seen}") from None
        from mcap.reader import make_reader

        for ns, manifest in episodes.items():
            assert manifest["recorder"]["robot_id"] == ns
            prefix = manifest["key"].rsplit("/", 1)[0]
            bag = tmp_path / f"{ns}.mcap"
            store.download_file(f"{prefix}/bag/bag.mcap", bag)
            with bag.open("rb") as f:
                summary = make_reader(f).get_summary()
            assert summary is not None
            recorded = {c.topic for c in summary.channels.values()}
            assert f"/{ns}/{topics.CMD_VEL}" in recorded and f"/{ns}/scan" in recorded
            foreign = sorted(t for t in recorded if not t.startswith(f"/{ns}/"))
            assert not foreign, f"{ns} recorded topics outside its namespace: {foreign}"
        keys_by_robot = {ns: [i.key for i in store.list(f"episodes/{ns}/")] for ns in ROBOTS}
        for ns, keys_of in keys_by_robot.items():
            names = {k.split("/")[2] for k in keys_of}
            assert names and all(name.startswith(f"{ns}_") for name in names), names

        # fleet status: every robot, from its agent's status object, fresh, its queue drained.
        def statuses() -> list[dict[str, Any]] | None:
            shown = _flywheel("fleet", "status", "--store", store_url, "--endpoint-url",
                              endpoint, "--stale-after", "30", "--json")  # fmt: skip
            assert shown.returncode == 0, shown.stderr
            rows = [json.loads(line) for line in shown.stdout.splitlines()]
            done = all(r["uploaded_episodes"] and r["queue_episodes"] == 0 for r in rows)
            return rows if len(rows) == 3 and done else None

        rows = _wait(statuses, 20, "every agent to report its uploads")
        assert [r["robot_id"] for r in rows] == ROBOTS
        for row in rows:
            assert not row["stale"] and row["channel"] == "stable" and row["fleet"] == "default"
            assert row["last_upload"] is not None and row["release"] is None
        table = _flywheel("fleet", "status", "--store", store_url, "--endpoint-url", endpoint)
        assert all(ns in table.stdout for ns in ROBOTS) and "STALE" not in table.stdout
        pids = [pid for r in state.robots for pid in group_members(r.pgid) or []]
        fleet_shm = _shm_paths_of(pids)
        assert fleet_shm, "the robots map no Fast DDS segment: is shared memory off?"
    finally:
        down = _flywheel("fleet", "down", "--run-dir", str(run_dir), timeout=90)
    assert down.returncode == 0, down.stdout + down.stderr
    for ns in ROBOTS:
        assert f"{ns}: stopped by SIGINT, exit status 0" in down.stdout, down.stdout
    assert state is not None and not any(group_alive(r) for r in state.robots)
    assert FleetState.load(run_dir) is None
    # No shared-memory file of the fleet's is left, but those another process still uses
    # (a port segment the probe shares, say).
    used = used_shm_paths()
    left = {p for p in fleet_shm if Path(p).exists() and p.removesuffix("_el") not in used
            and f"{p.removesuffix('_el')}_el" not in used}  # fmt: skip
    assert not left, f"the fleet left Fast DDS files behind: {sorted(left)}"
    # Robots stopped long ago write no status any more: status says they are stale.
    rows = read_fleet_status(store, stale_after=30, now=time.time() + 60)
    assert [r.robot_id for r in rows] == ROBOTS and all(r.stale for r in rows)


# --- the parts ---------------------------------------------------------------------------------


def test_plan_names_seeds_and_refusals(tmp_path: Path) -> None:
    robots = plan_fleet(3, tmp_path, namespace_prefix="husky_", seed_base=10)
    assert [(r.robot_id, r.namespace, r.seed) for r in robots] == [
        ("husky_1", "husky_1", 10), ("husky_2", "husky_2", 11), ("husky_3", "husky_3", 12),
    ]  # fmt: skip
    assert len({r.folder for r in robots}) == 3
    for bad in (0, -1, 65):
        with pytest.raises(FleetError, match="--robots"):
            plan_fleet(bad, tmp_path)
    for prefix in ("", "1robot", "robot/", "../x", "robot-"):
        with pytest.raises(FleetError, match="namespace-prefix"):
            plan_fleet(2, tmp_path, namespace_prefix=prefix)


def test_robot_command_runs_the_bringup_headless_in_its_namespace_with_its_agent(
    tmp_path: Path,
) -> None:
    (robot,) = plan_fleet(1, tmp_path, seed_base=7)
    plain = robot_command(robot, python="python3")
    assert plain[:3] == ["python3", "-m", "fw_bringup.main"]
    sets = [plain[i + 1] for i, a in enumerate(plain) if a == "--set"]
    assert "sim.gui=false" in sets and not any(s.startswith("cloud_agent.") for s in sets)
    assert plain[plain.index("--namespace") + 1] == "robot_1"
    assert plain[plain.index("--seed") + 1] == "7"

    agent = AgentOptions("s3://fleet/a b#c", tmp_path / "root.json", endpoint_url="http://m:9")
    full = robot_command(robot, agent=agent, sets=["sim.real_time_factor=2.0"])
    sets = [full[i + 1] for i, a in enumerate(full) if a == "--set"]
    # Values are quoted for the YAML parser of --set: a '#' is not a comment.
    assert 'cloud_agent.store_url="s3://fleet/a b#c"' in sets
    assert 'cloud_agent.store_endpoint_url="http://m:9"' in sets
    assert f'cloud_agent.cache_dir="{robot.agent_dir}"' in sets
    assert sets[-1] == "sim.real_time_factor=2.0", "the user's overrides come last"


def _sleeper(handler: str = "default") -> list[str]:
    """A stand-in robot: exits 0 on SIGINT, or ignores SIGINT (and SIGTERM) as told."""
    code = {
        "default": "import signal,sys,time\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(0))\n",
        "no_sigint": "import signal,time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n",
        "stubborn": "import signal,time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n",
    }[handler]
    return [sys.executable, "-c", code + "print('up', flush=True)\ntime.sleep(120)\n"]


def _wait_logged(state: FleetState) -> None:
    for robot in state.robots:
        _wait(lambda r=robot: "up" in Path(r.log_path).read_text(), 20, f"{robot.robot_id}")


def test_down_escalates_sigint_sigterm_sigkill_and_reports_exit_status(tmp_path: Path) -> None:
    robots = plan_fleet(3, tmp_path)
    handlers = ["default", "no_sigint", "stubborn"]
    state = start_fleet(
        [(r, _sleeper(h)) for r, h in zip(robots, handlers, strict=True)],
        tmp_path,
        env=flywheel_env(),
    )
    _wait_logged(state)
    assert FleetState.load(tmp_path) is not None
    with pytest.raises(FleetError, match="still runs"):
        start_fleet([(robots[0], _sleeper())], tmp_path, env=flywheel_env())
    exits = {e.robot_id: e for e in stop_fleet(state, sigint_timeout=2.0, sigterm_timeout=1.0)}
    assert (exits["robot_1"].stopped_by, exits["robot_1"].status) == ("SIGINT", 0)
    assert exits["robot_1"].clean
    assert (exits["robot_2"].stopped_by, exits["robot_2"].status) == ("SIGTERM", -signal.SIGTERM)
    # SIGKILL ends the keeper too: no status to report, and said so.
    assert (exits["robot_3"].stopped_by, exits["robot_3"].status) == ("SIGKILL", None)
    assert not any(e.clean for e in (exits["robot_2"], exits["robot_3"]))
    assert not any(group_alive(r) for r in state.robots)
    assert FleetState.load(tmp_path) is None


def test_down_never_signals_a_pid_that_now_belongs_to_another_process(tmp_path: Path) -> None:
    # An unrelated process that happens to hold the recorded pid (after a reboot, say): its
    # start time differs from the one recorded, so it is not the robot and is left alone.
    stranger = subprocess.Popen(_sleeper(), start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        ticks = process_start_ticks(stranger.pid)
        assert ticks is not None
        robot = RobotProcess(
            robot_id="robot_1", namespace="robot_1", seed=0, pid=stranger.pid,
            pgid=stranger.pid, start_ticks=ticks + 1, command=["x"],
            log_path=str(tmp_path / "log"), exit_file=str(tmp_path / "exit"), started_unix=0.0,
        )  # fmt: skip
        FleetState(tmp_path, [robot]).save()
        shown = _flywheel("fleet", "down", "--run-dir", str(tmp_path), "--sigint-timeout", "1")
        assert "robot_1: had already exited, killed, no status" in shown.stdout, shown.stdout
        assert stranger.poll() is None, "fleet down signalled a process that was not its robot"
    finally:
        stranger.kill()
        stranger.wait()


def test_a_robot_that_dies_at_start_fails_up_with_its_log(tmp_path: Path) -> None:
    # The real bringup, refusing a profile override: `up` must say so, not report a fleet.
    shown = _flywheel(
        "fleet", "up", "--robots", "2", "--run-dir", str(tmp_path), "--set", "sim.no_such=1",
        "--check-seconds", "20",
    )  # fmt: skip
    assert shown.returncode == 1, shown.stdout + shown.stderr
    # Whichever robot is refused first is reported; the other is stopped with it.
    assert re.search(r"robot_[12] exited \(status 2\)", shown.stderr), shown.stderr
    assert "no_such" in shown.stderr
    assert FleetState.load(tmp_path) is None, "the survivors were not stopped"


def test_store_without_a_trusted_root_is_refused_before_anything_starts(tmp_path: Path) -> None:
    shown = _flywheel("fleet", "up", "--robots", "1", "--run-dir", str(tmp_path),
                      "--store", str(tmp_path / "store"))  # fmt: skip
    assert shown.returncode == 2 and "--trusted-root" in shown.stderr
    assert not (tmp_path / "robots").exists()


def test_a_corrupt_state_file_is_never_acted_on(tmp_path: Path) -> None:
    (tmp_path / "fleet.json").write_text('{"version": 1, "robots": [{"pid": 1}]}')
    with pytest.raises(FleetError, match="not a fleet state file"):
        FleetState.load(tmp_path)
    shown = _flywheel("fleet", "down", "--run-dir", str(tmp_path))
    assert shown.returncode == 1 and "not touching it" in shown.stderr


def test_status_rows_from_status_objects_stale_hostile_and_corrupt(tmp_path: Path) -> None:
    store, now = LocalStore(tmp_path / "store"), 1_800_000_000.0
    agent_doc = {
        "robot_id": "robot_2", "fleet": "yard", "channel": "canary", "channel_release": "r2",
        "active": "r1", "problem": None, "last_contact": now - 5, "time": now - 2,
        "watching": {"release": "r1", "rate_per_min": 1.5},
        "uploads": {"queue_episodes": 2, "queue_bytes": 3_000_000, "uploaded_episodes": 7,
                    "last_upload_unix": now - 40, "last_contact_unix": now - 3},
    }  # fmt: skip
    store.put_bytes(status_key("robot_2"), json.dumps(agent_doc).encode())
    old = {**agent_doc, "robot_id": "robot_10", "time": now - 500}
    store.put_bytes(status_key("robot_10"), json.dumps(old).encode())
    store.put_bytes(status_key("robot_1"), b"{not json")
    liar = {"robot_id": "robot_2", "time": now, "uploads": {"queue_episodes": -3},
            "watching": {"rate_per_min": float("nan")}}  # fmt: skip
    store.put_bytes(status_key("robot_3"), json.dumps(liar).encode())
    store.put_bytes("robots/robot_4/other.json", b"{}")  # not a status object

    rows = {r.robot_id: r for r in read_fleet_status(store, stale_after=60, now=now)}
    assert list(rows) == ["robot_1", "robot_2", "robot_3", "robot_10"]
    good = rows["robot_2"]
    assert (good.release, good.fleet, good.channel, good.channel_release) == (
        "r1", "yard", "canary", "r2",
    )  # fmt: skip
    assert (good.queue_episodes, good.queue_bytes, good.uploaded_episodes) == (2, 3_000_000, 7)
    assert good.last_upload == now - 40 and good.last_contact == now - 3
    assert good.safety_events_per_min == 1.5 and not good.stale and good.problem is None
    assert rows["robot_10"].stale and rows["robot_10"].age(now) == 500
    assert rows["robot_1"].stale and "unreadable" in (rows["robot_1"].problem or "")
    liar_row = rows["robot_3"]
    assert liar_row.queue_episodes is None and liar_row.safety_events_per_min is None
    assert "says it is robot_2" in (liar_row.problem or "")
    assert "not a count" in (liar_row.problem or "") and "not a number" in (liar_row.problem or "")
    # A status with no time of its own falls back to the object's write time.
    row = parse_status("r", b"{}", written=now - 10, now=now, stale_after=5)
    assert row.stale and row.written == now - 10
    assert parse_status("r", b"[]", written=now, now=now, stale_after=5).problem
