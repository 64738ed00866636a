"""The cloud agent's decisions without ROS: deferral, swaps, automatic rollback, restarts.

The release source is a small in-memory stand-in for ReleaseClient (the real client, TUF and
the store are exercised in tests/cloud/); the clock is manual, so windows and timeouts are
exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_bridge.releases import (
    ChannelPointer,
    RefusalReason,
    ReleaseCard,
    ReleaseRefusedError,
    StagedRelease,
)
from fw_cloud_agent.agent import AgentSettings, CloudAgent, SwapRequest
from fw_cloud_agent.rollback_watch import RollbackThresholds


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Channel:
    """What the store says: the channel's release, and which releases stage or are refused."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.release = "r1"
        self.refuse: dict[str, str] = {}
        self.down = False
        self.staged: list[str] = []
        self.kept: set[str] = set()

    def check(self, fleet: str, channel: str) -> ChannelPointer:
        if self.down:
            raise ReleaseRefusedError(RefusalReason.UNAVAILABLE, "store unreachable")
        return ChannelPointer(fleet, channel, self.release)

    def _staged(self, release: str) -> StagedRelease:
        path = self.folder / f"{release}.onnx"
        path.write_bytes(b"model")
        card = ReleaseCard(release, "spec", (0.8, 1.0), "sha", "v")
        return StagedRelease(release, card, path, {})

    def stage(self, release: str) -> StagedRelease:
        if release in self.refuse:
            raise ReleaseRefusedError(self.refuse[release], "refused", release)
        self.staged.append(release)
        return self._staged(release)

    def installed(self, release: str) -> StagedRelease | None:
        return self._staged(release) if release in self.staged else None

    def prune(self, keep: set[str]) -> None:
        self.kept = keep


