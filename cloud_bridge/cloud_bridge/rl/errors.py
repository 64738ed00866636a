"""Errors of reinforcement learning: a bad reward function, a run that cannot go on."""

from __future__ import annotations

__all__ = ["RewardFunctionError", "RlTrainingError"]


class RlTrainingError(Exception):
    """Training cannot start or cannot go on; nothing was published."""


class RewardFunctionError(RlTrainingError):
    """The user's reward function cannot be loaded, or failed at a step (the message names the
    file and, when it failed while training, the step)."""
