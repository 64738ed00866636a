"""Evaluating the deterministic policy on fixed scenarios while PPO trains.

Every ``every`` timesteps (at the end of a rollout) the current policy's deterministic action
drives one episode per evaluation seed in an environment of its own; the success rate, mean
return and progress are logged with the training wall time spent so far, evaluation excluded.
With ``target``, training stops at the first evaluation whose success rate reaches it, and
:attr:`PeriodicEvaluation.reached` says when: the "wall time to 80 % success" figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from stable_baselines3.common.callbacks import BaseCallback

from cloud_bridge.rl.env import HeadlessNavEnv
from cloud_bridge.rl.rollout import run_episodes, summarise
from cloud_bridge.train.tracking import TrainingRun

__all__ = ["PeriodicEvaluation"]


class PeriodicEvaluation(BaseCallback):
    """See the module doc. ``make_env`` builds the evaluation environment (once)."""

    def __init__(
        self,
        make_env: Callable[[], HeadlessNavEnv],
        seeds: Sequence[int],
        every: int,
        run: TrainingRun,
        target: float | None = None,
    ) -> None:
        super().__init__()
        if every < 1 or not seeds:
            raise ValueError("periodic evaluation needs a positive interval and seeds")
        self.make_env = make_env
        self.seeds = list(seeds)
        self.every = every
        self.run = run
        self.target = target
        self.next_at = every
        #: Wall seconds spent evaluating (not training).
        self.spent = 0.0
        #: (timesteps, training wall seconds) at the first evaluation that reached ``target``.
        self.reached: tuple[int, float] | None = None
        self.started = 0.0
        self._env: HeadlessNavEnv | None = None
        self._stop = False

    def _on_training_start(self) -> None:
        self.started = time.monotonic()
        self._env = self.make_env()

    def _on_training_end(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None

    def _act(self, obs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        action, _ = self.model.predict(obs, deterministic=True)
        return np.asarray(action, dtype=np.float32)

    def _on_rollout_end(self) -> None:
        steps = self.model.num_timesteps
        if steps < self.next_at or self._env is None:
            return
        self.next_at = steps + self.every
        began = time.monotonic()
        summary = summarise(run_episodes(self._env, self._act, self.seeds))
        self.spent += time.monotonic() - began
        trained = time.monotonic() - self.started - self.spent
        metrics = {f"eval/{k}": v for k, v in summary.items()}
        metrics["eval/train_seconds"] = trained
        self.run.log_metrics(metrics, steps)
        if self.target is not None and summary["success_rate"] >= self.target:
            self.reached = self.reached or (steps, trained)
            self._stop = True

    def _on_step(self) -> bool:
        return not self._stop
