"""User reward files: loading refuses bad files, and a reward that raises or returns NaN, inf or a
non-number stops the environment step, and training, with the file and the step named; a
failed run publishes nothing."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cloud_bridge.cli import main
from cloud_bridge.rl import HeadlessNavEnv, RewardFunctionError, load_reward_function
from cloud_bridge.rl.ppo import MODEL_FILE, PpoConfig, train_ppo
from fw_common.profile.sim import ScenarioConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "cloud_bridge" / "examples" / "reward_progress.py"

EASY = ScenarioConfig(arena_size=6.0, box_count=0, cylinder_count=0, min_start_goal_distance=2.0)


def _write(tmp_path: Path, body: str, name: str = "my_reward.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture(scope="module")
def env() -> Iterator[HeadlessNavEnv]:
    made = HeadlessNavEnv(scenario=EASY, time_limit=5.0)
    yield made
    made.close()


def test_the_example_reward_loads_and_scores_steps(env: HeadlessNavEnv) -> None:
    reward = load_reward_function(EXAMPLE)
    env.set_reward(reward)
    env.reset(seed=0)
    _, value, *_ = env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert isinstance(value, float) and np.isfinite(value)


@pytest.mark.parametrize(
    ("body", "name", "message"),
    [
        ("def other(params):\n    return 1.0\n", "my_reward.py", "defines no reward_function"),
        ("reward_function = 3\n", "my_reward.py", "is not a function"),
        ("def reward_function(params)\n    return 1.0\n", "my_reward.py", "SyntaxError"),
        ("import not_a_module_anywhere\n", "my_reward.py", "ModuleNotFoundError"),
        ("def reward_function(params):\n    return 1.0\n", "my_reward.txt", "not a Python"),
    ],
)
def test_bad_files_are_refused_with_the_file_named(
    tmp_path: Path, body: str, name: str, message: str
) -> None:
    path = _write(tmp_path, body, name)
    with pytest.raises(RewardFunctionError, match=message) as error:
        load_reward_function(path)
    assert str(path) in str(error.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RewardFunctionError, match="no such file"):
        load_reward_function(tmp_path / "absent.py")


@pytest.mark.parametrize(
    ("returns", "message"),
    [
        ("float('nan')", "nan"),
        ("float('inf')", "inf"),
        ("-float('inf')", "-inf"),
        ("'1.0'", "not a number"),
        ("None", "not a number"),
        ("True", "not a number"),
        ("params['no_such_key']", "raised KeyError"),
        ("1 / 0", "raised ZeroDivisionError"),
    ],
)
def test_a_bad_reward_stops_the_step_with_file_and_step(
    env: HeadlessNavEnv, tmp_path: Path, returns: str, message: str
) -> None:
    path = _write(
        tmp_path,
        f"""
        def reward_function(params):
            if params["steps"] < 3:
                return 0.5
            return {returns}
        """,
    )
    env.set_reward(load_reward_function(path))
    env.reset(seed=0)
    for _ in range(2):
        env.step(np.zeros(2, dtype=np.float32))
    with pytest.raises(RewardFunctionError, match=message) as error:
        env.step(np.zeros(2, dtype=np.float32))
    assert str(path) in str(error.value)
    assert "step 3" in str(error.value)


def test_a_reward_failing_in_a_worker_process_stops_training_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        """
        def reward_function(params):
            if params["steps"] == 40:
                return float("nan")
            return params["progress_delta"]
        """,
    )
    out = tmp_path / "run"
    config = PpoConfig(
        reward_path=path,
        seconds=120.0,
        n_envs=2,
        vec="subproc",
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        scenario=EASY,
        time_limit=10.0,
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    with pytest.raises(RewardFunctionError, match="returned nan") as error:
        train_ppo(config, out)
    assert str(path) in str(error.value) and "step 40" in str(error.value)
    assert not (out / MODEL_FILE).exists()
    assert not list(out.glob("*.onnx*"))
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        statuses = [row[0] for row in db.execute("select status from runs")]
    assert statuses == ["FAILED"]


def test_the_command_refuses_a_bad_reward_file_and_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "def other(params):\n    return 1.0\n")
    out = tmp_path / "run"
    assert main(["train-rl", "--reward", str(path), "--minutes", "1", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "nothing published" in error and str(path) in error and "reward_function" in error
    assert not out.exists()
    for setting in ("no_such_setting=1", "box_count=many", "arena_size=[1]"):
        assert main(["train-rl", "--out", str(out), "--scenario", setting]) == 2
        assert setting in capsys.readouterr().err
