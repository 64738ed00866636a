"""The observation spec: shapes, ranges, REP-117 values, and a stable id."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw_common.observation import DEFAULT_SPEC, ObservationSpec, spec_by_name

BEAMS = 360
INC = 2 * math.pi / BEAMS


def featurize(spec: ObservationSpec, ranges: np.ndarray, goal=(3.0, 0.0), v=0.0, w=0.0):
    return spec.featurize(ranges, -math.pi, INC, goal, v, w)


def test_shape_dtype_and_names() -> None:
    spec = ObservationSpec(scan_sectors=12)
    obs = featurize(spec, np.full(BEAMS, 2.0))
    assert obs.shape == (spec.size,) == (17,)
    assert obs.dtype == np.float32
    assert len(spec.feature_names()) == spec.size


def test_sectors_are_min_pooled_and_normalised() -> None:
    spec = ObservationSpec(scan_sectors=4, scan_range=5.0)
    r = np.full(BEAMS, 4.0)
    r[180] = 1.0  # angle 0 (straight ahead): sector 2 of [-pi, -pi/2, 0, pi/2)
    obs = featurize(spec, r)
    assert obs[:4].tolist() == pytest.approx([0.8, 0.8, 0.2, 0.8])


def test_rep117_values() -> None:
    spec = ObservationSpec(scan_sectors=4)
    r = np.full(BEAMS, math.inf)  # nothing in range: free
    r[0:90] = math.nan  # sector 0 all invalid: no information → free
    r[90] = -math.inf  # too close in sector 1: touching
    obs = featurize(spec, r)
    assert obs[:4].tolist() == [1.0, 0.0, 1.0, 1.0]


def test_partial_field_of_view_leaves_unseen_sectors_free() -> None:
    spec = ObservationSpec(scan_sectors=4, scan_range=5.0)
    # A 90° scan straight ahead covers sector 2 only (angles in [0, pi/2)).
    obs = spec.featurize(np.full(90, 1.0), 0.0, INC, (1.0, 0.0), 0.0, 0.0)
    assert obs[:4].tolist() == pytest.approx([1.0, 1.0, 0.2, 1.0])


def test_goal_and_velocity_features() -> None:
    spec = ObservationSpec(scan_sectors=1, goal_range=10.0, max_linear=1.0, max_angular=2.0)
    obs = spec.featurize([1.0], 0.0, 0.1, (0.0, 4.0), 0.5, -4.0)
    assert obs[1:].tolist() == pytest.approx([0.4, 1.0, 0.0, 0.5, -1.0], abs=1e-6)
    far = spec.featurize([1.0], 0.0, 0.1, (-30.0, 0.0), 0.0, 0.0)
    assert far[1:4].tolist() == pytest.approx([1.0, 0.0, -1.0], abs=1e-6)
    at_goal = spec.featurize([1.0], 0.0, 0.1, (0.0, 0.0), 0.0, 0.0)
    assert at_goal[1:4].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "bad", [((math.nan, 0.0), 0.0, 0.0), ((1.0, 0.0), math.inf, 0.0), ((1.0, 0.0), 0.0, math.nan)]
)
def test_non_finite_goal_or_velocity_is_refused(bad) -> None:
    goal, v, w = bad
    with pytest.raises(ValueError):
        DEFAULT_SPEC.featurize(np.ones(BEAMS), -math.pi, INC, goal, v, w)


def test_bad_scan_geometry_is_refused() -> None:
    with pytest.raises(ValueError):
        DEFAULT_SPEC.featurize(np.ones((2, 3)), 0.0, 0.1, (1.0, 0.0), 0.0, 0.0)
    with pytest.raises(ValueError):
        DEFAULT_SPEC.featurize(np.ones(3), math.nan, 0.1, (1.0, 0.0), 0.0, 0.0)


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=400),
    st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
    st.floats(-100, 100),
    st.floats(-100, 100),
)
def test_every_feature_is_finite_and_in_range(ranges, goal, v, w) -> None:
    inc = 2 * math.pi / max(len(ranges), 1)
    obs = DEFAULT_SPEC.featurize(np.asarray(ranges, dtype=np.float64), -math.pi, inc, goal, v, w)
    assert obs.shape == (DEFAULT_SPEC.size,)
    assert np.isfinite(obs).all()
    assert (obs >= -1.0).all() and (obs <= 1.0).all()
    assert (obs[: DEFAULT_SPEC.scan_sectors] >= 0.0).all()


def test_spec_id_is_stable_across_processes_and_hash_seeds() -> None:
    code = "from fw_common.observation import DEFAULT_SPEC as s; print(s.spec_id)"
    ids = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        ids.add(out.stdout.strip())
    assert ids == {DEFAULT_SPEC.spec_id}
    assert len(DEFAULT_SPEC.spec_id) == 16
    int(DEFAULT_SPEC.spec_id, 16)


def test_spec_id_changes_with_every_part_of_the_definition() -> None:
    base = DEFAULT_SPEC
    variants = [
        dataclasses.replace(base, name="other"),
        dataclasses.replace(base, version=base.version + 1),
        dataclasses.replace(base, scan_sectors=base.scan_sectors + 1),
        dataclasses.replace(base, scan_range=base.scan_range + 0.5),
        dataclasses.replace(base, goal_range=base.goal_range + 0.5),
        dataclasses.replace(base, max_linear=base.max_linear + 0.5),
        dataclasses.replace(base, max_angular=base.max_angular + 0.5),
    ]
    ids = {base.spec_id} | {v.spec_id for v in variants}
    assert len(ids) == len(variants) + 1
    assert ObservationSpec().spec_id == base.spec_id  # equal definitions, equal ids


def test_invalid_specs_are_refused() -> None:
    with pytest.raises(ValueError):
        ObservationSpec(scan_sectors=0)
    with pytest.raises(ValueError):
        ObservationSpec(scan_range=math.inf)


def test_spec_by_name() -> None:
    assert spec_by_name(DEFAULT_SPEC.name) is DEFAULT_SPEC
    with pytest.raises(KeyError, match="known"):
        spec_by_name("nope")


def _pool_beam_by_beam(
    spec: ObservationSpec, ranges: np.ndarray, angle_min: float, angle_increment: float
) -> np.ndarray:
    """The pooling as the contract states it, one beam at a time: normalise and clip every
    valid beam, keep each sector's minimum, 1.0 where a sector has none (the reference the
    vectorised pooling must equal exactly; v1 shipped exactly this with np.minimum.at)."""
    out = np.ones(spec.scan_sectors, dtype=np.float64)
    width = 2 * math.pi / spec.scan_sectors
    for i, value in enumerate(np.asarray(ranges, dtype=np.float64)):
        if math.isnan(value):
            continue
        wrapped = np.mod(angle_min + angle_increment * float(i) + math.pi, 2 * math.pi)
        sector = min(int(np.floor(wrapped / width)), spec.scan_sectors - 1)
        out[sector] = min(out[sector], min(max(value / spec.scan_range, 0.0), 1.0))
    return out.astype(np.float32)


range_or_special = st.one_of(
    st.floats(-1.0, 20.0, width=32), st.sampled_from([math.inf, -math.inf, math.nan])
)


@given(
    st.lists(range_or_special, min_size=0, max_size=200),
    st.floats(-2 * math.pi, 2 * math.pi),
    st.sampled_from([1.0, 0.5, -1.0, 0.1, 3.0]),
    st.sampled_from([1, 7, 36, 64]),
)
def test_pooling_equals_the_beam_by_beam_contract_exactly(
    ranges: list[float], angle_min: float, turns: float, sectors: int
) -> None:
    """Sectors without beams, beams out of order (negative or partial increments, wrapping
    starts), NaN-only sectors and ±inf all take the vectorised path's branches."""
    spec = ObservationSpec(scan_sectors=sectors)
    r = np.array(ranges, dtype=np.float32)
    increment = turns * 2 * math.pi / max(len(ranges), 1)
    expected = _pool_beam_by_beam(spec, r, angle_min, increment)
    got = spec.pool_scan(r, angle_min, increment)
    np.testing.assert_array_equal(got, expected)  # exact; -0.0 and 0.0 count as equal
