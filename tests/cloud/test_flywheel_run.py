"""``flywheel run`` end to end on a reduced budget, with the real fleet: two simulated robots,
each its own process group in its own namespace (the bringup, every node, the cloud agent, the
mission runner), over DDS, a real folder store, real training, evaluation and signing.

Asserted from what the run leaves behind, as an operator would read it: the release chain in
``releases.json`` (v1 canary, v2 canary then stable, the faulty release published without its
gate and rolled back), the swaps and the automatic rollback in the agents' own status objects
in the store and in the sampled timeline, every robot's episodes under its own prefix, v2's
held-out metrics and gate; a run interrupted with Ctrl-C while the fleet drives (the robots
stop with it) that the next run resumes; and a last run of the same command that finds every
stage done: all skipped, nothing signed again. The gate's own verdicts are tested in
test_evaluate_gate.py; here it is opened wide (``--max-regression 1 --max-collision 1``) so a
four-scenario evaluation cannot stop the chain.

The second test puts three robots on one host with one short expert-driven mission each, on an
S3 store (moto's server): no cross-talk (each recorded bag holds only its own namespace's
topics, each mission log only its own robot), and each robot's episodes under its own prefix.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloud_bridge.run.files import read_jsonl
from cloud_bridge.store import LocalStore, open_store
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.moto_server import MotoServer

pytestmark = pytest.mark.system

ROBOTS = ["robot_1", "robot_2"]
#: The CI budget: one short mission per robot per iteration, four held-out scenarios.
BUDGET = [
    "--robots", "2", "--iterations", "2", "--episodes-per-robot", "1", "--eval-scenarios", "4",
    "--epochs", "8", "--patience", "4", "--leaderboard-scenarios", "0", "--ppo-minutes", "0.05",
    "--mission-time-limit", "20", "--eval-time-limit", "20", "--real-time-factor", "3",
    "--max-regression", "1", "--max-collision", "1", "--fleet-timeout", "150",
]  # fmt: skip


def _run(run_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLYWHEEL, "run", "--run-dir", str(run_dir), *BUDGET],
        env=flywheel_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _stage(run_dir: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((run_dir / "stages" / f"{name}.json").read_text())
    return doc


def _interrupt_after(run_dir: Path, stage: str) -> subprocess.CompletedProcess[str]:
    """Start the run, and Ctrl-C it once ``stage`` has finished (as a person would)."""
    process = subprocess.Popen(
        [*FLYWHEEL, "run", "--run-dir", str(run_dir), *BUDGET],
        env=flywheel_env(COLUMNS="200"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (run_dir / "stages" / f"{stage}.json").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    # Popen.send_signal does nothing to a process that has ended: say so rather than find
    # a finished run. The time lets a failure be read against the stages' finish times.
    assert process.poll() is None, "the run ended before it could be interrupted"
    dispositions = " ".join(
        line.replace("\t", "")
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
        if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
    )
    process.send_signal(signal.SIGINT)
    sent = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    out, err = process.communicate(timeout=90)
    return subprocess.CompletedProcess(
        process.args, process.returncode, out, err + f"\nSIGINT {sent} ({dispositions})"
    )


def test_flywheel_run_closes_the_loop_on_a_fleet_and_resumes(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # Interrupted while the fleet drives iteration 1: the robots are stopped, and the drive
    # starts over on the next run (its log holds only the new attempt's missions).
    stopped = _interrupt_after(run_dir, "publish-0")
    assert stopped.returncode == 130, stopped.stdout[-3000:] + stopped.stderr[-3000:]
    assert "interrupted" in stopped.stdout + stopped.stderr
    assert not (run_dir / "fleet.json").exists(), "Ctrl-C left the fleet running"
    assert not (run_dir / "stages" / "drive-1.json").exists()
    first = _run(run_dir, timeout=600)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-6000:]
    store = LocalStore(run_dir / "store")

    # The release chain.
    chain = json.loads((run_dir / "releases.json").read_text())
    assert [(e["release"], e["channel"], e["action"]) for e in chain] == [
        ("v1", "canary", "publish"),
        ("v2", "canary", "publish"),
        ("v2", "stable", "promote"),
        ("faulty", "canary", "publish"),
        ("faulty", "canary", "rollback"),
    ]
    v1, v2 = chain[0], chain[1]
    assert v1["parent"] is None and v2["parent"] == "v1" and chain[3]["parent"] == "v2"
    assert v1["dataset_hash"] != v2["dataset_hash"], "v2 was not trained on the grown dataset"
    assert v1["gate"]["baseline"] == "classic" and v2["gate"]["baseline"] == "v1"
    assert chain[3]["faulty"] is True and "skipped" in chain[3]["gate"]
    assert not v1["faulty"] and not v2["faulty"]

    # The swaps and the rollback, in each agent's own status object and in the timeline.
    timeline, _ = read_jsonl(run_dir / "timeline.jsonl")
    for robot in ROBOTS:
        status = json.loads(store.get_bytes(f"robots/{robot}/status.json")[0])
        assert status["active"] == "v2", status
        assert "faulty" in status["rolled_back"], status
        assert "safety interventions" in status["rolled_back"]["faulty"]
        changes = [(r["event"], r["active"]) for r in timeline if r["robot_id"] == robot]
        swaps = [c for c in changes if c[0] in ("swap", "rollback")]
        assert swaps == [("swap", "v1"), ("swap", "v2"), ("swap", "faulty"), ("rollback", "v2")]
    faulty = _stage(run_dir, "faulty")["result"]
    assert sorted(faulty["rolled_back"]) == ROBOTS
    assert faulty["channel"] == {"canary": "v2", "withdrawn": "faulty"}

    # Episodes: every drive's, each robot's under its own prefix, driven as planned.
    for k, driver in ((0, "expert"), (1, "v1")):
        drive = _stage(run_dir, f"drive-{k}")["result"]
        assert drive["driver"] == driver and drive["episodes"] == len(ROBOTS)
        for robot in ROBOTS:
            mine = drive["robots"][robot]
            assert len(mine["episode_ids"]) == 1 and mine["releases"] == (
                ["classic"] if k == 0 else ["v1"]
            )
            (episode,) = mine["episode_ids"]
            manifest = json.loads(store.get_bytes(f"episodes/{robot}/{episode}/manifest.json")[0])
            assert manifest["robot_id"] == robot
    assert _stage(run_dir, "drive-0")["result"]["robots"]["robot_1"]["takeover_steps"] > 0
    uploads, _ = read_jsonl(run_dir / "uploads.jsonl")
    for robot in ROBOTS:
        mine = [u for u in uploads if u["robot_id"] == robot]
        assert mine and all(u["key"].startswith(f"episodes/{robot}/") for u in mine)
        assert sum(u["bytes"] for u in mine) > 0
        lines, _ = read_jsonl(run_dir / "robots" / robot / "mission.jsonl")
        assert {line.get("robot_id") for line in lines if "seed" in line} == {robot}
        done = [line for line in lines if line.get("done")]
        # Drives 0 and 1 ran their missions out; the faulty release's drive may end first.
        assert len(done) >= 2 and not any(d.get("error") for d in done[:2]), done
        driven_by = [line["release"] for line in lines if "seed" in line]
        assert driven_by[:2] == ["classic", "v1"] and driven_by[2] == "faulty", driven_by

    # The dataset grew incrementally; v2 was trained on both iterations and evaluated.
    # (An episode the interrupted drive uploaded is recorded driving too, and built.)
    assert _stage(run_dir, "dataset-1")["result"]["last_build"]["decoded"] >= len(ROBOTS)
    assert _stage(run_dir, "dataset-1")["result"]["last_build"]["unchanged"] == len(ROBOTS)
    summary = json.loads((run_dir / "train" / "v2" / "train_summary.json").read_text())
    assert summary["history"] and "val_loss" in summary["history"][0]
    # DAgger's round fine-tunes the release it improves on.
    assert summary["parent"] == str(run_dir / "train" / "v1" / "policy.pt")
    assert _stage(run_dir, "train-1")["result"]["parent"] == "v1"
    assert _stage(run_dir, "train-0")["result"]["parent"] is None
    held_out = json.loads((run_dir / "evaluate" / "v2.json").read_text())
    assert held_out["release"] == "v2" and len(held_out["episodes"]) == 4
    assert held_out["summary"]["success_rate"]["n"] == 4
    gate = json.loads((run_dir / "evaluate" / "gate-v2.json").read_text())
    assert gate["candidate"] == "v2" and gate["baseline"] == "v1" and gate["passed"]
    assert gate["config"]["max_success_regression"] == 1.0
    assert _stage(run_dir, "evaluate-1")["result"]["baseline_reused"] is True
    assert "flywheel run" in first.stdout and "faulty" in first.stdout

    # The PPO candidate: trained from v2 with the example reward, scored and gated like v2.
    ppo = _stage(run_dir, "ppo")["result"]
    assert ppo["parent"] == "v2" and ppo["reward"].endswith("reward_progress.py")
    assert ppo["timesteps"] > 0 and ppo["published"] is False
    assert ppo["candidate"] == "ppo" and ppo["baseline"] == "v2"
    assert len(json.loads((run_dir / "evaluate" / "ppo.json").read_text())["episodes"]) == 4

    # The report: every release's held-out results and the rollback are on the page.
    page = (run_dir / "report.html").read_text()
    for name in ("v1", "v2", "faulty", "ppo", "robot_1", "robot_2", v2["dataset_hash"][:12]):
        assert name in page, name

    # The same command again resumes: every stage recorded is skipped, nothing signed again.
    records = {p.name: p.read_bytes() for p in (run_dir / "stages").iterdir()}
    tuf = sorted(o.key for o in store.list("tuf/"))
    again = _run(run_dir, timeout=120)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert {p.name: p.read_bytes() for p in (run_dir / "stages").iterdir()} == records
    assert sorted(o.key for o in store.list("tuf/")) == tuf
    assert json.loads((run_dir / "releases.json").read_text()) == chain
    assert again.stdout.count("done before") == len(records), again.stdout
    assert not (run_dir / "fleet.json").exists(), "a fleet was left running"


def test_three_robots_on_one_host_drive_apart_and_upload_under_their_own_prefix(
    tmp_path: Path, moto_server: MotoServer, make_bucket: Callable[[MotoServer], str]
) -> None:
    from mcap.reader import make_reader
    from rich.console import Console

    from cloud_bridge.run.drive import run_drive
    from cloud_bridge.run.fleet_session import FleetSession
    from cloud_bridge.run.layout import RunLayout
    from cloud_bridge.run.options import RunOptions
    from cloud_bridge.run.releases_log import init_keys
    from cloud_bridge.run.sampler import StoreSampler

    robots = ["robot_1", "robot_2", "robot_3"]
    os.environ.update(flywheel_env())  # the robots import cloud_bridge (their agent)
    # S3 this time (moto's server): the robots' agents upload to it, the sampler reads it.
    options = RunOptions(
        run_dir=tmp_path / "run", store=f"s3://{make_bucket(moto_server)}/fleet",
        endpoint_url=moto_server.url, robots=3, episodes_per_robot=1, mission_time_limit=8.0,
        real_time_factor=2.0, fleet_timeout=150.0,
    )  # fmt: skip
    layout = RunLayout(options.run_dir.resolve())
    store = open_store(options.store_url, endpoint_url=moto_server.url)
    init_keys(store, layout)
    session = FleetSession(options, layout)
    try:
        with StoreSampler(store, layout, robots) as sampler:
            result = run_drive(0, session, store, sampler, Console(quiet=True))
    finally:
        session.stop()
    seeds = [result["robots"][r]["seeds"][0] for r in robots]
    assert len(set(seeds)) == 3, "two robots drove the same scenario"
    for robot in robots:
        lines, _ = read_jsonl(layout.mission_log(robot))
        episodes = [line for line in lines if "seed" in line]
        assert [(e["robot_id"], e["seed"]) for e in episodes] == [
            (robot, result["robots"][robot]["seeds"][0])
        ]
        assert episodes[0]["takeover_steps"] > 0, "the expert did not drive this robot"
        (episode,) = result["robots"][robot]["episode_ids"]
        prefix = f"episodes/{robot}/{episode}"
        manifest = json.loads(store.get_bytes(f"{prefix}/manifest.json")[0])
        assert manifest["robot_id"] == robot
        bags = [o.key for o in store.list(prefix + "/") if o.key.endswith(".mcap")]
        assert bags, f"no bag under {prefix}"
        bag = tmp_path / f"{robot}.mcap"
        store.download_file(bags[0], bag)
        with bag.open("rb") as f:
            summary = make_reader(f).get_summary()
        assert summary is not None
        recorded = {c.topic for c in summary.channels.values()}
        assert f"/{robot}/scan" in recorded and f"/{robot}/fw/teleop/cmd_vel" in recorded
        foreign = sorted(t for t in recorded if not t.startswith(f"/{robot}/"))
        assert not foreign, f"{robot} recorded topics outside its namespace: {foreign}"
        keys = [o.key for o in store.list("episodes/") if f"/{episode}/" in o.key]
        assert keys and all(k.startswith(f"episodes/{robot}/") for k in keys)
    uploads, _ = read_jsonl(layout.uploads)
    assert {u["robot_id"] for u in uploads} == set(robots)
    assert all(u["key"].startswith(f"episodes/{u['robot_id']}/") for u in uploads)
    assert not (layout.root / "fleet.json").exists()
