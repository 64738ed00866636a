"""The ``params`` dict a user's reward function receives, in the style of AWS DeepRacer's.

One dict per environment step (one policy decision), describing the interval since the previous
decision and the state at this one. Distances in m, angles in rad, speeds in m/s and rad/s.
Positions and the goal are ground truth in the world frame (the simulator knows them; the
policy only sees its observation).

=========================  ==================================================================
key                        meaning
=========================  ==================================================================
``progress``               share of the start-to-goal distance covered, in percent [0, 100]
``progress_delta``         metres gained towards the goal since the previous step (< 0: lost)
``distance_to_goal``       straight-line distance from the robot to the goal (m)
``initial_distance``       that distance at the start of the episode (m)
``bearing_to_goal``        direction of the goal seen from the robot, in (-pi, pi] (0: ahead,
                           > 0: to the left)
``x``, ``y``, ``heading``  the robot's pose in the world (m, m, rad)
``speed``                  forward speed (m/s, < 0 when reversing)
``yaw_rate``               turn rate (rad/s, > 0 turning left)
``action``                 the agent's normalised action ``[linear, angular]`` in [-1, 1]
``commanded_linear``       the policy's command (m/s): the action times the action scale
``commanded_angular``      (rad/s)
``executed_linear``        what the safety supervisor let through (m/s, rad/s)
``executed_angular``
``min_clearance``          nearest lidar return the policy saw (m; 0 when closer than the
                           sensor's minimum, inf when none)
``collision``              the robot touched an obstacle since the previous step
``collisions``             contacts so far in the episode
``safety_intervention``    the safety supervisor started an intervention since the previous step
``safety_events``          kinds of those interventions, in order (``slowdown_zone``,
                           ``stop_zone``, ``approach``, ``stale_scan``, ...)
``safety_state``           supervisor state: ``running``, ``limited``, ``stopped``, ``idle``,
                           ``estop``
``safety_active``          interventions in force (zones, stale inputs, latched stops)
``steps``                  steps taken in the episode, this one included (1, 2, ...)
``sim_time``               sim time since the episode started (s)
``time_limit``             the episode's time limit (s)
``is_done``                the episode ends with this step
``reached_goal``           ... because the robot rests within the goal radius
``crashed``                ... because it touched an obstacle (``end_on_collision``)
``timed_out``              ... because the time limit passed
``goal_radius``            the goal radius (m)
``scenario_seed``          the seed of the episode's scenario
=========================  ==================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cloud_bridge.rl.stepper import DecisionPoint
from fw_bringup.headless import REACHED_RADIUS
from fw_sim.scenario import Scenario

__all__ = ["PARAM_KEYS", "EpisodeProgress", "reward_params"]


@dataclass
class EpisodeProgress:
    """What one episode carries from step to step."""

    scenario: Scenario
    initial_distance: float
    time_limit: float
    steps: int = 0
    collisions: int = 0
    last_distance: float = 0.0

    @classmethod
    def begin(cls, scenario: Scenario, time_limit: float) -> EpisodeProgress:
        start, goal = scenario.start, scenario.goal
        distance = math.hypot(goal.x - start.x, goal.y - start.y)
        return cls(scenario, distance, time_limit, last_distance=distance)


def _wrap(angle: float) -> float:
    return math.atan2(math.sin(angle), math.cos(angle))


def reward_params(
    point: DecisionPoint,
    episode: EpisodeProgress,
    action: tuple[float, float],
    action_scale: tuple[float, float],
) -> dict[str, Any]:
    """The ``params`` of the step that ``action`` led to ``point``; advances ``episode``."""
    goal = episode.scenario.goal
    distance = math.hypot(goal.x - point.x, goal.y - point.y)
    episode.steps += 1
    episode.collisions += point.collisions
    delta = episode.last_distance - distance
    episode.last_distance = distance
    covered = 1.0 - distance / episode.initial_distance if episode.initial_distance > 0 else 1.0
    return {
        "progress": 100.0 * min(max(covered, 0.0), 1.0),
        "progress_delta": delta,
        "distance_to_goal": distance,
        "initial_distance": episode.initial_distance,
        "bearing_to_goal": _wrap(math.atan2(goal.y - point.y, goal.x - point.x) - point.yaw),
        "x": point.x,
        "y": point.y,
        "heading": point.yaw,
        "speed": point.speed,
        "yaw_rate": point.yaw_rate,
        "action": [float(action[0]), float(action[1])],
        "commanded_linear": float(action[0]) * action_scale[0],
        "commanded_angular": float(action[1]) * action_scale[1],
        "executed_linear": point.executed[0],
        "executed_angular": point.executed[1],
        "min_clearance": point.min_scan_range,
        "collision": point.collisions > 0,
        "collisions": episode.collisions,
        "safety_intervention": bool(point.safety_events),
        "safety_events": list(point.safety_events),
        "safety_state": point.safety_state,
        "safety_active": list(point.safety_active),
        "steps": episode.steps,
        "sim_time": point.sim_time,
        "time_limit": episode.time_limit,
        "is_done": point.done,
        "reached_goal": point.reached_goal,
        "crashed": point.crashed,
        "timed_out": point.timed_out,
        "goal_radius": REACHED_RADIUS,
        "scenario_seed": episode.scenario.seed,
    }


#: Every key of ``params``, in the documented order.
PARAM_KEYS: tuple[str, ...] = (
    "progress",
    "progress_delta",
    "distance_to_goal",
    "initial_distance",
    "bearing_to_goal",
    "x",
    "y",
    "heading",
    "speed",
    "yaw_rate",
    "action",
    "commanded_linear",
    "commanded_angular",
    "executed_linear",
    "executed_angular",
    "min_clearance",
    "collision",
    "collisions",
    "safety_intervention",
    "safety_events",
    "safety_state",
    "safety_active",
    "steps",
    "sim_time",
    "time_limit",
    "is_done",
    "reached_goal",
    "crashed",
    "timed_out",
    "goal_radius",
    "scenario_seed",
)
