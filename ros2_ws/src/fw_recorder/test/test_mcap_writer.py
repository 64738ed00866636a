"""LeanMcapWriter writes the very file rosbags' McapWriter writes, and salvage still reads it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from recorder_test_helpers import cdr_string, read_bag
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.rosbag2.enums import CompressionFormat, CompressionMode

from fw_recorder.mcap_writer import KEEP_CHUNK_BUFFER_BYTES, LeanWriter
from fw_recorder.msgdefs import MessageDefinitions
from fw_recorder.salvage import salvage_mcap

DEFS = MessageDefinitions()


def _write(cls: type[Writer], folder: Path, compress: bool, payloads: list[bytes]) -> bytes:
    """Write ``payloads`` alternately on two topics, closing a chunk early now and then (as the
    recorder's flush does); the bytes of the .mcap file."""
    msgdef, rihs01 = DEFS.get("std_msgs/msg/String")
    writer = cls(folder / "bag", version=9, storage_plugin=StoragePlugin.MCAP)
    if compress:
        writer.set_compression(CompressionMode.STORAGE, CompressionFormat.ZSTD)
    writer.open()
    conns = [
        writer.add_connection(t, "std_msgs/msg/String", msgdef=msgdef, rihs01=rihs01)
        for t in ("/a", "/b")
    ]
    for i, data in enumerate(payloads):
        writer.write(conns[i % 2], 1_000 + i, data)
        if i % 97 == 96:
            writer.storage.close_chunk()  # type: ignore[union-attr]
    writer.close()
    return (folder / "bag" / "bag.mcap").read_bytes()


def _payloads() -> list[bytes]:
    rng = random.Random(6)
    small = [cdr_string("m" * rng.randrange(0, 30_000)) for _ in range(400)]
    # One message bigger than the kept chunk buffer (it is dropped, then reused buffers again),
    # then chunks that are shorter than the previous one (stale bytes behind the rewind).
    huge = os.urandom(KEEP_CHUNK_BUFFER_BYTES + 12_345)
    return [*small[:200], huge, *[cdr_string("s") for _ in range(50)], *small[200:]]


@pytest.mark.parametrize("compress", [False, True])
def test_same_file_as_rosbags(tmp_path: Path, compress: bool) -> None:
    payloads = _payloads()
    ours = _write(LeanWriter, tmp_path / "lean", compress, payloads)
    theirs = _write(Writer, tmp_path / "rosbags", compress, payloads)
    assert len(ours) == len(theirs)
    assert ours == theirs


def test_readers_see_every_message(tmp_path: Path) -> None:
    texts = [f"msg{i}" * (1 + i % 50) for i in range(300)]
    _write(LeanWriter, tmp_path, False, [cdr_string(t) for t in texts])
    assert [m.data for _, _, m in read_bag(tmp_path / "bag")] == texts
    salvaged = salvage_mcap(tmp_path / "bag" / "bag.mcap")
    assert salvaged.stopped == ""
    assert [data for _, _, data in salvaged.messages] == [cdr_string(t) for t in texts]


def test_cut_file_salvages_a_clean_prefix(tmp_path: Path) -> None:
    texts = [f"m{i:04d}" + "x" * 3000 for i in range(1000)]
    path = tmp_path / "bag" / "bag.mcap"
    _write(LeanWriter, tmp_path, False, [cdr_string(t) for t in texts])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a kill -9 halfway through a chunk record
    salvaged = salvage_mcap(path)
    assert salvaged.stopped  # it noticed the cut
    got = [bytes(d) for _, _, d in salvaged.messages]
    assert 0 < len(got) < len(texts)
    assert got == [cdr_string(t) for t in texts[: len(got)]]
