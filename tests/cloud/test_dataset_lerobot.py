"""The LeRobotDataset v3.0 export: its files, its values, and a load by the real ``lerobot``
package (0.4.4, in its own cached venv: ``lerobot_check``) from the local root with no
network. The load is skipped, saying why, only when that venv cannot be made here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from cloud_bridge.dataset import build_dataset, default_profile, export_lerobot, load_steps
from cloud_bridge.dataset.errors import DatasetError
from cloud_bridge.dataset.lerobot import TASK
from cloud_bridge.store import LocalStore
from support.dataset_bags import GOLDEN, derive_bag, upload_folders
from support.episodes import add_golden_episode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lerobot_check.venv import CHECK_SCRIPT, VenvUnavailable, check_env, lerobot_python

FEATURES = ["observation.state", "action", "timestamp", "frame_index", "episode_index"]


def _label(stamp_ns: int) -> tuple[float, float] | None:
    # Labels only in the first seconds: the export must mix labelled and executed actions.
    return (0.3, 0.1) if stamp_ns < 6 * 10**9 else None


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dataset of two golden episodes (one with some expert labels) and its export."""
    tmp = tmp_path_factory.mktemp("lerobot")
    store = LocalStore(tmp / "store")
    ready = tmp / "spool" / "ready"
    derive_bag(GOLDEN["sim_seed3_drive"], ready / "drive_labelled", expert=_label)
    add_golden_episode(ready, "sim_seed2_safety", name="safety")
    upload_folders(store, tmp / "spool")
    build_dataset(store, tmp / "ds", profile=default_profile())
    export_lerobot(tmp / "ds", tmp / "lerobot")
    return tmp / "ds", tmp / "lerobot"


def test_export_layout_and_values(exported: tuple[Path, Path]) -> None:
    dataset, out = exported
    steps = load_steps(dataset).to_pydict()
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10
    assert info["total_frames"] == len(steps["step"]) and info["total_episodes"] == 2
    assert info["features"]["observation.state"]["shape"] == [41]
    assert len(info["features"]["observation.state"]["names"]) == 41

    data = pq.read_table(out / "data/chunk-000/file-000.parquet").to_pydict()
    assert data["index"] == list(range(len(steps["step"])))
    assert data["frame_index"] == steps["step"]
    # Frames on the 1/fps grid: timestamp == frame_index / fps.
    np.testing.assert_allclose(
        data["timestamp"], np.array(data["frame_index"]) / 10.0, rtol=0, atol=1e-6
    )
    np.testing.assert_array_equal(data["observation.state"], steps["observation"])
    labelled = 0
    for action, has, expert, executed in zip(
        data["action"], steps["has_expert"],
        zip(steps["expert_linear"], steps["expert_angular"], strict=True),
        zip(steps["executed_linear"], steps["executed_angular"], strict=True),
        strict=True,
    ):  # fmt: skip
        assert tuple(action) == (expert if has else executed)
        labelled += has
    assert 0 < labelled < len(data["action"])

    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pydict()
    assert episodes["episode_index"] == [0, 1]
    assert episodes["dataset_from_index"][0] == 0
    assert episodes["dataset_to_index"][-1] == len(steps["step"])
    assert episodes["flywheel/episode_id"] == ["drive_labelled", "safety"]
    assert episodes["tasks"] == [[TASK], [TASK]]
    stats = json.loads((out / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [len(steps["step"])]


def test_export_refuses_a_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a built dataset"):
        export_lerobot(tmp_path, tmp_path / "out")


def test_real_lerobot_loads_the_export_offline(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = exported
    try:
        python = lerobot_python()
    except VenvUnavailable as exc:
        pytest.skip(f"the LeRobot check's venv cannot be made here: {exc}")
    data = pq.read_table(out / "data/chunk-000/file-000.parquet").to_pydict()
    index = 130  # a frame of the second episode
    expected = {
        "frames": len(data["index"]),
        "episodes": 2,
        "fps": 10,
        "features": FEATURES,
        "observation_size": 41,
        "frame": {
            "index": index,
            "observation.state": data["observation.state"][index],
            "action": data["action"][index],
            "episode_index": data["episode_index"][index],
            "frame_index": data["frame_index"][index],
            "timestamp": data["timestamp"][index],
            "task": TASK,
        },
    }
    assert expected["frame"]["episode_index"] == 1
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    done = subprocess.run(
        [str(python), str(CHECK_SCRIPT), str(out), str(tmp_path / "expected.json")],
        env=check_env(tmp_path / "hf"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "LEROBOT_CHECK_OK v3.0" in done.stdout, done.stdout
