"""The robot refuses every bad release with the reason, keeps its model, and says why.

Each case starts from a robot (the cloud agent's core with a real :class:`ReleaseClient`, TUF
and onnxruntime) running release r1 from a real store, then an attacker, a broken publisher or a
stale mirror changes the store. The agent's next poll must refuse with the right
:class:`RefusalReason`, keep r1 as the active release with its file in place, and leave an
event that says why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Timestamp

from cloud_bridge.releases import RefusalReason, ReleaseClient
from cloud_bridge.releases.layout import model_target
from cloud_bridge.store import LocalStore, ObjectStore
from fw_cloud_agent.agent import AgentSettings, CloudAgent
from fw_common.observation import DEFAULT_SPEC
from support.release_repo import RepoUnderTest, make_models


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


class Robot:
    """The agent core on a robot that runs r1."""

    def __init__(self, store: ObjectStore, repo: RepoUnderTest, folder: Path) -> None:
        self.client = ReleaseClient(store, repo.root, folder / "cache", DEFAULT_SPEC)
        self.agent = CloudAgent(
            AgentSettings("robot_1", "fleet", "canary"),
            self.client,
            folder / "state.json",
            status_sink=store,
        )
        self.agent.poll()
        request = self.agent.tick()
        assert request is not None and request.release == "r1", self.agent.drain_events()
        self.agent.swap_done(request, True)
        self.r1_model = Path(request.model_path)
        self.agent.drain_events()

    def refused_with(self, reason: str) -> str:
        """Poll; the refusal's message. r1 stays, and nothing else is swapped in."""
        self.agent.poll()
        events = self.agent.drain_events()
        refusals = [e for e in events if e.kind == "refused"]
        assert [e.reason for e in refusals] == [reason], [e.as_dict() for e in events]
        assert self.agent.tick() is None
        assert self.agent.state.active == "r1" and self.r1_model.is_file()
        return refusals[0].message


@pytest.fixture
def setup(tmp_path: Path, models: dict[str, Path]) -> tuple[LocalStore, RepoUnderTest, Robot]:
    store = LocalStore(tmp_path / "store")
    repo = RepoUnderTest.create(store, tmp_path)
    repo.publish("r1", models["mlp1"])
    return store, repo, Robot(store, repo, tmp_path / "robot")


def _target_key(repo: RepoUnderTest, path: str) -> str:
    state = repo.repo.read()
    return repo.repo.target_key(state.targets.signed.targets[path])


def _rewrite_timestamp(store: ObjectStore, repo: RepoUnderTest, change: Callable) -> None:
    key = repo.repo.metadata_key("timestamp.json")
    md = Metadata[Timestamp].from_bytes(store.get_bytes(key)[0])
    md.signed.version += 1
    change(md)
    store.put_bytes(key, md.to_bytes())


