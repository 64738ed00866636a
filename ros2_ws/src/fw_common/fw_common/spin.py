"""Running nodes: executor choice and a ``main`` that exits cleanly, as launch expects.

``rclpy.experimental.EventsExecutor`` halves message latency against the default executor, but
in the Kilted rclpy it only dispatches when driven by ``spin_once(timeout_sec=...)`` from the
main thread, so :func:`spin_until_shutdown` drives every executor that way. Older distros lack
it; ``auto`` then falls back to the single-threaded executor.

Once its nodes are built, a process moves everything made during start-up into the garbage
collector's permanent generation (:func:`freeze_startup_objects`): a robot's nodes composed in
one process hold tens of thousands of objects from rclpy, NumPy, onnxruntime and their own
modules, and a full collection that walks them all stalls every callback of the process for a
large part of a scan period.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from fw_common.shutdown import goes_down

__all__ = [
    "EXECUTOR_KINDS",
    "freeze_startup_objects",
    "make_executor",
    "run_node",
    "spin_until_shutdown",
]

EXECUTOR_KINDS = ("auto", "events", "single_threaded")


def make_executor(kind: str = "auto", context: Any = None) -> Any:
    """An executor by name: ``auto`` (events when available), ``events``, ``single_threaded``."""
    if kind not in EXECUTOR_KINDS:
        raise ValueError(f"unknown executor {kind!r}; known: {', '.join(EXECUTOR_KINDS)}")
    if kind in ("auto", "events"):
        try:
            from rclpy.experimental import EventsExecutor  # type: ignore[attr-defined]
        except ImportError:
            if kind == "events":
                raise
        else:
            return EventsExecutor(context=context)
    return SingleThreadedExecutor(context=context)


def freeze_startup_objects() -> None:
    """Collect once, then exempt every object alive now from future collections.

    Start-up objects (modules, classes, message types, loaded models) live as long as the
    process; left in the collector, every full collection walks them all, which with the
    robot's nodes in one process takes a large part of a scan period. Frozen, a full collection
    walks only what was made since, so callbacks are no longer stalled by it. The cost: a frozen
    object that later becomes part of an unreachable reference cycle is never freed (objects
    without cycles still are, by reference counting), e.g. a policy's first model after a swap;
    a one-off, bounded amount. :func:`run_node` unfreezes them when it shuts down, so that exit
    finalizes them (rclpy's context, whose Fast DDS participant owns a shared-memory segment).
    """
    gc.collect()
    gc.freeze()


def spin_until_shutdown(executor: Any, context: Any = None) -> None:
    """Spin from the calling (main) thread until the context shuts down (SIGINT included)."""
    ctx = context if context is not None else rclpy.get_default_context()
    try:
        while ctx.ok():
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # A callback that was running when SIGINT invalidated the context fails on its next
        # publish; the Kilted EventsExecutor reports that as a RuntimeError. SIGINT can also
        # land while the executor converts a message for a callback (pybind11 then reports
        # "Unable to convert call argument"), a moment before rclpy's signal handling shuts
        # the context down. Only an error while the context stays valid is a real one.
        if not goes_down(ctx):
            raise


def _context_stops_the_node(signum: int, frame: Any) -> None:
    """Python's side of SIGINT: nothing; rclpy's own handler shuts the context down."""


def run_node(
    factory: Callable[[], Node | Sequence[Node]],
    args: list[str] | None = None,
    executor_kind: str = "auto",
) -> int:
    """Initialise rclpy, build node(s), spin until SIGINT or shutdown, clean up; exit code 0.

    A node that fails to start (invalid parameters, unreadable model) is logged without a
    traceback and exits with code 1.
    """
    # `kill -USR1 <pid>` prints every thread's Python stack: how a hung node is diagnosed in
    # the field and by the shutdown stress test.
    if threading.current_thread() is threading.main_thread():
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        # rclpy's handler, installed by init, shuts the context down on SIGINT, which ends the
        # spin. Python's default handler would also raise KeyboardInterrupt wherever the main
        # thread is, inside rclpy's C++ too (an executor shutting down), which aborts the
        # process; a second SIGINT (a terminal's Ctrl-C, then launch's) did exactly that.
        signal.signal(signal.SIGINT, _context_stops_the_node)
    rclpy.init(args=args)
    nodes: list[Node] = []
    built = False
    try:
        try:
            made = factory()
        except Exception as exc:
            if not rclpy.ok():
                # SIGINT while the nodes were being built (launch stopping a robot that is
                # still starting): rclpy shut the context down under the constructor, which
                # then fails in whatever it was doing. A stop, not an error.
                return 0
            if isinstance(exc, ValueError | RuntimeError):
                print(f"[fatal] {exc}", file=sys.stderr)
                return 1
            raise
        built = True
        nodes = [made] if isinstance(made, Node) else list(made)
        freeze_startup_objects()
        executor = make_executor(executor_kind)
        for node in nodes:
            executor.add_node(node)
        spin_until_shutdown(executor)
        executor.shutdown()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # Ctrl-C in a terminal reaches a launched node twice (the terminal signals the whole
        # process group, then launch forwards SIGINT): a second one must not interrupt cleanup.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Frozen objects are never finalized, not even at exit: rclpy's context among them
        # would keep its Fast DDS participant from removing its shared-memory segment.
        gc.unfreeze()
        for node in nodes:
            node.destroy_node()
        if built:
            rclpy.try_shutdown()
        else:
            # SIGINT while the nodes were being built (launch stops a robot that is still
            # starting): shutting the context down destroys the half-built nodes, whose
            # destroy_node may reach for attributes __init__ never set. The process is on its
            # way out; what they could not release, exiting does.
            with contextlib.suppress(Exception):
                rclpy.try_shutdown()
    return 0
