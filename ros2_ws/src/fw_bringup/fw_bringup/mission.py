"""The mission runner: a simulated robot drives a list of scenarios on its own, once each.

For each seed of ``mission.seeds``, in order, once:

1. the simulator builds the scenario (the robot stands at its start, stopped), and perception
   restarts its state at the origin of ``odom`` and forgets the old goal, so the policy stops
   and the recording starts where a replay of it starts (its wheel odometry starts at zero);
2. the robot stands ``settle_time`` (sim time), and the recorder opens the episode;
3. the robot gets the scenario's goal on ``goal_pose`` in ``odom``, moved there from the world
   frame with one perception-state and one ground-truth sample taken at rest (as
   ``fw_bringup.send_goal`` does), stamped with the ground truth's sim time;
4. ground truth is watched (:class:`~fw_bringup.mission_episode.EpisodeWatch`) until the robot
   rests at the goal or ``time_limit`` passes; the recorder closes the episode (it lands in the
   spool's ``ready/``), perception forgets the goal (the policy stands), and then the
   simulator's expert (which may drive, in ``drive`` or ``supervise`` mode) lets go until the
   next goal (``stop_robot``): between episodes and after the mission nothing drives. In that
   order: an expert released first would hand the robot to a policy still holding the old
   goal, whose short drive the next episode's replay would not know (a skew).
5. one JSON line goes to the mission log (:mod:`fw_bringup.mission_log`).

The goal is computed from a perception state stamped after the restart (one from before it is in
the old ``odom``). Ground truth that stops advancing for ``service_timeout`` (wall) while an
episode runs fails the seed: a stalled simulator does not hold the mission forever. A close the
recorder does not answer is tried again; an episode still open after that holds the mission (no
scenario starts, so no teleport lands inside its recording) until a later close gets through.

After the last seed the log gets ``{"done": true, "episodes": N, "recorded": M}`` (M: episodes
opened and closed, i.e. with a recording) and the runner returns (the node then idles). With
``start_after_release`` set it first waits, however long, for the cloud agent to report that
release active. A seed whose scenario or episode fails is logged with an ``error`` and the
mission goes on; a robot that never comes up, a log that cannot be written or any other failure
of the runner ends the mission with a done line carrying the ``error`` (tried, at least), so
whoever waits for the log is not left waiting.

Plain Python: the robot is a :class:`MissionRobot` (the node implements it over ROS; tests with
a world of their own). Times are sim time unless they say wall.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fw_bringup.headless import AT_REST_SPEED
from fw_bringup.mission_episode import EpisodeCounters, EpisodeWatch, TruthSample
from fw_bringup.mission_log import MissionLog
from fw_common.planar import Pose2, compose, inverse
from fw_common.profile.mission import MissionConfig

__all__ = [
    "MissionError",
    "MissionRobot",
    "MissionRunner",
    "NotRecordedError",
    "StateSample",
    "goal_in_odom",
]

#: How often the runner looks at the robot while it waits (s, wall).
POLL_PERIOD = 0.02
#: Longest wait for the robot to come to rest before its goal is computed (s, wall): a robot
#: still creeping then gets a goal a few mm off, not no goal.
_REST_TIMEOUT = 10.0
_RELEASE_LOG_PERIOD = 30.0
#: Tries at closing an episode before it counts as left open (each waits service_timeout).
_CLOSE_TRIES = 3


class MissionError(Exception):
    """Something the mission needs did not happen (a service refused or did not answer)."""


class NotRecordedError(MissionError):
    """The recorder could not open the episode after all (spool budget, disk): no bag."""


@dataclass(frozen=True)
class StateSample:
    """The perception state: pose in ``odom`` (x, y, yaw) at ``stamp_ns`` (sim time)."""

    stamp_ns: int
    pose: Pose2


class MissionRobot(Protocol):
    """What the runner needs from a simulated robot. Methods that wait take a wall-clock
    ``timeout`` (s) and raise :class:`MissionError` with the reason when it passes."""

    def wait_ready(self, timeout: float) -> None:
        """Until the simulator, perception, the recorder and their services are up."""

    def active_release(self) -> str | None:
        """The release the cloud agent reports active; None without an agent or release."""

    def policy_kind(self) -> str:
        """What drives (``fw/policy/info``'s ``kind``), ``""`` when unknown."""

    def start_scenario(self, seed: int, timeout: float) -> dict[str, Any]:
        """Build scenario ``seed`` with the robot at its start; its metadata (``seed``,
        ``family``, ``start`` and ``goal`` with ``x``, ``y`` (``yaw``), ...)."""

    def restart_state(self, timeout: float) -> None:
        """Perception restarts at the origin of ``odom`` and forgets the goal."""

    def open_episode(self, timeout: float) -> str:
        """The recorder opens an episode now; its name."""

    def close_episode(self, timeout: float) -> str:
        """The recorder closes the open episode now; its name, ``""`` when none was open (an
        earlier close got through after all, or the open never did). Raises
        :class:`NotRecordedError` when the recorder accepted the open but could not do it."""

    def stop_robot(self, timeout: float) -> None:
        """The simulator's expert stops driving until the robot's next goal."""

    def truth(self) -> TruthSample | None:
        """The latest ground truth, None before the first."""

    def state(self) -> StateSample | None:
        """The latest perception state, None before the first."""

    def publish_goal(self, goal_odom: Pose2, stamp_ns: int) -> None:
        """Publish the goal on ``goal_pose`` in ``odom``, stamped ``stamp_ns`` (sim time)."""

    def counters(self) -> EpisodeCounters:
        """Collisions, safety interventions and take-over steps counted since start."""


def goal_in_odom(state_odom: Pose2, truth_world: Pose2, goal_world: tuple[float, float]) -> Pose2:
    """A world-frame goal in ``odom`` from the robot's pose in both frames at one instant:
    ``T_odom_world = state ∘ truth⁻¹``."""
    return compose(compose(state_odom, inverse(truth_world)), (goal_world[0], goal_world[1], 0.0))


class MissionRunner:
    """Runs one robot's mission (see the module docstring)."""

    def __init__(
        self,
        config: MissionConfig,
        robot: MissionRobot,
        robot_id: str,
        *,
        log: MissionLog | None = None,
        stopping: Callable[[], bool] = lambda: False,
        info: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.robot = robot
        self.robot_id = robot_id
        self.log = log
        self._stopping = stopping
        self._info = info
        self._sleep = sleep
        self._wall = wall_clock
        self._monotonic = monotonic
        #: The lines this run logged (episodes, then done), for callers without a log file.
        self.entries: list[dict[str, Any]] = []
        #: An episode whose close never got through: no scenario starts until it is closed.
        self._unclosed: str | None = None
        #: Episodes opened and closed (with a recording) in this run.
        self.recorded = 0
        #: Why a line could not be written to the log, if one could not.
        self._log_error = ""

    # --- the mission ----------------------------------------------------------------------

    def run(self) -> None:
        """Drive every seed; returns after the done line (or on stopping). Never raises an
        ``Exception``: a failure of the runner itself ends the mission with an ``error`` in
        the done line."""
        c = self.config
        driven = self.recorded = 0
        try:
            try:
                self.robot.wait_ready(c.startup_timeout)
                self._wait_for_release()
            except MissionError as exc:
                self._done(0, 0, str(exc))
                return
            if self._stopping():
                return
            for seed in c.seeds:
                if self._stopping():
                    return
                entry = self.drive(seed)
                if self._stopping() and entry.get("error"):
                    return  # shutting down mid-episode: not an outcome of the seed
                driven += 1
                self._append(entry)
                verdict = "reached" if entry.get("reached") else "failed"
                self._info(
                    f"seed {seed}: {verdict} in {entry.get('sim_seconds', 0):.1f} s, "
                    f"{entry.get('collisions', 0)} collisions, episode {entry.get('episode_id')}"
                    + (f" ({entry['error']})" if entry.get("error") else "")
                )
        except Exception as exc:  # the runner's own failure: the log still gets its done line
            self._info(f"mission stopped: {exc!r}")
            self._release_expert()
            self._done(driven, self.recorded, f"mission stopped: {type(exc).__name__}: {exc}")
            return
        self._done(driven, self.recorded, self._log_error)

    def _release_expert(self) -> str:
        """When the runner fails mid-episode: the simulator's expert stops driving; why it
        could not, or ``""``."""
        try:
            self.robot.stop_robot(self.config.service_timeout)
        except Exception as exc:  # the mission is over either way: say so in the done line
            self._info(f"the expert may still drive: {exc}")
            return f"the expert may still drive: {exc}"
        return ""

    def _done(self, episodes: int, recorded: int, error: str) -> None:
        done: dict[str, Any] = {"done": True, "episodes": episodes, "recorded": recorded}
        if error:
            done["error"] = error
        self._append(done)
        self._info(
            f"mission done: {episodes} episodes, {recorded} recorded"
            + (f" ({error})" if error else "")
        )

    def _wait_for_release(self) -> None:
        wanted = self.config.start_after_release
        if not wanted:
            return
        next_log = self._monotonic()
        while not self._stopping():
            active = self.robot.active_release()
            if active == wanted:
                self._info(f"release {wanted} is active: starting")
                return
            if self._monotonic() >= next_log:
                next_log = self._monotonic() + _RELEASE_LOG_PERIOD
                self._info(f"waiting for release {wanted} (the agent runs {active or 'none'})")
            self._sleep(POLL_PERIOD * 10)

    def _append(self, entry: dict[str, Any]) -> None:
        """Log one line; a line the log refuses (disk, permissions, a value JSON cannot
        carry) is reported, remembered for the done line, and the mission goes on."""
        self.entries.append(entry)
        if self.log is None:
            return
        try:
            self.log.append(entry)
        except (OSError, ValueError) as exc:
            what = f"seed {entry['seed']}" if "seed" in entry else "the done line"
            self._log_error = f"mission log: {what} not written: {type(exc).__name__}: {exc}"
            self._info(self._log_error)

    # --- one seed -------------------------------------------------------------------------

    def drive(self, seed: int) -> dict[str, Any]:
        """Drive scenario ``seed`` once; its log line (with ``error`` when it failed)."""
        c = self.config
        robot = self.robot
        entry: dict[str, Any] = {
            "robot_id": self.robot_id,
            "seed": seed,
            "family": "",
            "release": "",
            "policy_kind": robot.policy_kind(),
            "supervisor_mode": "",
            "reached": False,
            "collisions": 0,
            "interventions": {},
            "sim_seconds": 0.0,
            "path_length_m": 0.0,
            "path": [],
            "start": None,
            "goal": None,
            "takeover_steps": 0,
            "wall_start": self._wall(),
            "wall_end": None,
            "episode_id": None,
        }
        # The release that drives: the agent's, else the classic policy's; a learned model
        # without an agent is no release anyone can name.
        kind = entry["policy_kind"]
        named = "classic" if kind == "classic" else "unknown"
        entry["release"] = robot.active_release() or named
        episode_open = False
        try:
            if self._unclosed is not None:
                self._close(self._unclosed)  # raises while it stays open: nothing starts
            scenario = robot.start_scenario(seed, c.service_timeout)
            if scenario.get("seed") != seed:
                raise MissionError(f"the simulator built seed {scenario.get('seed')}, not {seed}")
            start, goal = scenario["start"], scenario["goal"]
            entry["family"] = str(scenario.get("family", ""))
            entry["supervisor_mode"] = str(scenario.get("supervisor_mode", ""))
            values = [float(start["x"]), float(start["y"]), float(start["yaw"])]
            values += [float(goal["x"]), float(goal["y"])]
            if not all(math.isfinite(v) for v in values):
                raise MissionError(f"bad scenario from the simulator: start or goal {values!r}")
            entry["start"], entry["goal"] = values[:3], values[3:]
            robot.restart_state(c.service_timeout)
            restarted_ns = self._next_truth().stamp_ns
            self._sim_wait(c.settle_time)
            # Counted open before the answer: a late answer still leaves an episode to close
            # (and a close of none is harmless).
            episode_open = True
            entry["episode_id"] = robot.open_episode(c.service_timeout)
            watch = EpisodeWatch((entry["goal"][0], entry["goal"][1]), c.time_limit, c.path_period)
            counters = robot.counters()
            self._send_goal(watch.goal, restarted_ns)
            self._watch(watch)
            entry.update(watch.record(robot.counters().since(counters)))
            if self._stopping():
                entry["error"] = "stopped"
        except MissionError as exc:
            entry["error"] = str(exc)
        except (KeyError, TypeError, ValueError) as exc:  # a scenario document without a field
            entry["error"] = f"bad scenario from the simulator: {type(exc).__name__}: {exc}"
        finally:
            # The episode ends before the stop, so its recording holds no restart of the state.
            if episode_open:
                try:
                    self._close(entry["episode_id"] or "(open not answered)")
                    self.recorded += bool(entry["episode_id"])
                except NotRecordedError as exc:  # before any other error: the log says so
                    entry["error"] = str(exc) + (f"; {entry['error']}" if "error" in entry else "")
                    entry["episode_id"] = None  # no bag: nothing for a reader to look for
                except MissionError as exc:
                    entry.setdefault("error", str(exc))
            # Perception first: with no goal the policy stands, so when the expert lets go
            # nothing moves the robot (it would, with the old goal, and the policy's memory of
            # that drive would skew the next episode's replay).
            for stop in (robot.restart_state, robot.stop_robot):
                try:
                    stop(c.service_timeout)
                except MissionError as exc:
                    entry.setdefault("error", str(exc))
            entry["wall_end"] = self._wall()
        return entry

    def _close(self, episode_id: str) -> None:
        """Close the open episode, trying again when the recorder does not answer; raises,
        leaving it marked as left open, when it never does."""
        error = ""
        for _ in range(_CLOSE_TRIES):
            try:
                self.robot.close_episode(self.config.service_timeout)
            except NotRecordedError:
                self._unclosed = None  # nothing is open: the episode never was
                raise
            except MissionError as exc:
                error = str(exc)
                continue
            self._unclosed = None
            return
        self._unclosed = episode_id
        raise MissionError(
            f"episode {episode_id} left open after {_CLOSE_TRIES} tries ({error}): "
            "no scenario starts until it is closed"
        )

    def _watch(self, watch: EpisodeWatch) -> None:
        """Ground truth into ``watch`` until the episode is over; raises when sim time stops
        advancing for ``service_timeout`` (wall)."""
        stall = self.config.service_timeout
        last_ns: int | None = None
        advanced = self._monotonic()
        while not self._stopping():
            sample = self.robot.truth()
            if sample is not None and sample.stamp_ns != last_ns:
                last_ns, advanced = sample.stamp_ns, self._monotonic()
                if watch.add(sample):
                    return
            elif self._monotonic() - advanced > stall:
                raise MissionError(
                    f"sim time does not advance: no new ground truth for {stall:g} s (wall) "
                    f"after {watch.sim_seconds:.1f} s of the episode"
                )
            self._sleep(POLL_PERIOD)

    def _sim_wait(self, seconds: float) -> None:
        """Until ``seconds`` of sim time have passed (by ground truth)."""
        first = self._wait_truth()
        until = first.stamp_ns + round(seconds * 1e9)
        deadline = self._monotonic() + self.config.service_timeout + seconds * 100
        while not self._stopping():
            sample = self.robot.truth()
            if sample is not None and sample.stamp_ns >= until:
                return
            if self._monotonic() > deadline:
                raise MissionError("sim time does not advance (no ground truth)")
            self._sleep(POLL_PERIOD)

    def _wait_truth(self) -> TruthSample:
        deadline = self._monotonic() + self.config.service_timeout
        while True:
            sample = self.robot.truth()
            if sample is not None:
                return sample
            if self._monotonic() > deadline or self._stopping():
                raise MissionError("no ground truth from the simulator")
            self._sleep(POLL_PERIOD)

    def _next_truth(self) -> TruthSample:
        """The first ground truth newer than the one held now: sim time after the caller's
        last action (the one held may have been on its way before it)."""
        held = self._wait_truth().stamp_ns
        deadline = self._monotonic() + self.config.service_timeout
        while not self._stopping():
            sample = self._wait_truth()
            if sample.stamp_ns > held:
                return sample
            if self._monotonic() > deadline:
                raise MissionError("sim time does not advance (no new ground truth)")
            self._sleep(POLL_PERIOD)
        raise MissionError("stopped")

    def _send_goal(self, goal_world: tuple[float, float], restarted_ns: int) -> None:
        """The goal in ``odom``, from samples taken at rest (see the module docstring), with a
        perception state stamped at or after ``restarted_ns`` (sim time): one from before the
        restart is in the old ``odom``."""
        deadline = self._monotonic() + _REST_TIMEOUT
        truth = self._wait_truth()
        while truth.speed >= AT_REST_SPEED and self._monotonic() < deadline:
            self._sleep(POLL_PERIOD)
            truth = self._wait_truth()
        state = self.robot.state()
        deadline = self._monotonic() + self.config.service_timeout
        while state is None or state.stamp_ns < restarted_ns:
            if self._monotonic() > deadline or self._stopping():
                raise MissionError(
                    "no perception state since the restart: the goal cannot be put in odom"
                )
            self._sleep(POLL_PERIOD)
            state = self.robot.state()
        truth = self._wait_truth()
        goal = goal_in_odom(state.pose, (truth.x, truth.y, truth.yaw), goal_world)
        if not all(math.isfinite(v) for v in goal):
            raise MissionError(f"goal in odom is not finite: {goal!r}")
        self.robot.publish_goal(goal, truth.stamp_ns)
