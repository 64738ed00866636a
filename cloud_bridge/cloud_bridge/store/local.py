"""``LocalStore``: the object store as a folder, the embedded default (and the test double of
S3 that is not a mock: the store tests run every case against both backends).

Layout under the root: each object is a file at its key; ``.fwstore/`` holds what S3 keeps
beside an object: ``meta/<key>.json`` (etag, sha256, user metadata), ``uploads/<id>/`` (the
parts of multipart uploads in progress), ``tmp/`` (files being written, renamed into place) and
``lock``. Conditional writes are atomic across processes: every write holds an exclusive
``flock`` on ``lock`` while it checks the condition and renames the new file into place; readers
hold it shared, so they never see content and metadata of two different versions. The etag is
the content's SHA-256.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from cloud_bridge.store.base import MultipartInfo, ObjectInfo, PartInfo
from cloud_bridge.store.errors import (
    IntegrityError,
    InvalidKey,
    NoSuchUpload,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from cloud_bridge.store.keys import validate_key, validate_prefix

__all__ = ["INTERNAL_DIR", "LocalStore"]

#: The folder (under the root) that holds metadata, multipart parts and temporary files; no key
#: may start with it.
INTERNAL_DIR = ".fwstore"
_CHUNK = 1 << 20


_F = TypeVar("_F", bound=Callable[..., Any])


def _os_errors_unavailable(method: _F) -> _F:
    """A disk that is full, gone or read-only is a store that is unavailable (retry later);
    the store's own verdicts (not found, precondition, key) pass through."""

    @functools.wraps(method)
    def wrapper(self: LocalStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except OSError as exc:
            raise StoreUnavailable(
                f"{method.__name__} in {self.url}: {exc.strerror or type(exc).__name__}"
            ) from None

    return wrapper  # type: ignore[return-value]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class LocalStore:
    """An object store in the folder ``root`` (created if missing)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self._internal = self.root / INTERNAL_DIR
        for sub in ("meta", "uploads", "tmp"):
            (self._internal / sub).mkdir(parents=True, exist_ok=True)
        self._lock_path = self._internal / "lock"
        self._lock_path.touch(exist_ok=True)

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({self.url})"

    # -- paths and locking -------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/", 1)[0] == INTERNAL_DIR:
            raise InvalidKey(f"key {key!r} is inside the store's internal folder")
        path = self.root / key
        # A symlinked folder inside the root must not lead a key outside it.
        real = os.path.realpath(path)
        if not real.startswith(str(self.root) + os.sep):
            raise InvalidKey(f"key {key!r} resolves outside the store")
        return path

    def _meta_path(self, key: str) -> Path:
        return self._internal / "meta" / (key + ".json")

    def _tmp_path(self) -> Path:
        return self._internal / "tmp" / uuid.uuid4().hex

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        with self._lock_path.open("rb") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read_meta(self, key: str, path: Path) -> dict[str, Any]:
        try:
            meta = json.loads(self._meta_path(key).read_text())
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict) or "etag" not in meta:
            # A file put into the folder by hand: its content is its version.
            digest = _sha256_file(path)
            meta = {"etag": digest, "sha256": digest, "metadata": {}}
        return meta

    def _info(self, key: str, path: Path, with_meta: bool = True) -> ObjectInfo:
        stat = path.stat()
        meta = self._read_meta(key, path)
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=str(meta["etag"]),
            sha256=meta.get("sha256") if with_meta else None,
            last_modified=stat.st_mtime,
            metadata=dict(meta.get("metadata") or {}) if with_meta else {},
        )

    def _current_etag(self, key: str, path: Path) -> str | None:
        if not path.is_file():
            return None
        return str(self._read_meta(key, path)["etag"])

    def _install(
        self, key: str, path: Path, tmp: Path, sha256: str, metadata: dict[str, str]
    ) -> ObjectInfo:
        """Rename ``tmp`` into place as ``key`` and record its metadata (lock held)."""
        if path.is_dir():
            raise InvalidKey(f"key {key!r} is a prefix of other objects in {self.url}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise InvalidKey(f"a prefix of key {key!r} is an object in {self.url}") from exc
        meta_path = self._meta_path(key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_tmp = self._tmp_path()
        meta_tmp.write_text(json.dumps({"etag": sha256, "sha256": sha256, "metadata": metadata}))
        os.replace(tmp, path)
        os.replace(meta_tmp, meta_path)
        return self._info(key, path)

    @staticmethod
    def _check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
        result = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
        for name, value in result.items():
            if not name or any(ord(c) < 0x20 for c in name + value):
                raise StoreError(f"metadata {name!r} has an empty name or a control character")
        return result

    # -- single objects -----------------------------------------------------------------------

    @_os_errors_unavailable
    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        path = self._path(key)
        meta = self._check_metadata(metadata)
        sha256 = hashlib.sha256(data).hexdigest()
        tmp = self._tmp_path()
        _write_durably(tmp, data)
        try:
            with self._locked(exclusive=True):
                current = self._current_etag(key, path)
                if if_none_match and current is not None:
                    raise PreconditionFailed(f"{key!r} already exists in {self.url}")
                if if_match is not None and current != if_match:
                    raise PreconditionFailed(
                        f"{key!r} in {self.url} is not at the expected version"
                        + (" (it does not exist)" if current is None else "")
                    )
                return self._install(key, path, tmp, sha256, meta)
        finally:
            tmp.unlink(missing_ok=True)

    @_os_errors_unavailable
    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo]:
        path = self._path(key)
        with self._locked(exclusive=False):
            try:
                data = path.read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise ObjectNotFound(f"{key!r} not found in {self.url}") from None
            info = self._info(key, path)
        if info.sha256 is not None and hashlib.sha256(data).hexdigest() != info.sha256:
            raise IntegrityError(f"{key!r} in {self.url} does not match its recorded SHA-256")
        return data, info

    @_os_errors_unavailable
    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        with self._locked(exclusive=False):
            if not path.is_file():
                return None
            return self._info(key, path)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        # Walk only the folder the prefix names (its part up to the last '/').
        start = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not start.is_dir():
            return
        keys: builtins.list[str] = []
        for folder, dirs, files in os.walk(start):
            rel = os.path.relpath(folder, self.root)
            if rel == ".":
                dirs[:] = [d for d in dirs if d != INTERNAL_DIR]
                rel = ""
            for name in files:
                key = f"{rel}/{name}" if rel else name
                if key.startswith(prefix):
                    keys.append(key)
        for key in sorted(keys):
            path = self.root / key
            with self._locked(exclusive=False):
                if path.is_file():
                    yield self._info(key, path, with_meta=False)

    @_os_errors_unavailable
    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._locked(exclusive=True):
            if path.is_dir():
                return
            path.unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)
            for folder in (path.parent, self._meta_path(key).parent):
                with contextlib.suppress(OSError):
                    while folder not in (self.root, self._internal / "meta"):
                        folder.rmdir()  # only when empty
                        folder = folder.parent

    @_os_errors_unavailable
    def download_file(self, key: str, path: Path) -> ObjectInfo:
        source = self._path(key)
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            with self._locked(exclusive=False):
                try:
                    shutil.copyfile(source, tmp)
                except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    raise ObjectNotFound(f"{key!r} not found in {self.url}") from None
                info = self._info(key, source)
            if info.sha256 is not None and _sha256_file(tmp) != info.sha256:
                raise IntegrityError(f"{key!r} in {self.url} does not match its SHA-256")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    # -- multipart ----------------------------------------------------------------------------

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        self._path(key)
        if not upload_id.isalnum():
            raise NoSuchUpload(f"no multipart upload {upload_id!r} for {key!r} in {self.url}")
        folder = self._internal / "uploads" / upload_id
        try:
            record = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError):
            record = None
        if not isinstance(record, dict) or record.get("key") != key:
            raise NoSuchUpload(f"no multipart upload {upload_id!r} for {key!r} in {self.url}")
        return folder

    @_os_errors_unavailable
    def create_multipart(
        self, key: str, *, sha256: str | None = None, metadata: dict[str, str] | None = None
    ) -> str:
        self._path(key)
        upload_id = uuid.uuid4().hex
        folder = self._internal / "uploads" / upload_id
        folder.mkdir()
        record = {
            "key": key,
            "sha256": sha256,
            "metadata": self._check_metadata(metadata),
            "initiated": time.time(),
        }
        tmp = self._tmp_path()
        tmp.write_text(json.dumps(record))
        os.replace(tmp, folder / "upload.json")
        return upload_id

    @_os_errors_unavailable
    def upload_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        data: bytes,
        *,
        sha256: str | None = None,
    ) -> PartInfo:
        if not 1 <= part_number <= 10000:
            raise StoreError(f"part number {part_number} outside 1..10000")
        folder = self._upload_dir(key, upload_id)
        actual = hashlib.sha256(data).hexdigest()
        # Like S3 with x-amz-checksum-sha256: bytes that do not match their digest are refused.
        if sha256 is not None and sha256 != actual:
            raise IntegrityError(
                f"part {part_number} of {key!r}: content does not match its SHA-256"
            )
        sha256 = actual
        tmp = self._tmp_path()
        _write_durably(tmp, data)
        part = PartInfo(part_number, sha256, len(data), sha256)
        os.replace(tmp, folder / f"{part_number:05d}.part")
        (folder / f"{part_number:05d}.json").write_text(json.dumps(part.__dict__))
        return part

    @_os_errors_unavailable
    def list_parts(self, key: str, upload_id: str) -> builtins.list[PartInfo]:
        folder = self._upload_dir(key, upload_id)
        parts = []
        for record in sorted(folder.glob("*.json")):
            if record.name == "upload.json":
                continue
            with contextlib.suppress(OSError, ValueError, TypeError):
                parts.append(PartInfo(**json.loads(record.read_text())))
        return parts

    @_os_errors_unavailable
    def complete_multipart(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[PartInfo],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        path = self._path(key)
        if not parts:
            raise StoreError(f"completing {key!r} needs at least one part")
        numbers = [p.part_number for p in parts]
        if numbers != sorted(set(numbers)):
            raise StoreError(f"parts of {key!r} must be in ascending order without repeats")
        with self._locked(exclusive=True):
            folder = self._upload_dir(key, upload_id)
            record = json.loads((folder / "upload.json").read_text())
            tmp = self._tmp_path()
            digest = hashlib.sha256()
            try:
                with tmp.open("wb") as out:
                    for part in parts:
                        data = self._read_part(folder, key, part)
                        digest.update(data)
                        out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                sha256 = digest.hexdigest()
                if record.get("sha256") not in (None, sha256):
                    raise IntegrityError(
                        f"{key!r}: the parts do not add up to the declared SHA-256"
                    )
                if if_none_match and path.is_file():
                    raise PreconditionFailed(f"{key!r} already exists in {self.url}")
                info = self._install(key, path, tmp, sha256, dict(record.get("metadata") or {}))
            finally:
                tmp.unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            return info

    def _read_part(self, folder: Path, key: str, part: PartInfo) -> bytes:
        try:
            stored = PartInfo(**json.loads((folder / f"{part.part_number:05d}.json").read_text()))
            data = (folder / f"{part.part_number:05d}.part").read_bytes()
        except (OSError, ValueError, TypeError):
            raise StoreError(f"{key!r}: part {part.part_number} was never uploaded") from None
        if stored.etag != part.etag:
            raise StoreError(f"{key!r}: part {part.part_number} has another etag")
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            raise IntegrityError(f"{key!r}: part {part.part_number} is corrupt in the store")
        return data

    @_os_errors_unavailable
    def abort_multipart(self, key: str, upload_id: str) -> None:
        folder = self._upload_dir(key, upload_id)
        shutil.rmtree(folder, ignore_errors=True)

    @_os_errors_unavailable
    def list_multipart(self, prefix: str = "") -> builtins.list[MultipartInfo]:
        validate_prefix(prefix)
        uploads = []
        for record_path in (self._internal / "uploads").glob("*/upload.json"):
            with contextlib.suppress(OSError, ValueError):
                record = json.loads(record_path.read_text())
                if str(record["key"]).startswith(prefix):
                    uploads.append(
                        MultipartInfo(
                            str(record["key"]), record_path.parent.name, float(record["initiated"])
                        )
                    )
        return sorted(uploads, key=lambda u: (u.key, u.initiated))
