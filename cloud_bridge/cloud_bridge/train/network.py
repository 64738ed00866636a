"""The policy network: normalise the raw observation, mask the features it must not read, an
MLP, a tanh head.

The normalisation and the input mask are part of the module (buffers, not parameters), so the
exported ONNX graph takes the raw observation the robot computes and nothing outside the model
file has to know the training statistics or which features the network ignores. The output is
the normalised action in [-1, 1]; the model's ``fw.action_scale`` says what 1.0 means.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cloud_bridge.train.normalisation import Normalisation

__all__ = ["PolicyNetwork"]


class PolicyNetwork(nn.Module):
    """``tanh(mlp(mask * (observation - mean) / std))``: ``[batch, size]`` → ``[batch, 2]``.

    ``masked`` lists the indices of the features the network never reads (their input is
    always zero, the training mean); the default reads them all.
    """

    #: Per-feature input statistics (buffers: saved and exported, never trained).
    mean: torch.Tensor
    std: torch.Tensor
    #: 0.0 for a masked feature, 1.0 for the others (a buffer: exported, never trained).
    input_mask: torch.Tensor

    def __init__(
        self, normalisation: Normalisation, hidden: Sequence[int], masked: Sequence[int] = ()
    ) -> None:
        super().__init__()
        size = int(normalisation.mean.shape[0])
        self.observation_size = size
        self.hidden = tuple(int(h) for h in hidden)
        self.masked = tuple(sorted(int(i) for i in masked))
        if any(not 0 <= i < size for i in self.masked):
            raise ValueError(f"masked features {self.masked} outside 0..{size - 1}")
        self.register_buffer("mean", torch.from_numpy(normalisation.mean.copy()))
        self.register_buffer("std", torch.from_numpy(normalisation.std.copy()))
        mask = torch.ones(size, dtype=torch.float32)
        mask[list(self.masked)] = 0.0
        # Not in the state dict: the checkpoint records ``masked`` by itself, so checkpoints
        # from before the mask existed still load.
        self.register_buffer("input_mask", mask, persistent=False)
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
        normalised = (observation - self.mean) / self.std * self.input_mask
        action: torch.Tensor = self.mlp(normalised)
        return action
