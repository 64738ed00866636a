"""The policy network: normalise the raw observation, an MLP, a tanh head.

The normalisation is part of the module (buffers, not parameters), so the exported ONNX graph
takes the raw observation the robot computes and nothing outside the model file has to know the
training statistics. The output is the normalised action in [-1, 1]; the model's
``fw.action_scale`` says what 1.0 means.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cloud_bridge.train.normalisation import Normalisation

__all__ = ["PolicyNetwork"]


class PolicyNetwork(nn.Module):
    """``tanh(mlp((observation - mean) / std))``: ``[batch, size]`` → ``[batch, 2]``."""

    #: Per-feature input statistics (buffers: saved and exported, never trained).
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, normalisation: Normalisation, hidden: Sequence[int]) -> None:
        super().__init__()
        size = int(normalisation.mean.shape[0])
        self.observation_size = size
        self.hidden = tuple(int(h) for h in hidden)
        self.register_buffer("mean", torch.from_numpy(normalisation.mean.copy()))
        self.register_buffer("std", torch.from_numpy(normalisation.std.copy()))
        layers: list[nn.Module] = []
        width = size
        for out in self.hidden:
            layers += [nn.Linear(width, out), nn.ReLU()]
            width = out
        layers += [nn.Linear(width, 2), nn.Tanh()]
        self.mlp = nn.Sequential(*layers)

    def set_normalisation(self, normalisation: Normalisation) -> None:
        """Replace the input statistics (a resumed parent meets a new union of datasets)."""
        with torch.no_grad():
            self.mean.copy_(torch.from_numpy(normalisation.mean))
            self.std.copy_(torch.from_numpy(normalisation.std))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        normalised = (observation - self.mean) / self.std
        action: torch.Tensor = self.mlp(normalised)
        return action
