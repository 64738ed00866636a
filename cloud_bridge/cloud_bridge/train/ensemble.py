"""An ensemble of policy networks: members trained apart, one graph that averages their actions.

Behaviour cloning's failures on held-out scenarios move with the training draw (initial weights,
batch order): on the same demonstrations, three networks that each reached 85-89 % of 100
validation scenarios failed on mostly different ones, and the average of their actions reached
92-94 %. The average trims the draw's bad tail rather than raising the ceiling: where a single
network happened to draw well (94.7 % held out on another host) the ensemble scored the same
(``bench_learning.py``, docs/BENCHMARKS.md). Each member is a whole :class:`PolicyNetwork`
with the same inputs, normalisation and mask, trained on the same split with its own seed
(:func:`member_seed`); the exported ONNX graph holds them all and returns the mean action, so
the robot still runs one model file through one ``fw_policy`` contract.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from cloud_bridge.train.network import PolicyNetwork
from cloud_bridge.train.normalisation import Normalisation

__all__ = ["PolicyEnsemble", "member_seed"]


def member_seed(seed: int, member: int) -> int:
    """The seed of ``member`` in a run seeded ``seed``: member 0 takes the run's own seed (a
    one-member run is the plain network it always was); the others draw from a stream keyed
    by both numbers, so ensembles of neighbouring run seeds share no member."""
    if member == 0:
        return seed
    return int(np.random.SeedSequence([seed, member]).generate_state(1)[0])


class PolicyEnsemble(nn.Module):
    """``mean(member(observation) for member in members)``: ``[batch, size]`` → ``[batch, 2]``.

    With one member the graph is that member's (no averaging node), so a one-member model is
    the network it always was.
    """

    def __init__(self, members: Sequence[PolicyNetwork]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shapes = {(m.observation_size, m.hidden, m.masked) for m in members}
        if len(shapes) > 1:
            raise ValueError(f"ensemble members differ in inputs, widths or mask: {shapes}")
        self.members = nn.ModuleList(members)
        # The same modules, typed: ``nn.ModuleList`` hands out plain ``nn.Module``.
        self.networks: tuple[PolicyNetwork, ...] = tuple(members)

    @classmethod
    def seeded(
        cls,
        size: int,
        seed: int,
        normalisation: Normalisation,
        hidden: Sequence[int],
        masked: Sequence[int] = (),
    ) -> PolicyEnsemble:
        """``size`` members, each initialised from its :func:`member_seed`; the caller's global
        torch generator is left as it was. No members is refused by the constructor."""
        members = []
        for index in range(size):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(member_seed(seed, index))
                members.append(PolicyNetwork(normalisation, hidden, masked))
        return cls(members)

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.networks[0].hidden

    @property
    def masked(self) -> tuple[int, ...]:
        return self.networks[0].masked

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        members = self.networks
        if len(members) == 1:
            single: torch.Tensor = members[0](observation)
            return single
        return torch.stack([m(observation) for m in members]).mean(dim=0)
