"""``flywheel episodes ls``: the catalog built from the manifests the uploader put in the store
(both backends), its filters, and manifests it must not trust."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cloud_bridge.catalog.catalog import filter_episodes, list_episodes, parse_time
from cloud_bridge.store import LocalStore, ObjectStore
from cloud_bridge.upload.config import UploaderConfig
from cloud_bridge.upload.uploader import EpisodeUploader
from support.episodes import add_episode
from support.flywheel_cli import FLYWHEEL, flywheel_env

T0 = 1_790_000_000.0  # a fixed start, so time filters are exact

#: (robot, episode, triggered, start offset (s), release)
EPISODES = [
    ("r1", "r1_a", True, 0, "rel-1"),
    ("r1", "r1_b", False, 100, "rel-1"),
    ("r1", "r1_c", True, 200, "rel-2"),
    ("r2", "r2_a", False, 50, "rel-2"),
    ("r2", "r2_b", True, 300, None),
]


def _fill(store: ObjectStore, tmp_path: Path) -> None:
    for robot in ("r1", "r2"):
        spool = tmp_path / f"spool_{robot}"
        for n, (owner, name, triggered, offset, release) in enumerate(EPISODES):
            if owner == robot:
                add_episode(
                    spool / "ready", name, 1000 + n, triggered=triggered,
                    created_unix=T0 + offset, policy_version=release, robot_id=robot, seed=n,
                )  # fmt: skip
        config = UploaderConfig(robot_id=robot, retain_uploaded_s=1e12)
        uploader = EpisodeUploader(spool, store, config)
        assert uploader.run_pass().queued == 0
        uploader.close()


def _names(entries: list) -> list[str]:  # type: ignore[type-arg]
    return [e.episode for e in entries]


def test_catalog_filters(store: ObjectStore, tmp_path: Path) -> None:
    _fill(store, tmp_path)
    everything = list(list_episodes(store))
    assert _names(filter_episodes(everything)) == ["r1_a", "r2_a", "r1_b", "r1_c", "r2_b"]
    assert _names(filter_episodes(list_episodes(store, "r2"))) == ["r2_a", "r2_b"]
    assert _names(filter_episodes(everything, trigger="safety_event")) == [
        "r1_a",
        "r1_c",
        "r2_b",
    ]
    assert _names(filter_episodes(everything, trigger="continuous")) == ["r2_a", "r1_b"]
    assert _names(filter_episodes(everything, release="rel-2")) == ["r2_a", "r1_c"]
    # Episodes last 10 s (the helper's closed_unix): [since, until] keeps those overlapping it.
    window = filter_episodes(everything, since=T0 + 55, until=T0 + 205)
    assert _names(window) == ["r2_a", "r1_b", "r1_c"]
    entry = next(e for e in everything if e.episode == "r1_c")
    assert entry.robot_id == "r1" and entry.triggered and entry.release == "rel-2"
    assert entry.files == 2 and entry.start_unix == T0 + 200 and entry.end_unix == T0 + 210


def test_untrustworthy_manifests_are_skipped(store: ObjectStore, tmp_path: Path) -> None:
    _fill(store, tmp_path)
    good = json.loads(store.get_bytes("episodes/r1/r1_a/manifest.json")[0])
    # r1 claiming to be r2, a manifest under another episode's name, garbage, wrong shapes.
    store.put_bytes(
        "episodes/r1/fake/manifest.json", json.dumps({**good, "robot_id": "r2"}).encode()
    )
    store.put_bytes("episodes/r1/copy/manifest.json", json.dumps(good).encode())
    store.put_bytes("episodes/r1/junk/manifest.json", b"\x00{not json")
    store.put_bytes("episodes/r1/list/manifest.json", b"[1, 2]")
    store.put_bytes("episodes/r1/nofiles/manifest.json", json.dumps({**good, "files": 3}).encode())
    store.put_bytes("episodes/r1/deep/er/manifest.json", json.dumps(good).encode())
    assert len(list(list_episodes(store))) == len(EPISODES)


def test_parse_time() -> None:
    assert parse_time("1790000000") == 1_790_000_000.0
    assert parse_time("2026-12-05T10:00:00Z") == parse_time("2026-12-05T10:00:00+00:00")
    assert parse_time("2026-12-05") == parse_time("2026-12-05T00:00:00Z")
    assert parse_time("2h", now=10_000.0) == 10_000.0 - 7200.0
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday-ish")


def test_flywheel_episodes_ls_command(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    _fill(store, tmp_path)
    env = flywheel_env()
    base = [*FLYWHEEL, "episodes", "ls", "--store", str(store.root)]
    as_json = subprocess.run(
        [*base, "--robot", "r1", "--trigger", "safety_event", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["episode"] for r in rows] == ["r1_a", "r1_c"]
    table = subprocess.run(
        [*base, "--release", "rel-2", "--since", str(T0 + 40)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "r2_a" in table.stdout and "r1_c" in table.stdout and "r1_a" not in table.stdout
    assert "2 episodes" in table.stdout
    bad = subprocess.run([*base, "--since", "someday"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
