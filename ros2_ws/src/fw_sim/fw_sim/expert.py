"""The privileged expert: ground-truth pose + scenario → body twist that reaches the goal.

It follows the planner's cost-to-go field with pure pursuit: the look-ahead point is read from
the field at the robot's current position, so it can label any state (the learner's included).
Skid-steer bases turn badly while driving fast, so the expert turns in place when the
look-ahead point is far off its heading, and slows down near the goal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fw_common.profile.body import FootprintBox
from fw_sim.layout import Pose2D, Scenario
from fw_sim.planner import CostToGo

__all__ = ["ExpertCommand", "ExpertController", "planning_radius"]

#: Kept beyond the body's half diagonal (m): pure pursuit cuts corners a little, and the body
#: sweeps its half diagonal when it turns in place.
PLANNING_MARGIN = 0.15


def planning_radius(footprint: FootprintBox) -> float:
    """The clearance (m) the planner wants for the body's centre: the half diagonal of the
    footprint box (the circle the body sweeps turning in place) plus :data:`PLANNING_MARGIN`."""
    return (
        math.hypot(max(footprint.front, footprint.rear), max(footprint.left, footprint.right))
        + PLANNING_MARGIN
    )


@dataclass(frozen=True)
class ExpertCommand:
    """Body twist (m/s, rad/s) and whether the goal is reached."""

    linear: float
    angular: float
    reached: bool


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class ExpertController:
    """Pure pursuit on a cost-to-go field (see :mod:`fw_sim.planner`).

    ``footprint`` is the robot's body (``profile.robot.footprint``; default the Husky's): the
    planner keeps :func:`planning_radius` of it from obstacles where the way allows. Speeds in
    m/s and rad/s, distances in m, angles in rad.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        footprint: FootprintBox | None = None,
        max_linear: float = 0.8,
        max_angular: float = 1.0,
        lookahead: float = 0.9,
        goal_tolerance: float = 0.3,
        slow_radius: float = 1.0,
        turn_in_place: float = 0.8,
        heading_gain: float = 2.0,
    ) -> None:
        self.scenario = scenario
        self.field = CostToGo(scenario, robot_radius=planning_radius(footprint or FootprintBox()))
        self.max_linear = max_linear
        self.max_angular = max_angular
        self.lookahead = lookahead
        self.goal_tolerance = goal_tolerance
        self.slow_radius = slow_radius
        self.turn_in_place = turn_in_place
        self.heading_gain = heading_gain

    def command(self, pose: Pose2D) -> ExpertCommand:
        """The twist to apply at ``pose`` (world frame, ground truth)."""
        goal = self.scenario.goal
        to_goal = math.hypot(goal.x - pose.x, goal.y - pose.y)
        if to_goal < self.goal_tolerance:
            return ExpertCommand(0.0, 0.0, True)
        path = self.field.path_from(pose.x, pose.y, self.lookahead)
        tx, ty = path[-1] if path else (goal.x, goal.y)
        alpha = _wrap(math.atan2(ty - pose.y, tx - pose.x) - pose.yaw)
        angular = max(-self.max_angular, min(self.max_angular, self.heading_gain * alpha))
        if abs(alpha) >= self.turn_in_place:
            return ExpertCommand(0.0, angular, False)
        linear = self.max_linear * (1.0 - abs(alpha) / self.turn_in_place)
        linear *= min(1.0, to_goal / self.slow_radius)
        linear = max(linear, 0.1)
        return ExpertCommand(linear, angular, False)
