"""Replay harness: play a golden bag's raw topics into a stage (core or real node) and compare
its outputs with what the bag recorded, message by message (matched by header stamp).

A *stage* is "topic in → topic out": ``Stage(inputs=[...], output=...)``. ``replay_core`` feeds
deserialized inputs to a Python callable (the stage's core); ``replay_node`` publishes the raw
CDR into a running node over DDS with the recorded QoS and collects what it publishes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rclpy.serialization import deserialize_message
from rosbags.highlevel import AnyReader

__all__ = ["RecordedMessage", "decoded_bag", "read_bag", "stamp_ns"]


@dataclass(frozen=True)
class RecordedMessage:
    topic: str
    msgtype: str
    t_ns: int  #: receive time in the bag (ns)
    raw: bytes  #: serialized CDR, exactly as recorded


def read_bag(folder: Path) -> list[RecordedMessage]:
    """Every message of the episode's bag in time order."""
    bag = folder / "bag" if (folder / "bag").is_dir() else folder
    with AnyReader([bag]) as reader:
        return [
            RecordedMessage(conn.topic, conn.msgtype, t, bytes(raw))
            for conn, t, raw in reader.messages()
        ]


def message_class(msgtype: str) -> Any:
    import importlib

    pkg, _, name = msgtype.partition("/msg/")
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def decode(msg: RecordedMessage) -> Any:
    return deserialize_message(msg.raw, message_class(msg.msgtype))


@functools.lru_cache(maxsize=4)
def decoded_bag(folder: Path) -> list[tuple[str, int, Any]]:
    """``(topic, receive time ns, message)`` for every message of the episode, in order
    (cached: several tests replay the same bag)."""
    return [(m.topic, m.t_ns, decode(m)) for m in read_bag(folder)]


def stamp_ns(msg: Any) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def replay_core(
    messages: list[RecordedMessage], inputs: set[str], feed: Callable[[str, Any], Any]
) -> list[Any]:
    """Feed each input message (deserialized) to ``feed(topic, msg)`` in recorded order; the
    non-None results are the stage's outputs."""
    outputs = []
    for m in messages:
        if m.topic in inputs:
            out = feed(m.topic, decode(m))
            if out is not None:
                outputs.append(out)
    return outputs


#: How far behind its schedule the player may fall before it pauses the bag's time (s): more
#: than scheduling jitter, well under the nodes' input timeouts.
MAX_LAG_S = 0.02


def play(
    probe: Any,
    messages: list[RecordedMessage],
    inputs: dict[str, Any],
    rate_factor: float = 1.0,
    settle_s: float = 2.0,
    subscribers: dict[str, int] | None = None,
) -> None:
    """Publish the recorded raw CDR of the ``inputs`` topics (topic → QoS) into the graph with
    the recorded spacing divided by ``rate_factor``; returns ``settle_s`` after the last one.
    With ``/clock`` among the inputs, nodes on ``use_sim_time`` run on the bag's time.

    Playing starts once every input has ``subscribers[topic]`` subscriptions matched (default
    1), so that no node misses the start of a best-effort stream it shares with another."""
    types = {m.topic: m.msgtype for m in messages}
    pubs = {
        t: probe.publisher(message_class(types[t]), t, q) for t, q in inputs.items() if t in types
    }
    for topic, pub in pubs.items():
        need = (subscribers or {}).get(topic, 1)
        assert probe.wait_for_subscribers(pub, need, timeout=30), f"{topic}: < {need} subscribers"
    selected = [m for m in messages if m.topic in pubs]
    clock = next((m for m in selected if m.topic == "/clock"), None)
    time.sleep(0.5)
    if clock is not None:
        # Nodes on sim time read 0 until their first /clock: a sensor message taken then would
        # look stale to a watchdog once the bag's time arrives. Start the clock first (a few
        # times: best effort), and leave out what the recorder received before its own clock
        # ran (stamped 0 in the bag: no time to replay it at).
        for _ in range(3):
            pubs["/clock"].publish(clock.raw)
            time.sleep(0.1)
        selected = [m for m in selected if m.t_ns >= clock.t_ns]
    time.sleep(0.5)
    t0_bag = selected[0].t_ns
    t0 = time.monotonic()
    for m in selected:
        delay = (m.t_ns - t0_bag) / 1e9 / rate_factor - (time.monotonic() - t0)
        if delay > 0:
            time.sleep(delay)
        elif -delay > MAX_LAG_S:
            # This process stalled (a loaded host). Catching up would publish the missed
            # messages in a burst, and a node's executor may then take several /clock messages
            # before the teleop or scan between them, so that input looks stale on the bag's
            # own time. Pause the bag's time instead: the nodes run on it, so to them the
            # stall never happened.
            t0 += -delay
        pubs[m.topic].publish(m.raw)  # raw CDR, as recorded
    time.sleep(settle_s)


def replay_node(
    probe: Any,
    messages: list[RecordedMessage],
    inputs: dict[str, Any],
    output: str,
    output_type: Any,
    output_qos: Any,
    rate_factor: float = 1.0,
    settle_s: float = 2.0,
) -> list[Any]:
    """:func:`play` the recorded ``inputs`` into a running node and return what appears on
    ``output``."""
    log = probe.subscribe(output_type, output, output_qos)
    play(probe, messages, inputs, rate_factor, settle_s)
    return list(log.messages)
