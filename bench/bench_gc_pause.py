"""Garbage-collector pauses in a robot process, with and without frozen start-up objects.

Builds one robot's nodes in this process as ``fw_bringup`` composes them (the sim profile as
shipped, every node but the simulator), then times full collections
(``gc.collect()``, what CPython runs now and then on its own, on whichever callback happens to
allocate; young collections are unaffected by the freeze and take microseconds either way):

* ``baseline``: every start-up object still in the collector, as a plain rclpy process is;
* ``frozen``: after ``fw_common.spin.freeze_startup_objects()``, which ``run_node`` calls once
  the nodes exist.

A full collection runs on the executor thread: its duration is a stall of every callback,
the control path's included. The ratio is baseline over frozen, measured in the same run.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    export AMENT_PREFIX_PATH=$PWD/ros2_ws/install
    flock /tmp/fw-bench.lock python bench/bench_gc_pause.py

Target: a full collection stalls the robot's process for less than one scan period (50 ms),
so that no scan waits behind it; well under it in practice.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

SCAN_PERIOD_MS = 50.0


def _time_collections(generation: int, repeats: int) -> np.ndarray:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gc.collect(generation)
        times.append((time.perf_counter() - start) * 1e3)
    return np.asarray(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="collections timed per case")
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", "162")
    import rclpy

    from fw_bringup.node_parameters import default_profile_path
    from fw_bringup.nodes import ROBOT_NODES
    from fw_bringup.robot import create_robot_nodes
    from fw_common.profile import load_profile
    from fw_common.spin import freeze_startup_objects

    profile = load_profile(default_profile_path("sim"))
    names = list(ROBOT_NODES)
    rclpy.init()
    try:
        nodes = create_robot_nodes(profile, names)
        tracked = len(gc.get_objects())
        base_full = _time_collections(2, args.repeats)
        freeze_startup_objects()
        left = len(gc.get_objects())
        frozen_full = _time_collections(2, args.repeats)
        for node in nodes:
            node.destroy_node()
    finally:
        rclpy.try_shutdown()
    print(f"nodes in this process: {', '.join(names)}")
    print(f"objects in the collector: {tracked} before the freeze, {left} after\n")
    print("| full collection | median (ms) | worst (ms) |")
    print("|---|---|---|")
    for label, times in (("baseline", base_full), ("frozen", frozen_full)):
        print(f"| {label} | {float(np.median(times)):.3f} | {float(times.max()):.3f} |")
    b, f = float(np.median(base_full)), float(np.median(frozen_full))
    print(f"\nbaseline / frozen (median): {b / f:.0f}×" if f > 0 else "")
    worst = float(frozen_full.max())
    verdict = "met" if worst < SCAN_PERIOD_MS else "NOT met"
    print(
        f"\ntarget (full collection < {SCAN_PERIOD_MS:g} ms, one scan period): {verdict} "
        f"(frozen worst {worst:.3f} ms; baseline worst {float(base_full.max()):.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
