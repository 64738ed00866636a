"""The classic controller and the policy registry (kinds by name, fallback)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fw_common.observation import DEFAULT_SPEC
from fw_common.profile import ClassicPolicyConfig, PolicyConfig
from fw_policy.base import PolicyInput
from fw_policy.classic import FollowTheGap
from fw_policy.registry import POLICY_KINDS, build_policy, make_policy

BEAMS = 360
INC = 2 * math.pi / BEAMS


def angles() -> np.ndarray:
    return -math.pi + INC * np.arange(BEAMS)


def scan_with_box(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Ranges of a 360° scan at base_link that sees an axis-aligned box (else +inf)."""
    r = np.full(BEAMS, np.inf, dtype=np.float32)
    for i, a in enumerate(angles()):
        c, s = math.cos(a), math.sin(a)
        for t in np.arange(0.05, 12.0, 0.01):
            if x0 <= t * c <= x1 and y0 <= t * s <= y1:
                r[i] = t
                break
    return r


def make_input(ranges: np.ndarray, goal: tuple[float, float]) -> PolicyInput:
    observation = DEFAULT_SPEC.featurize(ranges, -math.pi, INC, goal, 0.0, 0.0)
    return PolicyInput(ranges, -math.pi, INC, 0.1, goal, 0.0, 0.0, observation)


def test_free_space_drives_straight_to_a_goal_ahead() -> None:
    a = FollowTheGap(ClassicPolicyConfig()).act(make_input(np.full(BEAMS, np.inf), (5.0, 0.0)))
    assert a.linear == pytest.approx(0.8) and a.angular == pytest.approx(0.0)


def test_turns_in_place_toward_a_goal_behind() -> None:
    a = FollowTheGap(ClassicPolicyConfig()).act(make_input(np.full(BEAMS, np.inf), (-3.0, 0.5)))
    assert a.linear == 0.0 and a.angular > 0.0


def test_steers_around_an_obstacle_between_robot_and_goal() -> None:
    policy = FollowTheGap(ClassicPolicyConfig())
    ranges = scan_with_box(1.5, 2.5, -0.3, 0.6)  # a box ahead, a bit to the left
    free = policy.free_distances(make_input(ranges, (6.0, 0.0)))
    straight = free[np.argmin(np.abs(policy.headings))]
    assert straight < 1.5
    a = policy.act(make_input(ranges, (6.0, 0.0)))
    assert a.angular < 0.0  # the gap on the right is nearer the goal bearing


def test_stops_forward_motion_when_blocked_ahead() -> None:
    ranges = scan_with_box(0.6, 1.0, -2.0, 2.0)  # a wall just ahead of the bumper
    a = FollowTheGap(ClassicPolicyConfig()).act(make_input(ranges, (5.0, 0.0)))
    assert a.linear == 0.0


def test_too_close_returns_count_as_obstacles() -> None:
    ranges = np.full(BEAMS, np.inf, dtype=np.float32)
    ranges[175:186] = -np.inf  # something touching the sensor straight ahead
    a = FollowTheGap(ClassicPolicyConfig()).act(make_input(ranges, (5.0, 0.0)))
    assert a.linear == 0.0


def test_speeds_stay_within_limits() -> None:
    config = ClassicPolicyConfig(max_linear=0.4, max_angular=0.5)
    rng = np.random.default_rng(1)
    policy = FollowTheGap(config)
    for _ in range(50):
        ranges = rng.uniform(0.2, 6.0, BEAMS).astype(np.float32)
        goal = tuple(rng.uniform(-8, 8, 2))
        a = policy.act(make_input(ranges, goal))
        assert 0.0 <= a.linear <= 0.4 and abs(a.angular) <= 0.5


def test_kinds_by_name() -> None:
    assert set(POLICY_KINDS) >= {"onnx", "classic", "stop"}
    assert make_policy("classic", PolicyConfig(), DEFAULT_SPEC).kind == "classic"
    with pytest.raises(KeyError, match="known"):
        make_policy("magic", PolicyConfig(), DEFAULT_SPEC)


def test_onnx_without_a_usable_model_falls_back_and_says_why(tmp_path: Path) -> None:
    config = PolicyConfig(kind="onnx", model_path=str(tmp_path / "missing.onnx"))
    built = build_policy(config, DEFAULT_SPEC)
    assert built.policy.kind == "classic"
    info = built.describe()
    assert info["fallback"] is True and "does not exist" in info["fallback_reason"]
    stop = build_policy(dataclasses.replace(config, fallback_kind="stop"), DEFAULT_SPEC)
    assert stop.policy.kind == "stop"


def test_onnx_with_a_model_runs_it(model_factory: Callable[..., Path]) -> None:
    config = PolicyConfig(kind="onnx", model_path=str(model_factory("mlp")))
    built = build_policy(config, DEFAULT_SPEC)
    assert built.policy.kind == "onnx" and built.describe()["fallback"] is False
