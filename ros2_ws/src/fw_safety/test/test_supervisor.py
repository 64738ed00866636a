"""The supervisor: mux, limits, refusals, watchdogs, latched stops and reset, events."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from safety_helpers import MS, config, drive, feed_scan, feed_sensors, wall_ranges

from fw_safety.supervisor import SafetySupervisor
from fw_safety.twist import Twist2D


def make(**overrides: object) -> SafetySupervisor:
    return SafetySupervisor(config(**overrides))


def kinds(results: list) -> list[str]:
    return [e.kind for r in results for e in r.events]


def test_policy_drives_within_acceleration_limits() -> None:
    sup = make()
    results = drive(sup, 0.8, 0.0, 0, 2000)
    speeds = [r.twist.linear for r in results]
    accel = sup.config.limits.linear_acceleration
    assert all(b - a <= accel * 0.05 + 1e-9 for a, b in itertools.pairwise(speeds))
    assert speeds[-1] == pytest.approx(0.8)
    assert results[-1].state == "running" and results[-1].source == "policy"


def test_velocity_is_clamped() -> None:
    sup = make(limits={"linear_acceleration": 100.0, "angular_acceleration": 200.0})
    last = drive(sup, 5.0, -9.0, 0, 500)[-1]
    assert last.twist == Twist2D(
        sup.config.limits.max_linear_forward, -sup.config.limits.max_angular
    )


def test_output_carries_the_input_stamp() -> None:
    sup = make()
    feed_sensors(sup, 100 * MS)
    sup.command("policy", 0.1, 0.0, "", 42, 100 * MS)
    assert sup.step(100 * MS).stamp_ns == 42
    # no fresh input: stamped with the step time
    assert sup.step(2000 * MS).stamp_ns == 2000 * MS


def test_teleop_overrides_policy_and_the_override_is_one_event() -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 500)
    results = []
    for t in range(500, 1000, 50):
        now = t * MS
        feed_sensors(sup, now)
        sup.command("policy", 0.5, 0.0, "base_link", now, now)
        sup.command("teleop", 0.0, 0.7, "base_link", now, now)
        results.append(sup.step(now))
    assert results[-1].source == "teleop"
    assert results[-1].twist.angular == pytest.approx(0.7)
    assert results[-1].twist.linear == pytest.approx(0.0)
    overrides = [e for r in results for e in r.events if e.kind == "teleop_override"]
    assert len(overrides) == 1
    assert overrides[0].inputs["policy"] == Twist2D(0.5, 0.0)
    assert overrides[0].inputs["teleop"] == Twist2D(0.0, 0.7)
    # teleop goes quiet: the policy drives again after its timeout
    after = drive(sup, 0.5, 0.0, 1000, 2000)
    assert after[-1].source == "policy"


def test_stale_command_gives_zero_and_an_event_when_moving() -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 1000)
    results = []
    for t in range(1000, 2000, 50):
        feed_sensors(sup, t * MS)
        results.append(sup.step(t * MS))
    assert results[-1].twist == Twist2D() and results[-1].state == "idle"
    assert kinds(results).count("stale_command") == 1


def _bad_values(linear: float, angular: float, frame: str) -> Any:
    return lambda sup, now: sup.command("policy", linear, angular, frame, now, now)


@pytest.mark.parametrize(
    ("refuse", "reason"),
    [
        (_bad_values(math.nan, 0.0, ""), "non-finite twist"),
        (_bad_values(0.1, math.inf, "base_link"), "non-finite twist"),
        (_bad_values(-math.inf, 0.0, ""), "non-finite twist"),
        (_bad_values(0.2, 0.0, "map"), "twist in frame 'map'"),
    ],
    ids=["nan linear", "inf angular", "-inf linear", "wrong frame"],
)
def test_bad_commands_are_refused_zeroed_and_reported_once(refuse: Any, reason: str) -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 1000)
    results = []
    for t in range(1000, 1500, 50):
        now = t * MS
        feed_sensors(sup, now)
        assert reason in refuse(sup, now)
        results.append(sup.step(now))
    assert all(r.twist == Twist2D() for r in results), "a bad command must stop, not coast"
    assert kinds(results).count("refused_command") == 1
    assert sup.counters["refused_commands"] == sup.counters["commands"] - 20 == 10
    # A good command afterwards drives again.
    drive(sup, 0.3, 0.0, 1500, 2500)
    assert sup.step(2500 * MS).twist.linear > 0.0


def test_stale_scan_stops_and_recovers_without_reset() -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 1000)
    results = []
    for t in range(1000, 2000, 50):
        now = t * MS
        sup.odometry(0.0, 0.0, now)
        sup.imu(0.0, 0.0, 0.0, 1.0, now)
        sup.command("policy", 0.5, 0.0, "", now, now)
        results.append(sup.step(now))
    stopped = [r for r in results if r.state == "stopped"]
    assert stopped and all(r.twist == Twist2D() for r in stopped)
    # detected within the timeout plus one step
    first = results.index(stopped[0])
    assert (1000 + 50 * first) - 950 <= 500 + 50
    assert kinds(results) == ["stale_scan"]
    again = drive(sup, 0.5, 0.0, 2000, 2500)
    assert again[-1].state == "running" and again[-1].twist.linear > 0


def test_refused_scans_do_not_feed_the_watchdog() -> None:
    sup = make()
    drive(sup, 0.3, 0.0, 0, 500)
    import numpy as np

    for t in range(500, 1500, 50):
        now = t * MS
        assert feed_scan(sup, np.zeros(0, dtype=np.float32), now) is not None
        sup.odometry(0.0, 0.0, now)
        sup.imu(0.0, 0.0, 0.0, 1.0, now)
        sup.command("policy", 0.3, 0.0, "", now, now)
        result = sup.step(now)
    assert result.state == "stopped" and result.twist == Twist2D()


def test_estop_latches_and_reset_needs_release() -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 1000)
    sup.estop(True)
    result = sup.step(1000 * MS)
    assert result.twist == Twist2D() and result.state == "estop"
    assert [e.kind for e in result.events] == ["estop"]
    ok, message = sup.reset(1050 * MS)
    assert not ok and "e-stop pressed" in message
    sup.estop(False)
    # released but not reset: still stopped, no automatic restart
    held = drive(sup, 0.5, 0.0, 1100, 2000)
    assert all(r.twist == Twist2D() and r.state == "estop" for r in held)
    ok, message = sup.reset(2000 * MS)
    assert ok, message
    moving = drive(sup, 0.5, 0.0, 2000, 3000)
    assert moving[-1].twist.linear == pytest.approx(0.5)
    assert moving[0].twist.linear <= sup.config.limits.linear_acceleration * 0.05 + 1e-9


def test_heartbeat_lock_latches_when_it_stops() -> None:
    sup = make(heartbeat={"mode": "armed_on_first", "timeout": 0.3})
    drive(sup, 0.3, 0.0, 0, 500)  # never armed: the robot drives without a heartbeat
    for t in range(500, 1000, 50):
        sup.heartbeat(True, t * MS)
    assert drive(sup, 0.3, 0.0, 1000, 1200)[-1].state == "running"
    results = drive(sup, 0.3, 0.0, 1300, 2000)  # heartbeat stopped at 950 ms
    assert results[-1].state == "estop" and results[-1].twist == Twist2D()
    assert "heartbeat" in kinds(results)
    ok, _ = sup.reset(2000 * MS)
    assert not ok
    sup.heartbeat(True, 2000 * MS)
    ok, message = sup.reset(2000 * MS)
    assert ok, message


def test_required_heartbeat_blocks_motion_from_start() -> None:
    sup = make(heartbeat={"mode": "required"})
    assert drive(sup, 0.3, 0.0, 0, 300)[-1].state == "estop"


def test_tilt_latches_until_level_and_reset() -> None:
    sup = make()
    drive(sup, 0.3, 0.0, 0, 500)
    roll = 0.5
    qx, qw = math.sin(roll / 2), math.cos(roll / 2)
    sup.imu(qx, 0.0, 0.0, qw, 500 * MS)
    assert sup.stop_pending
    result = sup.step(500 * MS)
    assert result.state == "estop" and [e.kind for e in result.events] == ["tilt"]
    assert not sup.reset(550 * MS)[0]
    sup.imu(0.0, 0.0, 0.0, 1.0, 600 * MS)
    assert sup.reset(600 * MS)[0]


def test_geofence_latches_outside_the_polygon() -> None:
    sup = make(geofence={"enabled": True, "polygon": [-1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0]})
    drive(sup, 0.3, 0.0, 0, 500)
    sup.odometry(1.5, 0.0, 500 * MS)
    result = sup.step(500 * MS)
    assert result.state == "estop" and "geofence" in [e.kind for e in result.events]
    assert not sup.reset(550 * MS)[0]
    sup.odometry(0.5, 0.0, 600 * MS)
    assert sup.reset(600 * MS)[0]


@pytest.mark.parametrize("q", [(math.nan, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 0.0), (0, 0, 0, 5.0)])
def test_garbage_imu_is_refused(q: tuple[float, float, float, float]) -> None:
    sup = make()
    assert sup.imu(*q, 0) is not None
    assert not sup.imu_watch.ever_fed


def test_obstacle_ahead_stops_then_turning_is_allowed() -> None:
    sup = make()
    wall = wall_ranges(0.2, 0.7)
    forward = drive(sup, 0.5, 0.0, 0, 500, ranges=wall)
    assert all(r.twist.linear == 0.0 for r in forward)
    assert "stop_zone" in kinds(forward)
    turn = drive(sup, 0.0, 1.0, 500, 1500, ranges=wall)
    assert turn[-1].twist.angular == pytest.approx(1.0)


def test_runtime_reconfigure_keeps_latches() -> None:
    sup = make()
    sup.estop(True)
    sup.step(0)
    sup.configure(config(limits={"max_linear_forward": 0.2}))
    assert sup.latched and sup.limiter.limits.max_linear_forward == 0.2


def test_status_reports_state_limits_and_last_intervention() -> None:
    sup = make()
    drive(sup, 0.5, 0.0, 0, 500)
    sup.estop(True)
    sup.step(500 * MS)
    status = sup.status(500 * MS)
    assert status["state"] == "estop"
    assert status["last_intervention.kind"] == "estop"
    assert status["limits.linear"] == "[-0.5, 1.0]"


def test_sustained_slowdown_holds_ratio_times_the_command() -> None:
    # Regression: scaling the smoothed output and ramping from it again shrank it every step.
    sup = make(zones={"approach": {"enabled": False}})
    wall = wall_ranges(0.2, 1.3)  # in the slowdown zone, outside the stop zone
    results = drive(sup, 0.4, 0.0, 0, 3000, step_ms=20, ranges=wall)
    assert results[-1].twist.linear == pytest.approx(0.4 * sup.config.zones.slowdown.ratio)
    assert "slowdown_zone" in results[-1].active


def test_scan_stop_pending_only_for_a_stop_zone_in_the_direction_of_motion() -> None:
    """The node steps on a scan only when this says so: a wall entering the stop zone ahead
    while driving forward; not in free space, not while reversing away, not when standing."""
    sup = make()
    drive(sup, 0.5, 0.0, 0, 1000)
    assert sup._last_output.linear > 0.0
    assert not sup.scan_stop_pending
    assert feed_scan(sup, wall_ranges(0.2, 1.3), 1000 * MS) is None  # slowdown zone only
    assert not sup.scan_stop_pending
    assert feed_scan(sup, wall_ranges(0.2, 0.7), 1000 * MS) is None  # stop zone ahead
    assert sup.scan_stop_pending
    assert sup.step(1000 * MS).twist.linear == 0.0
    assert not sup.scan_stop_pending  # the output no longer drives into it
    reverse = make()
    drive(reverse, -0.3, 0.0, 0, 1000)
    assert feed_scan(reverse, wall_ranges(0.2, 0.7), 1000 * MS) is None
    assert not reverse.scan_stop_pending
