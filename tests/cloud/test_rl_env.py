"""The Gymnasium environment over the headless world and the robot loop (real PyBullet, the
real robot loop): gymnasium's own checker, determinism for a seed, the observation the policy is
fed, domain randomisation, and the safety supervisor's interventions reaching the reward."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import gymnasium
import numpy as np
import pybullet
import pytest
from gymnasium.utils.env_checker import check_env

from cloud_bridge.rl import ENV_ID, HeadlessNavEnv
from cloud_bridge.rl.env import default_profile
from cloud_bridge.rl.reward_params import PARAM_KEYS
from fw_bringup.headless import run_headless_episode
from fw_bringup.robot_loop import RobotLoop
from fw_common.observation import DEFAULT_SPEC
from fw_policy.base import Action, PolicyInput
from fw_sim.world import SimWorld

#: A scenario (default generator) where driving straight ahead meets an obstacle within 8 s.
OBSTACLE_AHEAD_SEED = 2


@pytest.fixture(scope="module")
def env() -> Iterator[HeadlessNavEnv]:
    made = HeadlessNavEnv(time_limit=5.0)
    yield made
    made.close()


def _actions(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, 2).astype(np.float32) for _ in range(count)]


def _trajectory(
    env: HeadlessNavEnv, seed: int, actions: list[np.ndarray]
) -> tuple[list[np.ndarray], list[float], list[dict[str, Any]]]:
    obs, info = env.reset(seed=seed)
    observations, rewards, infos = [obs], [], [info]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    return observations, rewards, infos


def test_registered_and_passes_gymnasium_check_env() -> None:
    made = gymnasium.make(ENV_ID, time_limit=3.0)
    try:
        assert isinstance(made.unwrapped, HeadlessNavEnv)
        check_env(made.unwrapped)
        assert made.observation_space.shape == (DEFAULT_SPEC.size,)
        assert made.action_space.shape == (2,)
    finally:
        made.close()


def test_same_seed_and_actions_give_the_same_episode(env: HeadlessNavEnv) -> None:
    actions = _actions(25, seed=7)
    first = _trajectory(env, 11, actions)
    # Another episode in between: nothing of it may carry into the next one.
    _trajectory(env, 12, _actions(10, seed=8))
    second = _trajectory(env, 11, actions)
    assert first[2][0]["scenario_seed"] == second[2][0]["scenario_seed"]
    assert len(first[0]) == len(second[0]) > 20
    for a, b in zip(first[0], second[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1] == second[1]
    # ... and different actions give a different episode (the test can fail).
    other = _trajectory(env, 11, _actions(25, seed=9))
    assert not all(np.array_equal(a, b) for a, b in zip(first[0], other[0], strict=False))


def test_reset_draws_a_new_randomised_scenario_per_episode(env: HeadlessNavEnv) -> None:
    env.reset(seed=3)
    first = env.world.scenario.seed, env.world.randomisation
    env.reset()
    second = env.world.scenario.seed, env.world.randomisation
    assert first[0] != second[0]
    assert first[1].randomised and second[1].randomised
    assert first[1].wheel_friction != second[1].wheel_friction
    # The seed sequence is the environment's: the same reset seed, the same scenarios.
    env.reset(seed=3)
    assert env.world.scenario.seed == first[0]


def test_observation_is_what_the_policy_was_fed(env: HeadlessNavEnv) -> None:
    obs, _ = env.reset(seed=5)
    assert obs.dtype == np.float32 and obs.shape == (DEFAULT_SPEC.size,)
    assert env.observation_space.contains(obs)
    loop = env._stepper.loop
    assert loop is not None
    # The observation is the loop's own featurization of its latest scan and goal.
    start, goal = env.world.scenario.start, env.world.scenario.goal
    distance = float(np.hypot(goal.x - start.x, goal.y - start.y))
    names = DEFAULT_SPEC.feature_names()
    assert obs[names.index("goal_distance")] == pytest.approx(
        min(distance / DEFAULT_SPEC.goal_range, 1.0), abs=0.02
    )
    for _ in range(5):
        obs, *_ = env.step(np.array([1.0, 0.0], dtype=np.float32))
    # Driving forward at full action: the loop's state (and so the observation) moves forward.
    assert obs[names.index("linear")] > 0.1
    # The scan part is the loop's latest cleaned scan, pooled by the spec.
    scan = loop.policy.latest_scan
    assert scan is not None
    pooled = DEFAULT_SPEC.pool_scan(scan.ranges, scan.angle_min, scan.angle_increment)
    np.testing.assert_array_equal(obs[: DEFAULT_SPEC.scan_sectors], pooled)


def test_safety_interventions_reach_the_reward() -> None:
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any]) -> float:
        seen.append(params)
        return 0.0

    env = HeadlessNavEnv(time_limit=8.0, scenario_seeds=[OBSTACLE_AHEAD_SEED])
    try:
        env.set_reward(record)
        env.reset(seed=0)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(np.array([1.0, 0.0], dtype=np.float32))
            done = terminated or truncated
    finally:
        env.close()
    assert set(seen[0]) == set(PARAM_KEYS)
    events = [kind for params in seen for kind in params["safety_events"]]
    assert "stop_zone" in events
    assert any(params["safety_intervention"] for params in seen)
    limited = [p for p in seen if "stop_zone" in p["safety_active"]]
    assert limited and all(abs(p["executed_linear"]) < p["commanded_linear"] for p in limited)
    assert [p["steps"] for p in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["is_done"] and seen[-1]["timed_out"] and not seen[-1]["reached_goal"]


def test_bad_actions_are_refused(env: HeadlessNavEnv) -> None:
    env.reset(seed=1)
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([np.nan, 0.0], dtype=np.float32))
    with pytest.raises(ValueError, match="two finite"):
        env.step(np.zeros(3, dtype=np.float32))
    # Out of range is clipped, as stable-baselines3 clips a Gaussian's samples.
    obs, *_ = env.step(np.array([5.0, -5.0], dtype=np.float32))
    assert env.observation_space.contains(obs)


def _without_collision_zones() -> Any:
    profile = default_profile()
    zones = profile.safety.zones
    zones = dataclasses.replace(
        zones,
        stop=dataclasses.replace(zones.stop, enabled=False),
        slowdown=dataclasses.replace(zones.slowdown, enabled=False),
        approach=dataclasses.replace(zones.approach, enabled=False),
    )
    return dataclasses.replace(profile, safety=dataclasses.replace(profile.safety, zones=zones))


@pytest.mark.parametrize("end_on_collision", [True, False])
def test_a_contact_reaches_the_reward_and_ends_the_episode_when_asked(
    end_on_collision: bool,
) -> None:
    """With the safety zones off, driving straight into the obstacle ahead touches it."""
    seen: list[dict[str, Any]] = []
    env = HeadlessNavEnv(
        profile=_without_collision_zones(),
        time_limit=4.0,
        scenario_seeds=[OBSTACLE_AHEAD_SEED],
        end_on_collision=end_on_collision,
    )
    try:
        env.set_reward(lambda params: seen.append(params) or 0.0)
        env.reset(seed=0)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(np.array([1.0, 0.0], dtype=np.float32))
            done = terminated or truncated
    finally:
        env.close()
    touched = [p["steps"] for p in seen if p["collision"]]
    assert touched, "the robot never touched the obstacle"
    if end_on_collision:
        assert terminated and not truncated and info["crashed"]
        assert seen[-1]["crashed"] and seen[-1]["is_done"] and touched == [seen[-1]["steps"]]
    else:
        assert truncated and not terminated and not info["crashed"]
        assert seen[-1]["steps"] > touched[0] and seen[-1]["collisions"] >= 1


def test_a_failure_in_the_loop_is_raised_by_step_and_reset_recovers() -> None:
    env = HeadlessNavEnv(time_limit=3.0)
    try:
        env.reset(seed=0)
        env.world.close()  # the world goes away under the paused loop
        with pytest.raises(pybullet.error):
            env.step(np.zeros(2, dtype=np.float32))
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        env.step(np.zeros(2, dtype=np.float32))
    finally:
        env.close()


class _FixedCommand:
    kind = "fixed"

    def __init__(self, linear: float, angular: float) -> None:
        self.action = Action(linear, angular)

    def act(self, inputs: PolicyInput) -> Action:
        return self.action

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind}


@pytest.mark.parametrize("scenario_seed", [3, 11])
def test_an_episode_is_the_headless_runners_with_the_same_commands(scenario_seed: int) -> None:
    """The stepper pauses the robot loop at each decision, and changes nothing else: a constant
    action drives the ground truth along the very path (bit for bit) that the headless runner
    (what evaluation runs) drives with a policy commanding the same."""
    action = np.array([0.4, 0.2], dtype=np.float32)
    env = HeadlessNavEnv(time_limit=6.0, scenario_seeds=[scenario_seed], end_on_collision=False)
    try:
        env.reset(seed=0)
        stepped: list[tuple[float, float]] = []
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(action)
            truth = env.world.ground_truth()
            stepped.append((truth.position[0], truth.position[1]))
            done = terminated or truncated
        world = SimWorld(env.world.config)
    finally:
        env.close()
    linear, angular = (float(a) * s for a, s in zip(action, env.action_scale, strict=True))
    try:
        loop = RobotLoop(env.profile, policy=_FixedCommand(linear, angular))
        episode = run_headless_episode(world, loop, time_limit=6.0)
        truth = world.ground_truth()
    finally:
        world.close()
    assert truncated and len(stepped) > 50
    # A path point per scan; the environment's points are the decisions (the last one the end).
    assert stepped[:-1] == episode.path[len(episode.path) - len(stepped) + 1 :]
    assert stepped[-1] == (truth.position[0], truth.position[1])
    assert math.dist(stepped[0], stepped[-1]) > 0.5  # it drove
