"""The uploader against a real S3 server that fails: connections cut mid-upload, the server
frozen past the client's timeouts, the server killed and restarted empty, and the uploader
itself SIGKILLed. Each time: the object's bytes equal the file's, one object per file, no
stray multipart uploads, and at most one part re-sent per fault."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cloud_bridge.store import S3Store
from cloud_bridge.upload.config import MIB, UploaderConfig
from cloud_bridge.upload.uploader import JOURNAL_NAME, EpisodeUploader
from support.episodes import add_episode
from support.fault_proxy import FaultProxy
from support.flywheel_cli import FLYWHEEL, flywheel_env
from support.moto_server import MotoServer, s3_client

PART = 5 * MIB
#: The cut test's file: the issue's 200 MB (40 parts).
CUT_TEST_BYTES = 200_000_000


def _config(**overrides: object) -> UploaderConfig:
    settings: dict[str, object] = {
        "robot_id": "r1",
        "part_size": PART,
        "multipart_threshold": PART,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.5,
        "retain_uploaded_s": 1e9,
    }
    settings.update(overrides)
    return UploaderConfig(**settings)  # type: ignore[arg-type]


def _journalled_parts(spool: Path) -> int:
    path = spool / JOURNAL_NAME
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        try:
            return int(db.execute("SELECT count(*) FROM parts").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _assert_stored_once(store: S3Store, episode: Path, uploaded: Path) -> None:
    """The store holds the episode's files byte for byte, each once, and nothing in flight."""
    local = uploaded / episode.name
    prefix = f"episodes/r1/{episode.name}/"
    keys = [o.key for o in store.list(prefix)]
    assert keys == [prefix + k for k in ("bag/bag.mcap", "bag/metadata.yaml", "manifest.json")]
    for rel in ("bag/bag.mcap", "bag/metadata.yaml"):
        assert store.get_bytes(prefix + rel)[0] == (local / rel).read_bytes()
    assert store.list_multipart() == []


def _run_in_thread(uploader: EpisodeUploader) -> threading.Thread:
    thread = threading.Thread(target=lambda: uploader.run(until_empty=True), daemon=True)
    thread.start()
    return thread


def test_connection_cut_at_random_points(
    tmp_path: Path, own_moto_server: MotoServer, make_bucket: Callable[[MotoServer], str]
) -> None:
    bucket = make_bucket(own_moto_server)
    rng = random.Random(19)
    cuts = sorted(rng.randrange(CUT_TEST_BYTES // 50, CUT_TEST_BYTES) for _ in range(10))
    proxy = FaultProxy(own_moto_server.port, cut_at=cuts).start()
    try:
        store = S3Store(bucket, endpoint_url=proxy.url, connect_timeout_s=2, read_timeout_s=10)
        spool = tmp_path / "spool"
        episode = add_episode(spool / "ready", "long_drive", CUT_TEST_BYTES, seed=5)
        uploader = EpisodeUploader(spool, store, _config())
        uploader.run(until_empty=True)
        assert proxy.cuts_done == 10
        _assert_stored_once(store, episode, spool / "uploaded")
        parts = -(-CUT_TEST_BYTES // PART)
        assert set(proxy.part_requests) == set(range(1, parts + 1))
        assert proxy.resent_parts(parts) <= proxy.cuts_done
    finally:
        proxy.stop()


def test_server_frozen_past_client_timeouts(
    tmp_path: Path, own_moto_server: MotoServer, make_bucket: Callable[[MotoServer], str]
) -> None:
    bucket = make_bucket(own_moto_server)
    store = S3Store(
        bucket,
        endpoint_url=own_moto_server.url,
        connect_timeout_s=0.5,
        read_timeout_s=0.5,
        max_attempts=2,
    )
    spool = tmp_path / "spool"
    episode = add_episode(spool / "ready", "frozen", 6 * PART, seed=6)
    uploader = EpisodeUploader(spool, store, _config(max_bytes_per_s=8 * MIB))
    thread = _run_in_thread(uploader)
    _wait(lambda: _journalled_parts(spool) >= 1, 30, "a first part")
    own_moto_server.freeze()
    try:
        # Longer than both tries (each waits 1 s for 100-continue, then 0.5 s to read).
        time.sleep(5.0)
    finally:
        own_moto_server.thaw()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert uploader.status()["store_failures"] >= 1, "the freeze was never noticed"
    _assert_stored_once(store, episode, spool / "uploaded")


def test_server_restarted_empty_mid_upload(
    tmp_path: Path, own_moto_server: MotoServer, make_bucket: Callable[[MotoServer], str]
) -> None:
    bucket = make_bucket(own_moto_server)
    store = S3Store(
        bucket, endpoint_url=own_moto_server.url, connect_timeout_s=0.5, read_timeout_s=2.0
    )
    spool = tmp_path / "spool"
    episode = add_episode(spool / "ready", "amnesia", 6 * PART, seed=7)
    uploader = EpisodeUploader(spool, store, _config(max_bytes_per_s=8 * MIB))
    thread = _run_in_thread(uploader)
    _wait(lambda: _journalled_parts(spool) >= 2, 30, "two parts")
    own_moto_server.kill()
    own_moto_server.start()  # same port, nothing in it: the bucket is the operator's
    s3_client(own_moto_server.url).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert uploader.status()["restarted_files"] >= 1, "NoSuchUpload was never noticed"
    _assert_stored_once(store, episode, spool / "uploaded")


def test_uploader_sigkilled_mid_upload_resumes_from_its_journal(
    tmp_path: Path, own_moto_server: MotoServer, make_bucket: Callable[[MotoServer], str]
) -> None:
    bucket = make_bucket(own_moto_server)
    proxy = FaultProxy(own_moto_server.port).start()
    spool = tmp_path / "spool"
    size = 8 * PART
    episode = add_episode(spool / "ready", "killed", size, triggered=True, seed=8)
    env = flywheel_env()
    command = [
        *FLYWHEEL, "upload", "--spool", str(spool),
        "--store", f"s3://{bucket}", "--endpoint-url", proxy.url, "--robot-id", "r1",
        "--part-size-mib", "5", "--once",
    ]  # fmt: skip
    try:
        first = subprocess.Popen(
            # One part on the wire at a time, slowly: the kill lands with at most one part
            # unconfirmed, so the resume may re-send at most that one.
            [*command, "--max-bytes-per-s", str(10 * MIB), "--parts-in-flight", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _journalled_parts(spool) >= 3, 30, "three journalled parts")
        first.send_signal(signal.SIGKILL)
        first.wait()
        sent_before = dict(proxy.part_requests)
        assert max(sent_before) < 8, "killed too late to test a resume"

        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "resuming episodes/r1/killed/bag/bag.mcap after part" in second.stderr
        # Parts confirmed before the kill were not sent again; at most the one in flight was.
        assert all(proxy.part_requests[n] == 1 for n in range(1, 3))
        assert proxy.resent_parts(8) <= 1
        _assert_stored_once(
            S3Store(bucket, endpoint_url=own_moto_server.url), episode, spool / "uploaded"
        )
    finally:
        proxy.stop()
