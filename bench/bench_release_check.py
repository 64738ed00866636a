"""A release check on the robot: a TUF refresh that finds nothing new.

What the cloud agent does every poll when the channel has not moved: a new
``tuf.ngclient.Updater`` from the provisioned root, ``refresh()`` (root chain, timestamp, the
snapshot and targets from the local trusted cache), the channel's target info and its cached
pointer file (``ReleaseClient.check``). The baseline is the least any check can do: one plain
store ``head`` of ``timestamp.json``, timed in the same run on the same store. Both are timed
interleaved in rounds, so machine load hits both alike, on a folder store and, with
``--s3``, on moto's S3 server on 127.0.0.1 (started here; requires moto).

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd .. \\
        && export PYTHONPATH=$PWD/cloud_bridge:$PWD/tests:$PYTHONPATH
    flock /tmp/fw-bench.lock python bench/bench_release_check.py --checks 400 --s3

Target: a check under 50 ms (median) on the robot.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloud_bridge.releases import OnlineSigners, ReleaseClient, ReleaseRepository
from cloud_bridge.releases.command import card_for_model
from cloud_bridge.releases.keys import ROLES, generate_keys, key_path, load_signer
from cloud_bridge.store import LocalStore, ObjectStore
from fw_common.observation import DEFAULT_SPEC
from fw_policy.model_file import main as make_model

TARGET_MS = 50.0


def _repository(store: ObjectStore, folder: Path, model: bytes) -> Path:
    """A repository with one release on fleet/canary; the root file robots trust."""
    keys = folder / "keys"
    generate_keys(keys)
    signer = {role: load_signer(key_path(keys, role)) for role in ROLES}
    online = OnlineSigners(signer["snapshot"], signer["timestamp"])
    repo = ReleaseRepository(store)
    root = folder / "root.json"
    root.write_bytes(repo.initialise(signer["root"], signer["targets"], online))
    card = card_for_model("r1", model, code_version="bench")
    assert card.model_sha256 == hashlib.sha256(model).hexdigest()
    repo.publish(model, card, signer["targets"], online, channel=("fleet", "canary"))
    return root


def _measure(label: str, store: ObjectStore, folder: Path, model: bytes, args: Any) -> bool:
    root = _repository(store, folder, model)
    client = ReleaseClient(store, root, folder / "robot", DEFAULT_SPEC)
    client.stage(client.check("fleet", "canary").release)  # the robot runs r1 already
    timestamp_key = "tuf/metadata/timestamp.json"

    def check() -> None:
        assert client.check("fleet", "canary").release == "r1"

    def head() -> None:
        assert store.head(timestamp_key) is not None

    calls: dict[str, Callable[[], None]] = {"release check": check, "store head": head}
    times: dict[str, list[float]] = {name: [] for name in calls}
    for fn in calls.values():  # warm-up
        for _ in range(10):
            fn()
    per_round = max(args.checks // args.rounds, 1)
    for _ in range(args.rounds):
        for name, fn in calls.items():
            for _ in range(per_round):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    median = {name: statistics.median(t) * 1000 for name, t in times.items()}
    p95 = {name: sorted(t)[int(0.95 * len(t))] * 1000 for name, t in times.items()}
    print(f"== {label} ({per_round * args.rounds} calls each)")
    for name in calls:
        print(f"  {name:14s} median {median[name]:7.2f} ms   p95 {p95[name]:7.2f} ms")
    ratio = median["release check"] / median["store head"]
    ok = median["release check"] < TARGET_MS
    print(
        f"  release check = {ratio:.1f}x a plain head of timestamp.json; "
        f"target < {TARGET_MS:g} ms: {'met' if ok else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=400, help="timed calls per kind")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--s3", action="store_true", help="also on moto's S3 server")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_path = folder / "model.onnx"
        assert make_model(["mlp", str(model_path), "--version", "bench"]) == 0
        model = model_path.read_bytes()
        ok &= _measure("folder store", LocalStore(folder / "store"), folder / "local", model, args)
        if args.s3:
            import os

            from cloud_bridge.store import S3Store
            from support.moto_server import TEST_CREDENTIALS, MotoServer, s3_client

            os.environ.update(TEST_CREDENTIALS)
            server = MotoServer(folder / "moto.log").start()
            try:
                s3_client(server.url).create_bucket(Bucket="bench")  # type: ignore[attr-defined]
                store = S3Store("bench", "fleet", endpoint_url=server.url)
                ok &= _measure("moto S3 on 127.0.0.1", store, folder / "s3", model, args)
            finally:
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
