"""Episode storms: a repeating trigger is one incident, and the spool budget always holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recorder_test_helpers import ManualClock, cdr_string, read_bag

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.qos_match import PublisherQos
from fw_recorder.recorder import RecorderCore
from fw_recorder.spool import folder_bytes

S = 1_000_000_000
RELIABLE = [PublisherQos(True, False)]
STALE = "safety_event:stale_inputs"


class HostClock:
    """The host's monotonic clock (s), advanced by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _core(tmp_path: Path, clock: ManualClock, host: HostClock, **kw: object) -> RecorderCore:
    base: dict[str, object] = dict(
        spool_dir=str(tmp_path / "spool"),
        min_free_mb=0.0,
        critical_free_mb=0.0,
        pre_trigger_seconds=2.0,
        post_trigger_seconds=1.0,
        ring_max_seconds=10.0,
        max_episode_seconds=8.0,
        trigger_holdoff_seconds=5.0,
    )
    base.update(kw)
    return RecorderCore(RecorderConfig(**base), "r1", clock, monotonic=host)  # type: ignore[arg-type]


def _manifests(tmp_path: Path) -> list[dict[str, object]]:
    ready = sorted((tmp_path / "spool" / "ready").iterdir())
    return [json.loads((p / "manifest.json").read_text()) for p in ready]


def _flap(
    core: RecorderCore,
    clock: ManualClock,
    host: HostClock,
    tid: int,
    t0: float,
    t1: float,
    every: float | None,
    payload: bytes = b"",
    sim_offset: dict[int, int] | None = None,
) -> int:
    """10 Hz messages from t0 to t1 (s); a stale-input event every ``every`` s; the number of
    events. ``sim_offset``: message index -> ns added to the recorder's clock (a jumping clock).
    """
    events = 0
    for i in range(round((t1 - t0) * 10)):
        t = t0 + i / 10
        host.now = 100.0 + t
        clock.now = round(t * S) + (sim_offset or {}).get(i % 2, 0)
        core.receive(tid, payload or cdr_string(f"m{i}"), clock.now)
        if every is not None and round(t * 10) % round(every * 10) == 0:
            reason = f"[WARN] stale_inputs: scan {t:.2f} s old"
            core.trigger("safety_event", reason, key="stale_inputs")
            events += 1
        core.step()
    return events


def test_flapping_sensor_makes_one_episode_with_the_count(
    tmp_path: Path, clock: ManualClock
) -> None:
    host = HostClock()
    core = _core(tmp_path, clock, host)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _flap(core, clock, host, tid, 0.0, 5.0, None)
    fired = _flap(core, clock, host, tid, 5.0, 40.0, every=0.5)  # 70 events in 35 s
    _flap(core, clock, host, tid, 40.0, 50.0, None)  # quiet for longer than the hold-off
    core.stop()
    (manifest,) = _manifests(tmp_path)
    assert manifest["status"] == "complete"
    # The first event opened it; those in its window (3..11 s, capped at 8 s) extended it.
    assert manifest["window"]["end_ns"] == 11 * S
    merged = manifest["merged_triggers"]
    assert merged == 12  # 5.5, 6.0, ... 10.5, 11.0 s
    assert len(manifest["triggers"]) == 1 + merged
    assert core.stats.triggers == fired
    assert core.stats.triggers_rate_limited == fired - 1 - merged


def test_incident_after_quiet_is_new_and_counts_what_was_limited(
    tmp_path: Path, clock: ManualClock
) -> None:
    host = HostClock()
    core = _core(tmp_path, clock, host)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _flap(core, clock, host, tid, 0.0, 5.0, None)
    _flap(core, clock, host, tid, 5.0, 20.0, every=1.0)
    _flap(core, clock, host, tid, 20.0, 30.0, None)
    _flap(core, clock, host, tid, 30.0, 31.0, every=1.0)  # a new incident, 10 s later
    _flap(core, clock, host, tid, 31.0, 35.0, None)
    core.trigger("service", "an operator asks")  # deliberate: never merged away
    _flap(core, clock, host, tid, 35.0, 38.0, None)
    core.trigger("service", "an operator asks")  # again, after that episode closed
    _flap(core, clock, host, tid, 38.0, 45.0, None)
    core.stop()
    first, second, third, fourth = _manifests(tmp_path)
    limited = 15 - 1 - first["merged_triggers"]  # type: ignore[operator]
    assert limited > 0
    assert second["trigger"]["t_ns"] == 30 * S  # type: ignore[index]
    assert second["rate_limited_triggers"] == {STALE: limited}
    assert third["trigger"]["kind"] == fourth["trigger"]["kind"] == "service"  # type: ignore[index]


def test_jumping_clock_does_not_multiply_episodes(tmp_path: Path, clock: ManualClock) -> None:
    # Two simulators on one ROS domain: the recorder's clock alternates between them, so every
    # event lands outside the open window. On the host's clock it is one incident.
    host = HostClock()
    core = _core(tmp_path, clock, host)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _flap(core, clock, host, tid, 0.0, 15.0, every=0.1, sim_offset={1: 500 * S})
    core.stop()
    assert len(_manifests(tmp_path)) == 1
    assert core.stats.triggers_rate_limited > 100


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_spool_budget_is_never_exceeded(tmp_path: Path, clock: ManualClock, storage: str) -> None:
    host = HostClock()
    budget_mb = 1.0
    # No hold-off at all: every flap opens an episode; only the budget stops them.
    core = _core(
        tmp_path,
        clock,
        host,
        trigger_holdoff_seconds=0.0,
        spool_budget_mb=budget_mb,
        storage=storage,
        pre_trigger_seconds=0.5,
        post_trigger_seconds=0.5,
    )
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    spool = tmp_path / "spool"
    payload = cdr_string("z" * 3000)
    for k in range(40):  # 40 episodes of ~1.5 s at 10 Hz x 3 kB = ~1.8 MB offered
        _flap(core, clock, host, tid, 3.0 * k, 3.0 * k + 3.0, every=3.0, payload=payload)
        used = folder_bytes(spool / "ready") + folder_bytes(spool / "incomplete")
        assert used <= budget_mb * 1e6
    core.stop()
    used = folder_bytes(spool / "ready") + folder_bytes(spool / "incomplete")
    assert used <= budget_mb * 1e6
    assert used > budget_mb * 1e6 / 2  # it did record up to the budget
    manifests = _manifests(tmp_path)
    for manifest in manifests:  # the budget closed an episode early, or refused the next
        assert manifest["status"] == "complete" or manifest["note"] == "spool_budget_mb reached"
    assert core.budget_full and core.stats.triggers_refused > 0
    for path in sorted((spool / "ready").iterdir()):
        read_bag(path / "bag")  # every episode that was written is whole
    # Uploads free the spool: recording resumes.
    for path in sorted((spool / "ready").iterdir()):
        (path / "UPLOADED").write_text("ok\n")
    core._next_housekeeping = core._next_budget_scan = 0
    core.step()
    assert not core.budget_full
