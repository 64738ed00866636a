"""Benchmark evaluation throughput: headless scenarios per minute, serial against Ray.

The same seeds run three ways in one process, each after a warm-up that is not timed:

* ``serial``: ``flywheel evaluate``'s default, one episode after another here;
* ``ray``: the same episodes as Ray tasks on a local Ray with ``--workers`` CPUs, started (and
  its workers' imports warmed) before the clock starts, so the figure is the steady state a long
  evaluation sees; Ray's own start-up is printed apart;
* the results of both are compared: they must be identical (the run fails otherwise).

Printed: scenarios per minute each way, the Ray/serial ratio against the target (1.6x with 2
workers), and per worker the sim time it simulated per wall second.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    export PYTHONPATH=$PWD/cloud_bridge:$PYTHONPATH
    flock /tmp/fw-bench.lock python bench/bench_evaluate.py --seeds 16
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from cloud_bridge.evaluate import evaluate
from cloud_bridge.evaluate.report import worker_throughput
from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import load_profile

TARGET_RATIO = 1.6


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=16, help="scenarios per timed run")
    parser.add_argument("--workers", type=int, default=2, help="Ray CPUs (workers)")
    parser.add_argument("--policy", default="classic", help="'classic' or an ONNX model")
    parser.add_argument("--time-limit", type=float, default=30.0, help="sim s per episode")
    args = parser.parse_args()
    profile = load_profile(default_profile_path("sim"))
    seeds = list(range(1000, 1000 + args.seeds))
    warmup = list(range(args.workers))
    options: dict[str, Any] = {"profile": profile, "time_limit": args.time_limit}

    _progress("serial warm-up")
    evaluate(args.policy, warmup, **options)
    _progress(f"serial: {len(seeds)} scenarios")
    start = time.perf_counter()
    serial = evaluate(args.policy, seeds, **options)
    serial_s = time.perf_counter() - start

    import ray

    start = time.perf_counter()
    ray.init(address="local", num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    ray_start_s = time.perf_counter() - start
    try:
        _progress("ray warm-up (worker imports)")
        evaluate(args.policy, warmup, ray_address="local", **options)
        _progress(f"ray: {len(seeds)} scenarios on {args.workers} workers")
        start = time.perf_counter()
        on_ray = evaluate(args.policy, seeds, ray_address="local", **options)
        ray_s = time.perf_counter() - start
    finally:
        ray.shutdown()

    if on_ray.episodes != serial.episodes:
        print("FAIL: Ray results differ from the serial results", file=sys.stderr)
        return 1
    serial_rate = 60.0 * len(seeds) / serial_s
    ray_rate = 60.0 * len(seeds) / ray_s
    ratio = ray_rate / serial_rate
    sim_s = sum(e.duration_s for e in serial.episodes)
    print(
        f"\n{len(seeds)} scenarios ({args.policy}, randomised, {sim_s:.0f} s of sim time), "
        f"Ray start-up {ray_start_s:.1f} s (not timed)"
    )
    print("| run | wall s | scenarios / min |")
    print("|---|---|---|")
    print(f"| serial | {serial_s:.1f} | {serial_rate:.1f} |")
    print(f"| ray, {args.workers} workers | {ray_s:.1f} | {ray_rate:.1f} |")
    verdict = "meets" if ratio >= TARGET_RATIO else "below"
    print(f"\nray / serial: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target), same results")
    print("\n| worker | episodes | sim s / wall s |")
    print("|---|---|---|")
    for label, report in (("serial", serial), ("ray", on_ray)):
        for worker, w in worker_throughput(report.timings).items():
            print(f"| {label} {worker} | {w['episodes']:.0f} | {w['sim_per_wall']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
