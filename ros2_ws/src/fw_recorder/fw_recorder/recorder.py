"""The recorder core: receive path, writer thread, snapshot and continuous modes, triggers.

Threading: the ROS executor thread only calls :meth:`RecorderCore.receive`, which appends
``(t_ns, topic_id, data)`` to an inbox deque (atomic in CPython) and counts bytes; everything
else (ring buffer, trigger windows, bag writing, disk policy) happens on the writer thread,
which drains the inbox. :meth:`RecorderCore.step` is one iteration of that thread, so tests can
drive the core deterministically without threads.

Times are ns on the recorder's clock (the node's: sim time on a simulated robot), the same
clock that stamps received messages, so windows and receive times are comparable. Two things
use the host's clocks instead, because the recorder's clock may jump (two simulators on one
ROS domain): the trigger rate limit (monotonic) and the episode's wall-clock start in its
metadata (``start_unix``, ``start_utc``: what viewers need to place a bag stamped in sim time).

Requested episodes (:meth:`RecorderCore.request_episode`): a client opens an episode at an
instant and closes it at a later one (a mission runner: one episode per driven scenario). Its
window is exactly that span, written from the ring buffer and then live; triggers inside it are
noted in its manifest and never extend it, and ``max_episode_seconds`` still bounds it. In
``requested`` mode these are the only episodes: a trigger outside one opens nothing (counted
as ``triggers_ignored``). A request is named when it is made, and the writer thread carries
it out (:class:`EpisodeRequest`), so a caller never touches the open bag; a caller that must know
the episode exists waits for the writer's answer (:meth:`RecorderCore.answer`): an open can
still fail there (the spool budget or the disk found full, the bag not created). A close of an
episode whose open failed so is refused with the reason (``has no recording``): the
``fw/recorder/episode`` service answers at once (a wait would hold the executor every node of a
one-process robot shares) and its client learns at the close that there is no bag.

Storms: a trigger that repeats (same :attr:`~fw_recorder.windows.Trigger.incident`) within
``trigger_holdoff_seconds`` of its previous firing extends the open episode or, when none is
open, opens nothing; how many triggers an episode merged is in its manifest
(``merged_triggers``, and ``rate_limited_triggers`` for the repeats since the previous episode
that opened nothing). The episodes not yet uploaded never take more than ``spool_budget_mb``.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.episode_bag import EMPTY_EPISODE_BYTES, EpisodeBag, TopicInfo
from fw_recorder.errors import RecorderError
from fw_recorder.msgdefs import MessageDefinitions
from fw_recorder.qos_match import PublisherQos, offered_qos
from fw_recorder.recovery import RecoveryReport, recover_spool
from fw_recorder.ring import Entry, RingBuffer
from fw_recorder.spool import DiskLevel, Spool, default_spool_dir, folder_bytes
from fw_recorder.windows import Trigger, TriggerWindow

__all__ = ["EpisodeRequest", "RecorderCore", "RecorderStats"]

_MB = 1_000_000
_S = 1_000_000_000
#: How often the writer thread checks free space and flushes open bags (s, monotonic).
_HOUSEKEEPING_PERIOD_S = 0.5
#: How often the spool is walked to measure what the episodes not yet uploaded take (s).
_BUDGET_SCAN_PERIOD_S = 5.0
_FLUSH_PERIOD_S = 1.0
#: With no message past its end, an episode closes this long after its end (ns).
_CLOSE_GRACE_NS = 200_000_000
#: Triggers listed one by one in a manifest; the rest are only counted (``merged_triggers``).
_LISTED_TRIGGERS = 20
#: Deliberate triggers (a person's or a script's request, the periodic sample): never merged.
_NOT_RATE_LIMITED = ("service", "sentry")
#: After the spool budget stopped an episode, new ones open once usage is below this share.
_BUDGET_RESUME = 0.9


@dataclass
class RecorderStats:
    """Counters for diagnostics (read from any thread; values are snapshots)."""

    received: int = 0
    written: int = 0
    #: Messages that should have been recorded but were not, by reason: ``queue_full``
    #: (writer behind), ``disk_low`` (low-priority topic while disk low), ``disk_full``,
    #: ``budget`` (spool budget spent), ``write_error``.
    lost: Counter[str] = field(default_factory=Counter)
    episodes: int = 0
    triggers: int = 0
    #: Triggers that opened no episode because the disk was full or the spool budget spent.
    triggers_refused: int = 0
    #: Repeats of an incident that opened no episode (``trigger_holdoff_seconds``).
    triggers_rate_limited: int = 0
    #: Triggers that opened nothing because the recorder writes requested episodes only.
    triggers_ignored: int = 0
    write_errors: int = 0
    last_error: str = ""
    last_episode: str = ""


@dataclass
class EpisodeRequest:
    """A client's request to open (``open``) or close the episode ``name`` at ``t_ns``
    (recorder clock). The writer thread carries it out and then sets ``done``; ``error`` says
    why it could not (the episode then does not exist)."""

    open: bool
    reason: str
    t_ns: int
    #: The episode's folder name (in ``ready/`` once closed).
    name: str
    done: threading.Event = field(default_factory=threading.Event)
    error: str = ""


class RecorderCore:
    """Records raw messages into episodes (snapshot mode) or split bags (continuous mode)."""

    def __init__(
        self,
        config: RecorderConfig,
        robot_id: str,
        clock_ns: Callable[[], int],
        defs: MessageDefinitions | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock_ns``: the recorder's clock (ns); ``monotonic`` (s) and ``wall_clock`` (s
        since the epoch) are the host's, injectable for tests."""
        self.config = config
        self.robot_id = robot_id
        self.clock_ns = clock_ns
        self.monotonic = monotonic
        self.wall_clock = wall_clock
        self.defs = defs or MessageDefinitions()
        self.spool = Spool(
            Path(config.spool_dir) if config.spool_dir else default_spool_dir(robot_id),
            int(config.min_free_mb * _MB),
            int(config.critical_free_mb * _MB),
        )
        #: What a previous, crashed run left behind and what became of it.
        self.recovery: RecoveryReport = recover_spool(self.spool.paths, self.defs)
        self.stats = RecorderStats()
        self.metadata: dict[str, Any] = {}
        self._topics: list[TopicInfo] = []
        self._low: list[bool] = []
        self._latched: list[bool] = []
        #: Newest message of each latched (transient-local) topic, written at the start of
        #: every bag so that an episode carries the scenario and policy info it ran under.
        self._latest_latched: dict[int, Entry] = {}
        self._inbox: deque[Entry] = deque()
        self._triggers: deque[Trigger] = deque()
        self._requests: deque[EpisodeRequest] = deque()
        #: Whether the open episode is a requested one (writer thread's).
        self._requested_open = False
        #: The requested episode not yet closed by its client (the caller's thread).
        self._requested_name = ""
        #: The latest open request (the caller's thread): a close learns from it whether the
        #: writer could open the episode.
        self._open_request: EpisodeRequest | None = None
        self._name_lock = threading.Lock()
        self._received = 0
        self._received_bytes = 0
        self._consumed_bytes = 0
        self._max_pending = int(config.max_pending_mb * _MB)
        self._lost_queue = 0
        self.ring = RingBuffer(int(config.ring_max_mb * _MB), int(config.ring_max_seconds * _S))
        self.disk_level = self.spool.level()
        self.free_bytes = self.spool.free_bytes()
        self._episode: EpisodeBag | None = None
        self._window: TriggerWindow | None = None
        self._seq = 0
        self._next_housekeeping = 0.0
        self._next_flush = 0.0
        self._next_sentry_ns: int | None = None
        #: Last firing of each incident (s, monotonic), for the rate limit.
        self._incident_seen: dict[str, float] = {}
        #: Repeats rate-limited since the last episode opened, by incident.
        self._rate_limited: Counter[str] = Counter()
        self._budget = int(config.spool_budget_mb * _MB)
        #: Bytes of the closed episodes not yet uploaded (re-measured at housekeeping).
        self._spool_bytes = 0
        self._next_budget_scan = 0.0
        #: Set when the budget stopped an episode; cleared once the spool is back below
        #: _BUDGET_RESUME of it (uploads done), so a full spool does not write a stream of
        #: tiny episodes into the last bytes.
        self.budget_full = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # topics table: added by the node, read by the writer

    # ---------------------------------------------------------------- any thread
    def add_topic(self, name: str, msgtype: str, publishers: list[PublisherQos]) -> int:
        """Register a recorded topic; its id for :meth:`receive`.

        Raises :class:`fw_recorder.errors.MessageDefinitionError` for an unknown type.
        """
        msgdef, rihs01 = self.defs.get(msgtype)
        info = TopicInfo(
            name, msgtype, msgdef, rihs01, offered_qos(publishers, self.config.queue_depth)
        )
        with self._lock:
            self._topics.append(info)
            self._low.append(False)
            self._latched.append(bool(publishers) and all(p.transient_local for p in publishers))
            return len(self._topics) - 1

    def set_low_priority(self, topic_id: int, low: bool) -> None:
        self._low[topic_id] = low

    def update_publishers(self, topic_id: int, publishers: list[PublisherQos]) -> None:
        """New offered QoS of a topic (takes effect in the next bag)."""
        self._topics[topic_id].offered_qos = offered_qos(publishers, self.config.queue_depth)
        self._latched[topic_id] = bool(publishers) and all(p.transient_local for p in publishers)

    def topic(self, topic_id: int) -> TopicInfo:
        return self._topics[topic_id]

    def receive(self, topic_id: int, data: bytes, t_ns: int) -> None:
        """The hot path: queue one serialized message received at ``t_ns`` (ns)."""
        if self._received_bytes - self._consumed_bytes > self._max_pending:
            self._lost_queue += 1
            return
        self._inbox.append((t_ns, topic_id, data))
        self._received_bytes += len(data)
        self._received += 1

    def trigger(self, kind: str, reason: str, t_ns: int | None = None, key: str = "") -> None:
        """Ask for an episode around ``t_ns`` (default: now); ``key`` names the incident
        (default: ``reason``), so repeats with a changing reason are still one incident."""
        self._triggers.append(
            Trigger(kind, reason, self.clock_ns() if t_ns is None else t_ns, key)
        )

    def request_episode(self, open: bool, reason: str, t_ns: int | None = None) -> EpisodeRequest:
        """Open (``open``) an episode at ``t_ns`` (default: now), closing any open one, or
        close the requested episode at ``t_ns``. Returns at once with the episode's name; the
        writer thread carries the request out (its ``done``). Raises
        :class:`fw_recorder.errors.RecorderError` when there is nothing to close, in
        continuous mode, or when the disk or the spool budget allows no episode."""
        if self.config.mode == "continuous":
            raise RecorderError("continuous mode records everything: no requested episodes")
        t_ns = self.clock_ns() if t_ns is None else t_ns
        if open:
            if self.disk_level == DiskLevel.CRITICAL:
                raise RecorderError("disk below critical_free_mb: no episode can be written")
            if self.budget_full:
                raise RecorderError("spool_budget_mb spent: no episode until uploads free space")
            name = self._requested_name = self._name("request")
        else:
            if not self._requested_name:
                raise RecorderError("no requested episode is open")
            name, self._requested_name = self._requested_name, ""
            opened = self._open_request
            failed = opened is not None and opened.name == name and opened.done.is_set()
            if failed and opened is not None and opened.error:
                raise RecorderError(f"episode {name} has no recording: {opened.error}")
        request = EpisodeRequest(open, reason, t_ns, name)
        if open:
            self._open_request = request
        self._requests.append(request)
        return request

    def answer(self, request: EpisodeRequest, timeout: float) -> str:
        """Wait up to ``timeout`` s (wall) for the writer thread to carry out ``request``; the
        episode's name. Raises :class:`fw_recorder.errors.RecorderError` with the reason when
        the writer could not (the episode does not exist: its close is refused so too) or did
        not answer in time. Call from any thread but the writer's."""
        if not request.done.wait(timeout):
            raise RecorderError(
                f"the writer thread did not carry out the request within {timeout:g} s"
            )
        if request.error:
            raise RecorderError(request.error)
        return request.name

    def set_metadata(self, **fields: Any) -> None:
        """Episode metadata from the robot (``policy_version``, ``scenario_seed``...)."""
        self.metadata = {**self.metadata, **fields}

    @property
    def pending_bytes(self) -> int:
        return self._received_bytes - self._consumed_bytes

    @property
    def episode_open(self) -> str:
        episode = self._episode
        return episode.name if episode is not None else ""

    # ------------------------------------------------------------- writer thread
    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fw_recorder_writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, close the open bag, stop the writer thread."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(timeout)
            self._thread = None
        else:
            self.step()
        self._close_episode(
            "complete" if self.config.mode == "continuous" else "truncated",
            note="recorder stopped",
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.step():
                self._stop.wait(0.005)
        self.step()

    def step(self) -> bool:
        """One writer iteration: triggers, queued messages, housekeeping. True if it did work."""
        did = False
        now_mono = time.monotonic()
        if now_mono >= self._next_housekeeping:
            self._next_housekeeping = now_mono + _HOUSEKEEPING_PERIOD_S
            self._housekeeping()
        while self._requests:
            self._on_request(self._requests.popleft())
            did = True
        while self._triggers:
            self._on_trigger(self._triggers.popleft())
            did = True
        inbox = self._inbox
        snapshot = self.config.mode != "continuous"
        consumed = 0
        try:
            while inbox:
                entry = inbox.popleft()
                consumed += len(entry[2])
                if self._latched[entry[1]]:
                    self._latest_latched[entry[1]] = entry
                if snapshot:
                    self._on_snapshot_entry(entry)
                else:
                    self._on_continuous_entry(entry)
                did = True
        finally:
            self._consumed_bytes += consumed
            self.stats.received = self._received
            self.stats.lost["queue_full"] = self._lost_queue
        now_ns = self.clock_ns()
        window = self._window
        if window is not None and now_ns > window.end_ns + _CLOSE_GRACE_NS:
            self._close_episode("complete")
        self._sentry(now_ns)
        if self._episode is not None and now_mono >= self._next_flush:
            self._next_flush = now_mono + _FLUSH_PERIOD_S
            self._guarded(self._episode.flush)
        return did

    def _housekeeping(self) -> None:
        now_mono = time.monotonic()
        if now_mono >= self._next_budget_scan:
            # Walking the spool costs a stat per file: between scans the count is kept up to
            # date by _close_episode; a scan sees what uploads have freed.
            self._next_budget_scan = now_mono + _BUDGET_SCAN_PERIOD_S
            episode = self._episode
            self._spool_bytes = self.spool.pending_bytes(
                skip=episode.folder if episode is not None else None
            )
        if self.budget_full and self._spool_bytes <= _BUDGET_RESUME * self._budget:
            self.budget_full = False
        self.free_bytes = self.spool.free_bytes()
        level = self.spool.level(self.free_bytes)
        if level != DiskLevel.OK:
            level = self.spool.make_room()
            self.free_bytes = self.spool.free_bytes()
        self.disk_level = level
        if level == DiskLevel.CRITICAL and self._episode is not None:
            self._close_episode("truncated", note="disk below critical_free_mb")

    def _sentry(self, now_ns: int) -> None:
        period = self.config.sentry_period
        if period <= 0:
            return
        if self._next_sentry_ns is None:
            self._next_sentry_ns = now_ns + int(period * _S)
        elif now_ns >= self._next_sentry_ns:
            self._next_sentry_ns = now_ns + int(period * _S)
            self._on_trigger(Trigger("sentry", f"periodic sample every {period:g} s", now_ns))

    @property
    def budget_left(self) -> int:
        """Bytes the spool budget still allows, the open episode's bound taken (bytes)."""
        episode = self._episode
        used = self._spool_bytes + (episode.size_bound() if episode is not None else 0)
        return self._budget - used

    # -------------------------------------------------------------- episodes
    def _name(self, kind: str) -> str:
        """A new episode's folder name (any thread: requests are named by their caller)."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        with self._name_lock:
            while True:
                self._seq += 1
                name = f"{self.robot_id}_{stamp}_{self._seq:04d}_{kind}"
                paths = self.spool.paths
                if not any(
                    (d / name).exists() for d in (paths.incomplete, paths.ready, paths.uploaded)
                ):
                    return name

    def _open(self, trigger: Trigger, window: TriggerWindow | None, name: str = "") -> bool:
        if self._spool_bytes + EMPTY_EPISODE_BYTES > self._budget:
            self.budget_full = True
        if self.disk_level == DiskLevel.CRITICAL or self.budget_full:
            self.stats.triggers_refused += 1
            return False
        start_ns = window.start_ns if window is not None else trigger.t_ns
        start_unix = self.wall_clock() - (self.clock_ns() - start_ns) / _S
        manifest: dict[str, Any] = {
            "robot_id": self.robot_id,
            "mode": self.config.mode,
            "trigger": trigger.as_dict(),
            "triggers": [trigger.as_dict()],
            "merged_triggers": 0,
            "rate_limited_triggers": dict(self._rate_limited),
            "triggered": trigger.kind != "continuous",
            # Wall-clock time of the episode's first instant (the recorder clock may be sim
            # time from 0): what a viewer needs to place the bag in real time.
            "start_unix": start_unix,
            "start_utc": datetime.datetime.fromtimestamp(
                start_unix, datetime.timezone.utc
            ).isoformat(),
            **self.metadata,
        }
        self._rate_limited.clear()
        if window is not None:
            manifest["window"] = {
                "start_ns": window.start_ns,
                "end_ns": window.end_ns,
                "pre_seconds": self.config.pre_trigger_seconds,
                "post_seconds": self.config.post_trigger_seconds,
            }
        try:
            self._episode = EpisodeBag(
                self.spool.paths.incomplete,
                self.spool.paths.ready,
                name or self._name(trigger.kind),
                self.config.storage,
                manifest,
                self.topic,
            )
        except OSError as exc:
            self._error(exc)
            self.stats.triggers_refused += 1
            return False
        self._window = window
        self._next_flush = time.monotonic() + _FLUSH_PERIOD_S
        for entry in sorted(self._latest_latched.values()):
            if entry[0] < start_ns:
                self._write(entry)
        return True

    def _repeats(self, trigger: Trigger) -> bool:
        """True when ``trigger`` repeats its incident within the hold-off (notes the firing)."""
        now = self.monotonic()
        last = self._incident_seen.get(trigger.incident)
        self._incident_seen[trigger.incident] = now
        return (
            trigger.kind not in _NOT_RATE_LIMITED
            and last is not None
            and now - last < self.config.trigger_holdoff_seconds
        )

    def _merge(self, trigger: Trigger) -> None:
        """Note ``trigger`` in the open episode's manifest (listed, or only counted)."""
        episode = self._episode
        if episode is None:
            return
        manifest = episode.manifest
        manifest["merged_triggers"] = manifest.get("merged_triggers", 0) + 1
        manifest["triggered"] = True
        if len(manifest["triggers"]) < _LISTED_TRIGGERS:
            manifest["triggers"].append(trigger.as_dict())

    def _on_request(self, request: EpisodeRequest) -> None:
        try:
            if request.open:
                self._open_requested(request)
            else:
                self._close_requested(request)
        finally:
            request.done.set()

    def _open_requested(self, request: EpisodeRequest) -> None:
        self._close_episode("complete")
        trigger = Trigger("request", request.reason, request.t_ns)
        limit = request.t_ns + int(self.config.max_episode_seconds * _S)
        window = TriggerWindow(request.t_ns, limit, limit, [trigger])
        if not self._open(trigger, window, request.name):
            request.error = (
                "disk below critical_free_mb"
                if self.disk_level == DiskLevel.CRITICAL
                else "spool_budget_mb spent"
                if self.budget_full
                else f"cannot open an episode: {self.stats.last_error}"
            )
            return
        self._requested_open = True
        for entry in self.ring.since(window.start_ns):
            self._write(entry)

    def _close_requested(self, request: EpisodeRequest) -> None:
        window = self._window
        episode = self._episode
        # Closed already (max_episode_seconds, the disk, a newer request): nothing to do.
        if self._requested_open and window is not None and episode is not None:
            if episode.name != request.name:
                return
            window.end_ns = max(window.start_ns, min(request.t_ns, window.limit_ns))
            episode.set_metadata(
                window={"start_ns": window.start_ns, "end_ns": window.end_ns},
                closed_by=request.reason,
            )

    def _on_trigger(self, trigger: Trigger) -> None:
        self.stats.triggers += 1
        cfg = self.config
        repeat = self._repeats(trigger)
        if cfg.mode == "continuous":
            self._merge(trigger)
            return
        if self._requested_open:
            self._merge(trigger)  # the client's span is the episode: noted, never extended
            return
        if cfg.mode == "requested":
            self.stats.triggers_ignored += 1
            return
        window = self._window
        if self._episode is not None and window is not None and window.absorbs(trigger):
            window.extend(trigger, int(cfg.post_trigger_seconds * _S))
            self._merge(trigger)
            self._episode.set_metadata(
                window={**self._episode.manifest["window"], "end_ns": window.end_ns}
            )
            return
        if repeat:
            # The same incident again, outside the open window (or after its episode closed;
            # or the recorder's clock jumped): one incident, one episode.
            self.stats.triggers_rate_limited += 1
            if self._episode is not None:
                self._merge(trigger)
            else:
                self._rate_limited[trigger.incident] += 1
            return
        self._close_episode("complete")
        window = TriggerWindow.open(
            trigger,
            int(cfg.pre_trigger_seconds * _S),
            int(cfg.post_trigger_seconds * _S),
            int(cfg.max_episode_seconds * _S),
        )
        if not self._open(trigger, window):
            return
        for entry in self.ring.since(window.start_ns):
            if entry[0] > window.end_ns:
                break
            self._write(entry)

    def _close_episode(self, status: str, note: str = "") -> None:
        episode = self._episode
        if episode is None:
            return
        self._episode = None
        self._window = None
        self._requested_open = False
        lost = {k: v for k, v in self.stats.lost.items() if v}
        episode.set_metadata(lost_total=lost, **({"note": note} if note else {}))
        try:
            path = episode.close(status)
        except Exception as exc:
            self._error(exc)
            self._guarded(episode.abort)
            return
        self.stats.episodes += 1
        self.stats.last_episode = path.name
        self._spool_bytes += folder_bytes(path)

    # -------------------------------------------------------------- messages
    def _on_snapshot_entry(self, entry: Entry) -> None:
        self.ring.append(entry)
        window = self._window
        if window is None:
            return
        if entry[0] > window.end_ns:
            self._close_episode("complete")
        elif entry[0] >= window.start_ns:
            self._write(entry)

    def _on_continuous_entry(self, entry: Entry) -> None:
        episode = self._episode
        cfg = self.config
        if episode is not None and (
            episode.bytes >= cfg.split_max_mb * _MB
            or (
                episode.first_ns is not None
                and entry[0] - episode.first_ns >= cfg.split_max_seconds * _S
            )
        ):
            self._close_episode("complete")
            episode = None
        if episode is None:
            if self.disk_level == DiskLevel.CRITICAL:
                self.stats.lost["disk_full"] += 1
                return
            if self.budget_full:
                self.stats.lost["budget"] += 1
                return
            if not self._open(Trigger("continuous", "continuous recording", entry[0]), None):
                self.stats.lost["budget" if self.budget_full else "disk_full"] += 1
                return
        self._write(entry)

    def _write(self, entry: Entry) -> None:
        episode = self._episode
        if episode is None:
            return
        level = self.disk_level
        if level != DiskLevel.OK:
            if level == DiskLevel.CRITICAL:
                self.stats.lost["disk_full"] += 1
                return
            if self._low[entry[1]]:
                self.stats.lost["disk_low"] += 1
                return
        if self._spool_bytes + episode.size_bound(entry[1], len(entry[2])) > self._budget:
            self.stats.lost["budget"] += 1
            self.budget_full = True
            self._close_episode("truncated", note="spool_budget_mb reached")
            return
        try:
            episode.write(entry[0], entry[1], entry[2])
        except Exception as exc:
            self.stats.lost["write_error"] += 1
            self._error(exc)
            self._episode = None
            self._window = None
            self._requested_open = False
            self._guarded(episode.abort)
            self.disk_level = DiskLevel.CRITICAL
            return
        self.stats.written += 1

    def _error(self, exc: BaseException) -> None:
        self.stats.write_errors += 1
        self.stats.last_error = f"{type(exc).__name__}: {exc}"

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            self._error(exc)
