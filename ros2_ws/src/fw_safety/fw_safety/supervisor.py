"""The safety supervisor: every command source in, one safe command out.

No ROS here: the node feeds message contents and the ROS clock's time (ns), and publishes what
:meth:`SafetySupervisor.step` returns. The pipeline of one step:

1. **latched stops** (e-stop, heartbeat lock, tilt, geofence) trip and stay tripped until
   :meth:`SafetySupervisor.reset` succeeds, which it does only once every cause is gone;
2. **watchdogs** (scan, odometry, IMU): a stale input stops the robot until it is fresh again;
3. **mux**: the highest-priority fresh source drives (teleop over policy);
4. **limits**: velocity clamp, then acceleration/deceleration ramp from the last output;
5. **collision zones** on the latest scan, most restrictive wins.

Any stop gives an exact zero at once (no ramp down: the actuator bridge limits wheel
acceleration physically). Interventions become :class:`SafetyEvent` records, one per
intervention: an event fires when a kind of intervention starts, not on every message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy.typing as npt

from fw_common.profile.safety import SafetyConfig
from fw_safety.attitude import roll_pitch
from fw_safety.events import SafetyEvent
from fw_safety.freshness import Freshness
from fw_safety.geofence import Geofence
from fw_safety.limits import VelocityLimiter
from fw_safety.mux import CommandMux
from fw_safety.scan_points import ScanPoints, ScanProjector
from fw_safety.twist import ZERO, Twist2D
from fw_safety.zones import CollisionZones, ZoneVerdict

__all__ = ["POLICY", "SOURCES", "TELEOP", "SafetySupervisor", "StepResult"]

TELEOP = "teleop"
POLICY = "policy"
#: Command sources, highest priority first.
SOURCES = (TELEOP, POLICY)

#: Latched stop causes.
LATCHING = ("estop", "heartbeat", "tilt", "geofence")

_NS = 1_000_000_000
# An intervention that stops and restarts within this time is the same intervention (one event).
_DEBOUNCE_NS = 500_000_000


def _ns(seconds: float) -> int:
    return round(seconds * _NS)


def _cut_axis(value: float, requested: float, allowed: float) -> float:
    if allowed == requested or abs(value) <= abs(allowed):
        return value
    return allowed


def _cut(ramped: Twist2D, requested: Twist2D, allowed: Twist2D) -> Twist2D:
    """``ramped`` with each axis that a zone restricted held within the zone's allowance."""
    return Twist2D(
        _cut_axis(ramped.linear, requested.linear, allowed.linear),
        _cut_axis(ramped.angular, requested.angular, allowed.angular),
    )


@dataclass(frozen=True)
class StepResult:
    """The output of one step."""

    twist: Twist2D
    #: Stamp for the output: that of the input it came from, else ``now`` (ns).
    stamp_ns: int
    #: Source driving the output, or "" when none.
    source: str
    #: ``estop`` (latched stop), ``stopped`` (stale input), ``limited``, ``idle`` or ``running``.
    state: str
    #: Interventions in force this step (latched causes, stale inputs, zones).
    active: tuple[str, ...]
    #: Events that started with this step (or since the last one).
    events: list[SafetyEvent] = field(default_factory=list)
    #: True when the state or the set of interventions differs from the previous step.
    changed: bool = False


