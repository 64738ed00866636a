"""Benchmark the episode uploader against plain boto3, and count what interruptions cost.

1. Throughput: one episode of ``--mb`` MB (one MCAP-sized file) through the whole uploader
   (scan and SHA-256 of the file, sqlite journal, one part at a time with its SHA-256 checked
   by the server, the composite checksum and size checked at completion, the manifest, the
   move to ``uploaded/``) against boto3's ``upload_file`` of the same bytes, with the same part
   size, to the same moto server in the same run. Runs alternate; the medians are compared.
   Target: the uploader at least 0.9x boto3.
2. Interruptions: the same upload through a proxy that cuts the connection at ``--cuts``
   random points; the parts sent again (counted by the proxy) and the bytes sent beyond one
   clean upload. Target: at most one part re-sent per cut.

    python bench/bench_upload.py               # 200 MB, 3 runs each, 10 cuts
    python bench/bench_upload.py --mb 50 --runs 1
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "cloud_bridge"))

from cloud_bridge.store import S3Store  # noqa: E402
from cloud_bridge.upload.config import MIB, UploaderConfig  # noqa: E402
from cloud_bridge.upload.uploader import EpisodeUploader  # noqa: E402
from support.episodes import add_episode  # noqa: E402
from support.fault_proxy import FaultProxy  # noqa: E402
from support.moto_server import TEST_CREDENTIALS, MotoServer, s3_client  # noqa: E402

BUCKET = "fw-bench"
PART = 8 * MIB


def _config() -> UploaderConfig:
    return UploaderConfig(
        robot_id="bench",
        part_size=PART,
        multipart_threshold=PART,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
        retain_uploaded_s=1e12,
    )


def _clear(client: object) -> None:
    paginator = client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    for page in paginator.paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])  # type: ignore[attr-defined]


def _uploader_run(work: Path, source: Path, url: str, n: int) -> tuple[float, float]:
    """Seconds (wall, and this process's CPU) for the uploader to take one episode
    (``source``'s file) from ready/ to uploaded/."""
    spool = work / f"spool{n}"
    folder = add_episode(spool / "ready", f"episode{n}", 0, seed=n)
    (folder / "bag" / "bag.mcap").unlink()
    os.link(source, folder / "bag" / "bag.mcap")  # the same bytes, no copy
    store = S3Store(BUCKET, endpoint_url=url)
    uploader = EpisodeUploader(spool, store, _config())
    start, cpu = time.perf_counter(), time.process_time()
    uploader.run(until_empty=True)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    status = uploader.status()
    uploader.close()
    assert status["uploaded_episodes"] == 1 and status["queue_episodes"] == 0, status
    shutil.rmtree(spool)
    return elapsed, cpu


def _boto3_run(source: Path, url: str, n: int) -> tuple[float, float]:
    from boto3.s3.transfer import TransferConfig

    client = s3_client(url)
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)
    start, cpu = time.perf_counter(), time.process_time()
    client.upload_file(str(source), BUCKET, f"plain/{n}.mcap", Config=config)  # type: ignore[attr-defined]
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="episode size (MB)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--cuts", type=int, default=10, help="connection cuts in part 2")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    # The retries after each cut log warnings; the figures are what this prints.
    logging.basicConfig(level=logging.ERROR)
    os.environ.update(TEST_CREDENTIALS)
    work = Path(tempfile.mkdtemp(prefix="fw-bench-upload-"))
    server = MotoServer(work / "moto.log").start()
    try:
        client = s3_client(server.url)
        client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
        size = args.mb * 1_000_000
        source = add_episode(work / "source", "source", size, seed=args.seed) / "bag" / "bag.mcap"

        ours, plain = [], []
        for n in range(args.runs):
            plain.append(_boto3_run(source, server.url, n))
            _clear(client)
            ours.append(_uploader_run(work, source, server.url, n))
            _clear(client)
        mb = size / 1e6
        ours_rate = mb / statistics.median(t for t, _ in ours)
        plain_rate = mb / statistics.median(t for t, _ in plain)
        print(f"== throughput, {args.mb} MB episode, {PART // MIB} MiB parts, {args.runs} runs")
        print(f"uploader (journal, checksums, verification): {ours_rate:7.1f} MB/s")
        print(f"boto3 upload_file (same bytes, same server): {plain_rate:7.1f} MB/s")
        print(f"ratio uploader / boto3: {ours_rate / plain_rate:.2f}  (target >= 0.9)")
        # The client's CPU (all its threads; the server's is apart): what a loaded host
        # takes from the throughput of each.
        ours_cpu = statistics.median(c for _, c in ours)
        plain_cpu = statistics.median(c for _, c in plain)
        print(f"client CPU per run: uploader {ours_cpu:.2f} s, boto3 {plain_cpu:.2f} s")

        # A clean run through the proxy gives the bytes one upload takes on the wire.
        clean = FaultProxy(server.port).start()
        _uploader_run(work, source, clean.url, 100)
        clean.stop()
        _clear(client)
        rng = random.Random(args.seed)
        cuts = sorted(rng.randrange(size // 50, size) for _ in range(args.cuts))
        proxy = FaultProxy(server.port, cut_at=cuts).start()
        _uploader_run(work, source, proxy.url, 101)
        proxy.stop()
        parts = -(-size // PART)
        resent = proxy.resent_parts(parts)
        print(f"== interruptions: {proxy.cuts_done} connection cuts during the upload")
        per_cut = resent / max(proxy.cuts_done, 1)
        print(f"parts re-sent: {resent} ({per_cut:.2f} per cut, target <= 1)")
        print(f"bytes re-sent: {(proxy.bytes_up - clean.bytes_up) / 1e6:.1f} MB")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
