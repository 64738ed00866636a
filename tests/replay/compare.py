"""Comparisons of replayed stage outputs with the recorded ones, and their tolerances.

Every check matches messages by header stamp (each output carries its input's stamp) and raises
``AssertionError`` with the numbers when the replay does not reproduce the recording. The
tolerances are per check, below, with the reason each one is not zero; the ``*_NODE`` variants
are for replays through the real nodes over DDS, which add message loss and clock jitter.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from records import Command, Pose2D, SafetyStep, ScanOut, by_stamp, pairs

__all__ = [
    "CORE",
    "LOOP",
    "NODE",
    "Tolerance",
    "check_commands",
    "check_events",
    "check_goals",
    "check_safety",
    "check_scans",
    "check_states",
]


@dataclass(frozen=True)
class Tolerance:
    #: Share of the recorded outputs the replay must reproduce (by stamp). Below 1 because the
    #: recorder subscribes best effort to the sensor topics: a raw scan it lost has a recorded
    #: output but no recorded input (about 3 % of the scans in the golden bags), and a node
    #: replay over DDS may lose some in turn.
    matched: float
    #: Pose (m, rad) of the fused state and of the goal in base_link. Not zero: the perception
    #: node's executor takes ``imu`` and ``odom`` from two subscriptions, and when an IMU sample
    #: reaches it on the other side of an odometry sample than in the recording, one gyro
    #: increment moves to the next step (the sum is kept, so the error does not grow).
    pose: float
    #: Fused yaw rate (rad/s): the same reordering changes which gyro sample is the latest.
    yaw_rate: float
    #: Fused forward speed (m/s). Exact when perception is fed the recorded odometry (it is
    #: the odometry's); not when the loop recomputes odometry from the recorded encoders: the
    #: bridge node took ``joint_states`` best effort, so its speed over an interval with a
    #: missed sample is the average over two intervals.
    speed: float
    #: Share of the policy commands (cmd_vel_raw) that must be reproduced exactly (1e-9): the
    #: classic policy is deterministic on the same inputs; a command differs only where the
    #: policy node took a different latest state or goal than the recording's order shows.
    commands_exact: float
    #: cmd_vel (m/s, rad/s) while a source drives. The node takes ``now`` from the last /clock
    #: it received, the recorder from its own: they differ by up to one /clock period (fw_sim
    #: publishes 100 Hz on 240 Hz physics steps, so up to 12.5 ms), at both ends of a ramp
    #: step, so an acceleration-limited output may differ by 2 × 12.5 ms × the largest limit
    #: of the sim profile (2 m/s² → 0.05 m/s; 5 rad/s² → 0.125 rad/s).
    ramp: tuple[float, float]
    #: Share of cmd_vel within ``ramp``: a scan that reached the safety node just after (not
    #: before, as recorded) a step moves a zone's cut to the next step, 50 ms later.
    safety_within: float
    #: Sim-time window (s) in which a replayed event must start for a recorded one (of the
    #: same kind): the supervisor's debounce window, inside which two starts are one event.
    event_window: float


CORE = Tolerance(
    matched=0.9,
    pose=1e-3,
    yaw_rate=0.05,
    speed=1e-9,
    commands_exact=0.95,
    ramp=(0.05, 0.13),
    safety_within=0.97,
    event_window=0.5,
)
#: The whole loop on the raw streams: the loop makes odometry from ``joint_states`` (it matches
#: the recorded ``odom`` to ~3e-6 m) at the encoder message's receive time, where the node
#: graph's perception took the bridge's ``odom`` a few milliseconds later, so more gyro samples
#: land on the other side of an odometry step than in the stage replay (heading and the goal's
#: bearing differ by up to ~0.02 rad on the golden bags), the speed is over the encoder
#: interval (``speed``), and where the classic policy's choice of gap or its slow-down near the
#: goal depends on that difference the command differs (11 % of ``sim_seed3_drive``'s).
LOOP = dataclasses.replace(CORE, pose=0.03, yaw_rate=0.1, speed=1e-3, commands_exact=0.85)
#: Through the real nodes over DDS: loss on best-effort links both in the recording and in the
#: replay, and a /clock published by the test process (a few ms of jitter on a loaded host), so
#: the fused state's IMU share, the policy's latest state/goal and the safety node's ramp steps
#: drift more. A stall of the test process makes ``play`` publish a burst to catch up; the
#: perception node's deep IMU/odometry queue (``qos.INTEGRATED_SENSOR``) keeps it whole, where a
#: lost gyro sample is a pose error that never goes away (``sim_seed3_drive``, worst of 40
#: random drops: 0.01 for one sample, 0.045 for three in a row; the tolerance is 0.01).
#: Measured on the golden bags (shared 2-core host): pose 5e-4, every policy
#: command exact, cmd_vel within 0.01 for 98 %, events at the recorded stamps; the margins
#: below are ~10x that, for a loaded machine.
NODE = Tolerance(
    matched=0.9,
    pose=0.01,
    yaw_rate=0.1,
    speed=1e-9,
    commands_exact=0.9,
    ramp=(0.1, 0.25),
    safety_within=0.9,
    event_window=0.5,
)


def _matched(n: int, recorded: int, tol: Tolerance, what: str) -> None:
    assert recorded > 0, f"no recorded {what}"
    assert n >= tol.matched * recorded, f"{what}: reproduced {n} of {recorded} recorded stamps"


def check_scans(ours: Sequence[ScanOut], recorded: Sequence[ScanOut], tol: Tolerance) -> None:
    """Cleaned scans: bit-identical ranges (NaN where NaN), for every matched stamp."""
    matched = list(pairs(by_stamp(ours), by_stamp(recorded)))
    _matched(len(matched), len(recorded), tol, "fw/perception/scan")
    different = [
        (a.stamp_ns, int(np.count_nonzero(~np.isclose(a.ranges, b.ranges, 0, 0, True))))
        for a, b in matched
        if not np.array_equal(a.ranges, b.ranges, equal_nan=True)
    ]
    assert not different, f"cleaned scans differ (stamp ns, beams): {different[:5]}"


def _pose_error(a: Pose2D, b: Pose2D) -> tuple[float, float]:
    return math.hypot(a.x - b.x, a.y - b.y), abs(math.remainder(a.yaw - b.yaw, math.tau))


def check_states(ours: Sequence[Pose2D], recorded: Sequence[Pose2D], tol: Tolerance) -> None:
    """Fused state: pose within ``pose``, forward speed exact, yaw rate within ``yaw_rate``."""
    matched = list(pairs(by_stamp(ours), by_stamp(recorded)))
    _matched(len(matched), len(recorded), tol, "fw/perception/state")
    worst = max(max(_pose_error(a, b)) for a, b in matched)
    assert worst <= tol.pose, f"fused pose off by {worst:.3g} (m or rad), tolerance {tol.pose}"
    speed = max(abs(a.linear - b.linear) for a, b in matched)
    assert speed <= tol.speed, f"forward speed off by {speed:.3g} m/s, tolerance {tol.speed}"
    rate = max(abs(a.angular - b.angular) for a, b in matched)
    assert rate <= tol.yaw_rate, f"yaw rate off by {rate:.3g} rad/s, tolerance {tol.yaw_rate}"


def check_goals(ours: Sequence[Pose2D], recorded: Sequence[Pose2D], tol: Tolerance) -> None:
    """The goal in base_link, within ``pose`` (it inherits the fused state's error)."""
    matched = list(pairs(by_stamp(ours), by_stamp(recorded)))
    _matched(len(matched), len(recorded), tol, "fw/perception/goal")
    worst = max(max(_pose_error(a, b)) for a, b in matched)
    assert worst <= tol.pose, f"goal off by {worst:.3g} (m or rad), tolerance {tol.pose}"


def check_commands(ours: Sequence[Command], recorded: Sequence[Command], tol: Tolerance) -> None:
    """Policy commands: at least ``commands_exact`` of the matched stamps reproduced exactly."""
    matched = list(pairs(by_stamp(ours), by_stamp(recorded)))
    _matched(len(matched), len(recorded), tol, "fw/cmd_vel_raw")
    off = [
        (b.stamp_ns, (a.linear, a.angular), (b.linear, b.angular))
        for a, b in matched
        if abs(a.linear - b.linear) > 1e-9 or abs(a.angular - b.angular) > 1e-9
    ]
    exact = len(matched) - len(off)
    assert exact >= tol.commands_exact * len(matched), (
        f"policy commands reproduced exactly for {exact} of {len(matched)} "
        f"(need {tol.commands_exact:.0%}); (stamp, replayed, recorded): {off[:5]}"
    )
    moving = sum(abs(b.linear) + abs(b.angular) > 0.05 for _, b in matched)
    assert moving >= 0.2 * len(matched), "the recorded policy hardly moves: nothing is compared"


def check_safety(
    steps: Sequence[tuple[SafetyStep, Command]], command_stamps: set[int], tol: Tolerance
) -> None:
    """cmd_vel: with a driving source (recorded stamp = a command's) the replay carries the
    same stamp (98 %) and is within ``ramp`` for ``safety_within`` of them; with none (stamp =
    the node's ``now``) both are zero."""
    driving = [(o, r) for o, r in steps if r.stamp_ns in command_stamps]
    idle = [(o, r) for o, r in steps if r.stamp_ns not in command_stamps]
    assert len(driving) > 20, f"only {len(driving)} cmd_vel driven by a command"
    same = [(o, r) for o, r in driving if o.stamp_ns == r.stamp_ns]
    assert len(same) >= 0.98 * len(driving), f"stamp reproduced for {len(same)}/{len(driving)}"
    lin, ang = tol.ramp
    off = [
        (r.stamp_ns, (o.linear, o.angular), (r.linear, r.angular))
        for o, r in same
        if abs(o.linear - r.linear) > lin or abs(o.angular - r.angular) > ang
    ]
    within = len(same) - len(off)
    assert within >= tol.safety_within * len(same), (
        f"cmd_vel within ({lin}, {ang}) for {within} of {len(same)} "
        f"(need {tol.safety_within:.0%}); (stamp, replayed, recorded): {off[:5]}"
    )
    moving = [r for _, r in idle if r.linear or r.angular]
    assert not moving, f"recorded cmd_vel moving with no fresh source: {moving[:3]}"
    assert not [o for o, _ in idle if o.linear or o.angular], "replay moves with no source"


#: Sim time after the bag's first /clock during which events are not compared (s). At start
#: each node's clock reads 0 until its first /clock, so an input taken before that ages by the
#: whole startup jump and a watchdog may report it stale once; which node sees that depends on
#: discovery order, in the recording as in a replay (which also leaves out what the recorder
#: received before its own first /clock). The golden interventions start seconds later.
STARTUP_S = 1.0


def after_startup(events: Sequence[tuple[int, str]], first_clock_ns: int) -> list[tuple[int, str]]:
    """``events`` from ``STARTUP_S`` after the first /clock on."""
    return [(t, k) for t, k in events if t >= first_clock_ns + STARTUP_S * 1e9]


def check_events(
    ours: Sequence[tuple[int, str]], recorded: Sequence[tuple[int, str]], tol: Tolerance
) -> None:
    """Safety events, ``(t_ns, kind)``: the same kinds in the same order, each starting within
    ``event_window`` of the recorded one (pass both through :func:`after_startup`)."""
    assert [k for _, k in ours] == [k for _, k in recorded], (
        f"event kinds differ: replayed {ours}, recorded {recorded}"
    )
    late = [
        (k, (t - r) / 1e9)
        for (t, k), (r, _) in zip(ours, recorded, strict=True)
        if abs(t - r) > tol.event_window * 1e9
    ]
    assert not late, f"events off by more than {tol.event_window} s: {late}"


def check_cmd_vel_by_stamp(
    ours: Sequence[Command], recorded: Sequence[Command], command_stamps: set[int], tol: Tolerance
) -> None:
    """cmd_vel of a real safety node against the recording: the node publishes several outputs
    per command (on the command, on scans, on its timer), so the *last* output carrying each
    command's stamp is compared; ``safety_within`` of them within ``ramp``."""
    last_ours, last_recorded = by_stamp(ours), by_stamp(recorded)
    driven = {s: r for s, r in last_recorded.items() if s in command_stamps}
    matched = list(pairs(last_ours, driven))
    _matched(len(matched), len(driven), tol, "cmd_vel stamps")
    lin, ang = tol.ramp
    off = [
        (b.stamp_ns, (a.linear, a.angular), (b.linear, b.angular))
        for a, b in matched
        if abs(a.linear - b.linear) > lin or abs(a.angular - b.angular) > ang
    ]
    within = len(matched) - len(off)
    assert within >= tol.safety_within * len(matched), (
        f"cmd_vel within ({lin}, {ang}) for {within} of {len(matched)} "
        f"(need {tol.safety_within:.0%}); (stamp, replayed, recorded): {off[:5]}"
    )
