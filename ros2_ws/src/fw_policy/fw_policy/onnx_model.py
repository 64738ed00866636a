"""``onnx``: an ONNX policy model run with onnxruntime, validated before it is used.

A Flywheel policy model is an ONNX graph with one float input ``observation`` of shape
``[batch, spec.size]`` (batch 1 or dynamic) and one float output ``action`` of shape
``[batch, 2]``: normalised forward speed and yaw rate in [-1, 1]. Its metadata
(``metadata_props``) carries:

``fw.spec_id``        id of the observation spec it was trained on (must match the robot's)
``fw.action_scale``   JSON ``[max_linear, max_angular]`` (m/s, rad/s): what 1.0 means
``fw.model_version``  free-form version (registry release, training run)

:func:`load_model` refuses a file with the reason (:class:`ModelRejectedError`): missing or
unreadable, not ONNX, wrong spec id, wrong input/output names or shapes, bad action scale, or a
warm-up that does not give finite actions.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.observation import ObservationSpec
from fw_policy.base import Action, PolicyInput
from fw_policy.errors import ModelRejectedError

__all__ = [
    "ACTION_SCALE_KEY",
    "INPUT_NAME",
    "MODEL_VERSION_KEY",
    "OUTPUT_NAME",
    "SPEC_ID_KEY",
    "OnnxModel",
    "OnnxPolicy",
    "load_model",
]

INPUT_NAME = "observation"
OUTPUT_NAME = "action"
SPEC_ID_KEY = "fw.spec_id"
ACTION_SCALE_KEY = "fw.action_scale"
MODEL_VERSION_KEY = "fw.model_version"

_WARMUP_RUNS = 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dim_ok(dim: Any, expected: int | None) -> bool:
    """A static dim must equal ``expected``; a symbolic (dynamic) one is accepted for batch."""
    if isinstance(dim, int):
        return (expected is None and dim == 1) or dim == expected
    return expected is None


@dataclass(frozen=True)
class OnnxModel:
    """A validated, warmed-up model. ``run`` maps one observation to a normalised action."""

    path: str
    sha256: str
    version: str
    spec_id: str
    action_scale: tuple[float, float]
    threads: int
    loaded_at: str
    session: Any
    observation_size: int

    def run(self, observation: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Normalised action, shape (2,); may be non-finite (the caller checks). Raises
        ``ValueError`` for an observation of the wrong size."""
        if np.shape(observation) != (self.observation_size,):
            raise ValueError(
                f"observation of shape {np.shape(observation)}, expected "
                f"({self.observation_size},)"
            )
        batch = np.asarray(observation, dtype=np.float32).reshape(1, self.observation_size)
        outputs = self.session.run([OUTPUT_NAME], {INPUT_NAME: batch})
        action: npt.NDArray[np.float32] = np.asarray(outputs[0], dtype=np.float32).reshape(-1)
        return action

    def describe(self) -> dict[str, Any]:
        return {
            "model_path": self.path,
            "model_sha256": self.sha256,
            "model_version": self.version,
            "spec_id": self.spec_id,
            "action_scale": list(self.action_scale),
            "intra_op_threads": self.threads,
            "loaded_at": self.loaded_at,
        }


def _action_scale(text: str | None) -> tuple[float, float]:
    if text is None:
        raise ModelRejectedError(f"metadata has no {ACTION_SCALE_KEY}")
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelRejectedError(f"{ACTION_SCALE_KEY} is not JSON: {exc}") from None
    if (
        not isinstance(values, list)
        or len(values) != 2
        or not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in values)
    ):
        raise ModelRejectedError(f"{ACTION_SCALE_KEY} must be two positive numbers, got {text!r}")
    return float(values[0]), float(values[1])


