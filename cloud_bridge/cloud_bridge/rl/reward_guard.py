"""Getting a reward function's failure out of a worker process and stopping training on it.

stable-baselines3's ``SubprocVecEnv`` worker dies on any exception from ``env.step`` and the
trainer only sees a broken pipe, so the message naming the file and the step would be lost.
:class:`RewardErrorReport` (in the worker) turns :class:`RewardFunctionError` into an
``info["reward_error"]`` that ends the episode; :class:`RewardErrorStop` (in the trainer)
raises it again on the same step, before the rollout is ever used.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from stable_baselines3.common.callbacks import BaseCallback

from cloud_bridge.rl.errors import RewardFunctionError

__all__ = ["REWARD_ERROR_KEY", "RewardErrorReport", "RewardErrorStop"]

#: The ``info`` key carrying the error's message.
REWARD_ERROR_KEY = "reward_error"

_Obs = npt.NDArray[np.float32]


class RewardErrorReport(gym.Wrapper[_Obs, _Obs, _Obs, _Obs]):
    """Report a reward function's failure in ``info`` instead of raising (ends the episode)."""

    def step(self, action: _Obs) -> tuple[_Obs, float, bool, bool, dict[str, Any]]:
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except RewardFunctionError as exc:
            # The observation of the step that failed is not known: the last one stands in (the
            # trainer raises before anything learns from it).
            last = np.zeros(self.observation_space.shape or (), dtype=np.float32)
            return last, 0.0, True, False, {REWARD_ERROR_KEY: str(exc)}
        return obs, float(reward), terminated, truncated, info


class RewardErrorStop(BaseCallback):
    """Raise :class:`RewardFunctionError` in the trainer at the first reported failure."""

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            message = info.get(REWARD_ERROR_KEY)
            if message is not None:
                raise RewardFunctionError(message)
        return True
