"""Training (``flywheel train``): behaviour cloning of an MLP policy on dataset steps, with
take-over-weighted loss, DAgger aggregation over datasets, early stopping on episodes held out,
MLflow tracking, and a checked ONNX export that the robot's ``fw_policy`` loads as is.

Example::

    from cloud_bridge.train import TrainConfig, train_policy

    result = train_policy([Path("datasets/iter0"), Path("datasets/iter1")], Path("runs/r1"),
                          TrainConfig(seed=0, takeover_weight=5.0, parent=Path("runs/r0")))
    result.onnx_path, result.metrics["val_loss"], result.run_id
"""

from cloud_bridge.train.config import TrainConfig
from cloud_bridge.train.errors import TrainError
from cloud_bridge.train.train_policy import TrainResult, train_policy

__all__ = ["TrainConfig", "TrainError", "TrainResult", "train_policy"]
