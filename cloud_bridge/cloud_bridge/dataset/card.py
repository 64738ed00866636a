"""``card.json``: what a dataset holds and the hash that names its content."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

__all__ = ["DatasetCard", "content_sha256", "dataset_hash"]


def content_sha256(table: pa.Table) -> str:
    """SHA-256 of a table's content: its Arrow IPC stream (uncompressed), which depends only
    on the schema and the values, not on how a Parquet file happened to be encoded."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def dataset_hash(episode_digests: dict[str, str]) -> str:
    """SHA-256 over ``<episode key> <content sha256>`` lines in key order: the same episodes
    built by the same code give the same hash, however many builds added them."""
    lines = "".join(f"{key} {digest}\n" for key, digest in sorted(episode_digests.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass
class DatasetCard:
    """A dataset's card (``card.json``)."""

    #: :func:`dataset_hash` of its episodes' content.
    dataset_hash: str
    #: ``<robot_id>/<episode>`` of every episode in it, sorted.
    episodes: list[str]
    robots: list[str]
    #: Releases that drove (``""``: a classic policy).
    releases: list[str]
    #: Rows (control steps).
    steps: int
    spec_id: str
    #: Control steps per second (the grid of ``timestamp``).
    fps: float
    #: Parquet files under ``data/``, in order.
    shards: list[str]
    #: Episodes quarantined (``quarantine.json`` says why).
    quarantined: int
    #: When this card was written (ISO 8601, UTC).
    created_at: str
    #: The code that built it.
    code_version: str
    #: What the last build did: episodes ``decoded``, ``unchanged``, ``quarantined`` (new
    #: verdicts), ``pending`` (waiting for a release's model).
    last_build: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetCard:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