THRESHOLDS = RollbackThresholds(window=30.0, min_events=3, margin=2.0, watch=120.0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def channel(tmp_path: Path) -> Channel:
    return Channel(tmp_path)


def make_agent(tmp_path: Path, channel: Channel, clock: Clock) -> CloudAgent:
    settings = AgentSettings(
        "robot_1", "fleet", "canary", defer_timeout=60.0, thresholds=THRESHOLDS
    )
    return CloudAgent(settings, channel, tmp_path / "state.json", monotonic=clock, wall=clock)


def install(agent: CloudAgent, channel: Channel, release: str) -> SwapRequest:
    channel.release = release
    agent.poll()
    request = agent.tick()
    assert request is not None and request.release == release, agent.drain_events()
    agent.swap_done(request, True)
    return request


def kinds(agent: CloudAgent) -> list[str]:
    return [e.kind for e in agent.drain_events()]


def test_a_staged_release_swaps_at_once_when_idle(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    agent.poll()
    request = agent.tick()
    assert request is not None
    assert (request.kind, request.release, request.reason) == ("install", "r1", "robot idle")
    assert agent.tick() is None, "one swap at a time"
    agent.swap_done(request, True)
    assert agent.state.active == "r1" and agent.state.previous is None
    assert kinds(agent) == ["staged", "swapped"]


@pytest.mark.parametrize("busy", ["recording", "goal"])
def test_the_swap_waits_while_busy_up_to_the_timeout(tmp_path, channel, clock, busy) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    agent.drain_events()
    (agent.set_recording if busy == "recording" else agent.set_goal_active)(True)
    channel.release = "r2"
    agent.poll()
    assert agent.tick() is None
    events = agent.drain_events()
    assert [e.kind for e in events] == ["staged", "deferred"]
    assert ("recorded" if busy == "recording" else "goal is active") in events[1].message
    clock.t += 59.0
    assert agent.tick() is None and agent.status()["deferred"]
    assert kinds(agent) == [], "a deferral is said once"
    clock.t += 2.0
    request = agent.tick()
    assert request is not None and request.release == "r2"
    assert "deferred 61 s" in request.reason


def test_the_swap_goes_as_soon_as_the_robot_is_idle(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    agent.set_goal_active(True)
    channel.release = "r2"
    agent.poll()
    assert agent.tick() is None
    clock.t += 5.0
    agent.set_goal_active(False)
    request = agent.tick()
    assert request is not None and request.reason == "robot idle"


def test_more_interventions_than_the_previous_release_roll_back(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    for _ in range(60):  # r1: 60 s with one intervention: 1/min
        clock.t += 1.0
        agent.tick()
    agent.on_intervention()
    install(agent, channel, "r2")
    agent.drain_events()
    assert agent.status()["watching"]["baseline_per_min"] == pytest.approx(1.0)
    # Two interventions in 2 s: fewer than min_events, no decision yet.
    for _ in range(2):
        clock.t += 1.0
        agent.on_intervention()
    assert agent.tick() is None
    clock.t += 1.0
    agent.on_intervention()
    # Three in the 30 s window: 6/min, over 1/min + the 2/min margin.
    request = agent.tick()
    assert request is not None and (request.kind, request.release) == ("rollback", "r1")
    assert request.replaces == "r2" and "3 safety interventions" in request.reason
    agent.swap_done(request, True)
    assert agent.state.active == "r1" and "r2" in agent.state.rolled_back
    (event,) = [e for e in agent.drain_events() if e.kind == "rollback"]
    assert event.release == "r2" and "will not be installed again" in event.message
    # The channel still names r2: it is never reinstalled, and the agent says why once.
    agent.poll()
    agent.poll()
    assert agent.tick() is None
    assert kinds(agent) == ["not_reinstalled"]
    # A later release on the channel is installed as usual.
    install(agent, channel, "r3")
    assert agent.state.active == "r3" and agent.state.previous == "r1"
    # A staged candidate stays on disk with the active and previous releases.
    channel.release = "r4"
    agent.poll()
    assert channel.kept == {"r1", "r3", "r4"}


def test_a_short_record_gives_a_low_baseline_not_a_high_one(tmp_path, channel, clock) -> None:
    """r1 ran 2 s with one intervention: its baseline counts one window (2/min), not 30/min,
    so r2 intervening 6 times a minute is still rolled back."""
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    agent.on_intervention()
    clock.t += 2.0
    agent.tick()
    install(agent, channel, "r2")
    assert agent.status()["watching"]["baseline_per_min"] == pytest.approx(2.0)
    for _ in range(3):
        clock.t += 1.0
        agent.on_intervention()
    request = agent.tick()
    assert request is not None and request.kind == "rollback"


def test_a_rollback_the_policy_refuses_keeps_the_release_and_says_so(
    tmp_path, channel, clock
) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    install(agent, channel, "r2")
    for _ in range(3):
        agent.on_intervention()
    request = agent.tick()
    assert request is not None and request.kind == "rollback"
    agent.swap_done(request, False, "model file is gone")
    assert agent.state.active == "r2" and agent.status()["watching"] is None
    (event,) = [e for e in agent.drain_events() if e.kind == "rollback_failed"]
    assert event.level == 2 and "model file is gone" in event.message
    assert agent.tick() is None


def test_a_rate_within_the_margin_is_accepted(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    for i in range(60):  # r1: 4 interventions a minute
        clock.t += 1.0
        if i % 15 == 0:
            agent.on_intervention()
        agent.tick()
    install(agent, channel, "r2")
    for i in range(150):  # r2: 5/min, within 4 + 2
        clock.t += 1.0
        if i % 12 == 0:
            agent.on_intervention()
        assert agent.tick() is None, agent.status()["watching"]
    assert agent.status()["watching"] is None, "watched for 120 s, then accepted"
    assert "accepted" in kinds(agent)


def test_without_a_previous_release_there_is_nothing_to_roll_back_to(
    tmp_path, channel, clock
) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    for _ in range(10):
        clock.t += 1.0
        agent.on_intervention()
        assert agent.tick() is None


def test_refusals_keep_the_active_release_and_are_not_retried(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    agent.drain_events()
    channel.refuse["r2"] = RefusalReason.TAMPERED
    channel.release = "r2"
    agent.poll()
    (event,) = agent.drain_events()
    assert (event.kind, event.reason, event.release) == ("refused", "tampered", "r2")
    assert agent.tick() is None and agent.state.active == "r1"
    agent.poll()
    assert kinds(agent) == [], "a refused release is not downloaded again"
    # The policy node refusing the swap is a refusal too.
    channel.release = "r3"
    agent.poll()
    request = agent.tick()
    assert request is not None
    agent.swap_done(request, False, "warm-up gave a non-finite action")
    assert agent.state.active == "r1" and "non-finite" in agent.state.refused["r3"]


def test_an_unreachable_store_is_reported_once_and_retried(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    agent.drain_events()
    channel.down = True
    agent.poll()
    agent.poll()
    assert kinds(agent) == ["unreachable"]
    assert agent.status()["problem"].startswith("unavailable")
    channel.down = False
    agent.poll()
    assert kinds(agent) == ["reachable"] and agent.status()["problem"] is None


def test_a_policy_that_does_not_answer_is_retried(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    agent.poll()
    request = agent.tick()
    assert request is not None
    agent.swap_done(request, False, "service not up", answered=False)
    assert agent.tick() is None
    clock.t += 6.0
    retry = agent.tick()
    assert retry is not None and retry.release == "r1"


def test_state_survives_a_restart(tmp_path, channel, clock) -> None:
    agent = make_agent(tmp_path, channel, clock)
    install(agent, channel, "r1")
    for _ in range(30):
        clock.t += 1.0
        agent.tick()
    install(agent, channel, "r2")
    for _ in range(3):
        agent.on_intervention()
    request = agent.tick()
    assert request is not None and request.kind == "rollback"
    agent.swap_done(request, True)

    again = make_agent(tmp_path, channel, clock)
    assert again.state.active == "r1" and "r2" in again.state.rolled_back
    assert again.state.record("r1").seconds == pytest.approx(30.0)
    # The policy restarted with its profile's model: the agent puts r1 back first, and asks
    # again when the policy node is not up yet.
    restore = again.tick()
    assert restore is not None and (restore.kind, restore.release) == ("restore", "r1")
    again.swap_done(restore, False, "service not up", answered=False)
    assert again.tick() is None
    clock.t += 6.0
    restore = again.tick()
    assert restore is not None and restore.kind == "restore"
    again.swap_done(restore, True)
    again.poll()
    assert again.tick() is None, "r2 stays rolled back after a restart"


def test_a_corrupt_state_file_is_kept_aside(tmp_path, channel, clock) -> None:
    (tmp_path / "state.json").write_text("{not json")
    agent = make_agent(tmp_path, channel, clock)
    assert agent.state.active is None
    assert (tmp_path / "state.json.corrupt").read_text() == "{not json"
