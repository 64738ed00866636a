"""The wall time of each stage of one flywheel iteration (issue 16's benchmark).

Runs ``flywheel run`` for one iteration (drive, dataset, train, evaluate, publish; no faulty
release, no leaderboard) on the demo's defaults unless told otherwise, in a fresh run folder,
then prints each stage's wall time as ``stages/<name>.json`` recorded it, and the total. Run
from the repository root in the workspace environment, alone on the host::

    flock /tmp/fw-bench.lock python bench/bench_flywheel_stages.py
    python bench/bench_flywheel_stages.py --robots 2 --episodes-per-robot 3 --keep runs/bench

An existing ``--keep`` folder is not reused (the stages would be skipped, not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, default=2)
    parser.add_argument("--episodes-per-robot", type=int, default=3)
    parser.add_argument("--eval-scenarios", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="run folder to keep (default: a temporary one)")
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        print(f"{args.keep} exists: its stages would be skipped, not timed", file=sys.stderr)
        return 2
    run_dir = args.keep or Path(tempfile.mkdtemp(prefix="fw-bench-flywheel-")) / "run"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "cloud_bridge"), env.get("PYTHONPATH", "")])
    command = [
        sys.executable, "-m", "cloud_bridge", "run", "--run-dir", str(run_dir),
        "--iterations", "1", "--no-faulty", "--leaderboard-scenarios", "0",
        "--robots", str(args.robots), "--episodes-per-robot", str(args.episodes_per_robot),
        "--eval-scenarios", str(args.eval_scenarios),
    ]  # fmt: skip
    started = time.monotonic()
    status = subprocess.run(command, env=env, check=False).returncode
    total = time.monotonic() - started
    print(
        f"\nflywheel run, one iteration, {args.robots} robots, {args.episodes_per_robot} "
        f"missions each, {args.eval_scenarios} held-out scenarios"
    )
    print(f"{'stage':14s} {'wall s':>8s}")
    for path in sorted((run_dir / "stages").glob("*.json"), key=lambda p: p.stat().st_mtime):
        record = json.loads(path.read_text())
        print(f"{record['name']:14s} {record['wall_s']:8.1f}")
    print(f"{'whole command':14s} {total:8.1f}  (exit status {status})")
    if args.keep is None:
        shutil.rmtree(run_dir.parent, ignore_errors=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
