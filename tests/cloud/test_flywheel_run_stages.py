"""``flywheel run``'s parts without a fleet: stage bookkeeping and resumption, the options a
resumed run must keep, the mission seed blocks, the store sampler's timeline and uploads, the
release desk's resumable publishing, and a run that stops at a failed gate with nothing
published. The whole run with real robots is ``test_flywheel_run.py``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cloud_bridge.releases import ReleaseRepository
from cloud_bridge.run.agents import AgentStatus
from cloud_bridge.run.drive import robot_drive_summary
from cloud_bridge.run.files import append_jsonl, read_jsonl, write_json
from cloud_bridge.run.flywheel import Flywheel, stage_names
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.run.missions import merge_drive_logs, mission_seeds, read_missions
from cloud_bridge.run.options import RunOptions, check_resume
from cloud_bridge.run.releases_log import ReleaseDesk, init_keys
from cloud_bridge.run.sampler import StoreSampler, timeline_event
from cloud_bridge.run.stages import StageBook, StageError, StageUnavailableError
from cloud_bridge.store import LocalStore
from fw_sim.seed_sets import seed_set
from support.release_repo import make_models


def test_a_finished_stage_is_skipped_and_an_interrupted_one_starts_clean(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    book = StageBook(layout)
    out = tmp_path / "train" / "v1"
    runs: list[bool] = []

    def body() -> dict[str, object]:
        assert not (out / "half.onnx").exists(), "the interrupted attempt's output was kept"
        runs.append(True)
        out.mkdir(parents=True)
        (out / "model.onnx").write_text("m")
        return {"model": str(out / "model.onnx")}

    # An interrupted attempt: outputs, no stage file.
    out.mkdir(parents=True)
    (out / "half.onnx").write_text("half")
    record = book.run("train-0", 0, body, outputs=[out])
    assert runs == [True] and not record.skipped
    doc = json.loads(layout.stage("train-0").read_text())
    assert doc["name"] == "train-0" and doc["iteration"] == 0 and doc["wall_s"] >= 0
    assert doc["result"] == {"model": str(out / "model.onnx")}
    assert doc["started"] <= doc["finished"]
    # Done: never run again, in this process or the next; its result is what later stages read.
    again = StageBook(layout).run("train-0", 0, body, outputs=[out])
    assert runs == [True] and again.skipped and again.result == doc["result"]
    assert (out / "model.onnx").exists()
    assert StageBook(layout).result("train-0") == doc["result"]
    with pytest.raises(StageError, match="stage dataset-0: has not finished"):
        book.result("dataset-0")


def test_a_failing_stage_leaves_no_record_and_an_unavailable_one_is_not_recorded(
    tmp_path: Path,
) -> None:
    book = StageBook(RunLayout(tmp_path))

    def fails() -> dict[str, object]:
        raise StageError("drive-0", "robot_1 exited")

    with pytest.raises(StageError, match="robot_1 exited"):
        book.run("drive-0", 0, fails)
    assert book.done("drive-0") is None

    def missing() -> dict[str, object]:
        raise StageUnavailableError("cloud_bridge.report is not installed")

    record = book.run("report", None, missing)
    assert record.result == {"available": False, "reason": "cloud_bridge.report is not installed"}
    assert book.done("report") is None, "a later run with the part must still do it"


def test_a_corrupt_stage_record_is_an_error_that_names_it(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    layout.stages.mkdir()
    layout.stage("keys").write_text("{not json")
    with pytest.raises(ValueError, match=r"stages/keys.json is not JSON"):
        StageBook(layout).done("keys")
    layout.stage("keys").write_text('{"name": "keys"}')
    with pytest.raises(ValueError, match="not a stage record"):
        StageBook(layout).done("keys")


def test_a_resumed_run_must_keep_its_options(tmp_path: Path) -> None:
    first = RunOptions(run_dir=tmp_path, robots=2, iterations=2)
    check_resume(first, RunOptions(run_dir=tmp_path / "moved", fleet_timeout=60.0))
    with pytest.raises(ValueError, match=r"robots: 2 -> 3.*iterations: 2 -> 1"):
        check_resume(first, RunOptions(run_dir=tmp_path, robots=3, iterations=1))
    # run.json round-trips, the gate included.
    assert RunOptions.from_dict(json.loads(json.dumps(first.to_dict()))) == first
    with pytest.raises(ValueError, match="unknown options"):
        RunOptions.from_dict({**first.to_dict(), "warp": 9})
    with pytest.raises(ValueError, match="--robots must be an integer >= 1"):
        RunOptions(robots=0)
    with pytest.raises(ValueError, match="--real-time-factor must be a positive number"):
        RunOptions(real_time_factor=float("nan"))


def test_every_drive_and_robot_gets_its_own_training_seeds() -> None:
    robots, per_robot, drives = 3, 4, 3
    blocks = [mission_seeds(d, i, robots, per_robot) for d in range(drives) for i in range(robots)]
    every = [s for block in blocks for s in block]
    assert all(len(block) == per_robot for block in blocks)
    assert len(set(every)) == len(every), "a scenario is driven twice"
    assert set(every) <= set(seed_set("train", robots * per_robot * drives))
    assert not set(every) & set(seed_set("heldout", 1000)) and not set(every) & set(
        seed_set("race", 1000)
    )
    with pytest.raises(ValueError, match="outside a fleet of 3"):
        mission_seeds(0, 3, robots, per_robot)


def test_mission_logs_are_never_trusted_and_merge_in_drive_order(tmp_path: Path) -> None:
    first, second = tmp_path / "drive-0.jsonl", tmp_path / "drive-1.jsonl"
    append_jsonl(first, {"robot_id": "r", "seed": 1, "reached": True, "episode_id": "e1"})
    append_jsonl(first, {"done": True, "episodes": 1})
    append_jsonl(second, {"robot_id": "r", "seed": 2, "reached": False, "episode_id": "e2"})
    with second.open("a") as f:
        f.write("not json\n[1, 2]\n")
        f.write('{"robot_id": "r", "seed": 3')  # a line a crash cut short
    progress = read_missions(second)
    assert [e["seed"] for e in progress.episodes] == [2] and not progress.done
    assert progress.episode_ids == ["e2"] and progress.reached == 0
    assert read_missions(first).done and read_missions(first).reached == 1
    assert read_missions(tmp_path / "absent.jsonl").episodes == []
    hostile = tmp_path / "hostile.jsonl"
    line = {"seed": 4, "episode_id": {"x": 1}, "takeover_steps": "many", "collisions": -3,
            "interventions": {"stop_zone": 2, "x": "y"}}  # fmt: skip
    append_jsonl(hostile, line)
    append_jsonl(hostile, {"seed": 5, "episode_id": "e5", "takeover_steps": 7, "reached": 1})
    summary = robot_drive_summary(read_missions(hostile), [4, 5])
    assert summary["episode_ids"] == ["e5"] and summary["reached"] == 0
    assert (summary["takeover_steps"], summary["collisions"]) == (7, 0)
    assert summary["interventions"] == {"stop_zone": 2, "x": 0}
    merged = tmp_path / "mission.jsonl"
    assert merge_drive_logs([first, second, tmp_path / "absent.jsonl"], merged) == 3
    assert merge_drive_logs([first, second], merged) == 3, "a rewrite, never an append"
    records, end = read_jsonl(merged)
    assert [r.get("seed", "done") for r in records] == [1, "done", 2]
    assert end == merged.stat().st_size


def _status(active: str | None, rolled_back: dict[str, str] | None = None) -> AgentStatus:
    return AgentStatus(
        "robot_1", active, None, "canary", active, rolled_back or {}, None, None, {}
    )


def test_timeline_events_say_swap_rollback_or_status() -> None:
    first = _status(None)
    assert timeline_event(None, first) == "status"
    logged = {"active": None, "previous": None, "channel": "canary", "channel_release": None,
              "problem": None}  # fmt: skip
    assert timeline_event(logged, first) is None
    assert timeline_event(logged, _status("v1")) == "swap"
    logged = {**logged, "active": "faulty", "channel_release": "faulty"}
    assert timeline_event(logged, _status("v2", {"faulty": "8 interventions"})) == "rollback"


def test_the_sampler_logs_changes_and_uploads_once_also_when_resumed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    layout = RunLayout(tmp_path / "run")

    def agent_writes(active: str | None, rolled_back: dict[str, str] | None = None) -> None:
        doc = {"robot_id": "robot_1", "active": active, "previous": None, "channel": "canary",
               "channel_release": active, "rolled_back": rolled_back or {},
               "time": time.time()}  # fmt: skip
        store.put_bytes("robots/robot_1/status.json", json.dumps(doc).encode())

    sampler = StoreSampler(store, layout, ["robot_1", "robot_2"])
    sampler.sample()  # nothing written yet
    agent_writes(None)
    store.put_bytes("episodes/robot_1/ep1/manifest.json", b"{}")
    store.put_bytes("episodes/robot_1/ep1/ep1_0.mcap", b"x" * 10)
    store.put_bytes("robots/robot_1/not-an-episode", b"x")
    sampler.sample()
    sampler.sample()  # unchanged: no new lines
    agent_writes("v1")
    store.put_bytes("robots/robot_2/status.json", b"\x00garbage")  # read as nothing said
    sampler.sample()
    # A resumed run: a new sampler reads both files back before it logs.
    resumed = StoreSampler(store, layout, ["robot_1", "robot_2"])
    resumed.sample()
    agent_writes("v2", {"v1": "too many interventions"})
    resumed.sample()
    timeline, _ = read_jsonl(layout.timeline)
    assert [(r["robot_id"], r["event"], r["active"]) for r in timeline] == [
        ("robot_1", "status", None),
        ("robot_1", "swap", "v1"),
        ("robot_1", "rollback", "v2"),
    ]
    uploads, _ = read_jsonl(layout.uploads)
    assert sorted((u["robot_id"], u["key"], u["bytes"]) for u in uploads) == [
        ("robot_1", "episodes/robot_1/ep1/ep1_0.mcap", 10),
        ("robot_1", "episodes/robot_1/ep1/manifest.json", 2),
    ]


def test_publishing_again_after_an_interruption_signs_nothing_twice(tmp_path: Path) -> None:
    models = make_models(tmp_path / "models")
    store = LocalStore(tmp_path / "store")
    layout = RunLayout(tmp_path / "run")
    keys = init_keys(store, layout)
    # The keys stage interrupted after creating the repository: run again, same root.
    assert init_keys(store, layout)["root_sha256"] == keys["root_sha256"]
    desk = ReleaseDesk(store, layout, "demo")
    args = dict(channel="canary", parent=None, dataset_hash="d1", metrics={"s": 1.0},
                code_version="c", gate={"passed": True, "baseline": "classic"})  # fmt: skip
    first = desk.publish("v1", models["mlp1"], **args)  # type: ignore[arg-type]
    versions = len(list(store.list("tuf/")))
    assert desk.publish("v1", models["mlp1"], **args) == first  # type: ignore[arg-type]
    assert len(list(store.list("tuf/"))) == versions, "the resumed publish signed again"
    with pytest.raises(Exception, match="published with another model"):
        desk.publish("v1", models["mlp2"], **args)  # type: ignore[arg-type]
    desk.publish("v2", models["mlp2"], **{**args, "parent": "v1"})  # type: ignore[arg-type]
    desk.promote("v2", "stable")
    desk.publish("faulty", models["ram"], **{**args, "parent": "v2", "gate": "skipped"},  # type: ignore[arg-type]
                 faulty=True)  # fmt: skip
    desk.rollback("canary", "v2", "robots rolled it back")
    desk.rollback("canary", "v2", "robots rolled it back")  # resumed: logged once
    chain = [(e["release"], e["channel"], e["action"], e["faulty"]) for e in desk.entries()]
    assert chain == [
        ("v1", "canary", "publish", False),
        ("v2", "canary", "publish", False),
        ("v2", "stable", "promote", False),
        ("faulty", "canary", "publish", True),
        ("faulty", "canary", "rollback", True),
    ]
    pointers = {(p.channel, p.release, p.withdrawn) for p in ReleaseRepository(store).channels()}
    assert pointers == {("canary", "v2", ("faulty",)), ("stable", "v2", ())}


def test_a_release_that_fails_its_gate_stops_the_run_unpublished(tmp_path: Path) -> None:
    options = RunOptions(run_dir=tmp_path / "run", iterations=1, leaderboard_scenarios=0)
    layout = RunLayout(options.run_dir.resolve())
    # The stages before the gate finished (their records are the run folder's contract).
    for name, result in (
        ("drive-0", {"episodes": 2}),
        ("dataset-0", {"dataset_hash": "d"}),
        ("train-0", {"release": "v1"}),
        ("evaluate-0", {"candidate": "v1", "baseline": "classic", "passed": False,
                        "reasons": ["success rate vs classic: allowed -0.250"]}),
    ):  # fmt: skip
        record = {"name": name, "iteration": 0, "started": "s", "finished": "f",
                  "wall_s": 1.0, "result": result}  # fmt: skip
        write_json(layout.stage(name), record)
    flywheel = Flywheel(options)
    with pytest.raises(StageError, match=r"v1 failed its gate against classic.*allowed -0\.250"):
        flywheel.run()
    assert not layout.releases.exists()
    assert ReleaseRepository(flywheel.store).releases() == []
    assert [n for n, r in flywheel.summary().items() if r is not None] == [
        "keys", "drive-0", "dataset-0", "train-0", "evaluate-0",
    ]  # fmt: skip
    assert stage_names(options)[-4:] == ["faulty", "ppo", "leaderboard", "report"]


def test_each_plan_is_a_profile_the_robots_accept(tmp_path: Path) -> None:
    from cloud_bridge.run.drive import drive_plan
    from cloud_bridge.run.fleet_session import FleetPlan, FleetSession
    from cloud_bridge.run.publishing import FAULTY_MISSIONS, FAULTY_RELEASE, next_plan
    from fw_bringup.main import load_with_overrides
    from fw_bringup.node_parameters import default_profile_path

    options = RunOptions(run_dir=tmp_path, robots=2, iterations=2, episodes_per_robot=3)
    session = FleetSession(options, RunLayout(tmp_path))
    plans = {
        "drive-0": drive_plan(0),
        "drive-1": drive_plan(1),
        "after publish-0": next_plan(0, 2, faulty=True),
        "faulty": next_plan(1, 2, faulty=True),
        "idle": next_plan(1, 2, faulty=False),
    }
    assert plans["after publish-0"] == plans["drive-1"]
    seen: set[int] = set()
    for name, plan in plans.items():
        for spec, command in session.commands(plan):
            sets = [command[i + 1] for i, arg in enumerate(command) if arg == "--set"]
            profile = load_with_overrides(default_profile_path("sim"), sets)
            mission, sim, agent = profile.mission, profile.sim, profile.cloud_agent
            assert sim.scenario.family == "walls" and not sim.gui, name
            assert (agent.channel, agent.fleet) == ("canary", "demo")
            assert agent.trusted_root == str(tmp_path / "keys" / "root.json")
            assert agent.rollback_min_events == options.rollback_min_events
            assert mission.log_path.startswith(str(tmp_path / "robots" / spec.robot_id))
            if name in ("drive-1", "after publish-0"):
                continue
            seen.update(mission.seeds)
            if name == "drive-0":
                assert (sim.supervisor.mode, mission.start_after_release) == ("drive", "")
                assert len(mission.seeds) == 3
            elif name == "faulty":
                assert sim.supervisor.mode == "label"
                assert mission.start_after_release == FAULTY_RELEASE
                assert len(mission.seeds) == FAULTY_MISSIONS
            else:
                assert mission.seeds == []
    drive1 = load_with_overrides(
        default_profile_path("sim"),
        [c for c in session.sets(plans["drive-1"], session.specs[0])],
    )
    assert drive1.sim.supervisor.mode == "supervise"
    assert drive1.mission.start_after_release == "v1"
    assert not seen & set(drive1.mission.seeds), "a later drive repeats a scenario"
    assert FleetPlan(drive=None).supervisor_mode == "label"
    with pytest.raises(ValueError, match="supervisor mode"):
        FleetPlan(drive=0, supervisor_mode="teleport")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--robots", "0"], "--robots must be an integer >= 1"),
        (["--family", "moon"], "--family 'moon'"),
        (["--eval-scenarios", "1"], "--eval-scenarios must be an integer >= 2"),
        (["--dagger-learning-rate", "nan"], "--dagger-learning-rate must be a positive number"),
        (["--ensemble", "0"], "--ensemble must be an integer >= 1"),
        (["--store", "s3://key:secret@bucket"], "names only a bucket"),
        (["--external-robots", "robot_1,../etc"], "'../etc' is not a robot id"),
        (["--external-robots", "robot_1,robot_1"], "names a robot twice"),
        (["--keys", "/nonexistent/keys"], "--keys /nonexistent/keys: no such folder"),
    ],
)
def test_bad_options_exit_2_with_the_reason_and_start_nothing(
    tmp_path: Path, args: list[str], says: str
) -> None:
    import subprocess

    from support.flywheel_cli import FLYWHEEL, flywheel_env

    shown = subprocess.run(
        [*FLYWHEEL, "run", "--run-dir", str(tmp_path / "run"), *args],
        env=flywheel_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 2, shown.stdout + shown.stderr
    assert says in shown.stderr and "secret" not in shown.stderr
    assert not (tmp_path / "run").exists()
