"""Bad input to training gets a clear error and leaves nothing half-made: missing or corrupt
dataset files, columns, another observation spec, wrong-sized observations, non-finite steps,
hostile or mismatched parent checkpoints, an export that fails its checks. And the
``flywheel train`` command: its progress, its summary table, its exit status."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import torch
from mlflow.tracking import MlflowClient

from cloud_bridge.cli import main
from cloud_bridge.train import TrainConfig, TrainError, train_policy
from cloud_bridge.train.export import export_policy, onnx_parity
from cloud_bridge.train.network import PolicyNetwork
from cloud_bridge.train.normalisation import Normalisation
from fw_bringup.node_parameters import default_profile_path
from fw_common.observation import DEFAULT_SPEC
from fw_common.profile import load_profile
from support.expert_dataset import dataset_schema, record_episode, write_dataset

pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

QUICK = TrainConfig(epochs=3, hidden=(16,), batch_size=64, validation_fraction=0.5)


@pytest.fixture(scope="module")
def steps() -> list[dict[str, Any]]:
    """Rows of two short expert episodes."""
    profile = load_profile(default_profile_path("sim"))
    rows: list[dict[str, Any]] = []
    for seed in (5, 6):
        rows += record_episode(profile, seed, time_limit=5.0)[0]
    return rows


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def config(tracking: str) -> TrainConfig:
    return dataclasses.replace(QUICK, tracking_uri=tracking)


@pytest.fixture
def dataset(steps: list[dict[str, Any]], tmp_path: Path) -> Path:
    root = tmp_path / "dataset"
    write_dataset(root, steps)
    return root


def _train_error(roots: list[Path], out: Path, config: TrainConfig, match: str) -> None:
    with pytest.raises(TrainError, match=match):
        train_policy(roots, out, config)
    assert not (out / "model.onnx").exists()


def test_missing_or_corrupt_dataset_files_are_named(
    dataset: Path, tmp_path: Path, config: TrainConfig
) -> None:
    out = tmp_path / "run"
    _train_error([tmp_path / "nowhere"], out, config, "does not exist")
    (dataset / "stats.json").rename(dataset / "stats.bak")
    _train_error([dataset], out, config, r"stats\.json is missing")
    (dataset / "stats.json").write_text("{not json")
    _train_error([dataset], out, config, r"stats\.json is unreadable")
    stats = json.loads((dataset / "stats.bak").read_text())
    stats["observation"]["mean"] = stats["observation"]["mean"][:-1]
    (dataset / "stats.json").write_text(json.dumps(stats))
    _train_error([dataset], out, config, "40/41 features")
    (dataset / "stats.bak").rename(dataset / "stats.json")
    (dataset / "card.json").write_text("{}")
    _train_error([dataset], out, config, "no dataset_hash")
    (dataset / "card.json").write_text(json.dumps({"dataset_hash": "abc"}))
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    _train_error([dataset, copy], out, config, f"{copy} is the same dataset as {dataset}")
    shard = dataset / "data" / "shard-00000.parquet"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    _train_error([dataset], out, config, "not a readable Parquet file")
    shard.unlink()
    _train_error([dataset], out, config, "holds no shard")


def test_a_missing_column_another_spec_or_a_wrong_observation_size_stops_training(
    steps: list[dict[str, Any]], tmp_path: Path, config: TrainConfig
) -> None:
    out = tmp_path / "run"
    no_takeover = tmp_path / "no_takeover"
    schema = dataset_schema()
    write_dataset(no_takeover, steps, schema=schema.remove(schema.get_field_index("takeover")))
    _train_error([no_takeover], out, config, r"lacks the columns \['takeover'\]")

    other_spec = tmp_path / "other_spec"
    write_dataset(other_spec, [{**r, "spec_id": "0000000000000000"} for r in steps])
    _train_error([other_spec], out, config, "observation spec.*0000000000000000")

    short = tmp_path / "short"
    short_rows = [{**r, "observation": r["observation"][:40]} for r in steps]
    short_schema = schema.set(
        schema.get_field_index("observation"), pa.field("observation", pa.list_(pa.float32()))
    )
    write_dataset(short, short_rows, schema=short_schema)
    # (its stats.json still has 41 features: the steps are checked, not only the stats)
    stats = json.loads((tmp_path / "other_spec" / "stats.json").read_text())
    (short / "stats.json").write_text(json.dumps(stats))
    _train_error([short], out, config, r"observations of length \[40\], the spec has 41")


def test_non_finite_steps_are_dropped_and_counted(
    steps: list[dict[str, Any]], tmp_path: Path, config: TrainConfig
) -> None:
    rows = [dict(r) for r in steps]
    rows[3]["observation"] = [math.nan] * DEFAULT_SPEC.size
    rows[7]["observation"] = [math.inf, *rows[7]["observation"][1:]]
    rows[9].update(has_expert=False, executed_linear=math.nan)
    write_dataset(tmp_path / "dataset", rows)
    result = train_policy([tmp_path / "dataset"], tmp_path / "run", config)
    assert result.metrics["dropped_steps"] == 3
    assert result.metrics["train_steps"] + result.metrics["val_steps"] == len(rows) - 3
    assert math.isfinite(result.metrics["train_loss"])

    nothing = [{**r, "observation": [math.nan] * DEFAULT_SPEC.size} for r in steps]
    write_dataset(tmp_path / "nothing", nothing[:5])
    (tmp_path / "nothing" / "stats.json").write_text(
        (tmp_path / "dataset" / "stats.json").read_text()
    )
    _train_error([tmp_path / "nothing"], tmp_path / "run2", config, "no usable steps")


class _Payload:
    """A pickle that runs code when loaded by a trusting unpickler."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_a_hostile_or_mismatched_parent_is_refused_and_the_run_marked_failed(
    dataset: Path, tmp_path: Path, config: TrainConfig, tracking: str
) -> None:
    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.pt"
    with hostile.open("wb") as f:
        pickle.dump({"state_dict": _Payload(marker)}, f, protocol=2)
    failing = dataclasses.replace(config, parent=hostile, experiment="hostile")
    _train_error([dataset], tmp_path / "run", failing, "unreadable")
    assert not marker.exists()
    client = MlflowClient(tracking_uri=tracking)
    experiment = client.get_experiment_by_name("hostile")
    assert experiment is not None
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["FAILED"]

    for name, content in (("plain", {"weights": []}), ("members", {"members": [1, 2]})):
        torch.save(content, tmp_path / f"{name}.pt")
        odd = dataclasses.replace(config, parent=tmp_path / f"{name}.pt")
        _train_error([dataset], tmp_path / "run", odd, "not a Flywheel policy checkpoint")

    parent = train_policy([dataset], tmp_path / "parent", config)
    wider = dataclasses.replace(config, hidden=(32,), parent=tmp_path / "parent")
    _train_error([dataset], tmp_path / "child", wider, r"hidden layers \[16\], this run \[32\]")
    scaled = dataclasses.replace(config, action_scale=(1.0, 1.0), parent=parent.onnx_path.parent)
    _train_error([dataset], tmp_path / "child", scaled, "action scale")
    _train_error(
        [dataset],
        tmp_path / "child",
        dataclasses.replace(config, parent=tmp_path / "missing"),
        "does not exist",
    )


