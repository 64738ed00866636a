"""The simulated HG-DAgger supervisor: the privileged expert watches the policy drive and takes
over, as a person with a teleop would, when the policy is about to fail.

Every control period it gets the robot's ground-truth pose and the policy's command, and says
what the expert would do (the label, always) and whether the expert drives now:

* **take over** when the body's predicted clearance falls below ``config.clearance``: the
  policy's command is rolled out as a unicycle for ``config.horizon`` seconds and the body box
  (``profile.robot.footprint``) is measured against the scenario's obstacles at every step, with
  the clearance the caller measures now; or when the cost-to-go to the goal has not fallen by
  ``config.progress_distance`` for ``config.progress_window`` seconds (stuck, circling, or
  parked short of the goal);
* **hand back** (hysteresis) only after ``config.min_takeover`` seconds in control, when the
  policy's command predicts at least ``clearance + hand_back_margin``, and, after a take-over
  for lack of progress, once the expert has brought the robot ``config.hand_back_progress``
  closer to the goal. At the goal the expert always hands back.

Pure Python on the scenario (no ROS, no PyBullet): the sim node runs it on ground truth and
publishes the take-overs on ``fw/teleop/cmd_vel``; a headless evaluation can feed them to the
robot loop's ``teleop`` input. Times in ns of sim time, lengths in m, speeds in m/s and rad/s.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fw_common.profile.body import FootprintBox
from fw_common.profile.sim import SupervisorConfig
from fw_sim.expert import ExpertController
from fw_sim.layout import Pose2D, Scenario

__all__ = ["ROLLOUT_STEP", "ExpertSupervisor", "SupervisorDecision", "body_outline"]

#: Time step of the clearance rollout (s).
ROLLOUT_STEP = 0.1
_OUTLINE_SPACING = 0.1  # m between sample points of the body outline


@dataclass(frozen=True)
class SupervisorDecision:
    """The expert's command (the label, m/s and rad/s), whether it drives now, and why
    (``"clearance"`` or ``"no_progress"`` while it does, ``""`` while the policy drives)."""

    label_linear: float
    label_angular: float
    take_over: bool
    reason: str


def body_outline(footprint: FootprintBox) -> npt.NDArray[np.float64]:
    """Points (N×2, base_link) along the edges of the body box."""
    x0, x1, y0, y1 = footprint.box()
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    points = []
    for (ax, ay), (bx, by) in itertools.pairwise(corners):
        n = max(1, math.ceil(math.hypot(bx - ax, by - ay) / _OUTLINE_SPACING))
        t = np.arange(n) / n
        points.append(np.stack([ax + t * (bx - ax), ay + t * (by - ay)], axis=1))
    return np.concatenate(points)


class ExpertSupervisor:
    """HG-DAgger gating around an :class:`ExpertController` (see the module docstring).

    ``footprint`` is the robot's body (``profile.robot.footprint``; default the Husky's).
    Call :meth:`reset` when the episode restarts.
    """

    def __init__(
        self,
        scenario: Scenario,
        config: SupervisorConfig | None = None,
        *,
        footprint: FootprintBox | None = None,
    ) -> None:
        self.scenario = scenario
        self.config = config or SupervisorConfig()
        footprint = footprint or FootprintBox()
        self.expert = ExpertController(scenario, footprint=footprint)
        self._outline = body_outline(footprint)
        self._steps = max(1, math.ceil(self.config.horizon / ROLLOUT_STEP))
        self.reset()

    def reset(self) -> None:
        """Forget the episode so far: the policy drives, progress is measured afresh."""
        self.in_control = False
        self.reason = ""
        self._since_ns = 0
        self._takeover_cost = math.inf
        self._best_cost = math.inf
        self._best_ns: int | None = None

    # --- measures -----------------------------------------------------------------------

    def body_clearance(self, poses: list[Pose2D] | Pose2D) -> float:
        """Smallest distance (m) from the body box at ``poses`` to any obstacle; 0 when it
        overlaps one.

        Read from the planner's clearance grid (exact distances at cell centres) and lowered by
        half a cell diagonal, so never above the exact distance: a lookup instead of a distance
        per obstacle keeps a decision cheap enough for every control period at many times real
        time.
        """
        if isinstance(poses, Pose2D):
            poses = [poses]
        field = self.expert.field
        local = self._outline
        yaw = np.array([p.yaw for p in poses])[:, None]
        c, s = np.cos(yaw), np.sin(yaw)
        xs = np.array([p.x for p in poses])[:, None] + c * local[:, 0] - s * local[:, 1]
        ys = np.array([p.y for p in poses])[:, None] + s * local[:, 0] + c * local[:, 1]
        last = field.size - 1
        cols = np.clip(((xs - field.origin) / field.resolution).astype(np.int64), 0, last)
        rows = np.clip(((ys - field.origin) / field.resolution).astype(np.int64), 0, last)
        nearest = float(field.clearance[rows, cols].min())
        return max(0.0, nearest - field.resolution * math.sqrt(0.5))

    def predicted_clearance(self, pose: Pose2D, linear: float, angular: float) -> float:
        """Smallest body clearance (m) while ``(linear, angular)`` is held for the horizon,
        from one rollout step ahead of ``pose`` on (a unicycle)."""
        poses = []
        x, y, yaw = pose.x, pose.y, pose.yaw
        for _ in range(self._steps):
            x += linear * math.cos(yaw) * ROLLOUT_STEP
            y += linear * math.sin(yaw) * ROLLOUT_STEP
            yaw += angular * ROLLOUT_STEP
            poses.append(Pose2D(x, y, yaw))
        return self.body_clearance(poses)

    def cost_to_go(self, pose: Pose2D) -> float:
        """The planner's cost to reach the goal from ``pose`` (m, weighted near obstacles)."""
        field = self.expert.field
        return float(field.field[field.cell_of(pose.x, pose.y)])

    # --- gating -------------------------------------------------------------------------

    def decide(
        self,
        pose: Pose2D,
        policy_linear: float,
        policy_angular: float,
        clearance: float,
        now_ns: int,
    ) -> SupervisorDecision:
        """One control period: the expert's label for ``pose`` (ground truth) and whether it
        drives instead of the policy's ``(policy_linear, policy_angular)``.

        ``clearance`` is the body's clearance the caller measures now (m; the sim node takes
        it from ground truth); NaN means unknown. Non-finite policy commands count as a
        collision course (the expert takes over).
        """
        label = self.expert.command(pose)
        c = self.config
        cost = self.cost_to_go(pose)
        if label.reached:
            self._hand_back(cost, now_ns)
            return SupervisorDecision(0.0, 0.0, False, "")
        if math.isfinite(policy_linear) and math.isfinite(policy_angular):
            ahead = self.predicted_clearance(pose, policy_linear, policy_angular)
        else:
            ahead = 0.0
        predicted = ahead if math.isnan(clearance) else min(ahead, clearance)
        if self.in_control:
            held = (now_ns - self._since_ns) * 1e-9 >= c.min_takeover
            safe = predicted >= c.clearance + c.hand_back_margin
            progressed = (
                self.reason != "no_progress" or cost <= self._takeover_cost - c.hand_back_progress
            )
            if held and safe and progressed:
                self._hand_back(cost, now_ns)
        else:
            if self._best_ns is None or cost <= self._best_cost - c.progress_distance:
                self._best_cost, self._best_ns = cost, now_ns
            if predicted < c.clearance:
                self._take_over("clearance", cost, now_ns)
            elif (now_ns - self._best_ns) * 1e-9 >= c.progress_window:
                self._take_over("no_progress", cost, now_ns)
        return SupervisorDecision(label.linear, label.angular, self.in_control, self.reason)

    def _take_over(self, reason: str, cost: float, now_ns: int) -> None:
        self.in_control, self.reason = True, reason
        self._since_ns, self._takeover_cost = now_ns, cost

    def _hand_back(self, cost: float, now_ns: int) -> None:
        self.in_control, self.reason = False, ""
        self._best_cost, self._best_ns = cost, now_ns
