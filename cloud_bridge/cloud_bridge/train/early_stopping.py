"""Early stopping on the validation loss, keeping the best epoch's weights."""

from __future__ import annotations

import copy
import math
from typing import Any

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Tracks the best validation loss; :meth:`update` says when to stop.

    An epoch is better when its loss is below the best by more than ``min_delta``; after
    ``patience`` epochs that are not, training stops and :attr:`best_state` holds the weights
    of the best epoch.
    """

    def __init__(self, patience: int, min_delta: float) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_epoch = -1
        self.best_state: dict[str, Any] | None = None
        self.epochs_without_improvement = 0

    def update(self, epoch: int, loss: float, state: dict[str, Any]) -> bool:
        """Record ``epoch``'s validation ``loss`` and weights; True when training should stop."""
        if not math.isfinite(loss):
            # A diverged run never gets better by waiting.
            return True
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = loss, epoch
            self.best_state = copy.deepcopy(state)
            self.epochs_without_improvement = 0
            return False
        self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience
