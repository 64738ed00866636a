"""``flywheel/HeadlessNav-v0``: the simulated robot as a Gymnasium environment.

The headless PyBullet world (:class:`fw_sim.world.SimWorld`) and the robot's own loop
(:class:`fw_bringup.robot_loop.RobotLoop`: perception, policy step, safety supervisor,
actuator bridge), stepped by :class:`cloud_bridge.rl.stepper.DecisionStepper`.

- **Step**: one policy decision. The loop's policy runs on every cleaned scan (``trigger:
  scan`` in the profile), so a step is one lidar period of sim time (0.1 s at the sim
  profile's 10 Hz). The action of a step is the command of that decision, as a deployed model's
  output is: no extra latency.
- **Observation**: exactly what the policy is fed, the observation spec's vector
  (:data:`fw_common.observation.DEFAULT_SPEC` in the sim profile; float32 in [-1, 1]).
- **Action**: the policy's normalised command ``[linear, angular]`` in [-1, 1], scaled by
  ``action_scale`` (m/s, rad/s) as an ONNX model's ``fw.action_scale`` scales it. The safety
  supervisor then limits it as on the robot, and its interventions reach the reward.
- **Reward**: ``reward_function(params)`` (:mod:`cloud_bridge.rl.reward_params`), the user's
  (:func:`cloud_bridge.rl.reward.load_reward_function`) or the built-in progress reward.
- **Episodes**: a new scenario per reset, its seed drawn from the environment's seeded random
  generator (or taken in turn from ``scenario_seeds``), with domain randomisation on (the
  profile's ``sim.randomisation`` ranges). An episode ends when the robot rests at the goal or
  touches an obstacle (``terminated``), or at ``time_limit`` (``truncated``).

``reset(seed=s)`` makes the episode sequence deterministic: the same seed and the same actions
give the same observations and rewards.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from cloud_bridge.rl.registration import ENV_ID
from cloud_bridge.rl.reward import UserReward, load_reward_function, progress_reward
from cloud_bridge.rl.reward_params import EpisodeProgress, reward_params
from cloud_bridge.rl.stepper import DecisionPoint, DecisionStepper
from fw_bringup.node_parameters import default_profile_path
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile, load_profile
from fw_common.profile.sim import ScenarioConfig
from fw_sim.world import SimWorld

__all__ = ["ENV_ID", "HeadlessNavEnv", "RewardArgument", "default_profile"]


#: A reward: a path to a user's file, a loaded one, or None for the built-in reward.
RewardArgument = str | Path | UserReward | None

_SCENARIO_SEEDS = 2**31 - 1


def default_profile() -> RobotProfile:
    """The simulated robot's profile (``config/profiles/sim.yaml``)."""
    return load_profile(default_profile_path("sim"))


