"""Training end to end on real data: expert demonstrations recorded from headless episodes
(the PyBullet world and the robot's own loop, the privileged expert driving through teleop),
trained into an ONNX policy that the robot's ``fw_policy`` loads and that drives.

The smoke run's bar: on scenario seeds no training episode used, the trained policy makes more
progress toward the goal than an MLP with random weights, on fixed seeds (the run is
deterministic on CPU). Its other checks: ONNX parity with torch and the normalisation inside
the graph, the MLflow run's records read back with mlflow's own client, the summary,
determinism, ``MLFLOW_TRACKING_URI``, a DAgger iteration (the union of two datasets, resumed
from the first model), and an ensemble (its graph the mean of its members, resumed member by
member).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow.parquet as pq
import pytest
import torch
from mlflow.tracking import MlflowClient
from onnx import numpy_helper

from cloud_bridge.train import TrainConfig, TrainResult, train_policy
from fw_bringup.headless import run_headless_episode
from fw_bringup.node_parameters import default_profile_path
from fw_bringup.robot_loop import RobotLoop
from fw_common.observation import DEFAULT_SPEC
from fw_common.profile import RobotProfile, load_profile
from fw_policy.model_file import export_torch, make_mlp, write_metadata
from fw_policy.onnx_model import OnnxPolicy, load_model
from fw_sim.world import SimWorld
from support.expert_dataset import record_episode, write_dataset

# mlflow's SQLite store calls a SQLAlchemy API that SQLAlchemy deprecates (not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

#: Training scenarios ("open" family) and held-out ones, far apart so they never overlap.
TRAIN_SEEDS = range(10, 22)
HELDOUT_SEEDS = (900, 901, 902, 903)
EPISODE_S = 20.0
SMOKE = TrainConfig(
    seed=0,
    epochs=150,
    batch_size=64,
    hidden=(128, 128),
    weight_decay=1e-3,
    patience=20,
    model_version="smoke",
)


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(default_profile_path("sim"))


@pytest.fixture(scope="module")
def expert_dataset(profile: RobotProfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("expert") / "dataset"
    rows = []
    for seed in TRAIN_SEEDS:
        episode_rows, outcome = record_episode(profile, seed, time_limit=EPISODE_S)
        assert outcome.reached, f"the expert failed scenario {seed}"
        rows += episode_rows
    write_dataset(root, rows, rows_per_shard=500)  # several shards, read in order
    return root


@pytest.fixture(scope="module")
def smoke_run(expert_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The smoke run, tracked in the default store (the run folder's)."""
    saved = os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        return train_policy([expert_dataset], tmp_path_factory.mktemp("runs") / "bc0", SMOKE)
    finally:
        if saved is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved


