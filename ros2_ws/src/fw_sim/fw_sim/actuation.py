"""The simulated motor driver: command validation, actuation latency and its own watchdog.

Plain Python with no physics: the world asks it, at every physics step, which wheel velocities
the motors should hold. A real motor driver behaves the same way: it refuses malformed frames,
acts on a command some time after it arrives, and stops the wheels when commands stop coming.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CommandResult", "WheelCommandGate"]


@dataclass(frozen=True)
class CommandResult:
    """Outcome of one wheel command: ``accepted``, or refused with a human-readable reason."""

    accepted: bool
    reason: str = ""


class WheelCommandGate:
    """Validates wheel velocity commands, delays them and times them out (all times in ns).

    ``joints`` are the commandable wheel joints. A command names a subset of them (each at most
    once) with a finite velocity (rad/s) per name; joints it does not name keep their current
    target. Velocities beyond ``max_speed`` (rad/s) are clamped, as a driver saturates.

    :meth:`submit` may run on another thread than :meth:`targets` (a ROS callback against the
    physics thread): it only reads settings and appends to a deque, whose ``append`` and
    ``popleft`` are atomic.
    """

    def __init__(
        self,
        joints: Sequence[str],
        *,
        max_speed: float,
        latency_ns: int,
        timeout_ns: int,
    ) -> None:
        self.joints = tuple(joints)
        self._index = {name: i for i, name in enumerate(self.joints)}
        self.max_speed = max_speed
        self.latency_ns = latency_ns
        self.timeout_ns = timeout_ns
        self._pending: deque[tuple[int, dict[int, float]]] = deque()
        self._target = [0.0] * len(self.joints)
        self._last_applied_ns: int | None = None
        self.refused = 0

    def validate(
        self, names: Sequence[str], velocities: Sequence[float]
    ) -> tuple[CommandResult, dict[int, float]]:
        """Check a command; returns the result and, if accepted, ``{joint index: rad/s}``."""
        if len(names) == 0:
            return CommandResult(False, "empty command: no joint names"), {}
        if len(names) > len(self.joints):
            return CommandResult(
                False, f"oversize command: {len(names)} joints, the robot has {len(self.joints)}"
            ), {}
        if len(velocities) != len(names):
            return CommandResult(
                False, f"{len(names)} joint names but {len(velocities)} velocities"
            ), {}
        unknown = [n for n in names if n not in self._index]
        if unknown:
            return CommandResult(
                False, f"unknown joints {unknown}; known: {list(self.joints)}"
            ), {}
        if len(set(names)) != len(names):
            return CommandResult(False, "a joint is named more than once"), {}
        command: dict[int, float] = {}
        for name, velocity in zip(names, velocities, strict=True):
            v = float(velocity)
            if not math.isfinite(v):
                return CommandResult(False, f"non-finite velocity {v!r} for {name}"), {}
            command[self._index[name]] = max(-self.max_speed, min(self.max_speed, v))
        return CommandResult(True), command

    def submit(
        self, names: Sequence[str], velocities: Sequence[float], now_ns: int
    ) -> CommandResult:
        """Receive a command at sim time ``now_ns``; it takes effect ``latency_ns`` later."""
        result, command = self.validate(names, velocities)
        if not result.accepted:
            self.refused += 1
            return result
        self._pending.append((now_ns + self.latency_ns, command))
        return result

    def targets(self, now_ns: int) -> list[float]:
        """Wheel velocity targets (rad/s) the motors hold at sim time ``now_ns``.

        The returned list is shared and only changes when the targets change: compare it by
        identity-free equality, do not mutate it.
        """
        pending = self._pending
        while pending and pending[0][0] <= now_ns:
            due_ns, command = pending.popleft()
            target = list(self._target)
            for i, v in command.items():
                target[i] = v
            self._target = target
            self._last_applied_ns = due_ns
        last = self._last_applied_ns
        if last is not None and now_ns - last > self.timeout_ns:
            self._last_applied_ns = None
            if any(self._target):
                self._target = [0.0] * len(self.joints)
        return self._target

    def reset(self) -> None:
        """Drop pending commands and stop."""
        self._pending.clear()
        self._target = [0.0] * len(self.joints)
        self._last_applied_ns = None
