"""``flywheel run`` with an external fleet (``--external-robots``) and given keys (``--keys``),
as docker/compose.yaml runs it: the robots run elsewhere on the same store, the cloud only
watches the store.

Without robots: the ``keys`` stage with an earlier ``flywheel keys init``'s keys (it creates the
repository when the store has none, accepts its own on a resume, refuses a store whose
repository other keys made, and the release desk then signs with them); the external drive,
which counts only episodes uploaded since it first began (also when resumed), ignores
half-uploaded ones (no manifest yet) and fails after the fleet timeout naming who it waited
for; and the options that are refused before anything starts.

With robots: two simulated robots started by the test through ``cloud_bridge.fleet`` (each the
bringup with its mission runner, the expert driving, and its cloud agent on the canary
channel), keys from ``flywheel keys init``, a folder store, and ``flywheel run
--external-robots robot_1,robot_2 --keys ...`` as a subprocess on a reduced budget: it uses the
given keys, waits for each robot's upload, trains, gates and publishes v1, and both agents swap
to it, while the run itself starts no robot.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cloud_bridge.releases import ReleaseError, ReleaseRepository
from cloud_bridge.releases.keys import ROLES, generate_keys, key_path
from cloud_bridge.run.drive import run_external_drive, uploaded_episodes
from cloud_bridge.run.external_fleet import ExternalFleet
from cloud_bridge.run.files import read_jsonl
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.run.options import RunOptions, check_resume
from cloud_bridge.run.releases_log import ReleaseDesk, init_keys, use_keys
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.run.stages import StageError
from cloud_bridge.store import LocalStore
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.release_repo import make_models

ROBOTS = ["robot_1", "robot_2"]


def _upload(store: LocalStore, robot: str, episode: str, *, manifest: bool = True) -> None:
    """An episode as the uploader leaves it: its bag, then (last) its manifest."""
    store.put_bytes(f"episodes/{robot}/{episode}/{episode}_0.mcap", b"bag")
    if manifest:
        store.put_bytes(f"episodes/{robot}/{episode}/manifest.json", b"{}")


def test_given_keys_make_or_must_match_the_stores_repository(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    generate_keys(keys)
    store = LocalStore(tmp_path / "store")
    layout = RunLayout(tmp_path / "run")
    # No repository yet (`flywheel keys init --out` without --store): made with these keys.
    first = use_keys(store, layout, keys)
    assert first["given"] is True and first["repository_created"] is True
    assert first["keys"] == str(keys)
    root = store.get_bytes("tuf/metadata/1.root.json")[0]
    assert layout.trusted_root.read_bytes() == root
    assert first["root_sha256"] == hashlib.sha256(root).hexdigest()
    # The run folder holds what the robots trust, never a signing key.
    assert sorted(p.name for p in layout.keys.iterdir()) == ["root.json"]
    # Resumed: the repository is the keys' own, nothing is made again.
    again = use_keys(store, layout, keys)
    assert again["repository_created"] is False and again["root_sha256"] == first["root_sha256"]
    # The desk signs with the given keys: the release verifies against the store's root.
    models = make_models(tmp_path / "models")
    desk = ReleaseDesk(store, layout, "demo", keys)
    desk.publish("v1", models["mlp1"], channel="canary", parent=None, dataset_hash="d",
                 metrics={}, code_version="c", gate={"passed": True})  # fmt: skip
    assert [(r.card.release, r.channels) for r in ReleaseRepository(store).releases()] == [
        ("v1", ("demo/canary",))
    ]

    # A store whose repository other keys made (another `keys init`): refused, named.
    other = LocalStore(tmp_path / "other-store")
    init_keys(other, RunLayout(tmp_path / "other-run"))
    with pytest.raises(ReleaseError, match=r"made with other keys than .*keys.*root key"):
        use_keys(other, RunLayout(tmp_path / "run-2"), keys)
    # A folder without every role's key: refused before the store is touched.
    key_path(keys, "timestamp").unlink()
    with pytest.raises(ReleaseError, match="no timestamp key there"):
        use_keys(LocalStore(tmp_path / "empty"), RunLayout(tmp_path / "run-3"), keys)
    assert not list(LocalStore(tmp_path / "empty").list(""))
    assert set(ROLES) == {"root", "targets", "snapshot", "timestamp"}


def test_external_drive_counts_only_new_uploads_and_fails_after_the_timeout(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    options = RunOptions(
        run_dir=tmp_path / "run", external_robots=("robot_1", "robot_2"),
        episodes_per_robot=2, fleet_timeout=20.0,
    )  # fmt: skip
    assert options.robots == 2
    layout = RunLayout(options.run_dir.resolve())
    fleet = ExternalFleet(options, layout)
    assert fleet.robot_ids == ROBOTS and fleet.specs == []
    _upload(store, "robot_1", "old")  # before the stage: not this drive's
    _upload(store, "robot_3", "foreign")  # not a listed robot

    def robots_drive() -> None:
        time.sleep(1.0)
        _upload(store, "robot_1", "a1")
        _upload(store, "robot_2", "b1")
        _upload(store, "robot_2", "b2", manifest=False)  # still uploading: not counted
        time.sleep(1.0)
        _upload(store, "robot_2", "b2")
        _upload(store, "robot_1", "a2")

    driver = threading.Thread(target=robots_drive)
    with StoreSampler(store, layout, ROBOTS) as sampler:
        driver.start()
        began = time.monotonic()
        result = run_external_drive(0, fleet, store, sampler, Console(quiet=True))
        waited = time.monotonic() - began
    driver.join()
    assert waited >= 1.5, "the stage did not wait for the robots"
    assert result["external"] is True and result["episodes"] == 4
    assert result["robots"]["robot_1"]["episode_ids"] == ["a1", "a2"]
    assert result["robots"]["robot_1"]["before"] == 1
    assert result["robots"]["robot_2"]["episode_ids"] == ["b1", "b2"]
    assert json.loads(layout.external_baseline(0).read_text()) == {
        "robot_1": ["old"], "robot_2": [],
    }  # fmt: skip
    assert uploaded_episodes(store, "robot_3") == {"foreign"}
    uploads, _ = read_jsonl(layout.uploads)
    assert {u["robot_id"] for u in uploads} >= set(ROBOTS)

    # Drive 1, interrupted after its baseline was taken, counts from that same baseline.
    short = RunOptions(
        run_dir=tmp_path / "run", external_robots=("robot_1", "robot_2"),
        episodes_per_robot=1, fleet_timeout=1.0,
    )  # fmt: skip
    fleet = ExternalFleet(short, layout)
    sampler = StoreSampler(store, layout, ROBOTS)
    with pytest.raises(StageError, match=r"new episodes uploaded by robot_1 \(0 of 1\), "):
        run_external_drive(1, fleet, store, sampler, Console(quiet=True))
    _upload(store, "robot_2", "b3")  # uploaded while the cloud was down
    with pytest.raises(StageError, match=r"robot_1 \(0 of 1\); the robots run elsewhere"):
        run_external_drive(1, fleet, store, sampler, Console(quiet=True))
    _upload(store, "robot_1", "a3")
    resumed = run_external_drive(1, fleet, store, sampler, Console(quiet=True))
    assert resumed["robots"]["robot_2"]["episode_ids"] == ["b3"]
    assert resumed["robots"]["robot_1"]["episode_ids"] == ["a3"]


def test_external_options_round_trip_and_bad_ones_are_refused(tmp_path: Path) -> None:
    options = RunOptions(run_dir=tmp_path, external_robots=("robot_1", "robot_2"), keys="/k")
    back = RunOptions.from_dict(json.loads(json.dumps(options.to_dict())))
    assert back == options and back.external_robots == ("robot_1", "robot_2")
    check_resume(back, options)
    with pytest.raises(ValueError, match="external_robots"):
        check_resume(options, RunOptions(run_dir=tmp_path, external_robots=("robot_1",),
                                         keys="/k"))  # fmt: skip
    assert not RunOptions(run_dir=tmp_path).external


#: The reduced budget: one iteration, one mission per robot, four held-out scenarios, no
#: faulty release, no PPO, no leaderboard; the gate opened wide so four scenarios cannot stop
#: the chain (its verdicts are test_evaluate_gate.py's).
BUDGET = [
    "--iterations", "1", "--episodes-per-robot", "1", "--eval-scenarios", "4", "--no-faulty",
    "--ppo-minutes", "0", "--leaderboard-scenarios", "0", "--epochs", "3", "--patience", "2",
    "--eval-time-limit", "10", "--max-regression", "1", "--max-collision", "1",
    "--fleet-timeout", "150",
]  # fmt: skip


def _robot_sets(robot_id: str, folder: Path, seed: int) -> list[str]:
    """The robot's own configuration (what a container's command sets): one expert-driven
    mission on a walls scenario, at three times real time."""
    return [
        "sim.real_time_factor=3.0",
        'sim.scenario.family="walls"',
        "sim.supervisor.mode=drive",
        f"mission.seeds=[{seed}]",
        "mission.time_limit=15.0",
        f"mission.log_path={json.dumps(str(folder / 'mission.jsonl'))}",
    ]


@pytest.mark.system
def test_flywheel_run_drives_an_external_fleet_with_given_keys(tmp_path: Path) -> None:
    from cloud_bridge.fleet import (
        AgentOptions,
        FleetState,
        plan_fleet,
        robot_command,
        start_fleet,
        stop_fleet,
    )
    from cloud_bridge.run.missions import mission_seeds

    store_dir, keys, run_dir = tmp_path / "store", tmp_path / "keys", tmp_path / "run"
    env = flywheel_env(COLUMNS="200")
    made = subprocess.run(
        [*FLYWHEEL, "keys", "init", "--out", str(keys), "--store", str(store_dir)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    agent = AgentOptions(
        store_url=str(store_dir), trusted_root=keys / "root.json", fleet="demo",
        channel="canary", poll_period=1.0,
    )  # fmt: skip
    fleet_dir = tmp_path / "fleet"
    specs = plan_fleet(len(ROBOTS), fleet_dir)
    commands = [
        (spec, robot_command(spec, agent=agent, sets=_robot_sets(
            spec.robot_id, spec.folder, mission_seeds(0, spec.index - 1, len(ROBOTS), 1)[0])))
        for spec in specs
    ]  # fmt: skip
    run = subprocess.Popen(
        [*FLYWHEEL, "run", "--run-dir", str(run_dir), "--store", str(store_dir),
         "--external-robots", ",".join(ROBOTS), "--keys", str(keys), *BUDGET],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # The robots start once the drive stage waits for them, as containers started after
        # the cloud would: what they upload then is the drive's.
        deadline = time.monotonic() + 60
        while not (run_dir / "external" / "drive-0.json").exists():
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.2)
        start_fleet(commands, fleet_dir, env=env, store_url=str(store_dir))
        out, err = run.communicate(timeout=240)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        state = FleetState.load(fleet_dir)
        if state is not None:
            stop_fleet(state)
    assert run.returncode == 0, out[-4000:] + err[-6000:]
    assert "external robots robot_1, robot_2" in out + err
    assert not (run_dir / "fleet.json").exists() and not (run_dir / "robots").exists(), (
        "the run started robots of its own"
    )

    def stage(name: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((run_dir / "stages" / f"{name}.json").read_text())
        return doc["result"]

    store = LocalStore(store_dir)
    # The given keys: the repository `keys init` made, no keys of the run's own.
    used = stage("keys")
    root = (keys / "root.json").read_bytes()
    assert used["given"] is True and used["keys"] == str(keys.resolve())
    assert used["repository_created"] is False
    assert used["root_sha256"] == hashlib.sha256(root).hexdigest()
    assert sorted(p.name for p in (run_dir / "keys").iterdir()) == ["root.json"]
    # The drive waited for each robot's upload: the episodes its own mission log names.
    drive = stage("drive-0")
    assert drive["external"] is True and drive["episodes"] == len(ROBOTS)
    for spec in specs:
        logged, _ = read_jsonl(spec.folder / "mission.jsonl")
        ids = [line["episode_id"] for line in logged if line.get("episode_id")]
        assert drive["robots"][spec.robot_id]["episode_ids"] == ids and len(ids) == 1
        assert drive["robots"][spec.robot_id]["before"] == 0
    assert stage("dataset-0")["episodes"] == len(ROBOTS)
    # v1 published (and, the last iteration's, promoted), and both agents swapped to it.
    chain = json.loads((run_dir / "releases.json").read_text())
    assert [(e["release"], e["channel"], e["action"]) for e in chain] == [
        ("v1", "canary", "publish"),
        ("v1", "stable", "promote"),
    ]
    assert sorted(stage("publish-0")["swapped_after_s"]) == ROBOTS
    for robot in ROBOTS:
        status = json.loads(store.get_bytes(f"robots/{robot}/status.json")[0])
        assert status["active"] == "v1", status
    timeline, _ = read_jsonl(run_dir / "timeline.jsonl")
    for robot in ROBOTS:
        assert ("swap", "v1") in [(r["event"], r["active"]) for r in timeline
                                  if r["robot_id"] == robot]  # fmt: skip
