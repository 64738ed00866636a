"""ONNX model loading and validation with real onnxruntime and torch-exported models."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from fw_common.observation import DEFAULT_SPEC
from fw_policy.base import PolicyInput
from fw_policy.errors import ModelRejectedError
from fw_policy.model_file import make_mlp, write_metadata
from fw_policy.onnx_model import OnnxPolicy, load_model

Factory = Callable[..., Path]


def inputs(goal: tuple[float, float] = (3.0, 1.0)) -> PolicyInput:
    ranges = np.full(360, 4.0, dtype=np.float32)
    angle_min, increment, linear, angular = -math.pi, 2 * math.pi / 360, 0.2, -0.1
    return PolicyInput(
        ranges=ranges,
        angle_min=angle_min,
        angle_increment=increment,
        range_min=0.1,
        goal_xy=goal,
        linear=linear,
        angular=angular,
        observation=DEFAULT_SPEC.featurize(ranges, angle_min, increment, goal, linear, angular),
    )


def test_valid_model_loads_with_its_metadata(model_factory: Factory) -> None:
    path = model_factory("mlp", "--version", "v7", "--action-scale", "0.5", "2.0")
    model = load_model(path, DEFAULT_SPEC, threads=1)
    assert model.spec_id == DEFAULT_SPEC.spec_id
    assert model.version == "v7"
    assert model.action_scale == (0.5, 2.0)
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.describe()["loaded_at"].endswith("+00:00")


def test_onnx_policy_matches_torch_and_scales_actions(
    model_factory: Factory, tmp_path: Path
) -> None:
    # Export a seeded MLP ourselves so torch can compute the reference.
    path = model_factory("mlp", "--seed", "3", "--action-scale", "0.8", "1.5")
    reference = make_mlp(DEFAULT_SPEC.size, seed=3)
    policy = OnnxPolicy(load_model(path, DEFAULT_SPEC))
    x = inputs()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x.observation).reshape(1, -1)).numpy()
    expected = expected.reshape(-1)
    action = policy.act(x)
    assert action.linear == pytest.approx(expected[0] * 0.8, abs=1e-5)
    assert action.angular == pytest.approx(expected[1] * 1.5, abs=1e-5)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelRejectedError, match="does not exist"):
        load_model(tmp_path / "nope.onnx", DEFAULT_SPEC)
    with pytest.raises(ModelRejectedError, match="no model path"):
        load_model("", DEFAULT_SPEC)


def test_corrupt_file_is_refused(tmp_path: Path, model_factory: Factory) -> None:
    good = model_factory("mlp").read_bytes()
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelRejectedError, match="cannot load"):
        load_model(bad, DEFAULT_SPEC)


def test_wrong_spec_id_is_refused(model_factory: Factory) -> None:
    path = model_factory("mlp", "--spec-id", "0123456789abcdef")
    with pytest.raises(ModelRejectedError, match="observation spec 0123456789abcdef"):
        load_model(path, DEFAULT_SPEC)


def test_missing_metadata_is_refused(tmp_path: Path) -> None:
    from fw_policy.model_file import export_torch

    path = tmp_path / "bare.onnx"
    export_torch(make_mlp(DEFAULT_SPEC.size), DEFAULT_SPEC.size, path)
    with pytest.raises(ModelRejectedError, match=r"fw\.spec_id"):
        load_model(path, DEFAULT_SPEC)


@pytest.mark.parametrize("scale", ['"fast"', "[1.0]", "[1.0, -2.0]", "[1.0, NaN]", "{"])
def test_bad_action_scale_is_refused(model_factory: Factory, tmp_path: Path, scale: str) -> None:
    import onnx

    model = onnx.load(str(model_factory("mlp")))
    for prop in model.metadata_props:
        if prop.key == "fw.action_scale":
            prop.value = scale
    path = tmp_path / "scale.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelRejectedError, match=r"action_scale"):
        load_model(path, DEFAULT_SPEC)


def test_wrong_input_size_is_refused(model_factory: Factory) -> None:
    path = model_factory("mlp", "--inputs", str(DEFAULT_SPEC.size + 3))
    with pytest.raises(ModelRejectedError, match="input shape"):
        load_model(path, DEFAULT_SPEC)


def test_wrong_output_size_is_refused(tmp_path: Path) -> None:
    from fw_policy.model_file import export_torch

    path = tmp_path / "three.onnx"
    export_torch(make_mlp(DEFAULT_SPEC.size, outputs=3), DEFAULT_SPEC.size, path)
    write_metadata(path, DEFAULT_SPEC.spec_id, (1.0, 1.0), "3-out")
    with pytest.raises(ModelRejectedError, match="output shape"):
        load_model(path, DEFAULT_SPEC)


def test_double_output_is_refused(tmp_path: Path) -> None:
    from fw_policy.model_file import export_torch

    class DoubleHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = make_mlp(DEFAULT_SPEC.size)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x).double()

    path = tmp_path / "double.onnx"
    export_torch(DoubleHead().eval(), DEFAULT_SPEC.size, path)
    write_metadata(path, DEFAULT_SPEC.spec_id, (1.0, 1.0), "f64")
    with pytest.raises(ModelRejectedError, match=r"output type tensor\(double\)"):
        load_model(path, DEFAULT_SPEC)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_wrong_io_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.onnx"
    torch.onnx.export(
        make_mlp(DEFAULT_SPEC.size),
        (torch.zeros(1, DEFAULT_SPEC.size),),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamo=False,
    )
    write_metadata(path, DEFAULT_SPEC.spec_id, (1.0, 1.0), "names")
    with pytest.raises(ModelRejectedError, match="expected input 'observation'"):
        load_model(path, DEFAULT_SPEC)


def test_nan_warm_up_output_is_refused(model_factory: Factory) -> None:
    with pytest.raises(ModelRejectedError, match="non-finite"):
        load_model(model_factory("nan"), DEFAULT_SPEC)


def test_static_batch_one_is_accepted(tmp_path: Path) -> None:
    from fw_policy.model_file import export_torch

    path = tmp_path / "static.onnx"
    export_torch(make_mlp(DEFAULT_SPEC.size), DEFAULT_SPEC.size, path, dynamic_batch=False)
    write_metadata(path, DEFAULT_SPEC.spec_id, (1.0, 1.0), "static")
    assert load_model(path, DEFAULT_SPEC).version == "static"


def test_actions_are_clipped_to_the_scale(model_factory: Factory) -> None:
    # A constant model at the edge of tanh's range: never more than the declared scale.
    path = model_factory("constant", "--action", "0.999999", "-0.999999")
    action = OnnxPolicy(load_model(path, DEFAULT_SPEC)).act(inputs())
    assert abs(action.linear) <= 0.8 + 1e-9 and abs(action.angular) <= 1.0 + 1e-9


def test_run_matches_a_plain_session_run_and_refuses_wrong_shapes(
    model_factory: Factory,
) -> None:
    model = load_model(model_factory("mlp", "--seed", "5"), DEFAULT_SPEC)
    rng = np.random.default_rng(2)
    observations = rng.uniform(-1.0, 1.0, (50, DEFAULT_SPEC.size)).astype(np.float32)
    actions = [model.run(obs) for obs in observations]
    for obs, action in zip(observations, actions, strict=True):
        plain = model.session.run(["action"], {"observation": obs.reshape(1, -1)})[0]
        assert np.array_equal(action, plain.reshape(-1))
    assert len({a.ctypes.data for a in actions}) == len(actions), "a result is a reused buffer"
    for wrong in (np.zeros(DEFAULT_SPEC.size - 1), np.zeros(1), np.float32(0.5)):
        with pytest.raises(ValueError, match="observation of shape"):  # never broadcast
            model.run(wrong)  # type: ignore[arg-type]


def test_concurrent_runs_do_not_mix_their_inputs(model_factory: Factory) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = load_model(model_factory("mlp", "--seed", "6"), DEFAULT_SPEC)
    observations = [np.full(DEFAULT_SPEC.size, v, dtype=np.float32) for v in (-0.5, 0.5)]
    expected = [model.run(obs) for obs in observations]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(model.run, observations * 500))
    assert all(np.array_equal(g, expected[i % 2]) for i, g in enumerate(got))
