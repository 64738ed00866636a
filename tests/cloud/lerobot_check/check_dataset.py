"""Run inside the LeRobot venv: load an exported dataset with the real ``LeRobotDataset`` from
its local root, offline, and compare it with what the exporter says it wrote.

Usage: ``python check_dataset.py ROOT EXPECTED_JSON``; EXPECTED_JSON holds ``frames``,
``episodes``, ``fps``, ``features`` (names), ``observation_size`` and ``frame`` (``index``,
``observation.state``, ``action``, ``episode_index``, ``frame_index``, ``timestamp``). Prints
``LEROBOT_CHECK_OK`` with the codebase version on success; any mismatch raises.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset


def main() -> None:
    root, expected_path = sys.argv[1], sys.argv[2]
    with open(expected_path) as f:
        expected = json.load(f)
    dataset = LeRobotDataset("flywheel/check", root=root)
    assert dataset.meta.info["codebase_version"] == "v3.0", dataset.meta.info["codebase_version"]
    assert len(dataset) == expected["frames"], (len(dataset), expected["frames"])
    assert dataset.num_frames == expected["frames"]
    assert dataset.num_episodes == expected["episodes"], dataset.num_episodes
    assert dataset.fps == expected["fps"], dataset.fps
    for name in expected["features"]:
        assert name in dataset.features, (name, sorted(dataset.features))
    frame = expected["frame"]
    item = dataset[frame["index"]]
    state = item["observation.state"].numpy()
    assert state.shape == (expected["observation_size"],), state.shape
    np.testing.assert_allclose(state, frame["observation.state"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(item["action"].numpy(), frame["action"], rtol=0, atol=1e-7)
    assert int(item["episode_index"]) == frame["episode_index"], item["episode_index"]
    assert int(item["frame_index"]) == frame["frame_index"], item["frame_index"]
    assert abs(float(item["timestamp"]) - frame["timestamp"]) < 1e-6, item["timestamp"]
    assert item["task"] == frame["task"], item["task"]
    # Timestamps on the 1/fps grid, episode by episode.
    for episode in range(dataset.num_episodes):
        start = dataset.meta.episodes[episode]["dataset_from_index"]
        end = dataset.meta.episodes[episode]["dataset_to_index"]
        stamps = np.array(dataset.hf_dataset[start:end]["timestamp"], np.float64)
        np.testing.assert_allclose(np.diff(stamps), 1.0 / dataset.fps, atol=1e-4)
    print("LEROBOT_CHECK_OK", dataset.meta.info["codebase_version"], len(dataset))


if __name__ == "__main__":
    main()
