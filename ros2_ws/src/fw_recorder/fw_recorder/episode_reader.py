"""Reading an episode's messages back with rosbags, as every consumer of the spool should.

Real drivers publish through rmw_fastrtps, whose Fast CDR appends 4 uninitialised bytes after an
empty ``float64[]`` at the end of a message (a ``JointState`` without ``effort``:
eProsima/Fast-CDR#299). The recorder keeps what was sent, byte for byte, and rosbags refuses such
a message ("CDR message size mismatch"); :func:`deserialize` accepts exactly that tail and
nothing more, so a bag from a real robot reads like one from the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rosbags.highlevel import AnyReader
from rosbags.serde import SerdeError

__all__ = ["FAST_CDR_TAIL", "deserialize", "read_episode"]

#: The bytes Fast CDR appends after an empty trailing sequence of 8-byte values.
FAST_CDR_TAIL = 4


def deserialize(typestore: Any, raw: bytes | memoryview, msgtype: str) -> Any:
    """``raw`` (CDR) as a rosbags message of ``msgtype``; raises ``SerdeError`` when it is not
    one, with or without Fast CDR's 4-byte tail."""
    try:
        return typestore.deserialize_cdr(raw, msgtype)
    except SerdeError as exc:
        # rosbags (pinned) says "size mismatch" when bytes are left over after the message.
        if "size mismatch" not in str(exc) or len(raw) < 4 + FAST_CDR_TAIL:
            raise
        try:
            return typestore.deserialize_cdr(raw[: len(raw) - FAST_CDR_TAIL], msgtype)
        except SerdeError:
            raise exc from None


def read_episode(folder: Path) -> Iterator[tuple[str, int, Any]]:
    """``(topic, receive time (ns), message)`` of every message of an episode (its folder, or
    its ``bag/``), in time order."""
    bag = folder / "bag" if (folder / "bag").is_dir() else folder
    with AnyReader([bag]) as reader:
        for conn, t_ns, raw in reader.messages():
            yield conn.topic, t_ns, deserialize(reader.typestore, raw, conn.msgtype)
