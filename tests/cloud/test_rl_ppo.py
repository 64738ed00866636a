"""PPO end to end: ``flywheel train-rl`` on a fixed seed beats random actions on an easy
scenario family, tracks the run in MLflow, and exports a model that the robot's
``load_model`` accepts and that drives the robot loop in the headless world; starting from a
behaviour-cloned release distils the release's actions into the policy."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

from cloud_bridge.cli import main
from cloud_bridge.rl import HeadlessNavEnv, RlTrainingError
from cloud_bridge.rl.command import route_train_algo
from cloud_bridge.rl.ppo import MODEL_FILE, PpoConfig, train_ppo
from cloud_bridge.rl.rollout import run_episodes, summarise
from fw_bringup.headless import run_headless_episode
from fw_bringup.robot_loop import RobotLoop
from fw_common.observation import DEFAULT_SPEC
from fw_common.profile.sim import ScenarioConfig
from fw_policy import model_file
from fw_policy.onnx_model import OnnxPolicy, load_model
from fw_sim.world import SimWorld

EXAMPLE = Path(__file__).resolve().parents[2] / "cloud_bridge" / "examples" / "reward_progress.py"
EASY = ScenarioConfig(arena_size=6.0, box_count=0, cylinder_count=0, min_start_goal_distance=2.0)
EASY_ARGS = ["--scenario", "arena_size=6.0", "--scenario", "box_count=0"]
EASY_ARGS += ["--scenario", "cylinder_count=0", "--scenario", "min_start_goal_distance=2.0"]
#: Evaluation scenarios, apart from the ones training draws.
EVAL_SEEDS = (900_001, 900_002, 900_003, 900_004)
TIME_LIMIT = 10.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One short run of the command: the example reward, one environment, 2048 decisions."""
    out = tmp_path_factory.mktemp("ppo") / "run"
    status = main(
        [
            "train-rl",
            "--algo", "ppo",
            "--reward", str(EXAMPLE),
            "--minutes", "10",
            "--max-steps", "2048",
            "--envs", "1",
            "--in-process",
            "--seed", "0",
            "--n-steps", "256",
            "--time-limit", str(TIME_LIMIT),
            "--model-version", "ppo-test",
            "--eval-episodes", "2",
            "--eval-every", "1024",
            "--out", str(out),
            *EASY_ARGS,
        ]
    )  # fmt: skip
    assert status == 0
    return out


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One MLflow store for the module's runs (creating a store costs seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def easy_env() -> Iterator[HeadlessNavEnv]:
    made = HeadlessNavEnv(scenario=EASY, time_limit=TIME_LIMIT, reward=EXAMPLE)
    yield made
    made.close()


def test_ppo_beats_random_actions(trained: Path, easy_env: HeadlessNavEnv) -> None:
    model = load_model(trained / MODEL_FILE, DEFAULT_SPEC)
    learnt = summarise(run_episodes(easy_env, model.run, EVAL_SEEDS))
    rng = np.random.default_rng(0)

    def random_action(_: np.ndarray) -> np.ndarray:
        return rng.uniform(-1.0, 1.0, 2).astype(np.float32)

    chance = summarise(run_episodes(easy_env, random_action, EVAL_SEEDS))
    assert learnt["mean_return"] > chance["mean_return"] + 5.0, (learnt, chance)
    assert learnt["mean_progress"] > chance["mean_progress"] + 30.0, (learnt, chance)


def test_the_model_carries_the_robots_metadata_and_the_run_is_tracked(trained: Path) -> None:
    model = load_model(trained / MODEL_FILE, DEFAULT_SPEC)
    assert model.version == "ppo-test"
    assert model.action_scale == (DEFAULT_SPEC.max_linear, DEFAULT_SPEC.max_angular)
    props = {p.key: p.value for p in onnx.load(str(trained / MODEL_FILE)).metadata_props}
    assert props["fw.training"] == "ppo" and props["fw.code_version"]
    assert len(props["fw.reward_sha256"]) == 64
    result = json.loads((trained / "result.json").read_text())
    assert result["timesteps"] >= 2048 and result["stopped_by"] == "timesteps"
    with sqlite3.connect(trained / "mlflow.db") as db:
        (status,) = db.execute("select status from runs").fetchone()
        metrics = {row[0] for row in db.execute("select key from metrics")}
        evaluations = db.execute(
            "select step from metrics where key = 'eval/success_rate' order by step"
        ).fetchall()
    assert status == "FINISHED"
    assert {"rollout/ep_rew_mean", "rollout/success_rate", "timesteps"} <= metrics
    assert {"eval/train_seconds", "eval/mean_progress"} <= metrics
    # Periodic evaluations at 1024 and 2048 decisions, then the exported model's.
    assert [step for (step,) in evaluations] == [1024, 2048, 2048]
    assert list((trained / "mlartifacts").rglob(MODEL_FILE))


