"""Intra-process hand-off on real rclpy nodes: when it goes direct, and what still uses DDS."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node
from rclpy.serialization import serialize_message
from rclpy.subscription import Subscription

from fw_common import qos
from fw_common.intra_process import (
    ControlPublisher,
    DirectSubscription,
    control_subscription,
    release,
)

TOPIC = "fw/cmd_vel_raw"
#: A domain of this run's own, within Fast DDS's port range (domain ids above 232 are refused).
DOMAIN = 200 + os.getpid() % 30


@pytest.fixture
def context() -> Iterator[Context]:
    # Loopback only and a domain of its own: the DDS half of these tests must not meet others.
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    ctx = Context()
    rclpy.init(context=ctx, domain_id=DOMAIN)
    yield ctx
    ctx.try_shutdown()


def _twist(x: float) -> TwistStamped:
    msg = TwistStamped()
    msg.twist.linear.x = x
    return msg


def _spin_until(executor: SingleThreadedExecutor, done: object, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if callable(done) and done():
            return True
        executor.spin_once(timeout_sec=0.05)
    return False


def test_consumer_composed_after_its_producer_gets_messages_by_direct_call(
    context: Context,
) -> None:
    producer = Node("producer", context=context)
    consumer = Node("consumer", context=context)
    listener = Node("listener", context=context)  # e.g. the recorder: still served by DDS
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    got: list[TwistStamped] = []
    sub = control_subscription(consumer, TwistStamped, TOPIC, got.append, qos.COMMAND)
    assert isinstance(sub, DirectSubscription) and sub.topic == "/fw/cmd_vel_raw"
    heard: list[TwistStamped] = []
    listener.create_subscription(TwistStamped, TOPIC, heard.append, qos.COMMAND)
    executor = SingleThreadedExecutor(context=context)
    for node in (producer, consumer, listener):
        executor.add_node(node)
    assert _spin_until(executor, lambda: pub.publisher.get_subscription_count() >= 1)

    assert pub.publisher.get_subscription_count() == 2, "the direct consumer is on the graph"

    msg = _twist(0.5)
    pub.publish(msg)
    assert got == [msg] and got[0] is msg, "handed over synchronously, the same object"
    assert _spin_until(executor, lambda: len(heard) == 1)
    assert heard[0].twist.linear.x == 0.5
    for _ in range(10):
        executor.spin_once(timeout_sec=0.02)
    assert len(got) == 1 and sub.foreign == 0, "its own DDS copy is neither delivered nor foreign"

    # Another publisher on the topic (here another process's stand-in) is ignored, and counted.
    stranger = Node("stranger", context=context).create_publisher(TwistStamped, TOPIC, qos.COMMAND)
    stranger.publish(_twist(9.0))
    assert _spin_until(executor, lambda: sub.foreign == 1)
    assert len(got) == 1

    sub.destroy()
    pub.publish(_twist(1.0))
    assert len(got) == 1
    executor.shutdown()


def test_a_consumer_that_raises_does_not_stop_the_publish(context: Context) -> None:
    producer = Node("producer", context=context)
    consumer = Node("consumer", context=context)
    listener = Node("listener", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)

    def broken(_msg: TwistStamped) -> None:
        raise RuntimeError("consumer bug")

    control_subscription(consumer, TwistStamped, TOPIC, broken, qos.COMMAND)
    heard: list[TwistStamped] = []
    listener.create_subscription(TwistStamped, TOPIC, heard.append, qos.COMMAND)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(listener)
    assert _spin_until(executor, lambda: pub.publisher.get_subscription_count() >= 2)
    with pytest.raises(RuntimeError, match="consumer bug"):
        pub.publish(_twist(0.5))
    assert _spin_until(executor, lambda: len(heard) == 1), "the recorder still gets it"
    executor.shutdown()


def test_consumer_composed_first_subscribes_through_dds(context: Context) -> None:
    consumer = Node("consumer", context=context)
    got: list[TwistStamped] = []
    sub = control_subscription(consumer, TwistStamped, TOPIC, got.append, qos.COMMAND)
    assert isinstance(sub, Subscription)
    producer = Node("producer", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(producer)
    executor.add_node(consumer)
    assert _spin_until(executor, lambda: pub.publisher.get_subscription_count() >= 1)
    pub.publish(_twist(0.25))
    assert got == [], "not called directly"
    assert _spin_until(executor, lambda: len(got) == 1)
    executor.shutdown()


def test_other_namespaces_and_contexts_are_not_composed(context: Context) -> None:
    producer = Node("producer", namespace="robot_1", context=context)
    ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    other_ns = Node("consumer", namespace="robot_2", context=context)
    assert isinstance(
        control_subscription(other_ns, TwistStamped, TOPIC, print, qos.COMMAND), Subscription
    )
    same_ns = Node("consumer", namespace="robot_1", context=context)
    assert isinstance(
        control_subscription(same_ns, TwistStamped, TOPIC, print, qos.COMMAND),
        DirectSubscription,
    )
    other = Context()
    rclpy.init(context=other, domain_id=DOMAIN)
    try:
        elsewhere = Node("consumer", namespace="robot_1", context=other)
        assert isinstance(
            control_subscription(elsewhere, TwistStamped, TOPIC, print, qos.COMMAND),
            Subscription,
        )
    finally:
        other.try_shutdown()


def test_lifecycle_producer_hands_over_only_while_active(context: Context) -> None:
    producer = LifecycleNode("policy", context=context)
    consumer = Node("safety", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND, lifecycle=True)
    got: list[TwistStamped] = []
    control_subscription(consumer, TwistStamped, TOPIC, got.append, qos.COMMAND)
    pub.publish(_twist(1.0))
    assert got == [], "an inactive lifecycle publisher publishes nothing, directly included"
    producer.trigger_configure()
    producer.trigger_activate()
    pub.publish(_twist(2.0))
    assert [m.twist.linear.x for m in got] == [2.0]
    producer.trigger_deactivate()
    pub.publish(_twist(3.0))
    assert len(got) == 1


def test_destroyed_nodes_are_released(context: Context) -> None:
    producer = Node("producer", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    got: list[TwistStamped] = []
    consumer = Node("consumer", context=context)
    control_subscription(consumer, TwistStamped, TOPIC, got.append, qos.COMMAND)
    # What every composed node does in destroy_node: a dead consumer is no longer called ...
    release(consumer)
    consumer.destroy_node()
    pub.publish(_twist(1.0))
    assert got == []
    # ... and a dead producer no longer makes new consumers go direct.
    release(producer)
    producer.destroy_node()
    late = Node("late", context=context)
    assert isinstance(
        control_subscription(late, TwistStamped, TOPIC, print, qos.COMMAND), Subscription
    )


def test_serialized_copy_goes_to_dds_and_the_object_to_direct_consumers(
    context: Context,
) -> None:
    producer = Node("producer", context=context)
    consumer = Node("consumer", context=context)
    listener = Node("listener", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    assert not pub.needs_message
    heard: list[TwistStamped] = []
    listener.create_subscription(TwistStamped, TOPIC, heard.append, qos.COMMAND)
    executor = SingleThreadedExecutor(context=context)
    for node in (producer, consumer, listener):
        executor.add_node(node)
    assert _spin_until(executor, lambda: pub.publisher.get_subscription_count() >= 1)
    pub.publish(None, serialized=serialize_message(_twist(0.25)))  # nobody needs the object
    assert _spin_until(executor, lambda: len(heard) == 1)
    assert heard[0].twist.linear.x == 0.25

    got: list[TwistStamped] = []
    control_subscription(consumer, TwistStamped, TOPIC, got.append, qos.COMMAND)
    assert pub.needs_message
    msg = _twist(0.5)
    pub.publish(msg, serialized=serialize_message(msg))
    assert got == [msg]
    assert _spin_until(executor, lambda: len(heard) == 2)
    assert heard[1].twist.linear.x == 0.5
    with pytest.raises(ValueError, match="direct consumers need the message"):
        pub.publish(None, serialized=serialize_message(msg))
    assert got == [msg], "nothing handed over without the object"


def test_raw_consumers_get_the_bytes_direct_and_over_dds(context: Context) -> None:
    producer = Node("producer", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    direct_bytes: list[bytes] = []
    direct = control_subscription(
        Node("direct", context=context),
        TwistStamped,
        TOPIC,
        direct_bytes.append,
        qos.COMMAND,
        raw=True,
    )
    assert isinstance(direct, DirectSubscription) and direct.raw
    assert not pub.needs_message, "a raw consumer needs no message object"
    template = serialize_message(_twist(0.75))
    pub.publish(None, serialized=template)
    assert direct_bytes == [template], "the producer's own bytes, not a copy"
    msg = _twist(-0.5)
    pub.publish(msg)  # no bytes given: serialized once for the raw consumer
    assert direct_bytes[1] == serialize_message(msg)
    typed: list[TwistStamped] = []
    control_subscription(
        Node("typed", context=context), TwistStamped, TOPIC, typed.append, qos.COMMAND
    )
    assert pub.needs_message
    with pytest.raises(ValueError, match="direct consumers need the message"):
        pub.publish(None, serialized=template)
    assert len(direct_bytes) == 2 and typed == [], "nothing handed over without the object"

    release(producer)  # no producer: the raw callback is a raw DDS subscription
    remote_bytes: list[bytes] = []
    remote = Node("remote", context=context)
    sub = control_subscription(
        remote, TwistStamped, TOPIC, remote_bytes.append, qos.COMMAND, raw=True
    )
    assert isinstance(sub, Subscription) and sub.raw
    sender = Node("sender", context=context)
    plain = sender.create_publisher(TwistStamped, TOPIC, qos.COMMAND)
    executor = SingleThreadedExecutor(context=context)
    for node in (remote, sender):
        executor.add_node(node)
    assert _spin_until(executor, lambda: plain.get_subscription_count() >= 1)
    plain.publish(_twist(0.125))
    assert _spin_until(executor, lambda: len(remote_bytes) == 1)
    assert remote_bytes[0] == serialize_message(_twist(0.125))


def test_serialized_bytes_are_made_lazily_after_the_object_consumers(context: Context) -> None:
    producer = Node("producer", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    order: list[str] = []
    msg = _twist(0.25)

    def make() -> bytes:
        order.append("serialized")
        return serialize_message(msg)

    control_subscription(
        Node("typed", context=context),
        TwistStamped,
        TOPIC,
        lambda m: order.append("object"),
        qos.COMMAND,
    )
    pub.publish(msg, serialized=make)
    assert order == ["object", "serialized"], "the object consumer waited for serialization"
    control_subscription(
        Node("raw", context=context),
        TwistStamped,
        TOPIC,
        lambda d: order.append("bytes"),
        qos.COMMAND,
        raw=True,
    )
    order.clear()
    pub.publish(msg, serialized=make)
    assert order == ["object", "serialized", "bytes"], "made once, for the raw consumer and DDS"


def test_bytes_that_cannot_be_made_are_tried_once_and_the_error_kept(context: Context) -> None:
    producer = Node("producer", context=context)
    pub = ControlPublisher(producer, TwistStamped, TOPIC, qos.COMMAND)
    got: list[bytes] = []
    control_subscription(
        Node("raw", context=context), TwistStamped, TOPIC, got.append, qos.COMMAND, raw=True
    )
    calls: list[int] = []

    def broken() -> bytes:
        calls.append(1)
        raise ValueError("template slot overflow")

    with pytest.raises(ValueError, match="template slot overflow"):
        pub.publish(None, serialized=broken)
    assert calls == [1] and got == [], "made once, nothing delivered or published"
