"""The headless world and the robot loop, stepped one policy decision at a time.

The robot loop asks its policy for an action from inside :meth:`RobotLoop.scan` (perception
cleans the scan, the policy step featurizes it and calls ``policy.act``, the safety supervisor
takes the command). A reinforcement-learning environment needs to pause between "here is the
observation" and "here is the action", so :class:`DecisionStepper` calls that method in its two
halves, :meth:`RobotLoop.scan_to_decision` and :meth:`RobotLoop.finish_decision` (the very calls
``scan`` makes, in the same order), and hands the action in between to the caller. The world and
the loop run in a generator, wired as :func:`fw_bringup.headless.run_headless_episode` wires
them (the same sensor order, stamps and wheel commands), which pauses at each decision: all in
the caller's thread, so an episode is as deterministic as the headless runner (the same scenario
and the same actions give the same observations, bit for bit) and a step costs no hand-off
between threads.

Between two decisions the stepper counts what the reward needs: contacts, the safety
supervisor's events and state, and the ground truth at the decision. An episode ends when the
robot rests at the goal (as in the headless runner), on a contact when ``end_on_collision``,
or at the time limit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_bringup.headless import AT_REST_SPEED, REACHED_RADIUS, goal_in_odom, scan_from_world
from fw_bringup.robot_loop import LoopOutput, PendingDecision, RobotLoop
from fw_common import frames
from fw_common.profile import RobotProfile
from fw_policy.base import Action, PolicyInput
from fw_sim.world import Due, GroundTruth, SimWorld

__all__ = ["AgentPolicy", "DecisionPoint", "DecisionStepper"]

log = logging.getLogger(__name__)


@dataclass
class DecisionPoint:
    """What happened since the previous decision, and the state at this one.

    ``observation`` is what the policy was fed (the observation spec's vector); at the end of
    an episode without a new decision it is the last one fed.
    """

    observation: npt.NDArray[np.float32]
    #: Sim time (s) since the episode started.
    sim_time: float
    #: Ground truth at this point: position (m), yaw (rad), forward speed (m/s), yaw rate.
    x: float
    y: float
    yaw: float
    speed: float
    yaw_rate: float
    #: Nearest return of the cleaned scan the policy saw (m): 0 when one is closer than the
    #: sensor's minimum (-inf), inf when there is none.
    min_scan_range: float
    #: Contacts that began since the previous decision.
    collisions: int = 0
    #: Safety events that started since the previous decision, by kind, in order.
    safety_events: list[str] = field(default_factory=list)
    #: The supervisor's state and interventions in force at its latest step.
    safety_state: str = ""
    safety_active: tuple[str, ...] = ()
    #: The command the supervisor let through at its latest step (m/s, rad/s).
    executed: tuple[float, float] = (0.0, 0.0)
    #: Set when the episode ended here: the robot rests at the goal, touched an obstacle
    #: (``end_on_collision``), or ran out of time.
    reached_goal: bool = False
    crashed: bool = False
    timed_out: bool = False

    @property
    def done(self) -> bool:
        return self.reached_goal or self.crashed or self.timed_out


class AgentPolicy:
    """The loop's policy during training, in name only: the agent's actions reach the loop
    through :meth:`RobotLoop.finish_decision`, never through ``act``."""

    kind = "agent"

    def __init__(self, action_scale: tuple[float, float]) -> None:
        self.action_scale = action_scale

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "action_scale": list(self.action_scale)}

    def act(self, inputs: PolicyInput) -> Action:
        # Not a ValueError, which the policy step would turn into a zero command.
        raise RuntimeError("the agent acts through DecisionStepper.act, one decision at a time")


#: An episode in progress: yields each decision point, is sent the action for it.
_Episode = Generator["DecisionPoint", tuple[float, float], None]


class DecisionStepper:
    """Runs episodes of ``world`` with a fresh :class:`RobotLoop` over ``profile``, pausing at
    every policy decision.

    :meth:`start` resets the world into its current scenario and runs to the first decision;
    :meth:`act` answers the pending decision with a normalised action in [-1, 1]^2 and runs to
    the next one (or to the end of the episode). Both return a :class:`DecisionPoint`.
    """

    def __init__(
        self,
        world: SimWorld,
        profile: RobotProfile,
        *,
        action_scale: tuple[float, float],
        time_limit: float,
        end_on_collision: bool = True,
    ) -> None:
        self.world = world
        self.profile = profile
        self.action_scale = action_scale
        self.time_limit = time_limit
        self.end_on_collision = end_on_collision
        self.loop: RobotLoop | None = None
        #: The episode paused at a decision (None: none is pending).
        self._running: _Episode | None = None
        # Accumulated between decisions.
        self._collisions = 0
        self._events: list[str] = []
        self._last_safety: tuple[str, tuple[str, ...], tuple[float, float]] = ("", (), (0.0, 0.0))
        self._last_observation: npt.NDArray[np.float32] | None = None
        self._min_scan = math.inf
        self._start_ns = 0
        #: Ground truth at the scan being processed (one read serves the decision and the
        #: goal check: no physics step happens between them).
        self._truth: GroundTruth | None = None

    # --- the caller's side ----------------------------------------------------------------------

    def start(self, world: SimWorld | None = None) -> DecisionPoint:
        """Abandon any running episode, reset the world (or switch to ``world``) and run to the
        first decision."""
        self.stop()
        if world is not None:
            self.world = world
        episode = self._episode()
        self._running = episode
        return self._advance(episode, None)

    def act(self, action: tuple[float, float]) -> DecisionPoint:
        """Answer the pending decision and run to the next point."""
        episode = self._running
        if episode is None:
            raise RuntimeError("no decision is pending: start an episode first")
        return self._advance(episode, action)

    def stop(self) -> None:
        """Abandon the running episode, if any (its wheels are stopped)."""
        episode, self._running = self._running, None
        if episode is None:
            return
        try:
            episode.close()
        except Exception as exc:  # e.g. its world was closed under it: the episode is over
            log.warning("abandoning the episode failed to stop its wheels: %s", exc)

    def _advance(self, episode: _Episode, action: tuple[float, float] | None) -> DecisionPoint:
        try:
            point = next(episode) if action is None else episode.send(action)
        except BaseException:  # the episode failed: nothing is pending any more
            self._running = None
            raise
        if point.done:
            self._running = None
            episode.close()
        return point

    # --- the episode ----------------------------------------------------------------------------

    def _observe(self, inputs: PolicyInput) -> None:
        """What the decision point reports of the policy's inputs."""
        self._last_observation = inputs.observation
        ranges = inputs.ranges
        if np.isneginf(ranges).any():  # REP-117: closer than the sensor's minimum
            self._min_scan = 0.0
        else:
            finite = ranges[np.isfinite(ranges)]
            self._min_scan = float(finite.min()) if finite.size else math.inf

    def _point(self, **ending: bool) -> DecisionPoint:
        world = self.world
        truth = self._truth if self._truth is not None else world.ground_truth()
        pose = truth.pose2d
        assert self._last_observation is not None
        state, active, executed = self._last_safety
        point = DecisionPoint(
            observation=self._last_observation,
            sim_time=(world.sim_time_ns - self._start_ns) * 1e-9,
            x=pose.x,
            y=pose.y,
            yaw=pose.yaw,
            speed=truth.linear_velocity[0],
            yaw_rate=truth.angular_velocity[2],
            min_scan_range=self._min_scan,
            collisions=self._collisions,
            safety_events=self._events,
            safety_state=state,
            safety_active=active,
            executed=executed,
            **ending,
        )
        self._collisions, self._events = 0, []
        return point

    def _handle(self, out: LoopOutput) -> None:
        for result in out.safety:
            self._events.extend(event.kind for event in result.events)
            twist = result.twist
            self._last_safety = (result.state, result.active, (twist.linear, twist.angular))
        if out.wheels is not None:
            self.world.apply_wheel_velocities(out.wheels.joint_names, out.wheels.velocities)

    def _episode(self) -> _Episode:
        world = self.world
        world.reset()
        self.loop = loop = RobotLoop(self.profile, policy=AgentPolicy(self.action_scale))
        self._collisions, self._events, self._last_observation = 0, [], None
        self._last_safety = ("", (), (0.0, 0.0))
        refused = loop.goal(frames.ODOM, *goal_in_odom(world))
        if refused is not None:
            raise RuntimeError(f"the loop refused the scenario's goal: {refused}")
        goal = world.scenario.goal
        linear_scale, angular_scale = self.action_scale
        handle = self._handle
        self._start_ns = world.sim_time_ns
        limit_ns = self._start_ns + round(self.time_limit * 1e9)
        due = Due()
        ending: dict[str, bool] = {}
        try:
            while not ending:
                world.step(due)
                now = world.sim_time_ns
                if due.joint_states:
                    joints = world.joint_states()
                    handle(loop.joint_states(joints.names, joints.positions, now, now))
                if due.imu:
                    imu = world.imu()
                    handle(loop.imu(imu.angular_velocity[2], imu.orientation, now, now))
                if due.scan:
                    self._truth = truth = world.ground_truth()
                    step = loop.scan_to_decision(scan_from_world(world, now), now)
                    if isinstance(step, PendingDecision):
                        self._observe(step.inputs)
                        v, w = yield self._point()
                        action = Action(v * linear_scale, w * angular_scale)
                        step = loop.finish_decision(step, action)
                    handle(step)
                    self._truth = None
                    near = math.dist(truth.position[:2], (goal.x, goal.y)) < REACHED_RADIUS
                    speed = math.hypot(truth.linear_velocity[0], truth.linear_velocity[1])
                    if near and speed < AT_REST_SPEED:
                        ending["reached_goal"] = True
                handle(loop.tick(now))
                if world.has_collisions:
                    self._collisions += len(world.pop_collisions())
                    if self.end_on_collision:
                        ending["crashed"] = True
                if now >= limit_ns:
                    ending["timed_out"] = True
        finally:
            world.apply_wheel_velocities(world.wheel_joints, [0.0] * len(world.wheel_joints))
        if self._last_observation is None:
            raise RuntimeError("the episode ended before the policy was asked for anything")
        yield self._point(**ending)
