"""The dataset build on the golden episodes, uploaded to a real store (a folder and S3) by the
robot's uploader: row values against what the robot recorded, the no-skew replay of the
recorded release, take-overs, statistics, the card, and incremental rebuilds."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cloud_bridge.dataset import COLUMNS, build_dataset, default_profile, load_steps
from cloud_bridge.dataset.card import content_sha256, dataset_hash
from cloud_bridge.store import LocalStore, ObjectStore
from fw_common.conversions import stamp_to_ns
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile
from support.dataset_bags import GOLDEN, check_no_skew, episode_name, recorded, upload_golden

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "replay"))
from compare import LOOP

DRIVE, SAFETY = "sim_seed3_drive", "sim_seed2_safety"


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return default_profile()


def _episode(table: pa.Table, golden: str) -> dict[str, list]:
    rows = table.filter(pa.compute.equal(table["episode_id"], episode_name(golden)))
    return rows.to_pydict()


def test_golden_episodes_rows_hold_what_the_robot_computed(
    store: ObjectStore, tmp_path: Path, profile: RobotProfile
) -> None:
    upload_golden(store, tmp_path / "spool", [DRIVE, SAFETY])
    card = build_dataset(store, tmp_path / "ds", profile=profile, cache=tmp_path / "cache")
    table = load_steps(tmp_path / "ds")
    assert tuple(table.column_names) == COLUMNS
    spec = spec_by_name(profile.policy.observation_spec)
    assert table.schema.field("observation").type == pa.list_(pa.float32(), spec.size)

    for golden in (DRIVE, SAFETY):
        rows = _episode(table, golden)
        n = len(rows["step"])
        assert n > 50
        assert rows["step"] == list(range(n))
        assert rows["done"] == [False] * (n - 1) + [True]
        assert set(rows["robot_id"]) == {"r1"} and set(rows["release_id"]) == {""}
        assert set(rows["spec_id"]) == {spec.spec_id}
        # Stamps increase; timestamps on the 1/fps grid from 0, increasing.
        assert all(b > a for a, b in zip(rows["stamp_ns"], rows["stamp_ns"][1:], strict=False))
        ticks = np.array(rows["timestamp"]) * card.fps
        assert ticks[0] == 0 and np.allclose(ticks, np.round(ticks), atol=1e-9)
        assert np.all(np.diff(ticks) >= 1 - 1e-9)
        # No expert in the golden bags: NaN labels.
        assert not any(rows["has_expert"])
        assert all(math.isnan(v) for v in rows["expert_linear"] + rows["expert_angular"])
        check_no_skew(rows, GOLDEN[golden])
        _check_observations(rows, GOLDEN[golden], spec, profile)
        _check_executed(rows, GOLDEN[golden])

    drive = _episode(table, DRIVE)
    assert not any(drive["takeover"]) and set(drive["takeover_source"]) == {""}
    # The classic policy stops at the goal: gated zeros keep their observation.
    assert "goal reached" in drive["policy_reason"]
    _check_takeovers(_episode(table, SAFETY), GOLDEN[SAFETY], profile)

    assert card.steps == table.num_rows
    assert card.robots == ["r1"] and card.releases == [""]
    assert card.episodes == sorted(f"r1/{episode_name(g)}" for g in (DRIVE, SAFETY))
    assert card.last_build == {"decoded": 2, "unchanged": 0, "quarantined": 0, "pending": 0}
    assert json.loads((tmp_path / "ds" / "card.json").read_text())["dataset_hash"] == (
        card.dataset_hash
    )
    assert json.loads((tmp_path / "ds" / "quarantine.json").read_text()) == {}
    _check_stats(tmp_path / "ds", table, spec)


def _check_observations(rows: dict, folder: Path, spec, profile: RobotProfile) -> None:
    """The scan sectors are the spec applied to the recorded cleaned scan of the same stamp
    (bit-identical scans: ``compare.check_scans``); the speed feature is the speed of one of
    the last recorded fused states before the scan (which one the policy node held depends on
    arrival order) within ``LOOP.speed``."""
    scans = {stamp_to_ns(m.header.stamp): m for _, m in recorded(folder, "/fw/perception/scan")}
    states = [
        (stamp_to_ns(m.header.stamp), m) for _, m in recorded(folder, "/fw/perception/state")
    ]
    sectors = spec.feature_names().index("linear")
    compared = 0
    for stamp, observation in zip(rows["stamp_ns"], rows["observation"], strict=True):
        scan = scans.get(stamp)
        if scan is None:
            continue
        expected = spec.featurize(
            np.asarray(scan.ranges, np.float32), scan.angle_min, scan.angle_increment,
            (1.0, 0.0), 0.0, 0.0,
        )  # fmt: skip
        n_sectors = spec.scan_sectors
        np.testing.assert_array_equal(np.asarray(observation[:n_sectors]), expected[:n_sectors])
        before = [m.twist.twist.linear.x / spec.max_linear for s, m in states if s <= stamp]
        if before:
            error = min(abs(observation[sectors] - np.clip(v, -1, 1)) for v in before[-3:])
            assert error <= LOOP.speed + 1e-6, (stamp, observation[sectors], before[-3:])
        compared += 1
    assert compared >= LOOP.matched * len(rows["stamp_ns"])


def _check_executed(rows: dict, folder: Path) -> None:
    """The executed command is one of the ``cmd_vel`` outputs the safety node published for the
    same command (they carry its stamp: one on the command, more on scans and its timer, a
    ramp step apart), within ``LOOP.ramp``, for ``LOOP.safety_within`` of the policy's
    steps."""
    outputs: dict[int, list[tuple[float, float]]] = {}
    for _, m in recorded(folder, "/cmd_vel"):
        outputs.setdefault(stamp_to_ns(m.header.stamp), []).append(
            (m.twist.linear.x, m.twist.angular.z)
        )
    lin_tol, ang_tol = LOOP.ramp
    steps = [
        ((lin, ang), outputs[s])
        for s, lin, ang, src in zip(
            rows["stamp_ns"], rows["executed_linear"], rows["executed_angular"],
            rows["takeover_source"], strict=True,
        )
        if s in outputs and src == ""
    ]  # fmt: skip
    assert len(steps) > 20
    within = sum(
        any(abs(lin - a) <= lin_tol and abs(ang - b) <= ang_tol for a, b in recorded_outputs)
        for (lin, ang), recorded_outputs in steps
    )
    assert within >= LOOP.safety_within * len(steps), (within, len(steps))


def _check_takeovers(rows: dict, folder: Path, profile: RobotProfile) -> None:
    """Take-over rows are exactly the steps while the person's commands were fresh, and what
    they executed is the person's command, not the policy's."""
    teleop = [(stamp_to_ns(m.header.stamp), m.twist.linear.x) for _, m in recorded(
        folder, "/fw/teleop/cmd_vel")]  # fmt: skip
    first, last = teleop[0][0], teleop[-1][0]
    timeout = int(profile.safety.inputs.teleop_timeout * 1e9)
    takeovers = [s for s, t in zip(rows["stamp_ns"], rows["takeover"], strict=True) if t]
    assert len(takeovers) > 20
    assert set(rows["takeover_source"]) == {"", "teleop"}
    for stamp, taken, source in zip(
        rows["stamp_ns"], rows["takeover"], rows["takeover_source"], strict=True
    ):
        assert source == ("teleop" if taken else "")
        if first + 100_000_000 <= stamp <= last:
            assert taken, f"step at {stamp} ns: teleop was fresh"
        if stamp < first or stamp > last + timeout:
            assert not taken, f"step at {stamp} ns: no fresh teleop"
    # The person asked for 0.5 m/s straight on while the policy wanted otherwise.
    columns = (rows["policy_linear"], rows["executed_linear"], rows["takeover"])
    driven = [(p, e) for p, e, t in zip(*columns, strict=True) if t and e > 0.45]
    assert driven and all(abs(e - 0.5) < 1e-6 for _, e in driven)
    assert any(abs(p - e) > 0.1 for p, e in driven)


def _check_stats(root: Path, table: pa.Table, spec) -> None:
    stats = json.loads((root / "stats.json").read_text())
    observation = np.stack(table.column("observation").to_pylist()).astype(np.float64)
    np.testing.assert_allclose(stats["observation"]["mean"], observation.mean(0), atol=1e-9)
    np.testing.assert_allclose(stats["observation"]["std"], observation.std(0), atol=1e-9)
    np.testing.assert_allclose(stats["observation"]["min"], observation.min(0))
    assert stats["observation"]["count"] == [table.num_rows] * spec.size
    assert stats["observation"]["names"] == spec.feature_names()
    executed = table.column("executed_linear").to_numpy().astype(np.float64)
    assert stats["executed_linear"]["max"] == [executed.max()]
    assert stats["executed_linear"]["mean"] == pytest.approx([executed.mean()])
    # No labels at all: no figures but a zero count.
    assert stats["expert_linear"]["count"] == [0] and stats["expert_linear"]["mean"] == [None]


def _shard_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "data").glob("*.parquet"))}


def test_rebuild_decodes_only_new_episodes_and_the_hash_names_the_content(
    tmp_path: Path, profile: RobotProfile
) -> None:
    store = LocalStore(tmp_path / "store")
    root = tmp_path / "ds"
    upload_golden(store, tmp_path / "spool", [DRIVE])
    decoded: list[str] = []

    def progress(done: int, total: int, outcome) -> None:
        if outcome.verdict == "decoded":
            decoded.append(outcome.key)

    first = build_dataset(store, root, profile=profile, progress=progress)
    assert decoded == [f"r1/{episode_name(DRIVE)}"] and first.last_build["decoded"] == 1
    shards = _shard_bytes(root)

    upload_golden(store, tmp_path / "spool", [SAFETY])
    decoded.clear()
    second = build_dataset(store, root, profile=profile, progress=progress)
    assert decoded == [f"r1/{episode_name(SAFETY)}"]
    assert second.last_build == {"decoded": 1, "unchanged": 1, "quarantined": 0, "pending": 0}
    # The first shard is untouched; the new episode went to a new one.
    after = _shard_bytes(root)
    assert after["shard-00000.parquet"] == shards["shard-00000.parquet"]
    assert sorted(after) == ["shard-00000.parquet", "shard-00001.parquet"]
    assert second.dataset_hash != first.dataset_hash

    decoded.clear()
    third = build_dataset(store, root, profile=profile, progress=progress)
    assert decoded == [] and third.last_build["unchanged"] == 2
    assert third.dataset_hash == second.dataset_hash

    # The same episodes built in one go: other shards, the same content and hash.
    fresh = build_dataset(store, tmp_path / "ds_once", profile=profile)
    assert fresh.dataset_hash == second.dataset_hash
    assert sorted(_shard_bytes(tmp_path / "ds_once")) == ["shard-00000.parquet"]
    # (Table.equals says NaN != NaN: compare the bytes of the content.)
    assert content_sha256(load_steps(tmp_path / "ds_once")) == content_sha256(load_steps(root))
    # The hash follows the content: one changed value changes it.
    index = json.loads((root / "episodes.json").read_text())["episodes"]
    digests = {k: e["content_sha256"] for k, e in index.items()}
    assert dataset_hash(digests) == second.dataset_hash
    digests[next(iter(digests))] = "0" * 64
    assert dataset_hash(digests) != second.dataset_hash


def test_an_interrupted_build_leaves_no_orphan_shards(
    tmp_path: Path, profile: RobotProfile
) -> None:
    """Shards written by a build that died before its commit (episodes.json) are removed by
    the next build, which decodes those episodes again."""
    store = LocalStore(tmp_path / "store")
    root = tmp_path / "ds"
    upload_golden(store, tmp_path / "spool", [DRIVE])
    build_dataset(store, root, profile=profile)
    orphan = root / "data" / "shard-00001.parquet"
    pq.write_table(load_steps(root), orphan)
    (root / "data" / "shard-00002.parquet.tmp").write_bytes(b"half")
    card = build_dataset(store, root, profile=profile)
    assert sorted(p.name for p in (root / "data").iterdir()) == ["shard-00000.parquet"]
    assert card.steps == load_steps(root).num_rows


def test_a_changed_policy_is_caught_by_the_no_skew_check(
    tmp_path: Path, profile: RobotProfile
) -> None:
    """The no-skew check notices a dataset built with another policy than the robot ran (a
    classic heading gain 20 % higher)."""
    import dataclasses

    classic = profile.policy.classic
    changed = dataclasses.replace(
        profile,
        policy=dataclasses.replace(
            profile.policy,
            classic=dataclasses.replace(classic, heading_gain=classic.heading_gain * 1.2),
        ),
    )
    store = LocalStore(tmp_path / "store")
    upload_golden(store, tmp_path / "spool", [DRIVE])
    build_dataset(store, tmp_path / "ds", profile=changed)
    rows = load_steps(tmp_path / "ds").to_pydict()
    with pytest.raises(AssertionError, match="reproduced exactly for"):
        check_no_skew(rows, GOLDEN[DRIVE])
