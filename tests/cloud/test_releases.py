"""Signed releases: publish, promote, roll back, list, history, and a race on a channel.

The repository is a real TUF repository (python-tuf) in a real store: a folder, and for the
tests that take the ``store`` fixture also moto's S3 server.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cloud_bridge.cli import main as flywheel
from cloud_bridge.releases import (
    ChannelConflictError,
    ChannelPointer,
    ReleaseClient,
    ReleaseError,
    ReleaseRepository,
)
from cloud_bridge.store import LocalStore, ObjectInfo, ObjectStore
from fw_common.observation import DEFAULT_SPEC
from support.release_repo import RepoUnderTest, make_models


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


def test_publish_promote_rollback_list_history(
    store: ObjectStore, tmp_path: Path, models: dict[str, Path]
) -> None:
    r = RepoUnderTest.create(store, tmp_path)
    r.publish("r1", models["mlp1"], channel=("fleet", "canary"))
    r.promote("r1", ("fleet", "stable"))
    r.publish("r2", models["mlp2"], channel=("fleet", "canary"), parent="r1")
    # A robot on canary sees r2, one on stable r1: both through tuf.ngclient from the root.
    client = ReleaseClient(store, r.root, tmp_path / "robot", DEFAULT_SPEC)
    assert client.check("fleet", "canary").release == "r2"
    assert client.check("fleet", "stable").release == "r1"
    staged = client.stage("r2")
    assert staged.model_path.read_bytes() == models["mlp2"].read_bytes()
    assert staged.card.parent == "r1" and staged.card.spec_id == DEFAULT_SPEC.spec_id

    pointer = r.repo.rollback("fleet", "canary", r.targets, r.online, note="too many stops")
    assert (pointer.release, pointer.previous, pointer.withdrawn) == ("r1", "r2", ("r2",))
    assert client.check("fleet", "canary").withdrawn == ("r2",)
    # Rolling back again would name r2, which was withdrawn: only when the operator says so.
    with pytest.raises(ReleaseError, match="was withdrawn"):
        r.repo.rollback("fleet", "canary", r.targets, r.online)
    # A withdrawn release is not promoted back by mistake.
    with pytest.raises(ReleaseError, match="withdrawn"):
        r.promote("r2", ("fleet", "canary"))
    # Releases are never replaced.
    with pytest.raises(ReleaseError, match="never replaced"):
        r.publish("r1", models["mlp3"])

    listing = {s.card.release: s for s in r.repo.releases()}
    assert set(listing) == {"r1", "r2"}
    assert listing["r1"].channels == ("fleet/canary", "fleet/stable")
    assert listing["r2"].channels == () and listing["r2"].card.model_version == "mlp-v2"
    history = r.repo.history("fleet", "canary")
    assert [(p.release, p.note) for _, p in history] == [
        ("r1", "too many stops"),
        ("r2", "publish"),
        ("r1", "publish"),
    ]
    versions = [v for v, _ in history]
    assert versions == sorted(versions, reverse=True)


def test_the_flywheel_command(tmp_path: Path, models: dict[str, Path], capsys) -> None:
    store_dir, keys = tmp_path / "store", tmp_path / "keys"
    assert flywheel(["keys", "init", "--out", str(keys), "--store", str(store_dir)]) == 0
    assert (keys / "root.json").is_file()
    assert (keys / "targets.key").stat().st_mode & 0o077 == 0
    common = ["--store", str(store_dir), "--keys", str(keys)]
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"success_rate": 0.9}))
    publish = ["release", "publish", *common]
    assert (
        flywheel(
            [
                *publish,
                "--release",
                "r1",
                "--model",
                str(models["mlp1"]),
                "--metrics",
                str(metrics),
                "--dataset-hash",
                "abc",
                "--fleet",
                "f",
                "--channel",
                "canary",
            ]
        )
        == 0
    )
    assert (
        flywheel([*publish, "--release", "r2", "--model", str(models["mlp2"]), "--parent", "r1"])
        == 0
    )
    channel = ["--fleet", "f", "--channel", "canary"]
    assert flywheel(["release", "promote", *common, "--release", "r2", *channel]) == 0
    assert flywheel(["release", "rollback", *common, *channel, "--reason", "bad"]) == 0
    with pytest.raises(SystemExit):  # a typo never creates a channel no robot follows
        flywheel(
            [
                "release",
                "promote",
                *common,
                "--release",
                "r2",
                "--fleet",
                "f",
                "--channel",
                "stabel",
            ]
        )
    capsys.readouterr()
    assert flywheel(["release", "list", "--store", str(store_dir), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(c["release"], c["channels"]) for c in listing] == [("r1", ["f/canary"]), ("r2", [])]
    assert listing[0]["metrics"] == {"success_rate": 0.9} and listing[0]["dataset_hash"] == "abc"
    assert flywheel(["release", "history", "--store", str(store_dir), *channel, "--json"]) == 0
    assert [h["release"] for h in json.loads(capsys.readouterr().out)] == ["r1", "r2", "r1"]
    # A model no robot can run is not published; a wrong key is refused with the reason.
    assert flywheel([*publish, "--release", "r3", "--model", str(models["nan"])]) == 1
    assert "non-finite" in capsys.readouterr().err
    other = tmp_path / "other"
    assert flywheel(["keys", "init", "--out", str(other)]) == 0
    capsys.readouterr()
    assert (
        flywheel(
            [
                "release",
                "promote",
                *common,
                "--targets-key",
                str(other / "targets.key"),
                "--release",
                "r1",
                "--fleet",
                "f",
                "--channel",
                "stable",
            ]
        )
        == 1
    )
    assert "not a targets key" in capsys.readouterr().err


class _ReadTogether:
    """A real store whose timestamp.json reads wait until both publishers make them: both
    changes start from the same state for certain (not by luck of timing), and race."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(2, timeout=30)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo]:
        if key.endswith("/timestamp.json"):
            self.barrier.wait()
        return self.inner.get_bytes(key)


