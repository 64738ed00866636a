"""Read what is readable from a bag whose writer died (no MCAP summary, no metadata.yaml).

MCAP is a sequence of ``opcode (u8), length (u64 LE), body`` records; a crash cuts the last
one short. :func:`salvage_mcap` walks the records (and the records inside each chunk) up to the
first incomplete or corrupt one and returns every complete message. :func:`salvage_sqlite3`
reads a sqlite3 bag's tables (sqlite's journal rolls back the unfinished transaction).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rosbags.interfaces import Qos
from rosbags.rosbag2.metadata import parse_qos
from rosbags.rosbag2.storage_mcap import DECOMPRESSORS, get_qos

__all__ = ["SalvagedBag", "SalvagedTopic", "salvage_mcap", "salvage_sqlite3"]

_MAGIC = b"\x89MCAP0\r\n"
_OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE, _OP_CHUNK = 0x03, 0x04, 0x05, 0x06
_OP_FOOTER, _OP_DATA_END = 0x02, 0x0F


@dataclass
class SalvagedTopic:
    topic: str
    msgtype: str
    offered_qos: list[Qos]


@dataclass
class SalvagedBag:
    """Readable content of a partial bag."""

    #: topic id → topic.
    topics: dict[int, SalvagedTopic] = field(default_factory=dict)
    #: (topic id, timestamp (ns), serialized CDR), in file order.
    messages: list[tuple[int, int, bytes]] = field(default_factory=list)
    #: Why reading stopped early ("" when the file ended cleanly).
    stopped: str = ""


def _string(buf: memoryview, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", buf, pos)
    pos += 4
    if pos + n > len(buf):
        raise ValueError("string past end of record")
    return bytes(buf[pos : pos + n]).decode(), pos + n


class _McapScan:
    def __init__(self) -> None:
        self.schemas: dict[int, str] = {}
        self.bag = SalvagedBag()

    def records(self, buf: memoryview) -> Iterator[tuple[int, memoryview]]:
        pos = 0
        while pos < len(buf):
            if pos + 9 > len(buf):
                raise ValueError(f"record header cut short at byte {pos}")
            op = buf[pos]
            (length,) = struct.unpack_from("<Q", buf, pos + 1)
            start = pos + 9
            if start + length > len(buf):
                raise ValueError(f"record 0x{op:02x} cut short at byte {pos}")
            yield op, buf[start : start + length]
            pos = start + length

    def record(self, op: int, body: memoryview) -> bool:
        """Handle one record; False at the end of the data section."""
        if op == _OP_SCHEMA:
            (sid,) = struct.unpack_from("<H", body, 0)
            name, _ = _string(body, 2)
            self.schemas[sid] = name
        elif op == _OP_CHANNEL:
            cid, sid = struct.unpack_from("<HH", body, 0)
            topic, pos = _string(body, 4)
            _encoding, pos = _string(body, pos)
            (meta_len,) = struct.unpack_from("<I", body, pos)
            metadata = bytes(body[pos + 4 : pos + 4 + meta_len])
            msgtype = self.schemas.get(sid)
            if msgtype is None:
                raise ValueError(f"channel {topic} refers to unknown schema {sid}")
            self.bag.topics[cid] = SalvagedTopic(topic, msgtype, get_qos(metadata))
        elif op == _OP_MESSAGE:
            cid, _seq, log_time = struct.unpack_from("<HIQ", body, 0)
            if cid in self.bag.topics:
                self.bag.messages.append((cid, log_time, bytes(body[22:])))
        elif op == _OP_CHUNK:
            _start, _end, size, _crc = struct.unpack_from("<QQQI", body, 0)
            compression, pos = _string(body, 28)
            (clen,) = struct.unpack_from("<Q", body, pos)
            data = bytes(body[pos + 8 : pos + 8 + clen])
            if len(data) != clen:
                raise ValueError("chunk cut short")
            inner = DECOMPRESSORS[compression](data, size)
            # Decode the whole chunk before keeping any of it: a corrupt chunk adds nothing.
            mark = (len(self.bag.messages), dict(self.schemas), dict(self.bag.topics))
            try:
                for iop, ibody in self.records(memoryview(inner)):
                    self.record(iop, ibody)
            except (ValueError, struct.error, UnicodeDecodeError):
                del self.bag.messages[mark[0] :]
                self.schemas, self.bag.topics = mark[1], mark[2]
                raise
        elif op in (_OP_FOOTER, _OP_DATA_END):
            return False
        return True


def salvage_mcap(path: Path) -> SalvagedBag:
    """Every complete message of a (possibly truncated) MCAP file written by rosbags."""
    data = memoryview(path.read_bytes())
    if bytes(data[:8]) != _MAGIC:
        raise ValueError(f"{path}: not an MCAP file")
    scan = _McapScan()
    try:
        for op, body in scan.records(data[8:]):
            if not scan.record(op, body):
                break
    except (ValueError, struct.error, UnicodeDecodeError, KeyError) as exc:
        scan.bag.stopped = str(exc)
    return scan.bag


def salvage_sqlite3(path: Path) -> SalvagedBag:
    """Every committed message of a sqlite3 bag."""
    bag = SalvagedBag()
    conn = sqlite3.connect(f"file:{path}", uri=True)
    try:
        for tid, name, msgtype, qos_text in conn.execute(
            "SELECT id, name, type, offered_qos_profiles FROM topics"
        ):
            try:
                offered = parse_qos(qos_text) if qos_text else []
            except Exception:
                offered = []
            bag.topics[tid] = SalvagedTopic(name, msgtype, offered)
        for tid, stamp, blob in conn.execute(
            "SELECT topic_id, timestamp, data FROM messages ORDER BY id"
        ):
            if tid in bag.topics:
                bag.messages.append((tid, stamp, bytes(blob)))
    except sqlite3.DatabaseError as exc:
        bag.stopped = str(exc)
    finally:
        conn.close()
    return bag
