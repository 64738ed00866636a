"""rosbags' MCAP writer with fewer copies of each payload: the same file, byte for byte layout.

rosbags' :class:`~rosbags.rosbag2.storage_mcap.McapWriter` copies every message about five
times on its way to the file: into a per-message ``BytesIO`` record, from there into the
pending chunk, out of the chunk (``getvalue``), into a per-chunk ``BytesIO`` record, and
finally into the file. For a 0.9 MB image each of those transient buffers is a fresh
allocation above glibc's mmap threshold, so besides the copying every page of it is faulted
in and zeroed by the kernel, and how often that happens depends on which thread writes (glibc
arenas) and on what the process allocated before: in the recorder's writer thread it made the
write path miss its target against rosbags writing from a main thread.

:class:`LeanMcapWriter` writes the same records (message: op 0x05, chunk: op 0x06, same chunk
size of 1 MiB, same compression choice, same message indexes and summary) but

- writes each message record's 22-byte header and then the payload straight into the pending
  chunk (one copy, no per-message buffer);
- keeps one chunk buffer for the life of the bag (rewound, not reallocated, after each chunk;
  dropped if a single huge message grew it past :data:`KEEP_CHUNK_BUFFER_BYTES`);
- writes the chunk record's header and then the chunk body from a view of that buffer into the
  file (no ``getvalue`` copy, no per-chunk record buffer).

Crash safety is unchanged: a chunk reaches the file only whole, as with rosbags, and
:meth:`fw_recorder.episode_bag.EpisodeBag.flush` still closes the pending chunk and flushes.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Mapping
from io import SEEK_END, BytesIO
from typing import TYPE_CHECKING

from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.rosbag2.storage_mcap import McapWriter, PendingChunk

if TYPE_CHECKING:
    from rosbags.interfaces import Connection

__all__ = ["KEEP_CHUNK_BUFFER_BYTES", "LeanMcapWriter", "LeanWriter"]

#: A chunk is closed once its uncompressed body exceeds this (bytes); rosbags' value.
CHUNK_BYTES = 2**20
#: A chunk buffer that grew past this (bytes) for one huge message is freed, not kept.
KEEP_CHUNK_BUFFER_BYTES = 8 * 2**20

_OP_MESSAGE = 0x05
_OP_CHUNK = 0x06
_OP_MESSAGE_INDEX = 0x07
# op, record length, channel id, sequence, log time, publish time
_MESSAGE_HEADER = struct.Struct("<BQHIQQ")
_MESSAGE_FIXED = 2 + 4 + 8 + 8
# op, record length, start time, end time, uncompressed size, crc, compression string length
_CHUNK_HEADER = struct.Struct("<BQQQQII")
_U64 = struct.Struct("<Q")
_RECORD_HEADER = struct.Struct("<BQ")


class LeanMcapWriter(McapWriter):
    """:class:`McapWriter` that copies each payload once into the chunk and once to the file."""

    def write(self, connection: Connection, timestamp: int, data: bytes | memoryview) -> None:
        """Append one message (``timestamp`` in ns) to the pending chunk."""
        self.message_start_time = min(timestamp, self.message_start_time)
        self.message_end_time = max(timestamp, self.message_end_time)
        self.channel_stats[connection.id] += 1
        chunk = self.chunk
        chunk.message_start_time = min(timestamp, chunk.message_start_time)
        chunk.message_end_time = max(timestamp, chunk.message_end_time)
        bio = chunk.bio
        offset = bio.tell()
        chunk.msgs[connection.id].append((timestamp, offset))
        bio.write(
            _MESSAGE_HEADER.pack(
                _OP_MESSAGE, _MESSAGE_FIXED + len(data), connection.id, 0, timestamp, timestamp
            )
        )
        bio.write(data)
        if bio.tell() > CHUNK_BYTES:
            self.close_chunk()

    def close_chunk(self) -> None:
        """Write the pending chunk, its message indexes and keep its index for the summary."""
        chunk = self.chunk
        bio = chunk.bio
        size = bio.tell()
        compression = self.compression.encode()
        with bio.getbuffer() as whole, whole[:size] as body:
            compressed = self.compressor(body)  # type: ignore[arg-type]  # accepts buffers
            clen = len(compressed)
            out = self.bio
            chunk_start = out.tell()
            record_len = 8 + 8 + 8 + 4 + 4 + len(compression) + 8 + clen
            out.write(
                _CHUNK_HEADER.pack(
                    _OP_CHUNK,
                    record_len,
                    chunk.message_start_time,
                    chunk.message_end_time,
                    size,
                    0,
                    len(compression),
                )
            )
            out.write(compression)
            out.write(_U64.pack(clen))
            out.write(compressed)
            del compressed
        chunk_end = out.tell()

        offsets: list[tuple[int, int]] = []
        for cid, msgs in chunk.msgs.items():
            offsets.append((cid, out.tell()))
            index = struct.pack(f"<HI{2 * len(msgs)}Q", cid, len(msgs) * 16, *_flat(msgs))
            out.write(_RECORD_HEADER.pack(_OP_MESSAGE_INDEX, len(index)))
            out.write(index)

        rec = BytesIO()
        rec.write(
            struct.pack(
                "<QQQQI",
                chunk.message_start_time,
                chunk.message_end_time,
                chunk_start,
                chunk_end - chunk_start,
                len(offsets) * 10,
            )
        )
        for cid, offset in offsets:
            rec.write(struct.pack("<HQ", cid, offset))
        rec.write(_U64.pack(out.tell() - chunk_end))
        rec.write(struct.pack("<I", len(compression)) + compression)
        rec.write(struct.pack("<QQ", clen, size))
        self.chunks.append(rec)

        # Rewind rather than reallocate: the next chunk overwrites this one in place (its
        # length is always taken from tell(), never from the buffer's size).
        if bio.seek(0, SEEK_END) > KEEP_CHUNK_BUFFER_BYTES:
            bio = BytesIO()
        else:
            bio.seek(0)
        self.chunk = PendingChunk(2**63 - 1, 0, bio, defaultdict(list))


def _flat(msgs: list[tuple[int, int]]) -> list[int]:
    return [value for pair in msgs for value in pair]


class LeanWriter(Writer):
    """rosbags :class:`Writer` whose MCAP storage is :class:`LeanMcapWriter`."""

    STORAGE_PLUGINS: Mapping[StoragePlugin, type] = {
        **Writer.STORAGE_PLUGINS,
        StoragePlugin.MCAP: LeanMcapWriter,
    }
