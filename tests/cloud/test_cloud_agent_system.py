"""End to end: a simulated robot follows its release channel through fw_cloud_agent.

One bringup process runs the simulated Husky, perception, policy, safety, the actuator bridge
and the cloud agent, which follows ``fleet/canary`` in a folder store holding a real TUF
repository. The test publishes releases the way an operator does and watches what the robot
runs (``fw/policy/info``), what the agent says (``fw/cloud_agent/status`` and ``events``) and
what it wrote to the store (``robots/<id>/status.json``, and the episodes the recorder wrote
around the interventions, sent by the agent's uploader); then restarts the robot.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped
from std_msgs.msg import String

from cloud_bridge.store import LocalStore
from fw_common import qos, topics
from fw_common.profile import SimConfig
from fw_sim.scenario import distance_to_obstacles, generate_scenario
from support.probe import MessageLog
from support.release_repo import RepoUnderTest, make_models

pytestmark = pytest.mark.system

#: A scenario whose start pose faces an obstacle about 2.8 m ahead (checked below).
SEED = 6
POLL_S = 2.0
DEFER_S = 4.0
NODES = "sim,perception,policy,safety,actuator_bridge,recorder,cloud_agent"


def obstacle_ahead(seed: int) -> float | None:
    """Distance (m) to the first obstacle within the robot's corridor straight ahead."""
    scenario = generate_scenario(SimConfig().scenario, seed)
    start = scenario.start
    ahead = np.arange(0.5, 8.0, 0.05)
    points = np.stack(
        [start.x + ahead * math.cos(start.yaw), start.y + ahead * math.sin(start.yaw)], axis=1
    )
    hits = np.nonzero(distance_to_obstacles(points, scenario.obstacles) < 0.3)[0]
    return None if len(hits) == 0 else float(ahead[hits[0]])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json(log: MessageLog[String]) -> dict[str, Any]:
    msg = log.latest()
    assert msg is not None
    return dict(json.loads(msg.data))


