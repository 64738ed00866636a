"""Shutdown stress: a robot started as launch starts it (one process per node) and stopped
with SIGINT at random moments, start-up included, many times over.

Each cycle every process must exit 0 within the timeout, with no traceback and no [FATAL]
line; a process that hangs is asked for its threads' stacks (SIGUSR1) before it is killed,
and the failure shows them. ``FW_SHUTDOWN_CYCLES`` runs more cycles than the suite's few, e.g.
``FW_SHUTDOWN_CYCLES=30 python -m pytest tests/test_shutdown_stress.py``.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.system

NODES = ("sim", "perception", "policy", "safety", "actuator_bridge", "recorder")
CYCLES = int(os.environ.get("FW_SHUTDOWN_CYCLES", "3"))

#: A main thread stuck in rclpy's own ``Node.destroy_node`` (its ``destroy_when_not_in_use``),
#: after every callback returned and the node's own cleanup ran (the recorder had closed its
#: episode): seen twice in full-suite runs, in ``sim`` and ``recorder`` (1 process stop in
#: ~100); not reproduced in 39 cycles here, with and without CPU hogs. Reported as an expected
#: failure with the stacks, so that it stays visible, while any other hang or error fails.
_RCLPY_TEARDOWN_HANG = re.compile(
    r'Current thread [^\n]*\n\s+File "[^"]*/rclpy/node\.py", line \d+ in destroy_node\n'
)


@pytest.mark.parametrize("cycle", range(CYCLES))
def test_launch_like_stack_stops_cleanly_on_sigint(
    cycle: int, start_robot: Callable[..., Any]
) -> None:
    rng = random.Random(cycle)
    processes = [start_robot(nodes=node, name=f"{node}_{cycle}") for node in NODES]
    # Once every node has logged (a SIGINT before Python has even imported rclpy ends a
    # process with Python's own KeyboardInterrupt; SIGINT while a constructor runs is
    # tests in fw_common/test/test_spin.py), at a random moment of the stack's first seconds.
    for process in processes:
        assert process.wait_for_output("[INFO]", timeout=60), process.output()
    time.sleep(rng.uniform(0.0, 4.0))
    for process in processes:
        process.send_sigint()  # all at once, as launch does on Ctrl-C
    problems, rclpy_hangs = [], []
    for process in processes:
        code = process.stop(timeout=10.0)
        out = process.output()
        if process.hung and _RCLPY_TEARDOWN_HANG.search(out):
            rclpy_hangs.append(f"{process.name} hung in rclpy's destroy_node:\n{out[-2000:]}")
        elif process.hung:
            problems.append(f"{process.name} ignored SIGINT; its stacks:\n{out[-4000:]}")
        elif code != 0 or "Traceback" in out or "[FATAL]" in out:
            problems.append(f"{process.name} exited {code}:\n{out[-3000:]}")
    assert not problems, "\n\n".join(problems + rclpy_hangs)
    if rclpy_hangs:
        pytest.xfail("\n\n".join(rclpy_hangs))
