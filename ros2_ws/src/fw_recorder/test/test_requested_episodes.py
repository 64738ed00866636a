"""Requested episodes (no ROS): a client opens and closes an episode at chosen instants (a
mission runner, one per scenario); the bag spans exactly that, triggers inside it are noted
and never stretch it, and in ``requested`` mode nothing else is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recorder_test_helpers import ManualClock, cdr_string, read_bag

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.errors import RecorderError
from fw_recorder.qos_match import PublisherQos
from fw_recorder.recorder import RecorderCore

S = 1_000_000_000
RELIABLE = [PublisherQos(True, False)]


def _core(tmp_path: Path, clock: ManualClock, **kw: object) -> tuple[RecorderCore, int]:
    config = RecorderConfig(
        spool_dir=str(tmp_path / "spool"), min_free_mb=0.0, critical_free_mb=0.0,
        pre_trigger_seconds=2.0, post_trigger_seconds=1.0, ring_max_seconds=10.0,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    core = RecorderCore(config, "r1", clock)
    return core, core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)


def _run(core: RecorderCore, clock: ManualClock, tid: int, t0: float, t1: float) -> None:
    """One message every 0.1 s from t0 to t1 (s), stepping the writer after each."""
    for i in range(round((t1 - t0) * 10) + 1):
        clock.now = round(t0 * S) + i * S // 10
        core.receive(tid, cdr_string("m"), clock.now)
        core.step()


def _ready(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool" / "ready").iterdir())


@pytest.mark.parametrize("mode", ["requested", "snapshot"])
def test_a_requested_episode_spans_exactly_open_to_close(
    tmp_path: Path, clock: ManualClock, mode: str
) -> None:
    core, tid = _core(tmp_path, clock, mode=mode)
    _run(core, clock, tid, 0.0, 3.0)
    opened = core.request_episode(True, "mission seed 3", t_ns=2 * S)  # from the ring
    assert opened.name.endswith("_request")
    _run(core, clock, tid, 3.1, 5.0)
    core.trigger("safety_event", "slowdown")  # inside: noted, not stretched
    _run(core, clock, tid, 5.1, 7.0)
    closed = core.request_episode(False, "mission seed 3 over", t_ns=7 * S)
    assert closed.name == opened.name
    _run(core, clock, tid, 7.1, 8.0)
    assert opened.done.is_set() and closed.done.is_set() and not opened.error
    (episode,) = _ready(tmp_path)
    assert episode.name == opened.name
    stamps = [t for _, t, _ in read_bag(episode / "bag")]
    assert (stamps[0], stamps[-1], len(stamps)) == (2 * S, 7 * S, 51)
    manifest = json.loads((episode / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["trigger"]["kind"] == "request"
    assert [t["kind"] for t in manifest["triggers"]] == ["request", "safety_event"]
    assert manifest["window"] == {"start_ns": 2 * S, "end_ns": 7 * S}


def test_requested_mode_writes_nothing_on_triggers(tmp_path: Path, clock: ManualClock) -> None:
    core, tid = _core(tmp_path, clock, mode="requested")
    _run(core, clock, tid, 0.0, 2.0)
    core.trigger("safety_event", "stale_odom")
    core.trigger("service", "fw/recorder/trigger called")
    _run(core, clock, tid, 2.1, 6.0)
    core.stop()
    assert not (tmp_path / "spool" / "ready").exists() or not _ready(tmp_path)
    assert core.stats.triggers_ignored == 2


def test_a_request_refused_or_without_an_episode_says_why(
    tmp_path: Path, clock: ManualClock
) -> None:
    core, _ = _core(tmp_path, clock, mode="requested")
    with pytest.raises(RecorderError, match="no requested episode is open"):
        core.request_episode(False, "close")
    core.budget_full = True
    with pytest.raises(RecorderError, match="spool_budget_mb spent"):
        core.request_episode(True, "open")
    continuous, _ = _core(tmp_path / "c", clock, mode="continuous")
    with pytest.raises(RecorderError, match="continuous"):
        continuous.request_episode(True, "open")


def test_a_new_request_closes_the_open_episode_and_max_duration_still_bounds(
    tmp_path: Path, clock: ManualClock
) -> None:
    core, tid = _core(tmp_path, clock, mode="requested", max_episode_seconds=3.0)
    core.request_episode(True, "one", t_ns=0)
    _run(core, clock, tid, 0.0, 5.0)  # capped at 3 s: closed on its own
    assert len(_ready(tmp_path)) == 1
    second = core.request_episode(True, "two")
    _run(core, clock, tid, 5.1, 6.0)
    third = core.request_episode(True, "three")  # closes "two"
    _run(core, clock, tid, 6.1, 6.5)
    core.stop()
    names = [p.name for p in _ready(tmp_path)]
    assert second.name in names and third.name in names
    first = read_bag(_ready(tmp_path)[0] / "bag")
    assert first[-1][1] - first[0][1] <= 3 * S


def test_an_open_the_writer_cannot_carry_out_is_answered_with_the_reason(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The spool budget is found full by the writer thread, after the request was accepted:
    a caller waiting for the answer hears why, the close is refused with the reason, and no
    episode exists."""
    kept = tmp_path / "spool" / "ready" / "r1_earlier_0001_request"
    kept.mkdir(parents=True)
    (kept / "episode_0.mcap").write_bytes(b"\0" * 200_000)  # over a 0.1 MB budget
    core, tid = _core(tmp_path, clock, mode="requested", spool_budget_mb=0.1)
    core.receive(tid, cdr_string("m"), clock.now)
    core.start()
    try:
        request = core.request_episode(True, "open")  # the budget not yet measured: accepted
        with pytest.raises(RecorderError, match="spool_budget_mb spent"):
            core.answer(request, timeout=10.0)
        # The client that did not wait learns it at the close, once.
        with pytest.raises(RecorderError, match=f"{request.name} has no recording: spool_b"):
            core.request_episode(False, "close")
        with pytest.raises(RecorderError, match="no requested episode is open"):
            core.request_episode(False, "close")
    finally:
        core.stop()
    assert _ready(tmp_path) == [kept]
    assert not any((tmp_path / "spool" / "incomplete").iterdir())