class HeadlessNavEnv(gym.Env[npt.NDArray[np.float32], npt.NDArray[np.float32]]):
    """Drive the simulated robot to the goal of a randomised scenario (see the module doc).

    ``profile``: the robot profile (default: the sim profile); ``scenario``: replaces its
    scenario generator's settings (e.g. an easy family); ``randomise``: domain randomisation
    (on by default); ``scenario_seeds``: scenarios taken in turn instead of drawn;
    ``time_limit``: sim seconds per episode; ``action_scale``: what an action of 1.0 means
    (m/s, rad/s; default: the observation spec's full scale); ``reward``: see
    :data:`RewardArgument`; ``end_on_collision``: end an episode at the first contact.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 - gymnasium's own attribute

    def __init__(
        self,
        *,
        profile: RobotProfile | None = None,
        scenario: ScenarioConfig | None = None,
        randomise: bool = True,
        scenario_seeds: Sequence[int] | None = None,
        time_limit: float = 30.0,
        action_scale: tuple[float, float] | None = None,
        reward: RewardArgument = None,
        end_on_collision: bool = True,
    ) -> None:
        super().__init__()
        profile = profile or default_profile()
        if profile.policy.trigger != "scan":
            # One step per decision needs the decisions on the scans (see the module doc).
            profile = dataclasses.replace(
                profile, policy=dataclasses.replace(profile.policy, trigger="scan")
            )
        sim = profile.sim
        sim = dataclasses.replace(
            sim,
            gui=False,
            scenario=scenario or sim.scenario,
            randomisation=dataclasses.replace(sim.randomisation, enabled=randomise),
        )
        self.profile = dataclasses.replace(profile, sim=sim)
        self.observation_spec = spec_by_name(profile.policy.observation_spec)
        if action_scale is None:
            action_scale = (self.observation_spec.max_linear, self.observation_spec.max_angular)
        if not all(math.isfinite(s) and s > 0 for s in action_scale):
            raise ValueError(f"action_scale must be two positive numbers, got {action_scale}")
        self.action_scale = (float(action_scale[0]), float(action_scale[1]))
        if time_limit <= 0:
            raise ValueError(f"time_limit must be positive, got {time_limit}")
        self.time_limit = float(time_limit)
        self.scenario_seeds = list(scenario_seeds) if scenario_seeds is not None else None
        if self.scenario_seeds is not None and not self.scenario_seeds:
            raise ValueError("scenario_seeds is empty")
        self._reward: UserReward = (
            reward
            if isinstance(reward, UserReward)
            else UserReward(progress_reward, "<built-in progress reward>")
            if reward is None
            else load_reward_function(reward)
        )
        self.observation_space = gym.spaces.Box(
            -1.0, 1.0, shape=(self.observation_spec.size,), dtype=np.float32
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._sim = sim
        self.world = SimWorld(sim)
        self._stepper = DecisionStepper(
            self.world,
            self.profile,
            action_scale=self.action_scale,
            time_limit=self.time_limit,
            end_on_collision=end_on_collision,
        )
        self._episode: EpisodeProgress | None = None
        self._episodes = 0
        self._last_point: DecisionPoint | None = None

    @property
    def reward_path(self) -> str:
        """Where the reward function came from (for messages and tracking)."""
        return self._reward.path

    def set_reward(self, reward: Callable[..., float] | UserReward) -> None:
        """Replace the reward function (e.g. a :class:`UserReward` loaded in this process)."""
        if not isinstance(reward, UserReward):
            reward = UserReward(reward, "<callable>")
        self._reward = reward

    def _next_scenario_seed(self) -> int:
        if self.scenario_seeds is not None:
            seed = self.scenario_seeds[self._episodes % len(self.scenario_seeds)]
        else:
            seed = int(self.np_random.integers(0, _SCENARIO_SEEDS))
        self._episodes += 1
        return seed

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        """Start an episode in a new scenario. ``options={"scenario_seed": n}`` picks it."""
        super().reset(seed=seed)
        if seed is not None:
            self._episodes = 0
        if options and "scenario_seed" in options:
            scenario_seed = int(options["scenario_seed"])
        else:
            scenario_seed = self._next_scenario_seed()
        # A fresh world per episode: PyBullet's solver caches and the sensors' schedule phase
        # would otherwise carry the previous episode into this one, and the same scenario seed
        # would not give the same episode.
        self._stepper.stop()
        self.world.close()
        self.world = SimWorld(dataclasses.replace(self._sim, seed=scenario_seed))
        self._episode = EpisodeProgress.begin(self.world.scenario, self.time_limit)
        point = self._stepper.start(self.world)
        self._last_point = point
        return self._observation(point), {"scenario_seed": scenario_seed}

    def step(
        self, action: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        if self._episode is None or self._last_point is None or self._last_point.done:
            raise RuntimeError("call reset() before step() (and after an episode ends)")
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        # Plain floats from here: numpy's scalar functions cost more than the rest of a step's
        # own work.
        linear, angular = a.tolist() if a.shape == (2,) else (math.nan, math.nan)
        if not (math.isfinite(linear) and math.isfinite(angular)):
            raise ValueError(f"action must be two finite numbers, got {action!r}")
        clipped = (min(max(linear, -1.0), 1.0), min(max(angular, -1.0), 1.0))
        point = self._stepper.act(clipped)
        self._last_point = point
        params = reward_params(point, self._episode, clipped, self.action_scale)
        reward = self._reward(
            params, step=self._episode.steps, scenario_seed=self._episode.scenario.seed
        )
        terminated = point.reached_goal or point.crashed
        truncated = point.timed_out and not terminated
        info = {
            "scenario_seed": self._episode.scenario.seed,
            "reached_goal": point.reached_goal,
            "crashed": point.crashed,
            "progress": params["progress"],
            "safety_events": params["safety_events"],
        }
        return self._observation(point), reward, terminated, truncated, info

    def _observation(self, point: DecisionPoint) -> npt.NDArray[np.float32]:
        return np.asarray(point.observation, dtype=np.float32).copy()

    def close(self) -> None:
        self._stepper.stop()
        self.world.close()
        super().close()
