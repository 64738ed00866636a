"""Every decision of the ``policy`` node, without ROS: inputs → gate → featurize → act → command.

The node converts perception's messages into the calls below and publishes the
:class:`PolicyCommand` they return; the robot loop (:mod:`fw_bringup.robot_loop`), the replays and
the cloud call the same methods. A command is always produced: a zero, with the reason, when an
input is missing or stale, the goal is reached, or the policy cannot decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fw_common.laser_scan import LaserScanData
from fw_common.observation import ObservationSpec
from fw_common.profile import PolicyConfig
from fw_policy.base import Action, Policy, PolicyInput
from fw_policy.gating import stop_reason

__all__ = ["PolicyCommand", "PolicyStep"]


class _State(NamedTuple):
    stamp_ns: int
    linear: float
    angular: float


class _Goal(NamedTuple):
    stamp_ns: int
    x: float
    y: float


@dataclass(frozen=True)
class PolicyCommand:
    """One command: forward speed (m/s) and yaw rate (rad/s), stamped with the scan it was
    computed from (ns; ``now`` when there is no scan yet)."""

    stamp_ns: int
    linear: float
    angular: float
    #: Why the command is zero, or None when the policy acted.
    reason: str | None = None
    #: What the policy was fed (the observation spec's vector), None when it was not asked.
    observation: npt.NDArray[np.float32] | None = None


class PolicyStep:
    """Holds the latest perception outputs and turns a scan into a command."""

    def __init__(self, config: PolicyConfig, spec: ObservationSpec, policy: Policy) -> None:
        self.config = config
        self.spec = spec
        #: The policy that acts; the node swaps it at run time (a new model, another kind).
        self.policy = policy
        self.latest_scan: LaserScanData | None = None
        self._state: _State | None = None
        self._goal: _Goal | None = None
        self.commands = 0
        #: Zero commands by reason (the part before any ``:``).
        self.stops: dict[str, int] = {}

    def reconfigure(self, config: PolicyConfig) -> None:
        """Apply a validated configuration (timeouts, tolerance); the policy is kept."""
        self.config = config

    def state(self, stamp_ns: int, linear: float, angular: float) -> None:
        """Perception's fused state: its stamp (ns) and body velocity (m/s, rad/s)."""
        self._state = _State(stamp_ns, float(linear), float(angular))

    def goal(self, stamp_ns: int, x: float, y: float) -> None:
        """Perception's goal in ``base_link`` (m), stamped with its state (ns)."""
        self._goal = _Goal(stamp_ns, float(x), float(y))

    def scan(self, scan: LaserScanData) -> PolicyCommand | None:
        """Take a cleaned scan; with ``trigger: scan`` the command computed from it."""
        asked = self.ask_scan(scan)
        if isinstance(asked, PolicyInput):
            return self.answer(scan, asked, self.act(asked))
        return asked

    def ask_scan(self, scan: LaserScanData) -> PolicyInput | PolicyCommand | None:
        """:meth:`scan` up to the policy: take the scan; with ``trigger: scan`` what the policy
        is asked (see :meth:`ask`)."""
        self.latest_scan = scan
        if self.config.trigger != "scan":
            return None
        return self.ask(scan, scan.stamp_ns)

    def tick(self, now_ns: int) -> PolicyCommand:
        """The command for a timer tick at ``now_ns`` (``trigger: timer``): from the latest
        scan, or a zero when there is none yet."""
        if self.latest_scan is None:
            return self._zero(now_ns, "no scan yet")
        return self.decide(self.latest_scan, now_ns)

    def decide(self, scan: LaserScanData, now_ns: int) -> PolicyCommand:
        """Gate the inputs, featurize, act: the command for ``scan`` at ``now_ns``."""
        asked = self.ask(scan, now_ns)
        if isinstance(asked, PolicyCommand):
            return asked
        return self.answer(scan, asked, self.act(asked))

    # A decision in halves: ask -> act -> answer. ``decide`` is exactly these three calls; a
    # caller that chooses the action itself (a learning agent) makes them with its own act.

    def ask(self, scan: LaserScanData, now_ns: int) -> PolicyInput | PolicyCommand:
        """Gate and featurize: the policy's inputs for ``scan`` at ``now_ns``, or the zero
        command when the gate stops the robot or the inputs cannot be featurized."""
        state, goal = self._state, self._goal
        reason = stop_reason(
            scan.stamp_ns,
            now_ns,
            state_ns=None if state is None else state.stamp_ns,
            goal_ns=None if goal is None else goal.stamp_ns,
            goal_xy=None if goal is None else (goal.x, goal.y),
            input_timeout=self.config.input_timeout,
            goal_tolerance=self.config.goal_tolerance,
        )
        if reason is not None:
            return self._zero(scan.stamp_ns, reason)
        assert state is not None and goal is not None  # the gate checked both
        try:
            observation = self.spec.featurize(
                scan.ranges,
                scan.angle_min,
                scan.angle_increment,
                (goal.x, goal.y),
                state.linear,
                state.angular,
            )
        except ValueError as exc:
            return self._zero(scan.stamp_ns, f"policy error: {exc}")
        return PolicyInput(
            ranges=scan.ranges,
            angle_min=scan.angle_min,
            angle_increment=scan.angle_increment,
            range_min=scan.range_min,
            goal_xy=(goal.x, goal.y),
            linear=state.linear,
            angular=state.angular,
            observation=observation,
        )

    def act(self, inputs: PolicyInput) -> Action | ValueError:
        """The policy's action for ``inputs``, or the ``ValueError`` it refused them with."""
        try:
            return self.policy.act(inputs)
        except ValueError as exc:
            return exc

    def answer(
        self, scan: LaserScanData, inputs: PolicyInput, action: Action | ValueError
    ) -> PolicyCommand:
        """The command of ``action`` (a refusal: a zero with the reason) for ``scan``."""
        if isinstance(action, ValueError):
            return self._zero(scan.stamp_ns, f"policy error: {action}")
        self.commands += 1
        return PolicyCommand(
            scan.stamp_ns, float(action.linear), float(action.angular), None, inputs.observation
        )

    def _zero(self, stamp_ns: int, reason: str) -> PolicyCommand:
        key = reason.split(":")[0]
        self.stops[key] = self.stops.get(key, 0) + 1
        self.commands += 1
        return PolicyCommand(stamp_ns, 0.0, 0.0, reason)
