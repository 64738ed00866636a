"""Reinforcement learning with a reward function written by the user (the DeepRacer workflow).

:data:`ENV_ID` (``flywheel/HeadlessNav-v0``) is the simulated robot as a Gymnasium environment:
the headless world and the robot's own loop, one step per policy decision
(:mod:`cloud_bridge.rl.env`). A user's ``reward_function(params)`` file scores each step
(:mod:`cloud_bridge.rl.reward`, :mod:`cloud_bridge.rl.reward_params`); ``flywheel train-rl``
trains a PPO policy on it for a set time and exports an ONNX model the robot loads
(:mod:`cloud_bridge.rl.ppo`). Importing this package registers the environment.
"""

from __future__ import annotations

import gymnasium

from cloud_bridge.rl.env import ENV_ID, HeadlessNavEnv
from cloud_bridge.rl.errors import RewardFunctionError, RlTrainingError
from cloud_bridge.rl.reward import UserReward, load_reward_function

__all__ = [
    "ENV_ID",
    "HeadlessNavEnv",
    "RewardFunctionError",
    "RlTrainingError",
    "UserReward",
    "load_reward_function",
]

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="cloud_bridge.rl.env:HeadlessNavEnv")
