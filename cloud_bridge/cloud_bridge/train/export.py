"""ONNX export: the Flywheel model contract, provenance metadata, and a parity check.

The graph is exported with ``fw_policy.model_file.export_torch`` (input ``observation``
``[batch, spec.size]``, output ``action`` ``[batch, 2]``) and carries the metadata
``fw_policy`` checks (``fw.spec_id``, ``fw.action_scale``, ``fw.model_version``) plus where it
came from: ``fw.dataset_hash`` (the datasets' content hashes, comma-separated in training
order) and ``fw.code_version``. The file is then held to two checks before anyone may use it:
onnxruntime and torch agree on dataset observations within the tolerance, and
``fw_policy.onnx_model.load_model`` accepts it for the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from cloud_bridge.train.errors import TrainError
from fw_common.observation import ObservationSpec
from fw_policy.errors import ModelRejectedError
from fw_policy.model_file import export_torch, write_metadata
from fw_policy.onnx_model import INPUT_NAME, OUTPUT_NAME, load_model

__all__ = [
    "CODE_VERSION_KEY",
    "DATASET_HASH_KEY",
    "add_metadata",
    "export_policy",
    "onnx_parity",
]

DATASET_HASH_KEY = "fw.dataset_hash"
CODE_VERSION_KEY = "fw.code_version"


def add_metadata(path: Path, values: Mapping[str, str]) -> None:
    """Add (or replace) metadata entries of an ONNX file, in place."""
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key not in values]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for key, value in values.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def onnx_parity(path: Path, network: nn.Module, observations: npt.NDArray[np.float32]) -> float:
    """Largest |onnxruntime - torch| over the actions of ``observations`` ``[n, size]``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    batch = np.ascontiguousarray(observations, dtype=np.float32)
    exported = np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0])
    with torch.no_grad():
        reference = network(torch.from_numpy(batch)).numpy()
    if exported.shape != reference.shape:
        raise TrainError(f"ONNX gives actions of shape {exported.shape}, torch {reference.shape}")
    return float(np.max(np.abs(exported - reference))) if batch.size else 0.0


def export_policy(
    network: nn.Module,
    path: Path,
    *,
    spec: ObservationSpec,
    action_scale: tuple[float, float],
    model_version: str,
    dataset_hashes: list[str],
    code_version: str,
    parity_observations: npt.NDArray[np.float32],
    parity_tolerance: float,
) -> float:
    """Write ``network`` to ``path`` as a checked Flywheel model; the parity's max difference.

    Raises :class:`TrainError` when the export differs from torch by more than
    ``parity_tolerance`` or ``load_model`` refuses the file (which is then removed, so no
    unchecked model is left where a release step might pick it up).
    """
    network.eval()
    export_torch(network, spec.size, path)
    write_metadata(path, spec.spec_id, action_scale, model_version)
    add_metadata(
        path, {DATASET_HASH_KEY: ",".join(dataset_hashes), CODE_VERSION_KEY: code_version}
    )
    try:
        difference = onnx_parity(path, network, parity_observations)
        if not difference <= parity_tolerance:
            raise TrainError(
                f"ONNX export differs from torch by {difference:.3g} (allowed "
                f"{parity_tolerance:.3g})"
            )
        try:
            load_model(path, spec)
        except ModelRejectedError as exc:
            raise TrainError(f"the exported model is refused by fw_policy: {exc}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return difference
