"""Benchmark the dataset build against a raw rosbags read of the same bags.

The golden episodes (``--copies`` of each, under distinct names) are uploaded to a folder store
by the robot's uploader, then, alternating, in the same run:

* **build**: ``build_dataset`` into a fresh folder with a fresh download cache: list the
  store, download and SHA-256-check every file, decode the loop's topics with rosbags, re-run
  the robot loop, write the Parquet shards, the statistics and the card;
* **raw read**: rosbags' ``AnyReader`` over the same bags (already on disk) deserializing every
  message of every topic, and nothing else; also over only the topics the build decodes.

Figures are steps/s: the dataset's rows over the median wall time of each. Target: the build
at least 0.5x the raw read of every topic.

    python bench/bench_dataset.py                 # 4 copies of each golden bag, 3 runs
    python bench/bench_dataset.py --copies 1 --runs 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "cloud_bridge"))

from rosbags.highlevel import AnyReader  # noqa: E402

from cloud_bridge.dataset import build_dataset, default_profile  # noqa: E402
from cloud_bridge.dataset.replay import EXPERT_TOPIC, POLICY_INFO_TOPIC  # noqa: E402
from cloud_bridge.store import LocalStore  # noqa: E402
from fw_bringup.recorded_inputs import LOOP_INPUTS  # noqa: E402
from support.dataset_bags import GOLDEN, upload_folders  # noqa: E402
from support.episodes import add_golden_episode  # noqa: E402

TARGET = 0.5


def raw_read(bags: list[Path], topics: set[str] | None = None) -> int:
    """Deserialize every message (of ``topics``) of ``bags``; how many."""
    count = 0
    for bag in bags:
        with AnyReader([bag]) as reader:
            connections = [c for c in reader.connections if topics is None or c.topic in topics]
            for conn, _, raw in reader.messages(connections=connections):
                reader.deserialize(raw, conn.msgtype)
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=4, help="copies of each golden bag")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="fw-bench-dataset-"))
    try:
        store = LocalStore(work / "store")
        ready = work / "spool" / "ready"
        for golden in GOLDEN:
            for copy in range(args.copies):
                add_golden_episode(ready, golden, name=f"{golden}_{copy}")
        local = work / "bags"
        shutil.copytree(ready, local)
        bags = sorted(p / "bag" for p in local.iterdir())
        upload_folders(store, work / "spool", robot_id="bench")
        profile = default_profile()
        used = {*LOOP_INPUTS, POLICY_INFO_TOPIC, EXPERT_TOPIC}

        build_s: list[float] = []
        raw_s: list[float] = []
        raw_used_s: list[float] = []
        steps = messages = 0
        for run in range(args.runs):
            start = time.perf_counter()
            card = build_dataset(store, work / f"ds{run}", profile=profile, cache=work / f"c{run}")
            build_s.append(time.perf_counter() - start)
            steps = card.steps
            start = time.perf_counter()
            messages = raw_read(bags)
            raw_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            raw_read(bags, used)
            raw_used_s.append(time.perf_counter() - start)
            shutil.rmtree(work / f"c{run}")
        build, raw, raw_used = (statistics.median(x) for x in (build_s, raw_s, raw_used_s))
        episodes = len(bags)
        print(f"{episodes} episodes, {messages} messages, {steps} steps; median of {args.runs}")
        print(f"dataset build          {steps / build:9.0f} steps/s  ({build:.2f} s)")
        print(f"raw read, every topic  {steps / raw:9.0f} steps/s  ({raw:.2f} s)")
        print(f"raw read, build topics {steps / raw_used:9.0f} steps/s  ({raw_used:.2f} s)")
        ratio = raw / build
        verdict = "meets" if ratio >= TARGET else "misses"
        print(f"build / raw read (every topic): {ratio:.2f}x, {verdict} the {TARGET}x target")
        print(f"build / raw read (build topics): {raw_used / build:.2f}x")
        return 0 if ratio >= TARGET else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
