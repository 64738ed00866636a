"""Run whole episodes of the environment with any action source (a trained policy, an ONNX
model, random actions) on fixed scenarios: the quick check training reports, and the
baseline comparisons of the tests and the benchmark. The release gate is
:mod:`cloud_bridge.evaluate`'s, not this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloud_bridge.rl.env import HeadlessNavEnv

__all__ = ["EpisodeResult", "run_episodes", "summarise"]

#: Observation → normalised action.
ActionSource = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class EpisodeResult:
    """One episode: its scenario, return, steps, final progress (%) and how it ended."""

    scenario_seed: int
    episode_return: float
    steps: int
    progress: float
    reached_goal: bool
    crashed: bool


def run_episodes(
    env: HeadlessNavEnv, act: ActionSource, scenario_seeds: Sequence[int]
) -> list[EpisodeResult]:
    """One episode per scenario seed, in order."""
    results = []
    for seed in scenario_seeds:
        obs, _ = env.reset(options={"scenario_seed": seed})
        total, steps, done = 0.0, 0, False
        info: dict[str, object] = {}
        while not done:
            obs, reward, terminated, truncated, info = env.step(act(obs))
            total += reward
            steps += 1
            done = terminated or truncated
        results.append(
            EpisodeResult(
                scenario_seed=seed,
                episode_return=total,
                steps=steps,
                progress=float(info.get("progress", 0.0)),  # type: ignore[arg-type]
                reached_goal=bool(info.get("reached_goal", False)),
                crashed=bool(info.get("crashed", False)),
            )
        )
    return results


def summarise(results: Sequence[EpisodeResult]) -> dict[str, float]:
    """Mean return, success rate, collision rate and mean progress (%)."""
    n = max(len(results), 1)
    return {
        "mean_return": sum(r.episode_return for r in results) / n,
        "success_rate": sum(r.reached_goal for r in results) / n,
        "collision_rate": sum(r.crashed for r in results) / n,
        "mean_progress": sum(r.progress for r in results) / n,
    }
