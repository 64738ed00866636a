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
   spool's ``ready/``), and perception forgets the goal (the policy stops);
5. one JSON line goes to the mission log (:mod:`fw_bringup.mission_log`).

After the last seed the log gets ``{"done": true, "episodes": N}`` and the runner returns (the
node then idles). With ``start_after_release`` set it first waits, however long, for the cloud
agent to report that release active. A seed whose scenario or episode fails is logged with an
``error`` and the mission goes on; a robot that never comes up ends the mission with a done line
carrying the ``error``, so whoever waits for the log is not left waiting.

Plain Python: the robot is a :class:`MissionRobot` (the node implements it over ROS; tests with
a world of their own). Times are sim time unless they say wall.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

from fw_bringup.headless import AT_REST_SPEED
from fw_bringup.mission_episode import EpisodeCounters, EpisodeWatch, TruthSample
from fw_bringup.mission_log import MissionLog
from fw_common.planar import Pose2, compose, inverse
from fw_common.profile.mission import MissionConfig

__all__ = ["MissionError", "MissionRobot", "MissionRunner", "goal_in_odom"]

#: How often the runner looks at the robot while it waits (s, wall).
POLL_PERIOD = 0.02
#: Longest wait for the robot to come to rest before its goal is computed (s, wall): a robot
#: still creeping then gets a goal a few mm off, not no goal.
_REST_TIMEOUT = 10.0
_RELEASE_LOG_PERIOD = 30.0


class MissionError(Exception):
    """Something the mission needs did not happen (a service refused or did not answer)."""


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
        """The recorder closes the open episode now; its name."""

    def truth(self) -> TruthSample | None:
        """The latest ground truth, None before the first."""

    def state_pose(self) -> Pose2 | None:
        """The latest perception state in ``odom`` (x, y, yaw), None before the first."""

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

    # --- the mission ----------------------------------------------------------------------

    def run(self) -> None:
        """Drive every seed; returns after the done line (or on stopping)."""
        c = self.config
        try:
            self.robot.wait_ready(c.startup_timeout)
            self._wait_for_release()
        except MissionError as exc:
            self._append({"done": True, "episodes": 0, "error": str(exc)})
            return
        if self._stopping():
            return
        for seed in c.seeds:
            if self._stopping():
                return
            entry = self.drive(seed)
            if self._stopping() and entry.get("error"):
                return  # shutting down mid-episode: not an outcome of the seed
            self._append(entry)
            verdict = "reached" if entry.get("reached") else "failed"
            self._info(
                f"seed {seed}: {verdict} in {entry.get('sim_seconds', 0):.1f} s, "
                f"{entry.get('collisions', 0)} collisions, episode {entry.get('episode_id')}"
                + (f" ({entry['error']})" if entry.get("error") else "")
            )
        episodes = len(c.seeds)
        self._append({"done": True, "episodes": episodes})
        self._info(f"mission done: {episodes} episodes")

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
        self.entries.append(entry)
        if self.log is not None:
            self.log.append(entry)

    # --- one seed -------------------------------------------------------------------------

    def drive(self, seed: int) -> dict[str, Any]:
        """Drive scenario ``seed`` once; its log line (with ``error`` when it failed)."""
        c = self.config
        robot = self.robot
        entry: dict[str, Any] = {
            "robot_id": self.robot_id,
            "seed": seed,
            "family": "",
            "release": robot.active_release() or "classic",
            "policy_kind": robot.policy_kind(),
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
        episode_open = False
        try:
            scenario = robot.start_scenario(seed, c.service_timeout)
            if scenario.get("seed") != seed:
                raise MissionError(f"the simulator built seed {scenario.get('seed')}, not {seed}")
            start, goal = scenario["start"], scenario["goal"]
            entry["family"] = str(scenario.get("family", ""))
            entry["start"] = [float(start["x"]), float(start["y"]), float(start["yaw"])]
            entry["goal"] = [float(goal["x"]), float(goal["y"])]
            robot.restart_state(c.service_timeout)
            self._sim_wait(c.settle_time)
            entry["episode_id"] = robot.open_episode(c.service_timeout)
            episode_open = True
            watch = EpisodeWatch((entry["goal"][0], entry["goal"][1]), c.time_limit, c.path_period)
            counters = robot.counters()
            self._send_goal(watch.goal)
            while not self._stopping():
                sample = robot.truth()
                if sample is not None and watch.add(sample):
                    break
                self._sleep(POLL_PERIOD)
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
                    robot.close_episode(c.service_timeout)
                except MissionError as exc:
                    entry.setdefault("error", str(exc))
            try:
                robot.restart_state(c.service_timeout)  # no goal: the policy stops
            except MissionError as exc:
                entry.setdefault("error", str(exc))
            entry["wall_end"] = self._wall()
        return entry

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

    def _send_goal(self, goal_world: tuple[float, float]) -> None:
        """The goal in ``odom``, from samples taken at rest (see the module docstring)."""
        deadline = self._monotonic() + _REST_TIMEOUT
        truth = self._wait_truth()
        while truth.speed >= AT_REST_SPEED and self._monotonic() < deadline:
            self._sleep(POLL_PERIOD)
            truth = self._wait_truth()
        state = self.robot.state_pose()
        if state is None:
            raise MissionError("no perception state: the goal cannot be put in odom")
        goal = goal_in_odom(state, (truth.x, truth.y, truth.yaw), goal_world)
        if not all(math.isfinite(v) for v in goal):
            raise MissionError(f"goal in odom is not finite: {goal!r}")
        self.robot.publish_goal(goal, truth.stamp_ns)
