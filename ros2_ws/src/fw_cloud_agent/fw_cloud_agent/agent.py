"""The cloud agent's decisions, without ROS: which release to run, when to swap, when to roll
back. The node (:mod:`fw_cloud_agent.agent_node`) feeds it what the robot does and carries out
the swaps it asks for.

Two threads use it:

* :meth:`CloudAgent.poll` (a worker thread, every poll period) talks to the store: it checks the
  channel through TUF, stages and verifies a new release (:class:`ReleaseClient`), and writes
  the robot's status object ``robots/<robot_id>/status.json``. Slow or failing I/O never
  blocks the robot's executor.
* :meth:`CloudAgent.tick` (the node's timer) decides. A staged release is swapped in at once
  when the robot is idle; while an episode is being recorded or a goal is active the swap waits,
  up to ``defer_timeout``. After a swap the release is watched (:mod:`.rollback_watch`); if
  safety intervenes too often it is rolled back to the previous release, on the agent's own,
  and never installed again on this robot.

Every decision is an :class:`AgentEvent` with its reason, and the state that matters after a
restart is saved (:mod:`.state`): on start the agent puts the active release back.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cloud_bridge.releases import ChannelPointer, RefusalReason, ReleaseRefusedError, StagedRelease
from fw_cloud_agent.rollback_watch import RollbackThresholds, RollbackWatch
from fw_cloud_agent.state import AgentState

__all__ = ["AgentEvent", "AgentSettings", "CloudAgent", "ReleaseSource", "SwapRequest"]

log = logging.getLogger(__name__)

OK, WARN, ERROR = 0, 1, 2

#: Seconds between retries of a swap the policy node did not answer.
_RETRY_S = 5.0


class ReleaseSource(Protocol):
    """What the agent needs of :class:`cloud_bridge.releases.ReleaseClient`."""

    def check(self, fleet: str, channel: str) -> ChannelPointer: ...

    def stage(self, release: str) -> StagedRelease: ...

    def installed(self, release: str) -> StagedRelease | None: ...

    def prune(self, keep: set[str]) -> None: ...


class StatusSink(Protocol):
    """Where the robot's status object goes (an object store)."""

    def put_bytes(self, key: str, data: bytes) -> Any: ...


@dataclass(frozen=True)
class AgentSettings:
    """The agent's part of the robot profile, as plain values."""

    robot_id: str
    fleet: str
    channel: str
    #: Longest a swap waits for the robot to be idle (s).
    defer_timeout: float = 600.0
    thresholds: RollbackThresholds = field(default_factory=RollbackThresholds)


@dataclass(frozen=True)
class SwapRequest:
    """Set the policy's model to ``model_path`` (the node does it; then :meth:`swap_done`)."""

    #: ``install`` (a new release), ``rollback`` or ``restore`` (after a restart).
    kind: str
    release: str
    model_path: str
    reason: str
    #: The release it replaces (the rolled-back one for ``rollback``).
    replaces: str | None = None


@dataclass(frozen=True)
class AgentEvent:
    """One decision or refusal, with why."""

    #: staged, deferred, swapped, refused, swap_refused, rollback, rollback_failed, restored,
    #: accepted, not_reinstalled, unreachable, reachable, channel_empty.
    kind: str
    #: diagnostic_msgs level: 0 OK, 1 WARN, 2 ERROR.
    level: int
    release: str | None
    #: A RefusalReason for refusals, else a short tag.
    reason: str
    message: str
    #: Wall time (s since the epoch).
    time: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "level": self.level,
            "release": self.release,
            "reason": self.reason,
            "message": self.message,
            "time": self.time,
        }


