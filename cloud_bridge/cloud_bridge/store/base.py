"""The object store interface every backend implements, and what it returns.

Semantics shared by the backends (the store tests run each of them against both):

- ``etag`` is opaque: compare it, pass it back to ``if_match``; never parse it.
- ``sha256`` is the hex SHA-256 of the whole object, recorded when it was written (``None`` when
  it was written without one, and always ``None`` in :meth:`ObjectStore.list`, which like S3's
  listing carries no metadata).
- ``put_bytes(if_none_match=True)`` creates or fails; ``put_bytes(if_match=etag)`` replaces only
  that version. A lost condition raises :class:`PreconditionFailed`, atomically: two writers
  racing on one key never both win.
- Multipart: ``create_multipart`` → ``upload_part`` (any order, a part may be re-sent) →
  ``complete_multipart`` with the parts in order. ``list_parts`` says what the store holds, so an
  upload resumes after a restart. An upload the store forgot raises :class:`NoSuchUpload`.
  ``upload_part(sha256=...)`` passes the digest ``data`` must have: the store refuses bytes
  that differ (:class:`IntegrityError`; S3 checks ``x-amz-checksum-sha256``).
  ``complete_multipart`` checks what the store assembled against the parts' digests (and
  against ``create_multipart(sha256=...)`` where the backend can), :class:`IntegrityError`
  when they differ.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["MultipartInfo", "ObjectInfo", "ObjectStore", "PartInfo"]


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object."""

    key: str
    #: Bytes.
    size: int
    #: Opaque version tag for conditional writes.
    etag: str
    #: Hex SHA-256 of the whole object, when recorded at write time.
    sha256: str | None
    #: Last write (epoch seconds).
    last_modified: float
    #: User metadata (lower-case keys, as S3 returns them).
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PartInfo:
    """One part of a multipart upload, as the store confirmed it."""

    #: 1-based, as in S3.
    part_number: int
    etag: str
    #: Bytes.
    size: int
    #: Hex SHA-256 of the part's bytes (verified by the store on receipt).
    sha256: str


@dataclass(frozen=True)
class MultipartInfo:
    """A multipart upload in progress."""

    key: str
    upload_id: str
    #: When it was created (epoch seconds).
    initiated: float


@runtime_checkable
class ObjectStore(Protocol):
    """A flat namespace of objects under one root (a folder, or an S3 bucket and prefix)."""

    #: Where the store is: ``file:///abs/path`` or ``s3://bucket/prefix``.
    @property
    def url(self) -> str: ...

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo: ...

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo]: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def delete(self, key: str) -> None: ...

    def download_file(self, key: str, path: Path) -> ObjectInfo: ...

    def create_multipart(
        self, key: str, *, sha256: str | None = None, metadata: dict[str, str] | None = None
    ) -> str: ...

    def upload_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        data: bytes,
        *,
        sha256: str | None = None,
    ) -> PartInfo: ...

    def list_parts(self, key: str, upload_id: str) -> builtins.list[PartInfo]: ...

    def complete_multipart(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[PartInfo],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo: ...

    def abort_multipart(self, key: str, upload_id: str) -> None: ...

    def list_multipart(self, prefix: str = "") -> builtins.list[MultipartInfo]: ...