def test_a_tampered_model_is_refused(setup, models) -> None:
    store, repo, robot = setup
    repo.publish("r2", models["mlp2"])
    key = _target_key(repo, model_target("r2"))
    data = bytearray(store.get_bytes(key)[0])
    data[len(data) // 2] ^= 0xFF  # one flipped byte, same length
    store.put_bytes(key, bytes(data))
    assert "hash" in robot.refused_with(RefusalReason.TAMPERED).lower()
    assert "r2" in robot.agent.state.refused


def test_a_truncated_model_is_refused(setup, models) -> None:
    store, repo, robot = setup
    repo.publish("r2", models["mlp2"])
    key = _target_key(repo, model_target("r2"))
    store.put_bytes(key, store.get_bytes(key)[0][:1000])
    robot.refused_with(RefusalReason.TRUNCATED)


def test_truncated_metadata_is_refused(setup, models) -> None:
    store, repo, robot = setup
    repo.publish("r2", models["mlp2"])
    state = repo.repo.read()
    key = repo.repo.metadata_key(f"{state.snapshot.signed.version}.snapshot.json")
    store.put_bytes(key, store.get_bytes(key)[0][:200])
    assert "Observed length 200" in robot.refused_with(RefusalReason.TRUNCATED)


def test_unsigned_metadata_is_refused(setup) -> None:
    store, repo, robot = setup
    _rewrite_timestamp(store, repo, lambda md: md.signatures.clear())
    assert "timestamp" in robot.refused_with(RefusalReason.UNSIGNED)


def test_metadata_signed_by_an_unknown_key_is_refused(setup) -> None:
    store, repo, robot = setup
    attacker = CryptoSigner.generate_ed25519()

    def resign(md: Metadata) -> None:
        md.signatures.clear()
        md.sign(attacker)

    _rewrite_timestamp(store, repo, resign)
    robot.refused_with(RefusalReason.UNKNOWN_KEY)


def test_expired_metadata_is_refused(setup, models) -> None:
    """A freeze: the store keeps serving a timestamp nobody re-signs."""
    _, repo, robot = setup
    repo.publish("r2", models["mlp2"], channel=None, timestamp_s=1.0)
    robot.agent.poll()  # still valid: nothing new on the channel, nothing refused
    assert not [e for e in robot.agent.drain_events() if e.kind == "refused"]
    time.sleep(2.1)
    assert "expired" in robot.refused_with(RefusalReason.EXPIRED).lower()


def test_an_older_metadata_version_replayed_is_refused(setup, models) -> None:
    """A rollback attack: the store serves the timestamp from before the robot's last check."""
    store, repo, robot = setup
    key = repo.repo.metadata_key("timestamp.json")
    old = store.get_bytes(key)[0]
    repo.publish("r2", models["mlp2"], channel=None)
    robot.agent.poll()
    robot.agent.drain_events()
    store.put_bytes(key, old)
    robot.refused_with(RefusalReason.ROLLBACK)
    # A restarted agent (new client, same trusted metadata on disk) refuses it too.
    robot.agent = CloudAgent(
        robot.agent.settings, robot.client, robot.agent.state_path, status_sink=store
    )
    robot.agent.swap_done(robot.agent.tick(), True)  # the restore of r1 after the restart
    robot.agent.drain_events()
    robot.refused_with(RefusalReason.ROLLBACK)


def test_a_model_for_another_observation_spec_is_refused(setup, models) -> None:
    _, repo, robot = setup
    repo.publish("r2", models["other_spec"])
    assert "observation spec" in robot.refused_with(RefusalReason.WRONG_SPEC)


def test_a_model_with_non_finite_output_is_refused(setup, models) -> None:
    _, repo, robot = setup
    repo.publish("r2", models["nan"])
    assert "non-finite" in robot.refused_with(RefusalReason.INVALID_MODEL)


def test_the_status_object_says_what_the_robot_runs(setup, models) -> None:
    store, _, robot = setup
    status = json.loads(store.get_bytes("robots/robot_1/status.json")[0])
    assert status["active"] == "r1" or status["candidate"] == "r1"
    robot.agent.poll()
    status = json.loads(store.get_bytes("robots/robot_1/status.json")[0])
    assert status["active"] == "r1" and status["channel_release"] == "r1"
    assert status["last_contact"] is not None and status["problem"] is None


def test_a_robot_trusts_only_its_provisioned_root(tmp_path: Path, models) -> None:
    """Another repository (its own keys) in the same place is refused from the first check."""
    store = LocalStore(tmp_path / "store")
    RepoUnderTest.create(store, tmp_path / "attacker").publish("r1", models["mlp1"])
    genuine = RepoUnderTest.create(LocalStore(tmp_path / "other"), tmp_path / "genuine")
    client = ReleaseClient(store, genuine.root, tmp_path / "cache", DEFAULT_SPEC)
    from cloud_bridge.releases import ReleaseRefusedError

    with pytest.raises(ReleaseRefusedError) as refused:
        client.check("fleet", "canary")
    assert refused.value.reason == RefusalReason.UNKNOWN_KEY
