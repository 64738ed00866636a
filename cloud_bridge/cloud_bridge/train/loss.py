"""The behaviour-cloning loss: squared error on the normalised action, weighted per step.

A take-over step carries more weight (see :mod:`cloud_bridge.train.examples`), so the states
where a person or the expert supervisor had to step in pull the policy harder than the many
steps where it already drove well.
"""

from __future__ import annotations

import torch

__all__ = ["weighted_action_loss"]


def weighted_action_loss(
    predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted mean over steps of the squared error summed over the action's components.

    ``predicted`` and ``target`` are ``[n, 2]``, ``weights`` ``[n]`` (positive).
    """
    if predicted.shape != target.shape or weights.shape != predicted.shape[:1]:
        raise ValueError(
            f"shapes disagree: predicted {tuple(predicted.shape)}, target "
            f"{tuple(target.shape)}, weights {tuple(weights.shape)}"
        )
    per_step = ((predicted - target) ** 2).sum(dim=1)
    return (weights * per_step).sum() / weights.sum()