def test_a_race_on_a_channel_has_one_winner_and_a_conflict(
    store: ObjectStore, tmp_path: Path, models: dict[str, Path]
) -> None:
    r = RepoUnderTest.create(store, tmp_path)
    r.publish("r1", models["mlp1"])
    r.publish("r2", models["mlp2"], channel=None)
    r.publish("r3", models["mlp3"], channel=None)
    racing = _ReadTogether(store)
    outcomes: dict[str, BaseException | None] = {}

    def promote(release: str) -> None:
        repo = ReleaseRepository(racing)  # type: ignore[arg-type]
        try:
            repo.promote(release, "fleet", "canary", r.targets, r.online)
            outcomes[release] = None
        except BaseException as exc:
            outcomes[release] = exc

    threads = [threading.Thread(target=promote, args=(rel,)) for rel in ("r2", "r3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [rel for rel, exc in outcomes.items() if exc is None]
    losers = [exc for exc in outcomes.values() if exc is not None]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], ChannelConflictError) and "another publisher" in str(losers[0])
    # The channel names the winner, signed, and the loser left nothing a reader would see.
    client = ReleaseClient(store, r.root, tmp_path / "robot", DEFAULT_SPEC)
    pointer = client.check("fleet", "canary")
    assert pointer.release == winners[0] and pointer.previous == "r1"
    assert [p.release for _, p in r.repo.history("fleet", "canary")] == [winners[0], "r1"]
    # The loser re-reads and retries: now it is a change on top of the winner's.
    loser = "r3" if winners[0] == "r2" else "r2"
    r.promote(loser)
    assert client.check("fleet", "canary").release == loser


def test_an_interrupted_publish_does_not_block_the_next(
    tmp_path: Path, models: dict[str, Path]
) -> None:
    store = LocalStore(tmp_path / "store")
    r = RepoUnderTest.create(store, tmp_path)
    r.publish("r1", models["mlp1"])
    # A publisher that died after writing its targets file, before its commit.
    state = r.repo.read()
    orphan = f"{state.targets.signed.version + 1}.targets.json"
    store.put_bytes(r.repo.metadata_key(orphan), b"{}")
    r.publish("r2", models["mlp2"])
    client = ReleaseClient(store, r.root, tmp_path / "robot", DEFAULT_SPEC)
    assert client.check("fleet", "canary").release == "r2"


@pytest.mark.parametrize(
    "name", ["../r1", "/abs", "r1/../../x", "a\x00b", "x" * 65, "", ".hidden", "r 1"]
)
def test_hostile_release_fleet_and_channel_names_are_refused(
    tmp_path: Path, models: dict[str, Path], name: str
) -> None:
    store = LocalStore(tmp_path / "store")
    r = RepoUnderTest.create(store, tmp_path)
    with pytest.raises(ReleaseError, match="not a valid name"):
        r.publish(name, models["mlp1"])
    r.publish("r1", models["mlp1"], channel=None)
    with pytest.raises(ReleaseError, match="not a valid name"):
        r.promote("r1", (name, "canary"))
    with pytest.raises(ReleaseError, match="not a valid name"):
        r.promote("r1", ("fleet", name))
    # A signed pointer naming a hostile release is refused on the robot as well.
    pointer = {"fleet": "fleet", "channel": "canary", "release": name}
    with pytest.raises(ReleaseError, match="not a valid name"):
        ChannelPointer.from_json(json.dumps(pointer))
    client = ReleaseClient(store, r.root, tmp_path / "robot", DEFAULT_SPEC)
    with pytest.raises(ReleaseError, match="not a valid name"):
        client.stage(name)