def test_the_robot_swaps_a_published_release_and_rolls_back_a_bad_one(
    start_robot, probe, tmp_path: Path
) -> None:
    assert 1.5 < (obstacle_ahead(SEED) or 0.0) < 4.0, "the scenario no longer faces an obstacle"
    models = make_models(tmp_path / "models")
    store = LocalStore(tmp_path / "store")
    repo = RepoUnderTest.create(store, tmp_path / "operator")
    info: MessageLog[String] = probe.subscribe(String, topics.POLICY_INFO, qos.LATCHED)
    status: MessageLog[String] = probe.subscribe(String, topics.CLOUD_AGENT_STATUS, qos.LATCHED)
    events: MessageLog[DiagnosticStatus] = probe.subscribe(
        DiagnosticStatus, topics.CLOUD_AGENT_EVENTS, qos.EVENT
    )
    safety: MessageLog[DiagnosticStatus] = probe.subscribe(
        DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT
    )
    sets = [
        "sim.real_time_factor=2.0",
        f"cloud_agent.store_url={store.root}",
        f"cloud_agent.trusted_root={repo.root}",
        f"cloud_agent.cache_dir={tmp_path / 'agent'}",
        "cloud_agent.fleet=fleet",
        "cloud_agent.channel=canary",
        f"cloud_agent.poll_period={POLL_S}",
        f"cloud_agent.defer_timeout={DEFER_S}",
        "cloud_agent.rollback_window=20.0",
        "cloud_agent.rollback_min_events=2",
        "cloud_agent.rollback_margin=3.0",
    ]
    # The agent uploads from the recorder's spool (start_robot puts it in tmp_path/spool).
    robot = start_robot(seed=SEED, nodes=NODES, sets=sets)
    assert status.wait_for(lambda m: json.loads(m.data).get("problem"), timeout=60), (
        "no status from the agent:\n" + robot.output()[-3000:]
    )
    assert "no signed channel" in _json(status)["problem"]
    assert info.wait_for(lambda m: json.loads(m.data)["kind"] == "classic", timeout=30)

    # A publish: the robot runs it within one poll (plus the model's load in the policy).
    repo.publish("r1", models["still"], channel=("fleet", "canary"))
    published = time.monotonic()
    r1 = sha256(models["still"])
    assert info.wait_for(lambda m: json.loads(m.data).get("model_sha256") == r1, timeout=20), (
        _json(status)
    )
    swap_s = time.monotonic() - published
    assert swap_s < POLL_S + 3.0, f"swap took {swap_s:.1f} s with a {POLL_S} s poll"
    assert _json(info)["kind"] == "onnx" and _json(info)["model_version"] == "still-v1"
    assert status.wait_for(lambda m: json.loads(m.data)["active"] == "r1", timeout=10)
    time.sleep(3.0)  # r1 drives a while (standing still: no interventions): the baseline

    # A goal far ahead: the robot has a task, so the next swap waits (up to DEFER_S).
    goal = PoseStamped()
    goal.header.frame_id = "odom"
    goal.pose.position.x, goal.pose.orientation.w = 8.0, 1.0
    goal_pub = probe.publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
    goal_pub.publish(goal)
    time.sleep(1.0)

    # A bad release: drives straight on whatever it sees, into the obstacle ahead.
    repo.publish("r2", models["ram"], channel=("fleet", "canary"), parent="r1")
    r2 = sha256(models["ram"])
    assert events.wait_for(
        lambda m: m.name == "cloud_agent/deferred" and "goal is active" in m.message, timeout=15
    ), [e.name for e in events.messages]
    deferred = time.monotonic()
    assert info.wait_for(lambda m: json.loads(m.data).get("model_sha256") == r2, timeout=20)
    assert time.monotonic() - deferred > DEFER_S - 1.0, "the swap did not wait for the goal"
    assert events.wait_for(
        lambda m: (
            m.name == "cloud_agent/swapped"
            and "now running r2" in m.message
            and "swapping although a goal is active" in m.message
        ),
        timeout=5,
    ), [m.message for m in events.messages]

    # Safety intervenes; the agent rolls r2 back on its own: the robot is back on r1.
    assert events.wait_for(lambda m: m.name == "cloud_agent/rollback", timeout=30), (
        [(m.name, m.message) for m in events.messages],
        [m.name for m in safety.messages],
    )
    (rollback,) = [m for m in events.messages if m.name == "cloud_agent/rollback"]
    assert "safety interventions" in rollback.message and "r2" in rollback.message
    assert any(m.name.startswith("safety/") for m in safety.messages)
    assert info.wait_for(lambda m: json.loads(m.data).get("model_sha256") == r1, timeout=15)
    assert status.wait_for(
        lambda m: (
            json.loads(m.data)["active"] == "r1" and "r2" in json.loads(m.data)["rolled_back"]
        ),
        timeout=5,
    ), _json(status)
    # ...and says so in the store, and does not reinstall r2 though the channel names it.
    time.sleep(POLL_S * 2)
    in_store = json.loads(store.get_bytes("robots/sim_husky/status.json")[0])
    assert in_store["active"] == "r1" and "r2" in in_store["rolled_back"]
    assert in_store["channel_release"] == "r2"
    assert _json(info)["model_sha256"] == r1
    assert any(m.name == "cloud_agent/not_reinstalled" for m in events.messages)
    # A release for another observation spec is refused with the reason; r1 keeps driving.
    repo.publish("r3", models["other_spec"], channel=("fleet", "canary"))
    assert events.wait_for(lambda m: m.name == "cloud_agent/refused", timeout=15), [
        (m.name, m.message) for m in events.messages
    ]
    (refused,) = [m for m in events.messages if m.name == "cloud_agent/refused"]
    values = {kv.key: kv.value for kv in refused.values}
    assert values["release"] == "r3" and values["reason"] == "wrong_spec", values
    assert "observation spec" in refused.message
    assert status.wait_for(lambda m: "r3" in json.loads(m.data)["refused"], timeout=5)
    assert _json(info)["model_sha256"] == r1
    # The recorder wrote the episode around the interventions; the agent's uploader sent it.
    deadline = time.monotonic() + 30
    manifests: list[str] = []
    while not manifests and time.monotonic() < deadline:
        manifests = [
            o.key for o in store.list("episodes/sim_husky/") if o.key.endswith("manifest.json")
        ]
        time.sleep(0.5)
    assert manifests, _json(status)["uploads"]
    uploads = _json(status)["uploads"]
    assert uploads["robot_id"] == "sim_husky" and "queue_episodes" in uploads, uploads
    probe.node.destroy_publisher(goal_pub)
    robot.assert_clean_exit()

    # A restart (the whole robot): the policy comes up on its profile's model, the agent puts
    # r1 back from its state file, and r2 stays rolled back.
    info.clear()
    status.clear()
    restarted = start_robot(seed=SEED, nodes=NODES, sets=sets, name="robot_restarted")
    assert info.wait_for(lambda m: json.loads(m.data).get("model_sha256") == r1, timeout=60), (
        restarted.output()[-3000:]
    )
    assert status.wait_for(
        lambda m: (
            json.loads(m.data)["active"] == "r1" and "r2" in json.loads(m.data)["rolled_back"]
        ),
        timeout=10,
    )
    # The restore happens before a subscriber can join: its event is in the node's log.
    deadline = time.monotonic() + 10
    while "restored r1: release restored" not in restarted.output():
        assert time.monotonic() < deadline, restarted.output()[-3000:]
        time.sleep(0.2)
    restarted.assert_clean_exit()