class CloudAgent:
    """The agent's state machine (see the module docstring)."""

    def __init__(
        self,
        settings: AgentSettings,
        source: ReleaseSource,
        state_path: Path,
        *,
        status_sink: StatusSink | None = None,
        upload_status: Callable[[], dict[str, Any]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.source = source
        self.state_path = Path(state_path)
        self.status_sink = status_sink
        self.upload_status = upload_status
        self._monotonic, self._wall = monotonic, wall
        self._lock = threading.RLock()
        self.state = AgentState.load(self.state_path)
        self.events: deque[AgentEvent] = deque(maxlen=200)
        self._candidate: StagedRelease | None = None
        self._candidate_since = 0.0
        self._deferred: str | None = None
        self._pending: SwapRequest | None = None
        self._retry_at = 0.0
        self._watch: RollbackWatch | None = None
        self._recording = False
        self._goal_active = False
        self._last_tick: float | None = None
        self._channel_release: str | None = None
        self._last_problem: str | None = None
        self._told_not_reinstalled: str | None = None
        # After a restart the policy runs its profile's model: put the active release back.
        self._restore = self.state.active is not None and bool(self.state.active_model)

    # --- what the robot does (node callbacks) ------------------------------------------------
    def set_recording(self, recording: bool) -> None:
        with self._lock:
            self._recording = recording

    def set_goal_active(self, active: bool) -> None:
        with self._lock:
            self._goal_active = active

    def on_intervention(self) -> None:
        """A safety intervention (an event at WARN or above) while the active release ran."""
        with self._lock:
            if self.state.active is not None:
                self.state.record(self.state.active).interventions += 1
            if self._watch is not None:
                self._watch.add(self._monotonic())

    # --- events ------------------------------------------------------------------------------
    def _event(
        self, kind: str, level: int, release: str | None, reason: str, message: str
    ) -> AgentEvent:
        event = AgentEvent(kind, level, release, reason, message, self._wall())
        self.events.append(event)
        # The node logs each event as it drains them (ROS logging); here for other hosts.
        log.debug("%s %s: %s", kind, release or "", message)
        return event

    def drain_events(self) -> list[AgentEvent]:
        with self._lock:
            events = list(self.events)
            self.events.clear()
            return events

    def _save(self) -> None:
        try:
            self.state.save(self.state_path)
        except OSError as exc:
            self._event("state_not_saved", ERROR, None, "io", f"cannot save state: {exc}")

    # --- the store (worker thread) -----------------------------------------------------------
    def poll(self) -> None:
        """Check the channel, stage a new release, write the status object."""
        s = self.settings
        try:
            pointer = self.source.check(s.fleet, s.channel)
        except ReleaseRefusedError as exc:
            self._problem(exc)
            self._write_status()
            return
        with self._lock:
            self.state.last_contact = self._wall()
            if self._last_problem is not None:
                self._event("reachable", OK, None, "ok", "channel checks pass again")
                self._last_problem = None
            self._channel_release = pointer.release
            release = self._wanted(pointer)
        if release is not None:
            self._stage(release)
        self._prune()
        self._write_status()

    def _problem(self, exc: ReleaseRefusedError) -> None:
        with self._lock:
            key = f"{exc.reason}: {exc.message}"
            if key == self._last_problem:
                return  # said already; the status keeps saying it
            self._last_problem = key
            if exc.reason == RefusalReason.UNAVAILABLE:
                self._event("unreachable", WARN, None, exc.reason, exc.message)
            elif exc.reason == RefusalReason.NOT_FOUND and exc.release is None:
                # No release on the channel yet: nothing to refuse, nothing to do.
                self._event("channel_empty", WARN, None, exc.reason, exc.message)
            else:
                self._event("refused", ERROR, exc.release, exc.reason, exc.message)

    def _wanted(self, pointer: ChannelPointer) -> str | None:
        """The release to stage now, if any (called with the lock held)."""
        release = pointer.release
        state = self.state
        busy_with = {state.active, None if self._candidate is None else self._candidate.release}
        if self._pending is not None:
            busy_with.add(self._pending.release)
        if release in busy_with or release in state.refused:
            return None
        if release in state.rolled_back:
            if self._told_not_reinstalled != release:
                self._told_not_reinstalled = release
                self._event(
                    "not_reinstalled",
                    WARN,
                    release,
                    "rolled_back",
                    f"the channel names {release}, which this robot rolled back: "
                    f"{state.rolled_back[release]}",
                )
            return None
        return release

    def _stage(self, release: str) -> None:
        try:
            staged = self.source.installed(release) or self.source.stage(release)
        except ReleaseRefusedError as exc:
            with self._lock:
                if exc.reason == RefusalReason.UNAVAILABLE:
                    self._problem(exc)
                    return
                self.state.refused[release] = f"{exc.reason}: {exc.message}"
                self._event("refused", ERROR, release, exc.reason, exc.message)
                self._save()
            return
        with self._lock:
            self._candidate = staged
            self._candidate_since = self._monotonic()
            self._deferred = None
            self._event("staged", OK, release, "verified", f"{release} verified, ready to swap")

    def _prune(self) -> None:
        """Remove verified releases nothing needs any more. Here, in the thread that stages,
        so a release being staged is never removed under it."""
        with self._lock:
            keep = {self.state.active, self.state.previous}
            if self._candidate is not None:
                keep.add(self._candidate.release)
            if self._pending is not None:
                keep.add(self._pending.release)
        self.source.prune({r for r in keep if r})

    def _write_status(self) -> None:
        if self.status_sink is None:
            return
        doc = self.status()
        try:
            self.status_sink.put_bytes(
                f"robots/{self.settings.robot_id}/status.json",
                json.dumps(doc, sort_keys=True).encode(),
            )
        except Exception as exc:  # any store error: the robot carries on, the status says it
            log.warning("status object not written: %s", exc)

    # --- decisions (node timer) --------------------------------------------------------------
    def tick(self) -> SwapRequest | None:
        """What the policy should run now, if that changes."""
        with self._lock:
            now = self._monotonic()
            if self._last_tick is not None and self.state.active is not None:
                self.state.record(self.state.active).seconds += now - self._last_tick
            self._last_tick = now
            if self._pending is not None or now < self._retry_at:
                return None
            request = self._rollback(now) or self._restore_request() or self._install(now)
            self._pending = request
            return request

    def _rollback(self, now: float) -> SwapRequest | None:
        watch = self._watch
        if watch is None:
            return None
        verdict = watch.verdict(now)
        if verdict is None:
            if watch.done(now):
                self._watch = None
                self._event("accepted", OK, watch.release, "watched", f"{watch.release} accepted")
            return None
        state = self.state
        if state.previous is None or not state.previous_model:
            return None  # nothing to go back to (said when the watch started)
        return SwapRequest(
            "rollback", state.previous, state.previous_model, verdict, watch.release
        )

    def _restore_request(self) -> SwapRequest | None:
        if not self._restore or self.state.active is None:
            return None
        return SwapRequest(
            "restore", self.state.active, self.state.active_model, "agent restarted"
        )

    def _install(self, now: float) -> SwapRequest | None:
        candidate = self._candidate
        if candidate is None:
            return None
        busy = [
            why
            for why, flag in (
                ("an episode is being recorded", self._recording),
                ("a goal is active", self._goal_active),
            )
            if flag
        ]
        waited = now - self._candidate_since
        if busy and waited < self.settings.defer_timeout:
            why = " and ".join(busy)
            if self._deferred != why:
                self._deferred = why
                self._event(
                    "deferred",
                    OK,
                    candidate.release,
                    "busy",
                    f"swap deferred: {why} (up to {self.settings.defer_timeout:g} s)",
                )
            return None
        reason = (
            f"deferred {waited:.0f} s, the limit: swapping although {' and '.join(busy)}"
            if busy
            else "robot idle"
        )
        return SwapRequest(
            "install", candidate.release, str(candidate.model_path), reason, self.state.active
        )

    def swap_done(
        self, request: SwapRequest, ok: bool, message: str = "", *, answered: bool = True
    ) -> None:
        """The policy node's answer to ``request``: ``ok``, or refused with ``message``. With
        ``answered=False`` the policy node did not answer (not up yet, a timeout): the same
        swap is asked again a few seconds later."""
        with self._lock:
            self._pending = None
            now = self._monotonic()
            if not ok and not answered:
                self._retry_at = now + _RETRY_S
                self._event("swap_failed", WARN, request.release, "no_answer", message)
                return
            if request.kind == "install":
                self._install_done(request, ok, message, now)
            elif request.kind == "rollback":
                self._rollback_done(request, ok, message)
            else:
                self._restore = False
                if ok:
                    self._event("restored", OK, request.release, "restart", "release restored")
                else:
                    self._event(
                        "swap_refused", ERROR, request.release, "policy", f"restore: {message}"
                    )
            self._save()

    def _install_done(self, request: SwapRequest, ok: bool, message: str, now: float) -> None:
        state = self.state
        self._candidate = None
        self._deferred = None
        if not ok:
            state.refused[request.release] = f"policy refused: {message}"
            self._event("swap_refused", ERROR, request.release, "policy", message)
            return
        state.previous, state.previous_model = state.active, state.active_model
        state.active, state.active_model = request.release, request.model_path
        state.swapped_at = self._wall()
        state.record(request.release)
        self._restore = False
        if state.previous is not None:
            baseline = self._baseline(state.previous)
            self._watch = RollbackWatch(request.release, baseline, now, self.settings.thresholds)
            note = f"; watching it against {state.previous}'s {baseline:.1f} interventions/min"
        else:
            self._watch = None
            note = "; no previous release to roll back to"
        self._event(
            "swapped",
            OK,
            request.release,
            "install",
            f"now running {request.release} ({request.reason}){note}",
        )

    def _baseline(self, release: str) -> float:
        """``release``'s interventions per minute on this robot. A release that ran for less
        than one window counts as having run one window: a short record gives a low baseline
        (so a worse successor is still caught), never an inflated one."""
        record = self.state.record(release)
        seconds = max(record.seconds, self.settings.thresholds.window)
        return 60.0 * record.interventions / seconds

    def _rollback_done(self, request: SwapRequest, ok: bool, message: str) -> None:
        state = self.state
        if not ok:
            # The policy refused the release it ran before (its file damaged, say): keep the
            # current one rather than nothing, stop watching, and say so loudly.
            self._watch = None
            self._event(
                "rollback_failed",
                ERROR,
                request.replaces,
                "policy",
                f"could not go back to {request.release}: {message}",
            )
            return
        bad = request.replaces or ""
        state.rolled_back[bad] = request.reason
        state.active, state.active_model = request.release, request.model_path
        state.previous, state.previous_model = None, ""
        state.swapped_at = self._wall()
        self._watch = None
        self._event(
            "rollback",
            ERROR,
            bad,
            "interventions",
            f"rolled back {bad} to {request.release}: {request.reason}; {bad} will not be "
            "installed again",
        )

    # --- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Everything the status topic, diagnostics and the status object report."""
        with self._lock:
            state = self.state
            now = self._monotonic()
            watch = self._watch
            doc: dict[str, Any] = {
                "robot_id": self.settings.robot_id,
                "fleet": self.settings.fleet,
                "channel": self.settings.channel,
                "channel_release": self._channel_release,
                "active": state.active,
                "previous": state.previous,
                "rolled_back": dict(state.rolled_back),
                "refused": dict(state.refused),
                "candidate": None if self._candidate is None else self._candidate.release,
                "deferred": self._deferred,
                "swap_pending": None if self._pending is None else self._pending.release,
                "watching": None
                if watch is None
                else {
                    "release": watch.release,
                    "interventions": watch.events(now),
                    "rate_per_min": round(watch.rate(now), 2),
                    "baseline_per_min": round(watch.baseline, 2),
                },
                "problem": self._last_problem,
                "last_contact": state.last_contact,
                "swapped_at": state.swapped_at,
                "time": self._wall(),
            }
        uploads: dict[str, Any] = {}
        if self.upload_status is not None:
            try:
                uploads = dict(self.upload_status())
            except Exception as exc:  # the uploader's trouble must not hide the agent's state
                uploads = {"error": str(exc)}
        doc["uploads"] = uploads
        return doc