def load_model(path: str | Path, spec: ObservationSpec, threads: int = 1) -> OnnxModel:
    """Load, check and warm up a model for ``spec``; raises :class:`ModelRejectedError`."""
    import onnxruntime as ort

    file = Path(path)
    if not str(path):
        raise ModelRejectedError("no model path given")
    if not file.is_file():
        raise ModelRejectedError(f"model file {str(path)!r} does not exist")
    sha = _sha256(file)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(file), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelRejectedError(f"onnxruntime cannot load {file.name}: {exc}") from None

    meta = session.get_modelmeta().custom_metadata_map
    spec_id = meta.get(SPEC_ID_KEY)
    if spec_id is None:
        raise ModelRejectedError(f"metadata has no {SPEC_ID_KEY}")
    if spec_id != spec.spec_id:
        raise ModelRejectedError(
            f"model was built for observation spec {spec_id}, this robot uses "
            f"{spec.name} v{spec.version} ({spec.spec_id})"
        )
    scale = _action_scale(meta.get(ACTION_SCALE_KEY))

    inputs, outputs = session.get_inputs(), session.get_outputs()
    if [i.name for i in inputs] != [INPUT_NAME] or OUTPUT_NAME not in [o.name for o in outputs]:
        raise ModelRejectedError(
            f"expected input {INPUT_NAME!r} and output {OUTPUT_NAME!r}, got inputs "
            f"{[i.name for i in inputs]} and outputs {[o.name for o in outputs]}"
        )
    in_shape = list(inputs[0].shape)
    out_shape = next(list(o.shape) for o in outputs if o.name == OUTPUT_NAME)
    if len(in_shape) != 2 or not _dim_ok(in_shape[0], None) or not _dim_ok(in_shape[1], spec.size):
        raise ModelRejectedError(f"input shape {in_shape}, expected [batch, {spec.size}]")
    if len(out_shape) != 2 or not _dim_ok(out_shape[0], None) or not _dim_ok(out_shape[1], 2):
        raise ModelRejectedError(f"output shape {out_shape}, expected [batch, 2]")
    if inputs[0].type != "tensor(float)":
        raise ModelRejectedError(f"input type {inputs[0].type}, expected tensor(float)")
    out_type = next(o.type for o in outputs if o.name == OUTPUT_NAME)
    if out_type != "tensor(float)":  # the action is bound to a float32 buffer
        raise ModelRejectedError(f"output type {out_type}, expected tensor(float)")

    model = OnnxModel(
        path=str(file),
        sha256=sha,
        version=meta.get(MODEL_VERSION_KEY, "unversioned"),
        spec_id=spec_id,
        action_scale=scale,
        threads=int(threads),
        loaded_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        session=session,
        observation_size=spec.size,
    )
    # Warm-up: the first runs allocate; a model that gives non-finite actions on ordinary
    # observations (free space, goal ahead, at rest) must never drive.
    rng = np.random.default_rng(0)
    probes = [np.ones(spec.size, dtype=np.float32), np.zeros(spec.size, dtype=np.float32)]
    probes += [rng.uniform(0.0, 1.0, spec.size).astype(np.float32) for _ in range(_WARMUP_RUNS)]
    for obs in probes:
        try:
            action = model.run(obs)
        except Exception as exc:
            raise ModelRejectedError(f"warm-up run failed: {exc}") from None
        if action.shape != (2,):
            raise ModelRejectedError(f"warm-up action has shape {action.shape}, expected (2,)")
        if not np.isfinite(action).all():
            raise ModelRejectedError(f"warm-up gave a non-finite action {action.tolist()}")
    return model


class OnnxPolicy:
    """Run the model on the observation, clip to [-1, 1], scale to m/s and rad/s."""

    kind = "onnx"

    def __init__(self, model: OnnxModel) -> None:
        self.model = model

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.model.describe()}

    def act(self, inputs: PolicyInput) -> Action:
        v, w = self.model.run(inputs.observation).tolist()
        if not (math.isfinite(v) and math.isfinite(w)):
            raise ValueError(f"model gave a non-finite action {[v, w]}")
        v, w = min(max(v, -1.0), 1.0), min(max(w, -1.0), 1.0)
        return Action(v * self.model.action_scale[0], w * self.model.action_scale[1])