@pytest.fixture
def tracking_env(smoke_run: TrainResult, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``MLFLOW_TRACKING_URI`` at the smoke run's store: the later runs go there (a new SQLite
    store costs seconds to create)."""
    uri = f"sqlite:///{smoke_run.onnx_path.parent / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri


def _progress(profile: RobotProfile, model: Path, seed: int) -> tuple[float, bool]:
    """Share of the start-goal distance closed (negative: farther) and whether it arrived."""
    sim = dataclasses.replace(profile.sim, seed=seed)
    policy = OnnxPolicy(load_model(model, DEFAULT_SPEC))
    with SimWorld(sim, gui=False) as world:
        start, goal = world.scenario.start, world.scenario.goal
        before = math.dist((start.x, start.y), (goal.x, goal.y))
        episode = run_headless_episode(
            world, RobotLoop(profile, policy=policy), time_limit=EPISODE_S
        )
    after = math.dist(episode.path[-1], (goal.x, goal.y))
    return (before - after) / before, episode.reached


def test_a_bc_policy_from_expert_demonstrations_beats_a_random_policy(
    profile: RobotProfile, smoke_run: TrainResult, tmp_path: Path
) -> None:
    random_model = tmp_path / "random.onnx"
    export_torch(make_mlp(DEFAULT_SPEC.size, seed=0), DEFAULT_SPEC.size, random_model)
    write_metadata(random_model, DEFAULT_SPEC.spec_id, SMOKE.action_scale, "random")
    trained = [_progress(profile, smoke_run.onnx_path, seed) for seed in HELDOUT_SEEDS]
    random = [_progress(profile, random_model, seed) for seed in HELDOUT_SEEDS]
    trained_progress = np.array([p for p, _ in trained])
    random_progress = np.array([p for p, _ in random])
    report = f"trained {trained}, random {random}"
    assert (trained_progress > 0.1).all(), report
    assert trained_progress.mean() > random_progress.mean() + 0.3, report
    assert sum(r for _, r in trained) >= sum(r for _, r in random), report


def test_the_onnx_export_matches_torch_and_holds_the_normalisation(
    expert_dataset: Path, smoke_run: TrainResult
) -> None:
    assert smoke_run.metrics["parity_max_abs_diff"] <= 1e-5
    model = load_model(smoke_run.onnx_path, DEFAULT_SPEC)  # fw_policy accepts it
    assert model.action_scale == SMOKE.action_scale and model.version == "smoke"
    meta = {p.key: p.value for p in onnx.load(str(smoke_run.onnx_path)).metadata_props}
    card = json.loads((expert_dataset / "card.json").read_text())
    assert meta["fw.dataset_hash"] == card["dataset_hash"]
    assert meta["fw.code_version"]
    # The graph takes raw observations: an independent forward pass with the checkpoint's
    # weights and the dataset's stats.json gives the exported actions.
    saved = torch.load(smoke_run.onnx_path.parent / "policy.pt", weights_only=True)
    weights = {k: v.double().numpy() for k, v in saved["state_dict"].items()}
    stats = json.loads((expert_dataset / "stats.json").read_text())["observation"]
    np.testing.assert_allclose(weights["mean"], stats["mean"], rtol=1e-6)
    np.testing.assert_allclose(weights["std"], stats["std"], rtol=1e-6, atol=1e-7)
    observations = np.concatenate(
        [
            np.stack(pq.read_table(p, columns=["observation"]).column(0).to_numpy(False))
            for p in sorted((expert_dataset / "data").glob("*.parquet"))
        ]
    ).astype(np.float32)
    x = (observations - weights["mean"]) / weights["std"]
    layers = sorted({k.rsplit(".", 1)[0] for k in weights if k.startswith("mlp.")})
    for index, layer in enumerate(layers):
        x = x @ weights[f"{layer}.weight"].T + weights[f"{layer}.bias"]
        x = np.maximum(x, 0.0) if index < len(layers) - 1 else np.tanh(x)
    session = ort.InferenceSession(str(smoke_run.onnx_path), providers=["CPUExecutionProvider"])
    exported = session.run(["action"], {"observation": observations})[0]
    assert np.abs(exported - x).max() <= 1e-5
    assert exported.std(axis=0).min() > 0.05  # it is not a constant


def test_the_mlflow_run_records_params_curves_dataset_hash_and_the_model(
    expert_dataset: Path, smoke_run: TrainResult
) -> None:
    run_dir = smoke_run.onnx_path.parent
    client = MlflowClient(tracking_uri=f"sqlite:///{run_dir / 'mlflow.db'}")
    run = client.get_run(smoke_run.run_id)
    assert run.info.status == "FINISHED"
    card = json.loads((expert_dataset / "card.json").read_text())
    params = run.data.params
    assert params["takeover_weight"] == "5.0" and params["seed"] == "0"
    assert params["dataset_hash"] == card["dataset_hash"]
    assert params["hidden"] == "(128, 128)"
    assert run.data.tags["fw.dataset_hash"] == card["dataset_hash"]
    epochs = int(smoke_run.metrics["epochs"])
    for name in ("train_loss", "val_loss"):
        curve = client.get_metric_history(smoke_run.run_id, name)
        assert [m.step for m in curve] == list(range(epochs))
    curve = [m.value for m in client.get_metric_history(smoke_run.run_id, "train_loss")]
    assert curve[-1] < curve[0] / 3  # it learned
    assert run.data.metrics["final_val_loss"] == pytest.approx(smoke_run.metrics["val_loss"])
    # The ONNX file is an artifact, in the run folder, byte for byte.
    assert [a.path for a in client.list_artifacts(smoke_run.run_id, "model")] == [
        "model/model.onnx"
    ]
    local = client.download_artifacts(smoke_run.run_id, "model/model.onnx", str(run_dir / "dl"))
    assert Path(local).read_bytes() == smoke_run.onnx_path.read_bytes()
    assert (run_dir / "mlartifacts").is_dir()


def test_the_summary_says_what_was_trained_on_and_how_it_went(
    expert_dataset: Path, smoke_run: TrainResult
) -> None:
    assert smoke_run.summary_path is not None
    summary = json.loads(smoke_run.summary_path.read_text())
    rows = json.loads((expert_dataset / "card.json").read_text())["steps"]
    assert summary["run_id"] == smoke_run.run_id
    assert summary["datasets"] == [
        {
            "root": str(expert_dataset),
            "dataset_hash": json.loads((expert_dataset / "card.json").read_text())["dataset_hash"],
            "steps": rows,
        }
    ]
    metrics = summary["metrics"]
    assert metrics["train_steps"] + metrics["val_steps"] == rows
    assert metrics["train_episodes"] + metrics["val_episodes"] == len(TRAIN_SEEDS)
    assert 0 < metrics["val_episodes"] < len(TRAIN_SEEDS)
    assert metrics["takeover_steps"] == rows  # the expert drove every step
    best = min(summary["history"], key=lambda e: e["val_loss"])
    assert metrics["best_epoch"] == best["epoch"]
    assert summary["stopped_early"] == (metrics["epochs"] < SMOKE.epochs)


def _weights(run: TrainResult) -> dict[str, np.ndarray]:
    model = onnx.load(str(run.onnx_path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not(
    expert_dataset: Path, tmp_path: Path, tracking_env: str
) -> None:
    config = dataclasses.replace(SMOKE, epochs=4, model_version="det")
    first = train_policy([expert_dataset], tmp_path / "a", config)
    again = train_policy([expert_dataset], tmp_path / "b", config)
    other = train_policy([expert_dataset], tmp_path / "c", dataclasses.replace(config, seed=1))
    a, b, c = _weights(first), _weights(again), _weights(other)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert first.metrics == again.metrics
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_mlflow_tracking_uri_is_honoured(
    expert_dataset: Path,
    smoke_run: TrainResult,
    tmp_path: Path,
    tracking_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    config = dataclasses.replace(SMOKE, epochs=2, experiment="env-uri")
    result = train_policy([expert_dataset], tmp_path / "run", config)
    assert not (tmp_path / "run" / "mlflow.db").exists()
    client = MlflowClient(tracking_uri=tracking_env)
    experiment = client.get_experiment_by_name("env-uri")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in runs] == [result.run_id]
    # A new experiment in a SQLite store keeps its artifacts beside the database, not in
    # ./mlruns of whatever folder the command ran in.
    assert not (tmp_path / "mlruns").exists()
    store = smoke_run.onnx_path.parent / "mlartifacts"
    assert experiment.artifact_location == store.resolve().as_uri()
    assert [a.path for a in client.list_artifacts(result.run_id, "model")] == ["model/model.onnx"]


def test_a_dagger_iteration_trains_on_the_union_and_resumes_the_parent(
    profile: RobotProfile,
    expert_dataset: Path,
    smoke_run: TrainResult,
    tmp_path: Path,
    tracking_env: str,
) -> None:
    # Iteration 1's data: the trained policy drives, the expert labels every step and takes
    # over (through teleop) for a stretch of every 20 steps.
    policy = OnnxPolicy(load_model(smoke_run.onnx_path, DEFAULT_SPEC))
    rows = []
    for seed in (40, 41):
        episode_rows, _ = record_episode(
            profile, seed, time_limit=8.0, policy=policy, expert_drives=lambda s: s % 20 >= 14
        )
        rows += episode_rows
    dagger_root = tmp_path / "iter1"
    write_dataset(dagger_root, rows)
    takeovers = sum(r["takeover"] for r in rows)
    assert 0 < takeovers < len(rows)

    # A learning rate too small to move the weights: what comes out is the parent's network.
    config = dataclasses.replace(
        SMOKE, epochs=1, learning_rate=1e-12, parent=smoke_run.onnx_path.parent
    )
    result = train_policy([expert_dataset, dagger_root], tmp_path / "dagger1", config)
    expert_steps = json.loads((expert_dataset / "card.json").read_text())["steps"]
    assert result.metrics["train_steps"] + result.metrics["val_steps"] == expert_steps + len(rows)
    assert result.metrics["takeover_steps"] == expert_steps + takeovers
    hashes = [json.loads((r / "card.json").read_text())["dataset_hash"] for r in
              (expert_dataset, dagger_root)]  # fmt: skip
    meta = {p.key: p.value for p in onnx.load(str(result.onnx_path)).metadata_props}
    assert meta["fw.dataset_hash"] == ",".join(hashes)

    parent = torch.load(smoke_run.onnx_path.parent / "policy.pt", weights_only=True)
    child = torch.load(tmp_path / "dagger1" / "policy.pt", weights_only=True)
    for name, value in parent["state_dict"].items():
        if name.startswith("mlp."):
            torch.testing.assert_close(child["state_dict"][name], value, atol=1e-6, rtol=0)
    # The normalisation is the union's: every step of both datasets, pooled.
    union = np.concatenate(
        [
            np.stack(pq.read_table(p, columns=["observation"]).column(0).to_numpy(False))
            for root in (expert_dataset, dagger_root)
            for p in sorted((root / "data").glob("*.parquet"))
        ]
    )
    np.testing.assert_allclose(child["state_dict"]["mean"].numpy(), union.mean(0), atol=1e-5)
    assert json.loads((tmp_path / "dagger1" / "train_summary.json").read_text())["parent"] == str(
        smoke_run.onnx_path.parent / "policy.pt"
    )


def _member(state: dict[str, torch.Tensor], x: np.ndarray) -> np.ndarray:
    """A member's action from its weights alone, in float64: normalise, mask nothing, ReLU
    layers, tanh head."""
    h = (x - state["mean"].double().numpy()) / state["std"].double().numpy()
    layers = sorted({int(k.split(".")[1]) for k in state if k.startswith("mlp.")})
    for i, index in enumerate(layers):
        weight = state[f"mlp.{index}.weight"].double().numpy()
        h = h @ weight.T + state[f"mlp.{index}.bias"].double().numpy()
        h = np.tanh(h) if i == len(layers) - 1 else np.maximum(h, 0.0)
    return h


def test_an_ensemble_averages_members_trained_apart_and_resumes_member_by_member(
    expert_dataset: Path, smoke_run: TrainResult, tmp_path: Path, tracking_env: str
) -> None:
    config = dataclasses.replace(SMOKE, epochs=6, ensemble_size=3, model_version="ensemble")
    result = train_policy([expert_dataset], tmp_path / "ensemble", config)
    saved = torch.load(tmp_path / "ensemble" / "policy.pt", weights_only=True)
    members = saved["members"]
    assert len(members) == 3 and "state_dict" not in saved
    # Each member its own draw: no two share their first layer.
    firsts = [m["mlp.0.weight"] for m in members]
    assert all(not torch.equal(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :])
    # The first member is what a one-member run with the same seed and epochs trains.
    single = train_policy(
        [expert_dataset], tmp_path / "single", dataclasses.replace(config, ensemble_size=1)
    )
    alone = torch.load(tmp_path / "single" / "policy.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(alone[k], members[0][k]) for k in alone)
    assert single.metrics["val_loss"] == result.metrics["val_loss"]

    # The model file returns the mean of the members' actions, computed from their weights.
    rows = [
        np.asarray(obs, np.float64)
        for p in sorted((expert_dataset / "data").glob("*.parquet"))
        for obs in pq.read_table(p, columns=["observation"]).column(0).to_pylist()
    ][::50]
    x = np.stack(rows)
    expected = np.mean([_member(m, x) for m in members], axis=0)
    session = ort.InferenceSession(str(result.onnx_path), providers=["CPUExecutionProvider"])
    exported = session.run(None, {"observation": x.astype(np.float32)})[0]
    np.testing.assert_allclose(exported, expected, atol=1e-5)
    assert np.abs(_member(members[0], x) - expected).max() > 1e-3  # not one member's

    summary = json.loads((tmp_path / "ensemble" / "train_summary.json").read_text())
    assert summary["members"][0]["seed"] != config.seed
    assert len(summary["members"]) == 2 and all(m["history"] for m in summary["members"])
    assert {e["member"] for e in summary["members"][1]["history"]} == {2}
    assert math.isfinite(result.metrics["ensemble_val_loss"])

    # DAgger resumes every member from its own parent; a parent of another size is refused.
    still = dataclasses.replace(
        config, epochs=1, learning_rate=1e-12, parent=tmp_path / "ensemble"
    )
    train_policy([expert_dataset], tmp_path / "child", still)
    child = torch.load(tmp_path / "child" / "policy.pt", weights_only=True)["members"]
    for before, after in zip(members, child, strict=True):
        torch.testing.assert_close(
            after["mlp.0.weight"], before["mlp.0.weight"], atol=1e-6, rtol=0
        )
    from cloud_bridge.train import TrainError

    with pytest.raises(TrainError, match="has 3 ensemble members, this run 1"):
        train_policy(
            [expert_dataset],
            tmp_path / "mismatch",
            dataclasses.replace(still, ensemble_size=1),
        )