def test_the_model_drives_the_robot_loop(trained: Path, easy_env: HeadlessNavEnv) -> None:
    profile = easy_env.profile
    model = load_model(trained / MODEL_FILE, DEFAULT_SPEC)
    with SimWorld(profile.sim) as world:
        world.new_scenario(EVAL_SEEDS[0])
        start = world.scenario.start
        goal = world.scenario.goal
        episode = run_headless_episode(
            world, RobotLoop(profile, policy=OnnxPolicy(model)), time_limit=TIME_LIMIT
        )
    before = np.hypot(goal.x - start.x, goal.y - start.y)
    after = np.hypot(goal.x - episode.path[-1][0], goal.y - episode.path[-1][1])
    assert episode.path_length > 0.5
    assert after < 0.5 * before, (before, after, episode)


def test_training_stops_at_the_deadline(
    tmp_path: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tempdir"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)  # SB3's logger would write there instead
    config = PpoConfig(
        seconds=4.0,
        n_envs=1,
        vec="dummy",
        n_steps=32,
        batch_size=32,
        n_epochs=1,
        scenario=EASY,
        time_limit=5.0,
        tracking_uri=tracking_uri,
    )
    result = train_ppo(config, tmp_path / "run")
    assert result.stopped_by == "deadline"
    # Stopped at the first environment step past the deadline: a step (a reset at worst) and
    # an update of 32 decisions take well under a second each, even on a busy host.
    assert 4.0 <= result.seconds < 10.0
    assert result.timesteps > 0
    assert load_model(result.onnx_path, DEFAULT_SPEC).version.startswith("ppo-")
    # SB3's default logger made a folder there per run and never removed it.
    assert list(scratch.glob("SB3-*")) == []


def test_starting_from_a_release_distils_its_actions(tmp_path: Path, tracking_uri: str) -> None:
    release = tmp_path / "bc.onnx"
    model_file.main(
        ["constant", str(release), "--action", "0.6", "-0.3", "--action-scale", "0.8", "1.2"]
    )
    config = PpoConfig(
        seconds=120.0,
        max_timesteps=1,
        n_envs=1,
        vec="dummy",
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        learning_rate=1e-6,
        scenario=EASY,
        time_limit=5.0,
        init_model=release,
        distill_steps=200,
        distill_updates=1500,
        tracking_uri=tracking_uri,
    )
    result = train_ppo(config, tmp_path / "run")
    model = load_model(result.onnx_path, DEFAULT_SPEC)
    # The release's action scale carries over, so its normalised actions keep their meaning.
    assert model.action_scale == (0.8, 1.2)
    # Driving on its own in scenarios it has not seen, it acts as the release does (the data
    # covered the states such a scenario gives, not arbitrary vectors).
    env = HeadlessNavEnv(scenario=EASY, time_limit=5.0)
    try:
        obs, _ = env.reset(seed=123)
        actions = []
        for _ in range(20):
            actions.append(model.run(obs))
            obs, *_ = env.step(actions[-1])
    finally:
        env.close()
    np.testing.assert_allclose(np.stack(actions), np.tile([0.6, -0.3], (20, 1)), atol=0.05)


def test_a_release_for_another_spec_is_refused_before_training(tmp_path: Path) -> None:
    release = tmp_path / "other.onnx"
    model_file.main(["mlp", str(release), "--spec-id", "0000000000000000"])
    with pytest.raises(RlTrainingError, match=r"cannot start from .*observation spec"):
        train_ppo(PpoConfig(init_model=release), tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("argv", "routed"),
    [
        (["train", "--algo", "ppo", "--out", "r"], ["train-rl", "--algo", "ppo", "--out", "r"]),
        (["-v", "train", "--algo=ppo"], ["-v", "train-rl", "--algo=ppo"]),
        (["train", "data", "--algo", "bc"], ["train", "data", "--algo", "bc"]),
        (["train", "data", "--out", "r"], ["train", "data", "--out", "r"]),
        (["episodes", "ls", "--robot", "train"], ["episodes", "ls", "--robot", "train"]),
    ],
)
def test_flywheel_train_algo_ppo_routes_to_train_rl(argv: list[str], routed: list[str]) -> None:
    assert route_train_algo(argv) == routed
