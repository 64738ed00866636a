"""In-process hand-off for the control path: a composed consumer gets the message by direct call.

rclpy has no intra-process communication. Between two nodes of one process a message is
serialized, crosses DDS, and then waits in the executor's queue behind every event that arrived
first: in the composed robot the scan → perception → policy → safety chain was three queued hops
with odometry, IMU and timer events landing between them, twice the latency of bare relays
(docs/BENCHMARKS.md, "Control latency"). On the topics of that chain the producer therefore also
calls a consumer composed into the same process directly, as rclcpp's intra-process
communication does, and that consumer takes the topic only from it. The message is still
published as usual, right after, for everyone else: the recorder, tools, other processes.

A consumer goes direct only when, as it subscribes, a producer of the same resolved topic
already exists in the same context, i.e. when nodes are composed upstream first (fw_bringup
builds them in pipeline order). Otherwise it subscribes through DDS as any node does. A direct
consumer then ignores every other publisher on that topic, and says so (see
:class:`DirectSubscription`): on the control path each of these topics has exactly one producer
by design, and a second one would fight the first.

Callbacks run synchronously inside the producer's callback, on the producer's thread; the
message is the producer's object, so consumers read it and must not modify it, and a reference
they keep sees the producer refill the same object later. Both are safe only when the composed
nodes share one single-threaded executor, which is what fw_common.spin and fw_bringup run; do
not compose these nodes on a multi-threaded executor. Every node using this module calls
:func:`release` from ``destroy_node``.

Example::

    pub = ControlPublisher(node, LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
    pub.publish(msg)  # any direct consumer, then DDS
    sub = control_subscription(other_node, LaserScan, topics.PERCEPTION_SCAN, on_scan, qos.SENSOR)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from rclpy.qos import ReliabilityPolicy
from rclpy.serialization import serialize_message

__all__ = [
    "ControlPublisher",
    "DirectSubscription",
    "control_subscription",
    "release",
    "set_enabled",
]


class _Topic:
    """One resolved topic in one context: its local producers and direct consumers."""

    def __init__(self) -> None:
        self.producers: list[ControlPublisher] = []
        self.consumers: list[DirectSubscription] = []


#: rclpy Context → resolved topic name → _Topic. Entries hold nodes (and so their context)
#: until :func:`release`, which every node using this module calls from ``destroy_node``.
_TOPICS: weakref.WeakKeyDictionary[Any, dict[str, _Topic]] = weakref.WeakKeyDictionary()
_enabled = True


def set_enabled(enabled: bool) -> None:
    """Allow direct hand-off (the default) or not, for consumers created from now on: e.g. to
    measure what it saves (``bringup --no-intra-process``)."""
    global _enabled
    _enabled = enabled


def _topic(node: Any, topic: str) -> tuple[str, _Topic]:
    name = node.resolve_topic_name(topic)
    return name, _TOPICS.setdefault(node.context, {}).setdefault(name, _Topic())


def release(node: Any) -> None:
    """Detach everything ``node`` produces or consumes directly: call it from ``destroy_node``,
    or a later consumer would go direct to a dead producer and a dead consumer would still be
    called."""
    topics = _TOPICS.get(node.context, {})
    for name in list(topics):
        entry = topics[name]
        entry.producers = [p for p in entry.producers if p.node is not node]
        entry.consumers = [c for c in entry.consumers if c.node is not node]
        if not entry.producers and not entry.consumers:
            del topics[name]


class ControlPublisher:
    """A publisher (or lifecycle publisher) that also hands each message to direct consumers.

    A lifecycle publisher hands messages over only while it is activated, as it publishes.
    """

    def __init__(
        self, node: Any, msg_type: type, topic: str, qos: Any, *, lifecycle: bool = False
    ) -> None:
        create = node.create_lifecycle_publisher if lifecycle else node.create_publisher
        self.publisher = create(msg_type, topic, qos)
        self.node = node
        self._lifecycle = lifecycle
        self.topic, self._entry = _topic(node, topic)
        self._entry.producers.append(self)

    @property
    def needs_message(self) -> bool:
        """Whether a consumer in this process takes the message object by direct call (a raw
        consumer takes the serialized bytes instead)."""
        return any(not consumer.raw for consumer in self._entry.consumers)

    def publish(self, msg: Any, serialized: bytes | Callable[[], bytes] | None = None) -> None:
        """Hand ``msg`` to direct consumers, then publish it. Consumers first: the control
        path's next hop should not wait for serialization and for DDS delivering the message
        to in-process readers (the recorder) on this thread. A consumer that raises still
        lets the message be published (and the error propagates, as a callback's would).

        ``serialized``: the same message already serialized (a ``SerializedTemplate``'s
        bytes), or a function that makes them, called once and only when they are needed
        (for a raw consumer, else after the direct consumers, for DDS). Raw consumers get
        those bytes and they are published instead of converting ``msg``; ``msg`` may then be
        None unless :attr:`needs_message`. Without it, raw consumers get ``msg`` serialized
        once, and that is what is published."""
        make = serialized if callable(serialized) else None
        data = None if make is not None else serialized
        try:
            if not self._lifecycle or self.publisher.is_activated:
                consumers = tuple(self._entry.consumers)
                if msg is None and any(not consumer.raw for consumer in consumers):
                    raise ValueError(f"{self.topic}: direct consumers need the message")
                for consumer in consumers:
                    if not consumer.raw:
                        consumer.deliver(msg)
                        continue
                    if data is None:
                        produce, make = make, None  # called once, even if it raises
                        data = produce() if produce is not None else serialize_message(msg)
                    consumer.deliver(data)
        finally:
            if make is not None:
                produce, make = make, None
                data = produce()
            if data is not None or msg is not None:  # nothing to publish if the bytes failed
                self.publisher.publish(msg if data is None else data)

    def destroy(self) -> None:
        """Destroy the publisher; direct consumers stay attached to the topic (a producer made
        again, e.g. by a lifecycle node's next configure, serves them)."""
        if self in self._entry.producers:
            self._entry.producers.remove(self)
        if self._lifecycle:
            self.node.destroy_lifecycle_publisher(self.publisher)
        else:
            self.node.destroy_publisher(self.publisher)


class DirectSubscription:
    """A consumer attached to an in-process producer (see the module docstring).

    On a reliable topic (the commands) it also keeps a raw (undeserialized) DDS subscription,
    so that the graph shows the consumer (``ros2 topic info``, readiness checks) and so that a
    message from any other publisher on the topic is reported instead of silently ignored:
    each message handed over directly is expected once more from DDS; one beyond that came from
    elsewhere. Best-effort topics (perception's outputs) get none: a lost copy would mask a
    stranger anyway, and at 120 messages a second the witness's events added load to the very
    executor the hand-off relieves.
    """

    def __init__(
        self,
        node: Any,
        msg_type: type,
        topic: str,
        entry: _Topic,
        callback: Callable[[Any], None],
        qos: Any,
        raw: bool = False,
    ) -> None:
        self.node = node
        self.topic = topic
        #: The callback takes the serialized message (as a ``raw=True`` subscription's does).
        self.raw = raw
        self._entry = entry
        self._expected = 0
        self.foreign = 0
        self._callback = callback
        self._witness = None
        if qos.reliability == ReliabilityPolicy.RELIABLE:
            self._witness = node.create_subscription(
                msg_type, topic, self._witnessed, qos, raw=True
            )
        entry.consumers.append(self)

    def deliver(self, msg: Any) -> None:
        """Called by the producer: the message now, its DDS copy expected later."""
        self._expected += 1
        self._callback(msg)

    def _witnessed(self, _raw: bytes) -> None:
        if self._expected > 0:
            self._expected -= 1
            return
        self.foreign += 1
        self.node.get_logger().warning(
            f"{self.topic}: ignored a message from another publisher ({self.foreign} so far); "
            "this node takes the topic only from the producer composed with it",
            throttle_duration_sec=5.0,
        )

    def destroy(self) -> None:
        if self in self._entry.consumers:
            self._entry.consumers.remove(self)
        if self._witness is not None:
            self.node.destroy_subscription(self._witness)


def control_subscription(
    node: Any,
    msg_type: type,
    topic: str,
    callback: Callable[[Any], None],
    qos: Any,
    raw: bool = False,
) -> Any:
    """A :class:`DirectSubscription` when a producer of ``topic`` is composed into this process
    already, else ``node.create_subscription(...)``. Destroy a direct one with ``destroy()``.
    ``raw``: ``callback`` takes the serialized message (e.g. read with fw_common.cdr_fields),
    direct or over DDS alike, instead of rclpy's Python message: the producer's bytes when it
    has them (a ``SerializedTemplate``), so neither side builds the Python message."""
    name, entry = _topic(node, topic)
    if _enabled and entry.producers:
        node.get_logger().info(f"{name}: direct from the producer in this process")
        return DirectSubscription(node, msg_type, name, entry, callback, qos, raw)
    return node.create_subscription(msg_type, topic, callback, qos, raw=raw)
