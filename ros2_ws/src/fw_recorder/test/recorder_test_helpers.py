"""Helpers for the recorder core tests: serialized messages, a bag reader, a manual clock."""

from __future__ import annotations

from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

TYPESTORE = get_typestore(Stores.ROS2_KILTED)


def cdr_string(text: str) -> bytes:
    msg = TYPESTORE.types["std_msgs/msg/String"](data=text)
    return bytes(TYPESTORE.serialize_cdr(msg, "std_msgs/msg/String"))


def read_bag(folder: Path) -> list[tuple[str, int, object]]:
    """(topic, timestamp, deserialized message) of every message, with rosbags' reader."""
    with AnyReader([folder]) as reader:
        return [
            (conn.topic, stamp, reader.deserialize(raw, conn.msgtype))
            for conn, stamp, raw in reader.messages()
        ]


class ManualClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now
