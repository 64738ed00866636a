"""Reinforcement learning with a reward function written by the user (the DeepRacer workflow).

:data:`ENV_ID` (``flywheel/HeadlessNav-v0``) is the simulated robot as a Gymnasium environment:
the headless world and the robot's own loop, one step per policy decision
(:mod:`cloud_bridge.rl.env`). A user's ``reward_function(params)`` file scores each step
(:mod:`cloud_bridge.rl.reward`, :mod:`cloud_bridge.rl.reward_params`); ``flywheel train-rl``
trains a PPO policy on it for a set time and exports an ONNX model the robot loads
(:mod:`cloud_bridge.rl.ppo`). Importing this package registers the environment where
Gymnasium is installed; the simulator and torch load only when used.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import TYPE_CHECKING, Any

from cloud_bridge.rl.errors import RewardFunctionError, RlTrainingError
from cloud_bridge.rl.registration import ENV_ID, register

if TYPE_CHECKING:
    from cloud_bridge.rl.env import HeadlessNavEnv
    from cloud_bridge.rl.reward import UserReward, load_reward_function

__all__ = [
    "ENV_ID",
    "HeadlessNavEnv",
    "RewardFunctionError",
    "RlTrainingError",
    "UserReward",
    "load_reward_function",
]

_LAZY = {"HeadlessNavEnv": "env", "UserReward": "reward", "load_reward_function": "reward"}

# Gymnasium, the simulator and torch are the cloud's extras: the package (and the `flywheel`
# command) imports without them, and registers the environment where Gymnasium is installed.
with contextlib.suppress(ImportError):
    register()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"cloud_bridge.rl.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
