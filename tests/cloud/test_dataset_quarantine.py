"""Episodes the dataset build cannot use are quarantined with their reason, and the build goes
on: bags damaged on the robot (truncated, bytes flipped, metadata.yaml missing) and uploaded
as they were, a file changed in the store after upload, and a manifest naming a path outside
the episode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud_bridge.dataset import build_dataset, default_profile, load_steps
from cloud_bridge.store import LocalStore, ObjectStore
from fw_common.profile import RobotProfile
from support.dataset_bags import upload_folders
from support.episodes import add_golden_episode

GOOD = "good"


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return default_profile()


def _truncate(folder: Path) -> None:
    mcap = folder / "bag" / "bag.mcap"
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])


def _flip(folder: Path) -> None:
    mcap = folder / "bag" / "bag.mcap"
    data = bytearray(mcap.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 256):
        data[i] ^= 0xFF
    mcap.write_bytes(bytes(data))


def _no_metadata(folder: Path) -> None:
    (folder / "bag" / "metadata.yaml").unlink()


def test_damaged_episodes_are_quarantined_with_their_reason(
    store: ObjectStore, tmp_path: Path, profile: RobotProfile
) -> None:
    ready = tmp_path / "spool" / "ready"
    add_golden_episode(ready, "sim_seed3_drive", name=GOOD)
    for name, damage in (
        ("truncated", _truncate),
        ("flipped", _flip),
        ("no_metadata", _no_metadata),
    ):
        damage(add_golden_episode(ready, "sim_seed3_drive", name=name))
    add_golden_episode(ready, "sim_seed2_safety", name="tampered")
    add_golden_episode(ready, "sim_seed2_safety", name="hostile")
    assert upload_folders(store, tmp_path / "spool") == 6
    # After upload: one file replaced in the store, one manifest naming a path outside.
    store.put_bytes("episodes/r1/tampered/bag/bag.mcap", b"not the bag the robot recorded")
    key = "episodes/r1/hostile/manifest.json"
    manifest = json.loads(store.get_bytes(key)[0])
    manifest["files"]["../../escape.mcap"] = manifest["files"].pop("bag/bag.mcap")
    store.put_bytes(key, json.dumps(manifest).encode())

    card = build_dataset(store, tmp_path / "ds", profile=profile, cache=tmp_path / "cache")

    assert card.episodes == [f"r1/{GOOD}"]
    assert load_steps(tmp_path / "ds").num_rows == card.steps > 50
    quarantine = json.loads((tmp_path / "ds" / "quarantine.json").read_text())
    reasons = {key.split("/")[1]: entry["reason"] for key, entry in quarantine.items()}
    assert sorted(reasons) == ["flipped", "hostile", "no_metadata", "tampered", "truncated"]
    for name in ("truncated", "flipped", "no_metadata"):
        assert reasons[name].startswith("bag does not read"), reasons[name]
    assert "metadata" in reasons["no_metadata"], reasons["no_metadata"]
    assert "SHA-256" in reasons["tampered"] and "differs" in reasons["tampered"]
    assert "not a safe key" in reasons["hostile"], reasons["hostile"]
    assert not (tmp_path / "escape.mcap").exists()
    assert not list((tmp_path / "cache").rglob("escape.mcap"))
    assert card.quarantined == 5 and card.last_build["quarantined"] == 5

    # A rebuild does not try them again while the store holds the same versions...
    again = build_dataset(store, tmp_path / "ds", profile=profile, cache=tmp_path / "cache")
    assert again.last_build == {"decoded": 0, "unchanged": 6, "quarantined": 0, "pending": 0}
    # ...and does once an episode is replaced by a good upload (a new version).
    fixed = tmp_path / "spool2"
    add_golden_episode(fixed / "ready", "sim_seed2_safety", name="truncated")
    for rel in ("bag/bag.mcap", "bag/metadata.yaml", "manifest.json"):
        store.delete(f"episodes/r1/truncated/{rel}")
    upload_folders(store, fixed)
    third = build_dataset(store, tmp_path / "ds", profile=profile, cache=tmp_path / "cache")
    assert third.last_build["decoded"] == 1
    assert "r1/truncated" in third.episodes and third.quarantined == 4


def test_a_timer_triggered_profile_is_refused_before_any_episode(
    tmp_path: Path, profile: RobotProfile
) -> None:
    import dataclasses

    from cloud_bridge.dataset import DatasetError

    timer = dataclasses.replace(
        profile, policy=dataclasses.replace(profile.policy, trigger="timer")
    )
    store = LocalStore(tmp_path / "store")
    add_golden_episode(tmp_path / "spool" / "ready", "sim_seed3_drive")
    upload_folders(store, tmp_path / "spool")
    with pytest.raises(DatasetError, match="scan-triggered"):
        build_dataset(store, tmp_path / "ds", profile=timer)
    assert not (tmp_path / "ds" / "quarantine.json").exists()


def test_a_bag_that_is_not_a_bag_is_quarantined(tmp_path: Path, profile: RobotProfile) -> None:
    """Random bytes under a valid manifest (an MCAP file name, a metadata.yaml that is not
    rosbag2's) do not reach the loop."""
    from support.episodes import add_episode

    store = LocalStore(tmp_path / "store")
    add_episode(tmp_path / "spool" / "ready", "noise", 4096, seed=7)
    upload_folders(store, tmp_path / "spool")
    card = build_dataset(store, tmp_path / "ds", profile=profile)
    assert card.episodes == [] and card.steps == 0 and card.quarantined == 1
    quarantine = json.loads((tmp_path / "ds" / "quarantine.json").read_text())
    assert quarantine["r1/noise"]["reason"].startswith("bag does not read")
