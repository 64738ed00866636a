"""Scan cleaning: REP-117 cases, the median filter, clipping and body masking."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw_perception import scan_filter
from fw_perception.scan_filter import ScanCleaner, median_filter, normalise_rep117

INF, NAN = math.inf, math.nan


def cleaner(**overrides: object) -> ScanCleaner:
    kwargs: dict[str, object] = dict(
        range_min=0.15,
        range_max=10.0,
        median_window=1,
        laser_pose=(0.2, 0.0, 0.0),
        footprint=(-0.5, 0.5, -0.35, 0.35),
        footprint_margin=0.0,
    )
    kwargs.update(overrides)
    return ScanCleaner(**kwargs)  # type: ignore[arg-type]


def test_rep117_special_values_pass_through() -> None:
    r = normalise_rep117([INF, -INF, NAN, 1.0], 0.1, 12.0)
    assert r[0] == INF and r[1] == -INF and math.isnan(r[2]) and r[3] == pytest.approx(1.0)


def test_rep117_out_of_range_numbers_become_infinities() -> None:
    # A pre-REP-117 driver: 30 m past a 12 m sensor is "no return", 0.0 below 0.1 is "too close".
    r = normalise_rep117([30.0, 0.0, 0.05, 12.0, 0.1], 0.1, 12.0)
    assert list(r[:3]) == [INF, -INF, -INF]
    assert r[3] == pytest.approx(12.0) and r[4] == pytest.approx(0.1)


def test_normalise_does_not_modify_the_input() -> None:
    src = np.array([30.0, 1.0], dtype=np.float32)
    normalise_rep117(src, 0.1, 12.0)
    assert src[0] == 30.0


def test_clean_clips_to_configured_limits_and_reports_them() -> None:
    c = cleaner(range_min=0.5, range_max=4.0)
    # Beams pointing left (pi/2); 0.45 m is past the body box side (0.35 m).
    out = c.clean([0.45, 5.0, 2.0], math.pi / 2, 0.001, 0.1, 12.0)
    assert out.ranges[0] == -INF and out.ranges[1] == INF
    assert out.ranges[2] == pytest.approx(2.0)
    assert (out.range_min, out.range_max) == (0.5, 4.0)


def test_reported_limits_never_exceed_the_sensor() -> None:
    out = cleaner(range_max=10.0).clean([1.0], 1.0, 0.1, 0.1, 6.0)
    assert out.range_max == 6.0


def test_median_removes_a_single_spike_and_fills_a_single_dropout() -> None:
    r = np.array([2.0, 2.0, 0.3, 2.0, 2.0, NAN, 2.0, 2.0], dtype=np.float32)
    out = median_filter(r, 3, wrap=False)
    assert out[2] == pytest.approx(2.0)
    assert out[5] == pytest.approx(2.0)


def test_median_never_averages_infinities() -> None:
    r = np.array([-INF, INF, NAN], dtype=np.float32)
    out = median_filter(r, 3, wrap=False)
    assert not np.isnan(out[0]) and not np.isnan(out[1])
    assert set(out[:2].tolist()) <= {-INF, INF}


def test_median_of_all_nan_window_stays_nan() -> None:
    out = median_filter(np.full(5, NAN, dtype=np.float32), 3, wrap=True)
    assert np.isnan(out).all()


def test_median_wraps_full_turn_scans() -> None:
    r = np.full(10, 3.0, dtype=np.float32)
    r[0] = 0.5  # spike at the seam: its neighbours are beam 1 and beam 9
    r[9] = 3.0
    assert median_filter(r, 3, wrap=True)[0] == pytest.approx(3.0)
    # Without wrapping the window at beam 0 is [NaN, 0.5, 3.0]: lower median 0.5.
    assert median_filter(r, 3, wrap=False)[0] == pytest.approx(0.5)


def test_body_returns_are_masked_as_nan_obstacles_are_not() -> None:
    c = cleaner()
    # Beam 0 points backwards from a laser 0.2 m ahead of centre: 0.6 m back is x = -0.4, on
    # the body; 1.0 m back is x = -0.8, outside it. Beam 1 points forward: 0.2 m → x = 0.4.
    out = c.clean([0.6, 0.2], math.pi, math.pi, 0.1, 12.0)
    assert np.isnan(out.ranges).all() and out.masked == 2
    out = c.clean([1.0, 0.5], math.pi, math.pi, 0.1, 12.0)
    assert out.ranges.tolist() == pytest.approx([1.0, 0.5]) and out.masked == 0


def test_masked_body_does_not_leak_through_the_median() -> None:
    c = cleaner(median_window=3)
    # 360 beams, everything at 3 m, except a mast seen at 0.3 m straight behind the laser.
    r = np.full(360, 3.0, dtype=np.float32)
    r[0:3] = 0.3  # angle -pi .. : behind, x = 0.2 - 0.3 = -0.1 → inside the body
    out = c.clean(r, -math.pi, 2 * math.pi / 360, 0.1, 12.0)
    assert np.isnan(out.ranges[0:3]).all()
    assert np.nanmin(out.ranges) == pytest.approx(3.0)


def _nan_comparison_warns() -> bool:
    nan32 = np.full(64, np.nan, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            _ = nan32 > 1.0, nan32 < 1.0, nan32 >= np.zeros(64), nan32 <= np.zeros(64)
        except RuntimeWarning:
            return True
    return False


def test_the_errstate_probe_matches_what_this_numpy_does() -> None:
    # The cleaner skips np.errstate only where comparing NaN leaves NumPy quiet.
    assert scan_filter._nan_comparisons_flag_invalid() == _nan_comparison_warns()


# The guard as this NumPy chooses it, and forced on (what a NumPy that flags NaN gets).
@pytest.mark.parametrize("need_errstate", sorted({scan_filter._COMPARISONS_NEED_ERRSTATE, True}))
def test_cleaning_nan_never_warns_and_the_guard_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, need_errstate: bool
) -> None:
    r = np.tile(np.array([NAN, 0.05, 0.3, 3.0, INF, -INF, 20.0], dtype=np.float32), 52)[:360]
    c = cleaner(median_window=3)
    expected = c.clean(r, -math.pi, 2 * math.pi / 360, 0.1, 12.0).ranges
    monkeypatch.setattr(scan_filter, "_COMPARISONS_NEED_ERRSTATE", need_errstate)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = c.clean(r, -math.pi, 2 * math.pi / 360, 0.1, 12.0).ranges
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("bad", [(NAN, 0.1), (0.0, INF)])
def test_non_finite_angles_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        cleaner().clean([1.0, 1.0], bad[0], bad[1], 0.1, 12.0)


def test_two_dimensional_ranges_are_refused() -> None:
    with pytest.raises(ValueError):
        cleaner().clean([[1.0, 2.0]], 0.0, 0.1, 0.1, 12.0)


@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32)),
        min_size=1,
        max_size=64,
    ),
    st.sampled_from([1, 3, 5]),
)
def test_every_output_beam_is_in_limits_or_a_rep117_value(
    ranges: list[float], window: int
) -> None:
    c = cleaner(median_window=window)
    out = c.clean(ranges, -math.pi, 2 * math.pi / len(ranges), 0.1, 12.0)
    r = out.ranges
    assert r.shape == (len(ranges),)
    finite = r[np.isfinite(r)]
    assert ((finite >= out.range_min) & (finite <= out.range_max)).all()


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=40),
    st.booleans(),
)
def test_fast_window_3_median_equals_the_general_one(ranges: list[float], wrap: bool) -> None:
    from fw_perception.scan_filter import _median3

    r = np.array(ranges, dtype=np.float32)
    padded = (
        np.concatenate([r[-1:], r, r[:1]])
        if wrap and r.size > 3
        else np.pad(r, 1, mode="constant", constant_values=np.nan)
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, 3)
    ordered = np.sort(windows, axis=1)
    valid = np.count_nonzero(~np.isnan(windows), axis=1)
    general = ordered[np.arange(r.size), np.maximum((valid - 1) // 2, 0)]
    np.testing.assert_array_equal(_median3(padded.astype(np.float32)), general)


@given(
    st.integers(1, 720),
    st.floats(-math.pi, math.pi),
    st.floats(-0.3, 0.3),
    st.floats(-math.pi, math.pi),
)
def test_body_mask_is_the_returns_inside_the_box(
    beams: int, angle_min: float, laser_x: float, laser_yaw: float
) -> None:
    """The per-beam range intervals mark exactly the returns whose point lies in the box."""
    c = cleaner(laser_pose=(laser_x, 0.05, laser_yaw), footprint_margin=0.03)
    increment = 2 * math.pi / beams
    ranges = np.random.default_rng(beams).uniform(-0.2, 1.5, beams).astype(np.float32)
    ranges[::7] = INF
    ranges[3::11] = NAN
    mask = c.body_mask(ranges, angle_min, increment)
    angles = angle_min + increment * np.arange(beams) + laser_yaw
    r = ranges.astype(np.float64)
    x_min, x_max, y_min, y_max = c.box
    # inf times a cosine that rounds to 0 is NaN: such a beam is not inside, as intended.
    with np.errstate(invalid="ignore"):
        x, y = laser_x + r * np.cos(angles), 0.05 + r * np.sin(angles)
        inside = (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
        # Rounding may decide a return within a micrometre of an edge either way.
        edge = np.minimum.reduce([abs(x - x_min), abs(x - x_max), abs(y - y_min), abs(y - y_max)])
    decided = ~(edge < 1e-6)
    np.testing.assert_array_equal(mask[decided], (np.isfinite(r) & inside)[decided])
