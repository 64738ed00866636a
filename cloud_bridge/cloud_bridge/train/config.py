"""The training run's settings: one dataclass, every field commented."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """How a behaviour-cloning run trains, validates, stops, tracks and exports."""

    #: Seed of everything random in the run (weight init, the validation split, batch order):
    #: the same seed, data and settings give the same weights on the same host.
    seed: int = 0
    #: Most passes over the training steps (early stopping may end sooner).
    epochs: int = 200
    #: Steps per gradient step.
    batch_size: int = 256
    #: Adam's learning rate.
    learning_rate: float = 1e-3
    #: Adam's L2 weight decay.
    weight_decay: float = 0.0
    #: Widths of the hidden layers (ReLU); the head is linear then tanh.
    hidden: tuple[int, ...] = (128, 128)
    #: Networks trained apart (each its own seed, the same split) whose actions the exported
    #: model averages (``cloud_bridge.train.ensemble``). Behaviour cloning's failures move with
    #: the training draw, and the average is spared a member's bad draw; training takes this
    #: many times as long.
    ensemble_size: int = 1
    #: Observation features (names of ``ObservationSpec.feature_names()``) the network never
    #: reads: their normalised input is multiplied by zero inside the model, which still takes
    #: the spec's whole vector (the robot's contract is unchanged). Masking the robot's own
    #: velocity (``linear``, ``angular``) fights behaviour cloning's copycat failure: at the
    #: control rate the velocity nearly equals the previous command, so a network that reads
    #: it learns to repeat itself, fits the demonstrations well and, once stopped against an
    #: obstacle, stays stopped.
    masked_features: tuple[str, ...] = ()
    #: Loss weight of a take-over step (a person or the expert supervisor drove) relative to 1.0
    #: for the others: HG-DAgger learns most from where the policy was about to fail.
    takeover_weight: float = 5.0
    #: Share of the episodes held out for validation (split by episode, never by step, so
    #: neighbouring steps of one episode never sit on both sides).
    validation_fraction: float = 0.2
    #: Stop after this many epochs without a validation loss better by ``min_delta``; the
    #: weights of the best epoch are kept.
    patience: int = 15
    #: Smallest drop of the validation loss that counts as better.
    min_delta: float = 1e-5
    #: What 1.0 of the normalised action means: (max forward speed m/s, max yaw rate rad/s).
    #: Targets are divided by it and clipped to [-1, 1]; it goes into ``fw.action_scale``.
    action_scale: tuple[float, float] = (0.8, 1.0)
    #: Name of the observation spec (``fw_common.observation.SPECS``) every step must match.
    observation_spec: str = "nav_scan_goal"
    #: A parent model to start from (DAgger's next iteration): its ``policy.pt`` or the run
    #: folder holding one. ``None`` trains from scratch.
    parent: Path | None = None
    #: MLflow tracking URI; ``None``: ``$MLFLOW_TRACKING_URI``, else a SQLite store in the
    #: run folder (``sqlite:///<out>/mlflow.db``, artifacts under ``<out>/mlartifacts``).
    tracking_uri: str | None = None
    #: MLflow experiment the run goes to (created when missing).
    experiment: str = "flywheel-policy"
    #: ``fw.model_version`` of the exported model; ``None``: ``mlflow-<run id>``.
    model_version: str | None = None
    #: Dataset observations the ONNX export is compared against torch on.
    parity_rows: int = 512
    #: Largest |onnxruntime - torch| allowed on the normalised actions.
    parity_tolerance: float = 1e-5
    #: torch CPU threads during the run (restored after); a fixed count keeps float
    #: reductions in one order, so a rerun is bit-identical.
    threads: int = 1

    def __post_init__(self) -> None:
        positive_ints = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "patience": self.patience,
            "parity_rows": self.parity_rows,
            "threads": self.threads,
            "ensemble_size": self.ensemble_size,
        }
        for name, value in positive_ints.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not self.hidden or any(width < 1 for width in self.hidden):
            raise ValueError(f"hidden must be one or more positive widths, got {self.hidden}")
        if len(set(self.masked_features)) != len(self.masked_features):
            raise ValueError(f"masked_features names a feature twice: {self.masked_features}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be non-negative, got {self.weight_decay}")
        if not (math.isfinite(self.takeover_weight) and self.takeover_weight > 0):
            raise ValueError(f"takeover_weight must be positive, got {self.takeover_weight}")
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )
        if not (math.isfinite(self.min_delta) and self.min_delta >= 0):
            raise ValueError(f"min_delta must be non-negative, got {self.min_delta}")
        if len(self.action_scale) != 2 or not all(
            math.isfinite(v) and v > 0 for v in self.action_scale
        ):
            raise ValueError(f"action_scale must be two positive numbers, got {self.action_scale}")
        if not (math.isfinite(self.parity_tolerance) and self.parity_tolerance > 0):
            raise ValueError(f"parity_tolerance must be positive, got {self.parity_tolerance}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")
