"""An rclpy node inside the test process that watches topics, publishes and calls services.

It talks to the processes under test over real DDS, like any other node in the graph.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile

__all__ = ["MessageLog", "RosProbe"]

M = TypeVar("M")
# What rmw reports for an endpoint whose node it has not discovered yet.
_UNKNOWN_NAMESPACE = "_NODE_NAMESPACE_UNKNOWN_"


class MessageLog(Generic[M]):
    """Every message received on one subscription, with its arrival time (monotonic s)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.messages: list[M] = []
        self.arrivals: list[float] = []

    def _append(self, msg: M) -> None:
        with self._cond:
            self.messages.append(msg)
            self.arrivals.append(time.monotonic())
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self.messages)

    def latest(self) -> M | None:
        with self._cond:
            return self.messages[-1] if self.messages else None

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.arrivals.clear()

    def since(self, t_monotonic: float) -> list[M]:
        """Messages that arrived after ``t_monotonic``."""
        with self._cond:
            return [
                m for m, t in zip(self.messages, self.arrivals, strict=True) if t > t_monotonic
            ]

    def wait_for(
        self, predicate: Callable[[M], bool] = lambda _m: True, timeout: float = 10.0
    ) -> M | None:
        """The first message (received so far or later) for which ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        checked = 0
        with self._cond:
            while True:
                for msg in self.messages[checked:]:
                    if predicate(msg):
                        return msg
                checked = len(self.messages)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def wait_for_count(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


class RosProbe:
    """A test-side node spinning in a background thread on its own context."""

    def __init__(self, name: str = "test_probe", namespace: str = "/") -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = Node(name, namespace=namespace, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.context.ok() and not self._stop.is_set():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:
                if not self.context.ok():
                    return
                raise

    def subscribe(self, msg_type: type[M], topic: str, qos: QoSProfile | int) -> MessageLog[M]:
        log: MessageLog[M] = MessageLog()
        with self._lock:
            self.node.create_subscription(msg_type, topic, log._append, qos)
        return log

    def publisher(self, msg_type: type, topic: str, qos: QoSProfile | int) -> Any:
        with self._lock:
            return self.node.create_publisher(msg_type, topic, qos)

    def wait_for_subscribers(self, publisher: Any, count: int = 1, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if publisher.get_subscription_count() >= count:
                return True
            time.sleep(0.02)
        return False

    def publisher_namespaces(self, topic: str, timeout: float = 10.0) -> set[str]:
        """The namespaces of ``topic``'s publishers' nodes. Fast DDS can announce an endpoint
        before its participant's node names arrive, and rmw meanwhile reports the node as
        ``_NODE_NAMESPACE_UNKNOWN_``: wait (up to ``timeout``) until every one is known."""
        deadline = time.monotonic() + timeout
        while True:
            namespaces = {p.node_namespace for p in self.node.get_publishers_info_by_topic(topic)}
            known = namespaces and _UNKNOWN_NAMESPACE not in namespaces
            if known or time.monotonic() > deadline:
                return namespaces
            time.sleep(0.05)

    def call(self, srv_type: type, name: str, request: Any, timeout: float = 10.0) -> Any:
        """Call a service and return its response (raises TimeoutError)."""
        with self._lock:
            client = self.node.create_client(srv_type, name)
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise TimeoutError(f"service {name} not available")
            future = client.call_async(request)
            deadline = time.monotonic() + timeout
            while not future.done():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"service {name} did not answer")
                time.sleep(0.01)
            return future.result()
        finally:
            with self._lock:
                self.node.destroy_client(client)

    def topic_types(self) -> dict[str, list[str]]:
        return dict(self.node.get_topic_names_and_types())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()