class SafetySupervisor:
    """Plain-Python core of the ``safety`` node."""

    def __init__(self, config: SafetyConfig) -> None:
        self.mux = CommandMux(SOURCES, {TELEOP: 0, POLICY: 0})
        self.scan_watch = Freshness(0)
        self.odom_watch = Freshness(0)
        self.imu_watch = Freshness(0)
        self.heartbeat_watch = Freshness(1)
        self.heartbeat_armed = False
        self.heartbeat_value = True
        self.estop_pressed = False
        self.tilt_violation: str | None = None
        self.fence_violation: str | None = None
        self.latched: dict[str, str] = {}
        self.points = ScanPoints.empty()
        self.counters = {
            "commands": 0,
            "refused_commands": 0,
            "scans": 0,
            "refused_scans": 0,
            "refused_odom": 0,
            "refused_imu": 0,
            "events": 0,
        }
        self.last_event: SafetyEvent | None = None
        self._bad_source: dict[str, bool] = {name: False for name in SOURCES}
        self._pending: list[SafetyEvent] = []
        self._last_output = ZERO
        self._last_step_ns: int | None = None
        self._source = ""
        self._override = False
        self._state = ""
        self._active: tuple[str, ...] = ()
        self._last_active_ns: dict[str, int] = {}
        self.configure(config)

    # --- configuration ------------------------------------------------------------------------

    def configure(self, config: SafetyConfig) -> None:
        """Apply a (validated) configuration; keeps latches, inputs and the last output."""
        self.config = config
        self.limiter = VelocityLimiter(config.limits)
        self.zones = CollisionZones(config.robot.footprint, config.footprint_padding, config.zones)
        self.zone_scan = self.zones.prepare(self.points)
        self.projector = ScanProjector(
            config.robot.laser.pose2d, config.zones.max_invalid_fraction
        )
        self.geofence = (
            Geofence(config.geofence.polygon, config.geofence.margin)
            if config.geofence.enabled
            else None
        )
        self.mux.set_timeout(TELEOP, _ns(config.inputs.teleop_timeout))
        self.mux.set_timeout(POLICY, _ns(config.inputs.policy_timeout))
        self.scan_watch.timeout_ns = _ns(config.watchdogs.scan_timeout)
        self.odom_watch.timeout_ns = _ns(config.watchdogs.odom_timeout)
        self.imu_watch.timeout_ns = _ns(config.watchdogs.imu_timeout)
        self.heartbeat_watch.timeout_ns = _ns(config.heartbeat.timeout)
        mode = config.heartbeat.mode
        if mode == "off":
            self.heartbeat_armed = False
        elif mode == "required":
            self.heartbeat_armed = True
        if not config.tilt.enabled:
            self.tilt_violation = None
        if self.geofence is None:
            self.fence_violation = None

    # --- inputs -------------------------------------------------------------------------------

    def command(
        self,
        source: str,
        linear: float,
        angular: float,
        frame_id: str,
        stamp_ns: int,
        now_ns: int,
    ) -> str | None:
        """A command from ``source``; returns None, or why it was refused.

        A refused command counts as a fresh *zero* from that source, so a source that starts
        sending garbage stops the robot rather than handing over to a lower priority.
        """
        disabled = self._admit(source)
        if disabled is not None:
            return disabled
        twist = Twist2D(float(linear), float(angular))
        reason = None
        if not twist.is_finite():
            reason = f"non-finite twist (linear.x={linear}, angular.z={angular})"
        elif frame_id not in ("", self.config.base_frame):
            reason = f"twist in frame {frame_id!r}, expected {self.config.base_frame!r}"
        if reason is None:
            self._bad_source[source] = False
            self.mux.feed(source, twist, stamp_ns, now_ns)
            return None
        return self._refuse_command(source, reason, stamp_ns, now_ns)

    def _admit(self, source: str) -> str | None:
        """Count a command from ``source``; why it is refused unread, or None."""
        if source not in SOURCES:
            raise ValueError(f"unknown command source {source!r}")
        self.counters["commands"] += 1
        if source == TELEOP and not self.config.inputs.teleop_enabled:
            self.counters["refused_commands"] += 1
            return "teleop is disabled (inputs.teleop_enabled)"
        return None

    def _refuse_command(self, source: str, reason: str, stamp_ns: int, now_ns: int) -> str:
        self.counters["refused_commands"] += 1
        self.mux.feed(source, ZERO, stamp_ns, now_ns, refused=True)
        if not self._bad_source[source]:
            self._bad_source[source] = True
            self._emit("refused_command", f"{source}: {reason}", now_ns, source, ZERO)
        return reason

    def scan(
        self,
        angle_min: float,
        angle_max: float,
        angle_increment: float,
        range_min: float,
        range_max: float,
        ranges: npt.ArrayLike,
        now_ns: int,
    ) -> str | None:
        """A LaserScan's fields; returns None, or why the scan was refused (not fresh)."""
        result = self.projector.project(
            angle_min, angle_max, angle_increment, range_min, range_max, ranges
        )
        if isinstance(result, str):
            self.counters["refused_scans"] += 1
            return result
        self.counters["scans"] += 1
        self.points = result
        # The zones' per-scan work happens here, on arrival, not on the command path.
        self.zone_scan = self.zones.prepare(result)
        self.scan_watch.feed(now_ns)
        return None

    def odometry(self, x: float, y: float, now_ns: int) -> str | None:
        """Odometry position in ``odom`` (m); returns None, or why it was refused."""
        if not (math.isfinite(x) and math.isfinite(y)):
            self.counters["refused_odom"] += 1
            return f"non-finite odometry position ({x}, {y})"
        self.odom_watch.feed(now_ns)
        self.fence_violation = None if self.geofence is None else self.geofence.violation(x, y)
        return None

    def imu(self, qx: float, qy: float, qz: float, qw: float, now_ns: int) -> str | None:
        """IMU orientation quaternion; returns None, or why it was refused."""
        attitude = roll_pitch(qx, qy, qz, qw)
        if isinstance(attitude, str):
            self.counters["refused_imu"] += 1
            return attitude
        self.imu_watch.feed(now_ns)
        roll, pitch = attitude
        tilt = self.config.tilt
        violation = None
        if tilt.enabled and abs(roll) > tilt.max_roll:
            violation = f"roll {roll:.2f} rad beyond {tilt.max_roll:.2f}"
        elif tilt.enabled and abs(pitch) > tilt.max_pitch:
            violation = f"pitch {pitch:.2f} rad beyond {tilt.max_pitch:.2f}"
        self.tilt_violation = violation
        return None

    def estop(self, pressed: bool) -> None:
        """The e-stop topic's value: True pressed (latches at the next step), False released."""
        self.estop_pressed = bool(pressed)

    def heartbeat(self, alive: bool, now_ns: int) -> None:
        """A heartbeat: True feeds the lock (and arms it); False releases it (a stop)."""
        self.heartbeat_value = bool(alive)
        if alive:
            self.heartbeat_watch.feed(now_ns)
            if self.config.heartbeat.mode == "armed_on_first":
                self.heartbeat_armed = True

    @property
    def stop_pending(self) -> bool:
        """A latching cause is present but not latched yet: step now rather than next tick."""
        causes = self._latch_causes_now(None)
        return any(kind not in self.latched for kind in causes)

    @property
    def scan_stop_pending(self) -> bool:
        """The latest scan puts an obstacle in the stop zone the last output drives into: step
        now, so the zero goes out on this scan rather than on the next command or tick. Any
        other effect of a new scan (slowdown, approach, a stale scan turning fresh) applies at
        the next step, which the policy's command computed from this same scan triggers."""
        return self.zones.stops(self._last_output.linear, self.zone_scan)

    # --- the filter ---------------------------------------------------------------------------

    def _heartbeat_problem(self, now_ns: int | None) -> str | None:
        if self.config.heartbeat.mode == "off" or not self.heartbeat_armed:
            return None
        if not self.heartbeat_value:
            return "heartbeat lock released (false)"
        if now_ns is not None and not self.heartbeat_watch.fresh(now_ns):
            return f"no heartbeat for {self.config.heartbeat.timeout:.2f} s"
        return None

    def _latch_causes_now(self, now_ns: int | None) -> dict[str, str]:
        causes: dict[str, str] = {}
        if self.estop_pressed:
            causes["estop"] = "e-stop pressed"
        heartbeat = self._heartbeat_problem(now_ns)
        if heartbeat is not None:
            causes["heartbeat"] = heartbeat
        if self.tilt_violation is not None:
            causes["tilt"] = self.tilt_violation
        if self.fence_violation is not None:
            causes["geofence"] = self.fence_violation
        return causes

    def stale_inputs(self, now_ns: int) -> dict[str, str]:
        """Watchdogs that have fired: ``stale_<input>`` → reason."""
        stale = {}
        for name, watch in (
            ("scan", self.scan_watch),
            ("odom", self.odom_watch),
            ("imu", self.imu_watch),
        ):
            if not watch.fresh(now_ns):
                age = watch.age_ns(now_ns)
                what = "never received" if age is None else f"{age / _NS:.2f} s old"
                stale[f"stale_{name}"] = f"{name} {what} (timeout {watch.timeout_ns / _NS:.2f} s)"
        return stale

    def _emit(self, kind: str, reason: str, now_ns: int, source: str, output: Twist2D) -> None:
        inputs = {name: cmd.twist for name, cmd in self.mux.latest().items()}
        event = SafetyEvent(kind, reason, now_ns, source, inputs, output)
        self._pending.append(event)
        self.last_event = event
        self.counters["events"] += 1

    def step(self, now_ns: int) -> StepResult:
        """Compute the output command at ROS time ``now_ns``."""
        dt = 0.0
        if self._last_step_ns is not None and now_ns > self._last_step_ns:
            dt = (now_ns - self._last_step_ns) / _NS
        self._last_step_ns = now_ns

        reasons: dict[str, str] = {}
        for kind, reason in self._latch_causes_now(now_ns).items():
            if kind not in self.latched:
                self.latched[kind] = reason
                reasons[kind] = reason
        stale = self.stale_inputs(now_ns)
        for kind, reason in stale.items():
            watch = getattr(self, f"{kind.removeprefix('stale_')}_watch")
            if kind not in self._active and watch.ever_fed:
                reasons[kind] = reason

        selected = self.mux.select(now_ns)
        source = selected.source if selected is not None else ""
        override = source == TELEOP and self.mux.fresh(POLICY, now_ns)
        if override and not self._override:
            reasons["teleop_override"] = "teleop overrides the policy"
        self._override = override
        # The driving source timed out while the robot moved: the output drops to zero (or to
        # a lower-priority source), an intervention worth recording.
        previous = self._source
        if (
            previous
            and source != previous
            and not self._last_output.is_zero()
            and not self.mux.fresh(previous, now_ns)
        ):
            timeout = self.mux.timeout_ns(previous) / _NS
            reasons["stale_command"] = f"{previous} older than {timeout:.2f} s while moving"
        self._source = source

        target = self.limiter.clamp(selected.twist if selected is not None else ZERO)
        active: list[str] = [*self.latched, *stale]
        if selected is not None and selected.refused:
            active.append("refused_command")
        zone_reason = ""
        if self.latched or stale or (selected is not None and selected.refused):
            output = ZERO
        else:
            # Zones on what the source asks for; the smoother ramps toward what they allow and
            # a zone's cut applies at once (it does not wait for the deceleration limit).
            wish = self.zones.restrict(target, self.zone_scan)
            ramped = self.limiter.ramp(self._last_output, wish.twist, dt)
            if wish.active:
                ramped = _cut(ramped, target, wish.twist)
            # Motion left from before (still decelerating) must obey the stop zone and the
            # approach rule too.
            guard = self.zones.restrict(ramped, self.zone_scan, use_slowdown=False)
            output = guard.twist
            zone_kinds = list(dict.fromkeys([*wish.active, *guard.active]))
            active.extend(zone_kinds)
            zone_reason = "; ".join(r for r in (wish.reason, guard.reason) if r)
            verdict = ZoneVerdict(output, tuple(zone_kinds), guard.scale, zone_reason)
            for kind in verdict.active:
                last = self._last_active_ns.get(kind)
                if last is None or now_ns - last > _DEBOUNCE_NS or now_ns < last:
                    reasons[kind] = zone_reason
                self._last_active_ns[kind] = now_ns
        self._last_output = output

        for kind, reason in reasons.items():
            self._emit(kind, reason, now_ns, source, output)

        if self.latched:
            state = "estop"
        elif stale or "refused_command" in active:
            state = "stopped"
        elif any(k in active for k in ("stop_zone", "slowdown_zone", "approach")):
            state = "limited"
        elif selected is None:
            state = "idle"
        else:
            state = "running"
        active_t = tuple(active)
        changed = state != self._state or active_t != self._active
        self._state, self._active = state, active_t
        events, self._pending = self._pending, []
        stamp_ns = selected.stamp_ns if selected is not None else now_ns
        return StepResult(output, stamp_ns, source, state, active_t, events, changed)

    # --- reset --------------------------------------------------------------------------------

    def reset(self, now_ns: int) -> tuple[bool, str]:
        """Clear latched stops, only once every cause is gone. Returns (success, message).

        Never called automatically: only an explicit request (the node's Trigger service)
        restarts the robot after a latched stop.
        """
        if not self.latched:
            return True, "nothing latched"
        blockers = self._latch_causes_now(now_ns)
        if blockers:
            return False, "refused, cause still present: " + "; ".join(blockers.values())
        cleared = ", ".join(self.latched)
        self.latched.clear()
        self._last_output = ZERO
        self._emit("reset", f"cleared {cleared}", now_ns, self._source, ZERO)
        return True, f"reset: cleared {cleared}"

    def status(self, now_ns: int) -> dict[str, str]:
        """Key/value status for diagnostics (strings)."""
        cfg = self.config
        lim = cfg.limits
        values = {
            "state": self._state or "starting",
            "source": self._source or "none",
            "active": ",".join(self._active) or "none",
            "latched": "; ".join(f"{k}: {v}" for k, v in self.latched.items()) or "none",
            "stale": "; ".join(self.stale_inputs(now_ns).values()) or "none",
            "output.linear": f"{self._last_output.linear:.3f}",
            "output.angular": f"{self._last_output.angular:.3f}",
            "heartbeat": (
                "off"
                if cfg.heartbeat.mode == "off"
                else "armed"
                if self.heartbeat_armed
                else "not armed"
            ),
            "limits.linear": f"[{-lim.max_linear_reverse}, {lim.max_linear_forward}]",
            "limits.angular": f"{lim.max_angular}",
            "scan.points": str(len(self.points)),
        }
        if self.last_event is not None:
            ev = self.last_event
            values["last_intervention.kind"] = ev.kind
            values["last_intervention.reason"] = ev.reason
            values["last_intervention.stamp_ns"] = str(ev.stamp_ns)
        values.update({f"count.{k}": str(v) for k, v in self.counters.items()})
        return values
