"""Callbacks that end quietly when the node shuts down.

SIGINT shuts rclpy's context down at once, while the executor may still be running a callback
or about to run one: its next publish, log or graph query then raises because the context is
invalid, and the executor reports that as ``[FATAL] Exception in '...' callback``. A clean
exit prints no FATAL, so node callbacks go through :func:`while_running`: once the context is
down they do nothing, and an error raised by a callback whose context went down meanwhile is
swallowed (rclpy raises several types for it, none of them public). An error raised while the
context is still valid propagates as before.

Nodes get this for every subscription and timer by deriving from :class:`QuietShutdown`
first: ``class PerceptionNode(QuietShutdown, Node)``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

__all__ = ["QuietShutdown", "goes_down", "while_running"]

#: How long an invalid-context error may precede the context's own shutdown (s): rclpy's
#: signal handling invalidates the context from another thread, and a publish can fail a moment
#: before ``Context.ok()`` says so.
SHUTDOWN_GRACE_S = 1.0


def goes_down(context: Any, within_s: float = SHUTDOWN_GRACE_S) -> bool:
    """True when ``context`` is shut down, or shuts down within ``within_s`` (s)."""
    deadline = time.monotonic() + within_s
    while context.ok():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def while_running(node: Any, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` that does nothing once ``node``'s context is down, and swallows what it
    raises when a shutdown races with it."""

    @functools.wraps(callback)
    def guarded(*args: Any) -> Any:
        if not node.context.ok():
            return None
        try:
            return callback(*args)
        except KeyboardInterrupt:
            # SIGINT, raised by Python's handler inside whatever callback was running while
            # rclpy's own handler shuts the context down: the stop itself, not a failure. Should
            # the context stay up, nobody else will stop the node: pass it on.
            if goes_down(node.context):
                return None
            raise
        except Exception as exc:
            # Only an error that names the context waits for it to go down: any other error
            # while the context is valid is the callback's own, raised at once.
            racing = "context" in str(exc) and goes_down(node.context)
            if node.context.ok() and not racing:
                raise
            return None

    return guarded


class QuietShutdown:
    """Mixin for a ``Node`` (or lifecycle node): every subscription's and timer's callback is
    wrapped with :func:`while_running`. List it before the node class."""

    def create_subscription(
        self, msg_type: Any, topic: str, callback: Any, *args: Any, **kw: Any
    ) -> Any:
        return super().create_subscription(  # type: ignore[misc]
            msg_type, topic, while_running(self, callback), *args, **kw
        )

    def create_timer(self, timer_period_sec: float, callback: Any, *args: Any, **kw: Any) -> Any:
        return super().create_timer(  # type: ignore[misc]
            timer_period_sec, while_running(self, callback), *args, **kw
        )