def test_an_export_that_fails_its_checks_leaves_no_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    normalisation = Normalisation(
        mean=np.zeros(DEFAULT_SPEC.size, np.float32), std=np.ones(DEFAULT_SPEC.size, np.float32)
    )
    network = PolicyNetwork(normalisation, (8,)).eval()
    observations = rng.uniform(0, 1, (32, DEFAULT_SPEC.size)).astype(np.float32)
    path = tmp_path / "model.onnx"
    common: dict[str, Any] = {
        "spec": DEFAULT_SPEC,
        "action_scale": (0.8, 1.0),
        "model_version": "t",
        "dataset_hashes": ["h"],
        "code_version": "c",
        "parity_observations": observations,
    }
    assert export_policy(network, path, parity_tolerance=1e-5, **common) <= 1e-5
    # Parity notices a graph that is not the network: change the weights after the export.
    with torch.no_grad():
        network.mlp[0].bias.add_(0.5)
    assert onnx_parity(path, network, observations) > 1e-3
    with pytest.raises(TrainError, match="differs from torch"):
        export_policy(network, path, parity_tolerance=-1.0, **common)
    assert not path.exists()


def test_the_command_shows_progress_and_a_summary_table(
    dataset: Path, tmp_path: Path, tracking: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["train", str(dataset), "--out", str(out), "--epochs", "2", "--hidden", "16"]
    assert main([*argv, "--tracking-uri", tracking, "--model-version", "cli"]) == 0
    captured = capsys.readouterr()
    assert "epochs" in captured.err  # the progress bar
    assert "parity_max_abs_diff" in captured.out and "val_loss" in captured.out
    assert (out / "model.onnx").is_file() and (out / "train_summary.json").is_file()
    # Without a validation set: every epoch kept in turn, no validation figures.
    assert main([*argv, "--tracking-uri", tracking]) == 1  # never over a finished run
    assert "already holds a run" in capsys.readouterr().err
    argv[3] = str(tmp_path / "no_validation")
    assert main([*argv, "--tracking-uri", tracking, "--validation-fraction", "0"]) == 0
    summary = json.loads((tmp_path / "no_validation" / "train_summary.json").read_text())
    assert summary["config"]["validation_fraction"] == 0.0 and summary["config"]["parent"] is None
    assert summary["metrics"]["val_episodes"] == 0 and summary["metrics"]["val_loss"] is None
    assert summary["metrics"]["best_epoch"] == 1
    assert [e["val_loss"] for e in summary["history"]] == [None, None]
    capsys.readouterr()
    shutil.rmtree(dataset / "data")
    argv[3] = str(tmp_path / "no_data")
    assert main([*argv, "--tracking-uri", tracking]) == 1
    assert "holds no shard" in capsys.readouterr().err
    assert main([*argv, "--takeover-weight", "-1"]) == 2
    assert "takeover_weight" in capsys.readouterr().err


def test_masked_features_never_reach_the_network_and_a_mismatched_parent_is_refused(
    dataset: Path, tmp_path: Path, config: TrainConfig
) -> None:
    import onnxruntime as ort

    masked = dataclasses.replace(config, masked_features=("linear", "angular"))
    result = train_policy([dataset], tmp_path / "masked", masked)
    session = ort.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
    base = np.full((1, DEFAULT_SPEC.size), 0.5, dtype=np.float32)
    names = DEFAULT_SPEC.feature_names()
    moved = base.copy()
    moved[0, names.index("linear")], moved[0, names.index("angular")] = -1.0, 1.0
    scanned = base.copy()
    scanned[0, : DEFAULT_SPEC.scan_sectors] = 0.05
    act = {k: session.run(None, {"observation": v})[0] for k, v in (
        ("base", base), ("moved", moved), ("scanned", scanned))}  # fmt: skip
    # The exported graph still takes the spec's whole vector, and ignores the masked part.
    np.testing.assert_array_equal(act["moved"], act["base"])
    assert np.abs(act["scanned"] - act["base"]).max() > 1e-4

    _train_error(
        [dataset],
        tmp_path / "typo",
        dataclasses.replace(config, masked_features=("velocity",)),
        r"\['velocity'\] are not features",
    )
    unmasked_child = dataclasses.replace(config, parent=tmp_path / "masked")
    _train_error([dataset], tmp_path / "child", unmasked_child, "masks features")
    with pytest.raises(ValueError, match="masked_features"):
        TrainConfig(masked_features=("linear", "linear"))
