"""Episodes driven by an ONNX release: the build re-runs that release (its model, given by
version), labels each step with it, and leaves an episode whose model it was not given for a
later build instead of rebuilding it with another policy. Also the ``flywheel dataset``
commands end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cloud_bridge.cli import main
from cloud_bridge.dataset import build_dataset, default_profile, load_steps
from cloud_bridge.store import LocalStore
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile
from fw_policy.model_file import export_torch, make_mlp, write_metadata
from fw_policy.onnx_model import OnnxPolicy, load_model
from support.dataset_bags import GOLDEN, derive_bag, upload_folders, upload_golden

RELEASE = "rel-20261205-test"
SCALE = (0.8, 1.2)


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return default_profile()


@pytest.fixture
def model_path(tmp_path: Path, profile: RobotProfile) -> Path:
    spec = spec_by_name(profile.policy.observation_spec)
    path = tmp_path / "release.onnx"
    export_torch(make_mlp(spec.size, seed=3), spec.size, path)
    write_metadata(path, spec.spec_id, SCALE, RELEASE)
    return path


def test_onnx_release_is_rerun_from_its_model(
    tmp_path: Path, profile: RobotProfile, model_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    info = {"kind": "onnx", "model_version": RELEASE, "model_sha256": "ab" * 32}
    derive_bag(
        GOLDEN["sim_seed3_drive"], tmp_path / "spool" / "ready" / "onnx_drive",
        policy_info=json.dumps(info),
    )  # fmt: skip
    upload_folders(store, tmp_path / "spool")
    root = tmp_path / "ds"

    waiting = build_dataset(store, root, profile=profile)
    assert waiting.last_build["pending"] == 1 and waiting.episodes == []
    assert waiting.quarantined == 0

    spec = spec_by_name(profile.policy.observation_spec)
    model = load_model(model_path, spec)
    card = build_dataset(store, root, profile=profile, models={RELEASE: OnnxPolicy(model)})
    assert card.last_build["decoded"] == 1 and card.releases == [RELEASE]
    rows = load_steps(root).to_pydict()
    assert set(rows["release_id"]) == {RELEASE}
    acted = [i for i, reason in enumerate(rows["policy_reason"]) if reason == ""]
    assert len(acted) > 50
    # The release on the rebuilt observation gives the row's policy command.
    for i in acted:
        raw = model.run(np.asarray(rows["observation"][i], np.float32))
        expected = np.clip(raw, -1.0, 1.0) * np.array(SCALE)
        np.testing.assert_allclose(
            [rows["policy_linear"][i], rows["policy_angular"][i]], expected, rtol=0, atol=1e-6
        )


def test_a_release_swapped_mid_episode_is_followed(
    tmp_path: Path, profile: RobotProfile, model_path: Path
) -> None:
    """The robot swapped from classic to the ONNX release 7 s in (a new fw/policy/info): the
    steps after it carry the release and its commands, those before the classic policy's."""
    store = LocalStore(tmp_path / "store")
    swap_ns = 7 * 10**9
    info = {"kind": "onnx", "model_version": RELEASE, "model_sha256": "cd" * 32}
    derive_bag(
        GOLDEN["sim_seed3_drive"], tmp_path / "spool" / "ready" / "swapped",
        announce=((swap_ns, json.dumps(info)),),
    )  # fmt: skip
    upload_folders(store, tmp_path / "spool")
    spec = spec_by_name(profile.policy.observation_spec)
    model = load_model(model_path, spec)
    card = build_dataset(
        store, tmp_path / "ds", profile=profile, models={RELEASE: OnnxPolicy(model)}
    )
    assert card.releases == ["", RELEASE]
    rows = load_steps(tmp_path / "ds").to_pydict()
    before = [i for i, s in enumerate(rows["stamp_ns"]) if s < swap_ns - 10**8]
    after = [i for i, s in enumerate(rows["stamp_ns"]) if s > swap_ns + 10**8]
    assert before and after
    assert {rows["release_id"][i] for i in before} == {""}
    assert {rows["release_id"][i] for i in after} == {RELEASE}

    def model_command(i: int) -> np.ndarray:
        raw = model.run(np.asarray(rows["observation"][i], np.float32))
        return np.clip(raw, -1.0, 1.0) * np.array(SCALE)

    def command(i: int) -> np.ndarray:
        return np.array([rows["policy_linear"][i], rows["policy_angular"][i]])

    acted_after = [i for i in after if rows["policy_reason"][i] == ""]
    assert len(acted_after) > 20
    for i in acted_after:
        np.testing.assert_allclose(command(i), model_command(i), rtol=0, atol=1e-6)
    acted_before = [i for i in before if rows["policy_reason"][i] == ""]
    assert any(np.abs(command(i) - model_command(i)).max() > 0.05 for i in acted_before)


def test_flywheel_dataset_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    upload_golden(LocalStore(store), tmp_path / "spool", ["sim_seed2_safety"])
    out = tmp_path / "ds"
    assert main(["dataset", "build", "--store", str(store), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "episodes decoded" in printed and "steps" in printed
    card = json.loads((out / "card.json").read_text())
    assert card["steps"] > 50
    lerobot = tmp_path / "lerobot"
    assert main(["dataset", "export", "--format", "lerobot", str(out), "--out", str(lerobot)]) == 0
    assert "total_frames" in capsys.readouterr().out
    info = json.loads((lerobot / "meta/info.json").read_text())
    assert info["total_frames"] == card["steps"]
    # A second build finds nothing new; a bad --model is refused with the usage.
    assert main(["dataset", "build", "--store", str(store), "--out", str(out)]) == 0
    assert json.loads((out / "card.json").read_text())["last_build"]["unchanged"] == 1
    bad = ["dataset", "build", "--store", str(store), "--out", str(out), "--model", "nopath"]
    assert main(bad) == 2
    assert "VERSION=PATH" in capsys.readouterr().err
