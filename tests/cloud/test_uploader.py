"""The episode uploader against both backends: what lands in the store, in which order, what
is refused, what the robot keeps, and the queue's disk budget while the store is down."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from cloud_bridge.store import ObjectStore, S3Store
from cloud_bridge.upload.backoff import Backoff
from cloud_bridge.upload.config import MIB, UploaderConfig
from cloud_bridge.upload.disk_policy import Waiting, choose_drops, choose_expired
from cloud_bridge.upload.throttle import TokenBucket
from cloud_bridge.upload.uploader import QUARANTINE_NOTE, EpisodeUploader
from support.episodes import add_episode, add_golden_episode
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.moto_server import MotoServer, free_port, s3_client


def _uploader(spool: Path, store: ObjectStore, **overrides: object) -> EpisodeUploader:
    settings: dict[str, object] = {"robot_id": "r1", "part_size": 5 * MIB}
    settings.update(overrides)
    return EpisodeUploader(spool, store, UploaderConfig(**settings))  # type: ignore[arg-type]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_golden_episode_lands_with_its_manifest(store: ObjectStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    folder = add_golden_episode(spool / "ready")
    recorder = json.loads((folder / "manifest.json").read_text())
    local = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}
    # The golden bag is weeks old: keep it past the default retention age.
    uploader = _uploader(spool, store, retain_uploaded_s=1e9)
    result = uploader.run_pass()
    assert (result.enqueued, result.uploaded, result.queued) == (1, 1, 0)

    prefix = f"episodes/r1/{folder.name}/"
    keys = sorted(o.key[len(prefix) :] for o in store.list(prefix))
    assert keys == ["bag/bag.mcap", "bag/metadata.yaml", "manifest.json"]
    manifest = json.loads(store.get_bytes(prefix + "manifest.json")[0])
    assert manifest["recorder"] == recorder
    assert manifest["robot_id"] == "r1" and manifest["episode"] == folder.name
    for rel in ("bag/bag.mcap", "bag/metadata.yaml"):
        data, info = store.get_bytes(prefix + rel)
        assert data == local[rel]
        assert manifest["files"][rel] == {"size": len(data), "sha256": _sha(data)}
        assert info.sha256 == _sha(data)
    # Confirmed, so it moved to uploaded/ (where retention decides), and nothing is left queued.
    assert not folder.exists() and (spool / "uploaded" / folder.name).is_dir()
    status = uploader.status()
    assert status["queue_episodes"] == 0 and status["bytes_pending"] == 0
    assert status["uploaded_episodes"] == 1 and status["last_upload_unix"] is not None
    assert status["last_contact_unix"] is not None and status["drops"] == 0
    # A second pass sends nothing.
    assert uploader.run_pass().uploaded == 0


def test_multipart_file_roundtrip_and_triggered_first(store: ObjectStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    now = time.time()
    add_episode(spool / "ready", "old_continuous", 2 * MIB, created_unix=now - 100, seed=1)
    big = add_episode(
        spool / "ready", "new_triggered", 12 * MIB + 7, triggered=True, created_unix=now, seed=2
    )
    big_bytes = (big / "bag" / "bag.mcap").read_bytes()
    uploader = _uploader(spool, store)
    assert uploader.run_pass().uploaded == 2
    trig = json.loads(store.get_bytes("episodes/r1/new_triggered/manifest.json")[0])
    cont = json.loads(store.get_bytes("episodes/r1/old_continuous/manifest.json")[0])
    assert trig["uploaded_unix"] < cont["uploaded_unix"], "triggered episodes go first"
    assert trig["triggered"] and trig["trigger_kinds"] == ["safety_event"]
    assert store.get_bytes("episodes/r1/new_triggered/bag/bag.mcap")[0] == big_bytes
    assert store.list_multipart() == []


def test_file_changed_after_queueing_is_quarantined(store: ObjectStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    small = add_episode(spool / "ready", "small", 1000, seed=3)
    big = add_episode(spool / "ready", "big", 11 * MIB, seed=4)
    uploader = _uploader(spool, store)
    assert uploader.scan() == (2, 0)
    # Bit rot after the manifest was taken: one byte in each, the big one in its second part.
    for path, offset in ((small / "bag" / "bag.mcap", 10), (big / "bag" / "bag.mcap", 6 * MIB)):
        with path.open("r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0xFF]))
    result = uploader.run_pass()
    assert (result.uploaded, result.quarantined) == (0, 2)
    for name in ("small", "big"):
        assert store.head(f"episodes/r1/{name}/manifest.json") is None
        assert store.head(f"episodes/r1/{name}/bag/bag.mcap") is None
        note = json.loads((spool / "quarantine" / name / QUARANTINE_NOTE).read_text())
        assert "FileChanged" in note["reason"]
    assert store.list_multipart() == []
    assert uploader.status()["quarantined"] == 2


def test_hostile_episodes_are_refused(store: ObjectStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    ready = spool / "ready"
    linked = add_episode(ready, "with_symlink", 100)
    (tmp_path / "secret").write_text("robot's private key")
    (linked / "bag" / "stolen").symlink_to(tmp_path / "secret")
    add_episode(ready, "bad\nname", 100)
    (ready / "no_manifest" / "bag").mkdir(parents=True)
    (ready / "no_manifest" / "bag" / "x.mcap").write_bytes(b"x")
    broken = add_episode(ready, "broken_manifest", 100)
    (broken / "manifest.json").write_text("{not json")
    add_episode(ready, "fine", 100)
    uploader = _uploader(spool, store)
    result = uploader.run_pass()
    assert (result.uploaded, result.quarantined) == (1, 4)
    assert [o.key for o in store.list("episodes/")] == [
        "episodes/r1/fine/bag/bag.mcap",
        "episodes/r1/fine/bag/metadata.yaml",
        "episodes/r1/fine/manifest.json",
    ]
    assert sorted(p.name for p in (spool / "quarantine").iterdir()) == sorted(
        ["with_symlink", "bad\nname", "no_manifest", "broken_manifest"]
    )
    # Refused once, not again at every scan.
    assert uploader.run_pass().quarantined == 0


def test_retention_keeps_uploaded_episodes_within_their_budget(
    store: ObjectStore, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    now = time.time()
    for n in range(3):
        add_episode(spool / "ready", f"e{n}", MIB, created_unix=now - 30 + n, seed=n)
    uploader = _uploader(spool, store, retain_uploaded_bytes=2 * MIB + 100_000)
    assert uploader.run_pass().uploaded == 3
    # Oldest deleted first; the store keeps them all.
    assert sorted(p.name for p in (spool / "uploaded").iterdir()) == ["e1", "e2"]
    assert len(list(store.list("episodes/r1/"))) == 9
    aged = _uploader(spool, store, retain_uploaded_s=0.0)
    assert aged.apply_retention() == 2
    assert list((spool / "uploaded").iterdir()) == []


def test_store_down_keeps_the_queue_within_budget_then_drains(
    tmp_path: Path, make_bucket: object
) -> None:
    port = free_port()
    store = S3Store(
        "fw-down",
        endpoint_url=f"http://127.0.0.1:{port}",
        connect_timeout_s=0.5,
        read_timeout_s=1.0,
        max_attempts=1,
    )
    spool = tmp_path / "spool"
    ready = spool / "ready"
    now = time.time()
    for n in range(3):
        add_episode(ready, f"cont{n}", MIB, created_unix=now - 100 + n, seed=n)
        add_episode(ready, f"trig{n}", MIB, triggered=True, created_unix=now - 50 + n, seed=9 + n)
    uploader = _uploader(spool, store, queue_budget_bytes=int(3.5 * MIB))
    result = uploader.run_pass()
    assert result.store_error is not None and "fw-down" in result.store_error
    # 6 MiB queued in a 3.5 MiB budget: the three continuous ones go, oldest first.
    assert result.dropped == 3
    assert sorted(p.name for p in ready.iterdir()) == ["trig0", "trig1", "trig2"]
    status = uploader.status()
    assert status["drops"] == 3 and status["drops_triggered"] == 0
    assert status["dropped_bytes"] > 3 * MIB and status["queue_episodes"] == 3
    assert status["last_contact_unix"] is None and status["last_error"]
    # A new continuous episode while only triggered ones wait: it is the one dropped.
    add_episode(ready, "cont3", MIB, created_unix=now, seed=20)
    assert uploader.run_pass().dropped == 1
    assert not (ready / "cont3").exists()
    # Only triggered ones left and still over budget: the oldest triggered goes, counted apart.
    add_episode(ready, "trig3", MIB, triggered=True, created_unix=now, seed=21)
    assert uploader.run_pass().dropped == 1
    assert sorted(p.name for p in ready.iterdir()) == ["trig1", "trig2", "trig3"]
    assert uploader.status()["drops_triggered"] == 1
    assert uploader.status()["queue_bytes"] <= 3.5 * MIB

    # The store comes back: the queue drains.
    server = MotoServer(tmp_path / "moto.log", port=port).start()
    try:
        s3_client(server.url).create_bucket(Bucket="fw-down")  # type: ignore[attr-defined]
        uploader.run(until_empty=True)
        assert sorted({o.key.split("/")[2] for o in store.list("episodes/r1/")}) == [
            "trig1",
            "trig2",
            "trig3",
        ]
        assert uploader.status()["queue_episodes"] == 0
        assert uploader.status()["drops"] == 5
    finally:
        server.stop()


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(initial_s=1.0, max_s=8.0)
    ceilings = [1, 2, 4, 8, 8, 8]
    for ceiling in ceilings:
        assert 0.1 <= backoff.next_delay() <= ceiling
    assert len({Backoff(1.0, 8.0).next_delay() for _ in range(20)}) > 1, "no jitter"
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_token_bucket_caps_the_average_rate() -> None:
    bucket = TokenBucket(rate=10 * MIB, burst=MIB)
    waited = sum(bucket.take(MIB) for _ in range(4))
    # The first MiB is the burst; three more at 10 MiB/s owe 0.3 s.
    assert waited == pytest.approx(0.3, abs=0.05)


def test_disk_policies_choose_in_the_documented_order() -> None:
    queued = [
        Waiting("trig_old", 1.0, 10, priority=0),
        Waiting("cont_new", 5.0, 10),
        Waiting("cont_old", 2.0, 10),
        Waiting("trig_new", 6.0, 10, priority=0),
    ]
    assert choose_drops(queued, 40) == []
    assert [w.name for w in choose_drops(queued, 25)] == ["cont_old", "cont_new"]
    assert [w.name for w in choose_drops(queued, 5)] == [
        "cont_old",
        "cont_new",
        "trig_old",
        "trig_new",
    ]
    uploaded = [Waiting("a", 100.0, 10), Waiting("b", 200.0, 10), Waiting("c", 300.0, 10)]
    assert choose_expired(uploaded, now=310.0, max_age_s=1000.0, max_bytes=30) == []
    assert [w.name for w in choose_expired(uploaded, 310.0, 1000.0, 15)] == ["a", "b"]
    assert [w.name for w in choose_expired(uploaded, 310.0, 150.0, 30)] == ["a"]


def test_upload_command_once_gives_up_on_a_dead_store(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    add_episode(spool / "ready", "waiting", 1000)
    run = subprocess.run(
        [
            *FLYWHEEL, "upload", "--spool", str(spool),
            "--store", "s3://fw-nowhere", "--endpoint-url", f"http://127.0.0.1:{free_port()}",
            "--robot-id", "r1", "--once", "--give-up-after", "1",
        ],
        env=flywheel_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    status = json.loads(run.stdout)
    assert status["queue_episodes"] == 1 and "EndpointConnectionError" in status["last_error"]
    assert "s3://fw-nowhere/episodes/r1/waiting/" in status["last_error"]
    assert "giving up after 1 store failures" in run.stderr
    assert (spool / "ready" / "waiting").is_dir(), "nothing is deleted before it is uploaded"
