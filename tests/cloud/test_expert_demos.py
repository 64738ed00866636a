"""The demonstration tooling the learning benchmark and the training tests record with: noise
injected into what the expert executes (DART), the evaluation's randomisation, and the HG-DAgger
supervisor's take-overs, each on real headless episodes (PyBullet and the robot's own loop)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import RobotProfile, load_profile
from fw_common.profile.sim import SupervisorConfig
from fw_policy.base import Action, PolicyInput
from support.command_noise import CommandNoise
from support.expert_dataset import record_episode

SEED = 5
EPISODE_S = 6.0


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(default_profile_path("sim"))


def _column(rows: list[dict[str, Any]], *names: str) -> np.ndarray:
    return np.array([[row[n] for n in names] for row in rows], dtype=np.float64)


def test_held_noise_is_seeded_held_and_clipped() -> None:
    noise = CommandNoise(linear_std=0.3, angular_std=0.5, hold_steps=3, seed=7)
    first = [noise.perturb(0.4, 0.0) for _ in range(6)]
    again = CommandNoise(linear_std=0.3, angular_std=0.5, hold_steps=3, seed=7)
    assert [again.perturb(0.4, 0.0) for _ in range(6)] == first
    assert first[0] == first[1] == first[2] != first[3] == first[4] == first[5]
    wild = CommandNoise(linear_std=50.0, angular_std=50.0, hold_steps=1, seed=1)
    for _ in range(20):
        linear, angular = wild.perturb(0.8, 1.0)
        assert abs(linear) <= 0.8 and abs(angular) <= 1.0
    with pytest.raises(ValueError, match="hold_steps"):
        CommandNoise(0.1, 0.1, hold_steps=0)
    with pytest.raises(ValueError, match="linear_std"):
        CommandNoise(float("nan"), 0.1)


def test_noise_moves_the_robot_off_the_expert_path_and_the_labels_stay_the_experts(
    profile: RobotProfile,
) -> None:
    clean, _ = record_episode(profile, SEED, time_limit=EPISODE_S)
    noise = CommandNoise(linear_std=0.4, angular_std=0.6, hold_steps=5, seed=SEED)
    noisy, _ = record_episode(profile, SEED, time_limit=EPISODE_S, noise=noise)
    assert all(row["takeover"] and row["has_expert"] for row in noisy)
    label = _column(noisy, "expert_linear", "expert_angular")
    executed = _column(noisy, "executed_linear", "executed_angular")
    # What ran is the perturbed command (rate-limited by the safety layer), the label is not:
    # they part far more than in the clean run, where only the rate limits part them.
    noisy_gap = np.abs(executed - label).mean()
    clean_gap = np.abs(
        _column(clean, "executed_linear", "executed_angular")
        - _column(clean, "expert_linear", "expert_angular")
    ).mean()
    assert noisy_gap > 2 * clean_gap, (noisy_gap, clean_gap)
    # The robot went elsewhere, so the states differ, and each was labelled by the expert:
    # the expert's command is a turn in place or a forward speed in [0.1, 0.8] m/s, never the
    # noisy mixture the robot executed.
    assert not np.allclose(_column(noisy[:40], "observation")[:, 0], 0)  # shape guard
    states = np.array([row["observation"] for row in noisy[:40]])
    clean_states = np.array([row["observation"] for row in clean[:40]])
    assert np.abs(states - clean_states).max() > 0.05
    turning = label[:, 0] == 0.0
    assert ((label[~turning, 0] >= 0.1 - 1e-9) & (label[~turning, 0] <= 0.8 + 1e-9)).all()
    assert np.abs(label[:, 1]).max() <= 1.0
    assert noisy[0]["expert_linear"] == clean[0]["expert_linear"]  # the same first state
    assert noisy[0]["expert_angular"] == clean[0]["expert_angular"]


class _Forward:
    """A policy that drives straight ahead whatever it sees."""

    kind = "forward"

    def act(self, inputs: PolicyInput) -> Action:
        return Action(0.6, 0.0)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


def test_the_supervisor_takes_over_from_a_failing_policy_and_every_step_is_labelled(
    profile: RobotProfile,
) -> None:
    walled = dataclasses.replace(
        profile,
        sim=dataclasses.replace(
            profile.sim, scenario=dataclasses.replace(profile.sim.scenario, family="cul_de_sac")
        ),
    )
    rows, _ = record_episode(
        walled,
        SEED,
        time_limit=8.0,
        policy=_Forward(),  # type: ignore[arg-type]
        supervisor=SupervisorConfig(mode="supervise"),
        randomise=True,
    )
    takeover = np.array([row["takeover"] for row in rows])
    assert takeover.any() and not takeover.all(), takeover
    assert all(row["has_expert"] for row in rows)
    # Straight at the cul-de-sac's back wall: the expert takes over at once, and hands back
    # when the way ahead is clear (not every step is a take-over).
    assert takeover[0]
    assert np.allclose(_column(rows, "policy_linear", "policy_angular"), [0.6, 0.0])
    # The labels are the expert's (it turns toward the way out), not the policy's command.
    label = _column(rows, "expert_linear", "expert_angular")
    assert np.abs(label - [0.6, 0.0]).max(axis=1).min() > 0.0
    assert np.abs(label[:, 1]).max() > 0.3


def test_the_expert_can_be_steered_by_the_robots_own_localisation(profile: RobotProfile) -> None:
    """With ``expert_localisation="robot"`` the expert plans from the fused state (odometry and
    gyro), not ground truth: it starts with the same command, then parts from the
    ground-truth expert as the estimate drifts, and still arrives on an easy scenario."""
    truth, truth_run = record_episode(profile, SEED, time_limit=20.0, randomise=True)
    robot, robot_run = record_episode(
        profile, SEED, time_limit=20.0, randomise=True, expert_localisation="robot"
    )
    assert truth_run.reached and robot_run.reached
    truth_labels = _column(truth, "expert_linear", "expert_angular")
    robot_labels = _column(robot, "expert_linear", "expert_angular")
    np.testing.assert_allclose(robot_labels[0], truth_labels[0], atol=1e-3)
    steps = min(len(truth), len(robot))
    assert np.abs(robot_labels[:steps] - truth_labels[:steps]).max() > 0.01
    assert robot_run.path[-1] != truth_run.path[-1]
    with pytest.raises(ValueError, match="expert_localisation"):
        record_episode(profile, SEED, time_limit=1.0, expert_localisation="map")  # type: ignore[arg-type]
