"""Trigger windows: when an episode starts and ends, given the triggers that fire.

A trigger at ``t`` asks for ``[t - pre, t + post]``. A trigger that fires while an episode is
open extends its end to ``t + post`` (never beyond ``start + max``), so a burst of safety
events makes one episode, not many. Times are ns on the recorder's clock.

A trigger's *incident* (:attr:`Trigger.incident`) says which firings are the same thing
happening again: the recorder core rate-limits repeats of one incident (see
``trigger_holdoff_seconds``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Trigger", "TriggerWindow"]


@dataclass(frozen=True)
class Trigger:
    """Why an episode is recorded."""

    #: ``safety_event``, ``service``, ``policy_change``, ``sentry`` or ``manual``.
    kind: str
    #: Human-readable reason (the event's name and message, the caller's words...).
    reason: str
    #: When it fired (ns, recorder clock).
    t_ns: int
    #: What makes two firings the same incident (a safety event's name, without its changing
    #: message); empty: ``kind`` and ``reason`` together.
    key: str = ""

    @property
    def incident(self) -> str:
        return f"{self.kind}:{self.key or self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "reason": self.reason, "t_ns": self.t_ns}


@dataclass
class TriggerWindow:
    """The time window of one episode: ``[start_ns, end_ns]``, grown by later triggers."""

    start_ns: int
    end_ns: int
    #: Hard end: ``start + max_episode``.
    limit_ns: int
    triggers: list[Trigger] = field(default_factory=list)

    @classmethod
    def open(cls, trigger: Trigger, pre_ns: int, post_ns: int, max_ns: int) -> TriggerWindow:
        start = trigger.t_ns - pre_ns
        limit = start + max_ns
        return cls(start, min(trigger.t_ns + post_ns, limit), limit, [trigger])

    def absorbs(self, trigger: Trigger) -> bool:
        """True when ``trigger`` fires inside this window (it then extends it)."""
        return self.start_ns <= trigger.t_ns <= self.end_ns

    def extend(self, trigger: Trigger, post_ns: int) -> None:
        self.triggers.append(trigger)
        self.end_ns = min(max(self.end_ns, trigger.t_ns + post_ns), self.limit_ns)

    def contains(self, t_ns: int) -> bool:
        return self.start_ns <= t_ns <= self.end_ns
