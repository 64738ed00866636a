"""The epoch loop: Adam on the weighted loss, shuffled mini-batches, validation, early stopping.

Everything random draws from generators seeded by the run's seed (the batch order here, the
weights' initialisation in :func:`~cloud_bridge.train.policy_training.train_policy`), so a rerun
with the same data, settings and thread count gives the same weights, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from cloud_bridge.train.config import TrainConfig
from cloud_bridge.train.early_stopping import EarlyStopping
from cloud_bridge.train.examples import Examples
from cloud_bridge.train.loss import weighted_action_loss
from cloud_bridge.train.network import PolicyNetwork

__all__ = ["EpochRecord", "FitResult", "evaluate_loss", "fit"]


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's figures: weighted losses on the training and validation steps (NaN when
    there is no validation set) and the unweighted validation MSE per action component."""

    epoch: int
    train_loss: float
    val_loss: float
    val_linear_mse: float
    val_angular_mse: float
    #: Which network of an ensemble (``cloud_bridge.train.ensemble``) this epoch trained.
    member: int = 0

    def metrics(self) -> dict[str, float]:
        """The finite figures by metric name (MLflow refuses none, but NaN curves help no one)."""
        values = {
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_linear_mse": self.val_linear_mse,
            "val_angular_mse": self.val_angular_mse,
        }
        return {k: v for k, v in values.items() if math.isfinite(v)}


@dataclass
class FitResult:
    """The curves, the epoch whose weights were kept, and whether early stopping ended it."""

    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False


def _tensors(examples: Examples) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.from_numpy(np.ascontiguousarray(examples.observations)),
        torch.from_numpy(np.ascontiguousarray(examples.targets)),
        torch.from_numpy(np.ascontiguousarray(examples.weights)),
    )


def evaluate_loss(network: nn.Module, examples: Examples) -> tuple[float, float, float]:
    """``network``'s weighted loss on ``examples`` and its MSE per action component."""
    observations, targets, weights = _tensors(examples)
    with torch.no_grad():
        predicted = network(observations)
        loss = float(weighted_action_loss(predicted, targets, weights))
        mse = ((predicted - targets) ** 2).mean(dim=0)
    return loss, float(mse[0]), float(mse[1])


def fit(
    network: PolicyNetwork,
    train: Examples,
    validation: Examples | None,
    config: TrainConfig,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    member: int = 0,
) -> FitResult:
    """Train ``network`` in place; with a validation set, stop early and keep the best weights."""
    observations, targets, weights = _tensors(train)
    optimiser = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed)
    stopper = EarlyStopping(config.patience, config.min_delta)
    result = FitResult()
    for epoch in range(config.epochs):
        network.train()
        order = torch.randperm(len(train), generator=generator)
        total, weight_sum = 0.0, 0.0
        for start in range(0, len(train), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = weighted_action_loss(
                network(observations[batch]), targets[batch], weights[batch]
            )
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            batch_weight = float(weights[batch].sum())
            total += float(loss.detach()) * batch_weight
            weight_sum += batch_weight
        network.eval()
        val = evaluate_loss(network, validation) if validation is not None else (math.nan,) * 3
        record = EpochRecord(epoch, total / weight_sum, *val, member=member)
        result.history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if validation is not None and stopper.update(epoch, record.val_loss, network.state_dict()):
            result.stopped_early = True
            break
    if validation is not None and stopper.best_state is not None:
        network.load_state_dict(stopper.best_state)
        result.best_epoch = stopper.best_epoch
    else:
        result.best_epoch = result.history[-1].epoch
    network.eval()
    return result
