"""Training (``flywheel train``): behaviour cloning of an MLP policy on dataset steps, with
take-over-weighted loss, DAgger aggregation over datasets, early stopping on episodes held out,
MLflow tracking, and a checked ONNX export that the robot's ``fw_policy`` loads as is.

Example::

    from cloud_bridge.train import TrainConfig, train_policy

    result = train_policy([Path("datasets/iter0"), Path("datasets/iter1")], Path("runs/r1"),
                          TrainConfig(seed=0, takeover_weight=5.0, parent=Path("runs/r0")))
    result.onnx_path, result.metrics["val_loss"], result.run_id

torch, pyarrow and mlflow (the ``cloud`` extras) load on first use of :func:`train_policy`, so
the ``flywheel`` command still starts on a robot without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cloud_bridge.train.config import TrainConfig
from cloud_bridge.train.errors import TrainError

if TYPE_CHECKING:
    from cloud_bridge.train.policy_training import TrainResult, train_policy

__all__ = ["TrainConfig", "TrainError", "TrainResult", "train_policy"]


def __getattr__(name: str) -> Any:
    if name in ("TrainResult", "train_policy"):
        module = importlib.import_module("cloud_bridge.train.policy_training")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
