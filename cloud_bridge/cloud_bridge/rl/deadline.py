"""Time-boxed training: stop stable-baselines3 at a wall-clock deadline, as DeepRacer's
"training time" does."""

from __future__ import annotations

import time

from stable_baselines3.common.callbacks import BaseCallback

__all__ = ["Deadline"]


class Deadline(BaseCallback):
    """Stop training (after the current environment step) once ``seconds`` of wall time have
    passed since training started. The policy keeps everything learnt so far."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        if seconds <= 0:
            raise ValueError(f"the training time must be positive, got {seconds} s")
        self.seconds = seconds
        self.started = 0.0
        self.expired = False

    def _on_training_start(self) -> None:
        self.started = time.monotonic()

    def _on_step(self) -> bool:
        if time.monotonic() - self.started >= self.seconds:
            self.expired = True
            return False
        return True
