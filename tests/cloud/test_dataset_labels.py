"""Expert labels and real drivers' bytes: a golden episode rewritten with ``fw/expert/cmd_vel``
labels (as the simulator publishes them) and Fast CDR's 4-byte tail on every ``joint_states``
and ``imu`` message (eProsima/Fast-CDR#299) builds into the same steps, each with the label
nearest in time within one control period."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cloud_bridge.dataset import build_dataset, default_profile, load_steps
from cloud_bridge.dataset.card import content_sha256
from cloud_bridge.store import LocalStore
from fw_common.profile import RobotProfile
from support.dataset_bags import GOLDEN, derive_bag, upload_folders
from support.episodes import add_golden_episode

#: No label in this window (s), as when the expert has nothing to say.
GAP_S = (8.0, 9.0)
LABEL_PERIOD_NS = 50_000_000


def expert(stamp_ns: int) -> tuple[float, float] | None:
    t = stamp_ns / 1e9
    if GAP_S[0] <= t < GAP_S[1]:
        return None
    return 0.1 + 0.01 * t, -0.2 + 0.005 * t


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return default_profile()


def test_expert_labels_and_fast_cdr_tails(tmp_path: Path, profile: RobotProfile) -> None:
    store = LocalStore(tmp_path / "store")
    ready = tmp_path / "spool" / "ready"
    add_golden_episode(ready, "sim_seed3_drive", name="plain")
    derive_bag(
        GOLDEN["sim_seed3_drive"],
        ready / "labelled",
        expert=expert,
        expert_period_ns=LABEL_PERIOD_NS,
        tail_topics=frozenset({"/joint_states", "/imu"}),
    )
    upload_folders(store, tmp_path / "spool")
    card = build_dataset(store, tmp_path / "ds", profile=profile)
    assert card.episodes == ["r1/labelled", "r1/plain"] and card.quarantined == 0
    table = load_steps(tmp_path / "ds")

    def episode(name: str) -> pa.Table:
        return table.filter(pa.compute.equal(table["episode_id"], name))

    plain, labelled = episode("plain"), episode("labelled")
    # The tails and the extra topic change nothing the loop computes.
    same = [c for c in table.column_names if not c.startswith(("expert_", "has_expert"))]
    same.remove("episode_id")
    assert content_sha256(plain.select(same)) == content_sha256(labelled.select(same))
    assert not any(plain["has_expert"].to_pylist())

    period_ns = round(1e9 / card.fps)
    first = min(labelled["stamp_ns"].to_pylist())
    label_times = [
        t
        for t in range(first - first % LABEL_PERIOD_NS - period_ns, first + 30 * 10**9, 50_000_000)
        if expert(t) is not None
    ]
    rows = labelled.to_pydict()
    with_label = 0
    for stamp, lin, ang, has in zip(
        rows["stamp_ns"], rows["expert_linear"], rows["expert_angular"], rows["has_expert"],
        strict=True,
    ):  # fmt: skip
        nearest = min(label_times, key=lambda t: abs(t - stamp))
        if abs(nearest - stamp) <= period_ns:
            expected = expert(nearest)
            assert expected is not None and has, stamp
            assert lin == np.float32(expected[0]) and ang == np.float32(expected[1]), stamp
            with_label += 1
        else:
            assert not has and math.isnan(lin) and math.isnan(ang), stamp
    in_gap = [s for s in rows["stamp_ns"] if GAP_S[0] + 0.15 <= s / 1e9 < GAP_S[1] - 0.15]
    assert in_gap and with_label >= len(rows["stamp_ns"]) - len(in_gap) - 2
