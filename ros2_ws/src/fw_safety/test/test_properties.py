"""Properties that must hold for every input (hypothesis)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_helpers import BEAMS, MS, config, feed_scan

from fw_safety import zones as zones_module
from fw_safety.scan_points import ScanPoints
from fw_safety.supervisor import SafetySupervisor, StepResult
from fw_safety.twist import Twist2D
from fw_safety.zones import CollisionZones

anything = st.floats(allow_nan=True, allow_infinity=True)
speed = st.floats(-5.0, 5.0, allow_nan=False)
range_value = st.one_of(
    st.floats(0.0, 15.0), st.just(math.inf), st.just(-math.inf), st.just(math.nan)
)


def _scan(fill: float, overrides: list[tuple[int, float]]) -> np.ndarray:
    ranges = np.full(BEAMS, fill, dtype=np.float32)
    for index, value in overrides:
        ranges[index] = value
    return ranges


# Scans from a fill value and a few beams set to anything (cheap to shrink).
scans = st.builds(
    _scan, range_value, st.lists(st.tuples(st.integers(0, BEAMS - 1), range_value), max_size=40)
)

# One step: time advance (ms), which inputs arrive, a command per source, a scan.
step = st.fixed_dictionaries(
    {
        "dt_ms": st.integers(0, 400),
        "scan": st.one_of(st.none(), scans),
        "odom": st.booleans(),
        "imu": st.booleans(),
        "policy": st.one_of(st.none(), st.tuples(anything, anything)),
        "teleop": st.one_of(st.none(), st.tuples(anything, anything)),
        "estop": st.sampled_from([None, True, False]),
        "reset": st.booleans(),
    }
)


def run_steps(sup: SafetySupervisor, steps: list[dict]) -> Iterator[tuple[int, StepResult]]:
    """Feed each step's inputs and yield ``(now_ns, result)`` before the next step's."""
    now = 0
    for s in steps:
        now += s["dt_ms"] * MS
        if s["scan"] is not None:
            feed_scan(sup, s["scan"], now)
        if s["odom"]:
            sup.odometry(0.0, 0.0, now)
        if s["imu"]:
            sup.imu(0.0, 0.0, 0.0, 1.0, now)
        for source in ("policy", "teleop"):
            if s[source] is not None:
                sup.command(source, *s[source], "base_link", now, now)
        if s["estop"] is not None:
            sup.estop(s["estop"])
        if s["reset"]:
            sup.reset(now)
        yield now, sup.step(now)


@settings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=30))
def test_output_is_finite_within_limits_and_zero_when_any_watchdog_fired(
    steps: list[dict],
) -> None:
    sup = SafetySupervisor(config())
    lim = sup.config.limits
    previous = Twist2D()
    previous_ns = 0
    for now, result in run_steps(sup, steps):
        twist = result.twist
        assert twist.is_finite()
        assert -lim.max_linear_reverse - 1e-9 <= twist.linear <= lim.max_linear_forward + 1e-9
        assert abs(twist.angular) <= lim.max_angular + 1e-9
        dt = (now - previous_ns) / 1e9
        # Speed only grows within the acceleration limits (stops may cut it at once).
        assert abs(twist.linear) <= abs(previous.linear) + lim.linear_acceleration * dt + 1e-9
        assert abs(twist.angular) <= abs(previous.angular) + lim.angular_acceleration * dt + 1e-9
        if sup.stale_inputs(now) or sup.latched:
            assert twist == Twist2D()
            assert result.state in ("stopped", "estop")
        previous, previous_ns = twist, now


@settings(max_examples=200, deadline=None)
@given(
    linear=speed,
    angular=speed,
    xs=st.lists(st.floats(0.0, 0.79), min_size=3, max_size=20),  # zone ends at 0.795
    ys=st.lists(st.floats(-0.38, 0.38), min_size=20, max_size=20),
    clutter=st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), max_size=50),
)
def test_never_moves_toward_an_obstacle_inside_the_stop_zone(
    linear: float, angular: float, xs: list[float], ys: list[float], clutter: list
) -> None:
    cfg = config()
    zones = CollisionZones(cfg.robot.footprint, cfg.footprint_padding, cfg.zones)
    px = np.asarray(xs + [c[0] for c in clutter])
    py = np.asarray(ys[: len(xs)] + [c[1] for c in clutter])
    result = zones.restrict(Twist2D(linear, angular), zones.prepare(ScanPoints(px, py)))
    assert result.twist.linear <= 0.0
    assert result.twist.is_finite()
    # Zones only ever restrict.
    assert abs(result.twist.angular) <= abs(angular) + 1e-12
    assert abs(result.twist.linear) <= abs(linear) + 1e-12


@settings(max_examples=100, deadline=None)
@given(
    linear=st.floats(0.01, 1.0),
    angular=st.floats(-1.5, 1.5),
    distance=st.floats(0.5, 0.79),
)
def test_supervisor_never_drives_into_a_wall_in_the_stop_zone(
    linear: float, angular: float, distance: float
) -> None:
    from safety_helpers import drive, wall_ranges

    sup = SafetySupervisor(config())
    results = drive(sup, linear, angular, 0, 600, ranges=wall_ranges(0.2, distance))
    assert all(r.twist.linear <= 0.0 for r in results)


def _time_to_collision_over_all_points(
    zones: CollisionZones, cmd: Twist2D, pts: ScanPoints
) -> float | None:
    """The approach rule evaluated on every point outside the padded footprint, one pose and
    one point at a time, without the reach cut-off that :meth:`CollisionZones.prepare` makes
    cheap (the reference)."""
    cfg = zones.zones.approach
    x_lo, x_hi, y_lo, y_hi = zones._box
    outside = [
        (x, y)
        for x, y in zip(pts.x.tolist(), pts.y.tolist(), strict=True)
        if not (x_lo <= x <= x_hi and y_lo <= y <= y_hi)
    ]
    steps = cfg.simulation_steps
    times = [(i + 1) * (cfg.time_to_collision / steps) for i in range(steps)]
    for i, t in enumerate(times):
        theta = cmd.angular * t
        c, s = math.cos(theta), math.sin(theta)
        if abs(cmd.angular) > 1e-9:
            radius = cmd.linear / cmd.angular
            ox, oy = radius * s, radius * (1.0 - c)
        else:
            ox, oy = cmd.linear * t, 0.0
        hits = 0
        for x, y in outside:
            lx, ly = c * (x - ox) + s * (y - oy), -s * (x - ox) + c * (y - oy)
            hits += x_lo <= lx <= x_hi and y_lo <= ly <= y_hi
        if hits >= cfg.min_points:
            return 0.0 if i == 0 else times[i - 1]
    return None


@settings(max_examples=300, deadline=None)
@given(
    linear=speed,
    angular=speed,
    xy=st.lists(st.tuples(st.floats(-4, 4), st.floats(-4, 4)), min_size=0, max_size=60),
    loop_limit=st.sampled_from([0, zones_module._LOOP_LIMIT, 10**9]),
)
def test_approach_reach_cut_off_changes_no_verdict(
    linear: float, angular: float, xy: list[tuple[float, float]], loop_limit: int
) -> None:
    """Python loop (few points) and NumPy grid (many) alike: the same verdict as every point
    checked pose by pose, and the same again when asked twice (the one-call memo)."""
    cfg = config()
    zones = CollisionZones(cfg.robot.footprint, cfg.footprint_padding, cfg.zones)
    pts = ScanPoints(np.asarray([p[0] for p in xy]), np.asarray([p[1] for p in xy]))
    cmd = Twist2D(linear, angular)
    expected = _time_to_collision_over_all_points(zones, cmd, pts)
    prepared = zones.prepare(pts)
    with patch.object(zones_module, "_LOOP_LIMIT", loop_limit):
        assert zones.time_to_collision(cmd, prepared) == expected
        assert zones.time_to_collision(cmd, prepared) == expected
