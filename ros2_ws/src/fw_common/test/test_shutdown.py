"""Node callbacks end quietly when the context goes down, and fail loudly while it is up."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import rclpy
from rclpy.context import Context
from rclpy.node import Node
from std_msgs.msg import String

from fw_common.shutdown import QuietShutdown, while_running


@pytest.fixture
def context() -> Iterator[Context]:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    ctx = Context()
    rclpy.init(context=ctx, domain_id=200 + os.getpid() % 30)
    yield ctx
    ctx.try_shutdown()


class _Talker(QuietShutdown, Node):
    def __init__(self, context: Context) -> None:
        super().__init__("talker", context=context)
        self.pub = self.create_publisher(String, "chatter", 10)
        self.timer = self.create_timer(0.01, self.talk)
        self.sub = self.create_subscription(String, "chatter", self.hear, 10)
        self.calls = 0

    def talk(self) -> None:
        self.calls += 1
        self.pub.publish(String(data="hi"))

    def hear(self, msg: String) -> None:
        raise ValueError(f"a real bug with {msg.data}")


def test_a_publish_after_shutdown_is_swallowed_and_later_calls_do_nothing(
    context: Context,
) -> None:
    node = _Talker(context)
    node.timer.callback()  # the wrapped callback, as the executor calls it
    assert node.calls == 1
    context.try_shutdown()
    node.timer.callback()  # context down: nothing runs, nothing raises
    assert node.calls == 1
    # A callback already running when the context went down: its publish fails, quietly.
    raw = while_running(node, lambda: node.pub.publish(String(data="late")))
    calls = []
    guarded = while_running(node, lambda: calls.append(1))
    guarded()
    assert calls == []
    assert raw() is None


def test_an_error_while_the_context_is_up_still_propagates(context: Context) -> None:
    node = _Talker(context)
    try:
        with pytest.raises(ValueError, match="a real bug"):
            node.sub.callback(String(data="x"))
    finally:
        node.destroy_node()


def test_sigint_inside_a_callback_is_the_stop_not_a_failure(context: Context) -> None:
    """Python raises KeyboardInterrupt in whatever callback runs when SIGINT lands, while
    rclpy's handler shuts the context down: the executor must not see it (it logs FATAL)."""
    node = _Talker(context)

    def interrupted() -> None:
        context.try_shutdown()  # what rclpy's signal handler does
        raise KeyboardInterrupt

    assert while_running(node, interrupted)() is None
    # With the context still up, nothing else stops the node: the interrupt propagates.
    other = Context()
    rclpy.init(context=other, domain_id=200 + os.getpid() % 30)
    try:
        alive = Node("alive", context=other)

        def interrupted_alone() -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            while_running(alive, interrupted_alone)()
        alive.destroy_node()
    finally:
        other.try_shutdown()
