"""``S3Store``: the object store on S3 or anything that speaks it (MinIO, a local S3 server).

- Credentials come from boto3's standard chain (environment, profile, instance role); this
  module never reads, stores or prints them. Every boto3 error is translated into a
  :mod:`cloud_bridge.store.errors` exception whose message names the operation, the object and
  S3's error code only.
- Every put and multipart upload asks for server-side encryption (``sse``, SSE-S3 by default).
- Every put and part carries its SHA-256 (``x-amz-checksum-sha256``): the server refuses bytes
  that do not match. The whole object's SHA-256 is kept in the user metadata ``fw-sha256``; a
  completed multipart object is checked against S3's composite checksum of its parts, which the
  server computes from what it holds.
- Conditional writes map to S3's ``If-Match`` / ``If-None-Match: *``.
- botocore retries a failed call a few times (``max_attempts``) within short timeouts; longer
  outages surface as :class:`StoreUnavailable` for the caller's own backoff.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cloud_bridge.store.base import MultipartInfo, ObjectInfo, PartInfo
from cloud_bridge.store.errors import (
    AccessDenied,
    IntegrityError,
    NoSuchUpload,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from cloud_bridge.store.keys import validate_key, validate_prefix

__all__ = ["SHA256_METADATA", "S3Store", "composite_sha256"]

#: User-metadata name of the whole object's hex SHA-256 (reserved: callers may not set it).
SHA256_METADATA = "fw-sha256"

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}
_INTEGRITY = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
_UNAVAILABLE = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "500", "503"}


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _hex(b64_digest: str) -> str:
    return base64.b64decode(b64_digest.split("-")[0]).hex()


def composite_sha256(part_sha256: Sequence[str]) -> str:
    """S3's checksum of a multipart object (base64 SHA-256 of the parts' digests, ``-N``)."""
    joined = b"".join(bytes.fromhex(h) for h in part_sha256)
    return f"{base64.b64encode(hashlib.sha256(joined).digest()).decode()}-{len(part_sha256)}"


class S3Store:
    """Objects under ``s3://bucket/prefix``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        sse: str = "AES256",
        kms_key_id: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_attempts: int = 3,
        client: Any = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise StoreError(f"bad bucket name {bucket!r}")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self._sse: dict[str, str] = {"ServerSideEncryption": sse}
        if kms_key_id:
            self._sse["SSEKMSKeyId"] = kms_key_id
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                # Path-style addressing: a custom endpoint (MinIO, a local server) rarely has
                # a wildcard DNS name for virtual-hosted buckets.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                tcp_keepalive=True,
            )
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
        self.client = client

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def __repr__(self) -> str:
        return f"S3Store({self.url})"

    # -- helpers ------------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    @contextlib.contextmanager
    def _translate(self, operation: str, key: str) -> Iterator[None]:
        """Turn boto3's exceptions into store errors that carry no credential."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = f"{operation} {self.url}/{key}" if key else f"{operation} {self.url}"
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            text = f"{where}: {code or 'error'} (HTTP {status})"
            if code == "NoSuchUpload":
                raise NoSuchUpload(text) from None
            if code in _NOT_FOUND:
                raise ObjectNotFound(text) from None
            if code in _PRECONDITION or status == 412:
                raise PreconditionFailed(text) from None
            if code in _DENIED or status == 403:
                raise AccessDenied(text) from None
            if code in _INTEGRITY:
                raise IntegrityError(text) from None
            if code in _UNAVAILABLE or (isinstance(status, int) and status >= 500):
                raise StoreUnavailable(text) from None
            raise StoreError(text) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise AccessDenied(f"{where}: no usable credentials found") from None
        except BotoCoreError as exc:
            # Connection refused/cut, timeouts, a stream that broke while reading.
            raise StoreUnavailable(f"{where}: {type(exc).__name__}") from None
        except OSError as exc:
            raise StoreUnavailable(f"{where}: {type(exc).__name__}") from None

    def _user_metadata(self, metadata: dict[str, str] | None) -> dict[str, str]:
        result = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
        if SHA256_METADATA in result:
            raise StoreError(f"metadata name {SHA256_METADATA!r} is reserved")
        for name, value in result.items():
            if not name or any(ord(c) < 0x20 for c in name + value):
                raise StoreError(f"metadata {name!r} has an empty name or a control character")
        return result

    def _info_from_head(self, key: str, response: dict[str, Any]) -> ObjectInfo:
        metadata = {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()}
        sha256 = metadata.pop(SHA256_METADATA, None)
        modified = response.get("LastModified")
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=str(response.get("ETag", "")).strip('"'),
            sha256=sha256,
            last_modified=modified.timestamp() if modified is not None else time.time(),
            metadata=metadata,
        )

    # -- single objects -----------------------------------------------------------------------

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        full = self._full(key)
        user = self._user_metadata(metadata)
        sha256 = hashlib.sha256(data).hexdigest()
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": full,
            "Body": data,
            "ChecksumSHA256": _b64(sha256),
            "Metadata": {**user, SHA256_METADATA: sha256},
            **self._sse,
        }
        if if_match is not None:
            args["IfMatch"] = f'"{if_match}"'
        if if_none_match:
            args["IfNoneMatch"] = "*"
        with self._translate("put", key):
            response = self.client.put_object(**args)
        # No ETag-is-MD5 check: MinIO's encrypted objects have other ETags; the checksum header
        # is what the server verifies.
        etag = str(response.get("ETag", "")).strip('"')
        return ObjectInfo(key, len(data), etag, sha256, time.time(), user)

    def get_bytes(self, key: str) -> tuple[bytes, ObjectInfo]:
        full = self._full(key)
        with self._translate("get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=full)
            data: bytes = response["Body"].read()
        info = self._info_from_head(key, response)
        if info.sha256 is not None and hashlib.sha256(data).hexdigest() != info.sha256:
            raise IntegrityError(f"get {self.url}/{key}: content does not match its SHA-256")
        return data, info

    def head(self, key: str) -> ObjectInfo | None:
        full = self._full(key)
        try:
            with self._translate("head", key):
                response = self.client.head_object(Bucket=self.bucket, Key=full)
        except ObjectNotFound:
            return None
        return self._info_from_head(key, response)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        paginator = self.client.get_paginator("list_objects_v2")
        with self._translate("list", prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=self._relative(str(item["Key"])),
                        size=int(item["Size"]),
                        etag=str(item.get("ETag", "")).strip('"'),
                        sha256=None,
                        last_modified=item["LastModified"].timestamp(),
                        metadata={},
                    )

    def delete(self, key: str) -> None:
        full = self._full(key)
        with self._translate("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=full)

    def download_file(self, key: str, path: Path) -> ObjectInfo:
        full = self._full(key)
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        try:
            with self._translate("get", key):
                response = self.client.get_object(Bucket=self.bucket, Key=full)
                with tmp.open("wb") as out:
                    for chunk in response["Body"].iter_chunks(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
            info = self._info_from_head(key, response)
            if info.sha256 is not None and digest.hexdigest() != info.sha256:
                raise IntegrityError(f"get {self.url}/{key}: content does not match its SHA-256")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    # -- multipart ----------------------------------------------------------------------------

    def create_multipart(
        self, key: str, *, sha256: str | None = None, metadata: dict[str, str] | None = None
    ) -> str:
        full = self._full(key)
        user = self._user_metadata(metadata)
        if sha256 is not None:
            user[SHA256_METADATA] = sha256
        with self._translate("create multipart", key):
            response = self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=full,
                ChecksumAlgorithm="SHA256",
                Metadata=user,
                **self._sse,
            )
        return str(response["UploadId"])

    def upload_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        data: bytes,
        *,
        sha256: str | None = None,
    ) -> PartInfo:
        full = self._full(key)
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        with self._translate(f"upload part {part_number} of", key):
            response = self.client.upload_part(
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                PartNumber=part_number,
                Body=data,
                ChecksumSHA256=_b64(sha256),
            )
        returned = response.get("ChecksumSHA256")
        if returned is not None and _hex(str(returned)) != sha256:
            raise IntegrityError(f"part {part_number} of {self.url}/{key}: checksum differs")
        return PartInfo(part_number, str(response["ETag"]).strip('"'), len(data), sha256)

    def list_parts(self, key: str, upload_id: str) -> builtins.list[PartInfo]:
        full = self._full(key)
        parts = []
        paginator = self.client.get_paginator("list_parts")
        with self._translate("list parts of", key):
            for page in paginator.paginate(Bucket=self.bucket, Key=full, UploadId=upload_id):
                for item in page.get("Parts", []):
                    checksum = item.get("ChecksumSHA256")
                    parts.append(
                        PartInfo(
                            int(item["PartNumber"]),
                            str(item["ETag"]).strip('"'),
                            int(item["Size"]),
                            _hex(str(checksum)) if checksum else "",
                        )
                    )
        return parts

    def complete_multipart(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[PartInfo],
        *,
        if_none_match: bool = False,
    ) -> ObjectInfo:
        full = self._full(key)
        if not parts:
            raise StoreError(f"completing {key!r} needs at least one part")
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": full,
            "UploadId": upload_id,
            "MultipartUpload": {
                "Parts": [
                    {
                        "PartNumber": p.part_number,
                        "ETag": f'"{p.etag}"',
                        "ChecksumSHA256": _b64(p.sha256),
                    }
                    for p in parts
                ]
            },
        }
        if if_none_match:
            args["IfNoneMatch"] = "*"
        with self._translate("complete multipart", key):
            self.client.complete_multipart_upload(**args)
            response = self.client.head_object(
                Bucket=self.bucket, Key=full, ChecksumMode="ENABLED"
            )
        size = sum(p.size for p in parts)
        if int(response.get("ContentLength", -1)) != size:
            raise IntegrityError(f"{self.url}/{key}: the store holds another size than was sent")
        held = response.get("ChecksumSHA256")
        expected = composite_sha256([p.sha256 for p in parts])
        # Compare the digest only: some servers leave out the "-<parts>" suffix.
        if held is not None and str(held).split("-")[0] != expected.split("-")[0]:
            raise IntegrityError(f"{self.url}/{key}: the store's checksum differs from the parts")
        return self._info_from_head(key, response)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        full = self._full(key)
        with self._translate("abort multipart", key):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)

    def list_multipart(self, prefix: str = "") -> builtins.list[MultipartInfo]:
        validate_prefix(prefix)
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        uploads = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        with self._translate("list multipart", prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Uploads", []):
                    uploads.append(
                        MultipartInfo(
                            self._relative(str(item["Key"])),
                            str(item["UploadId"]),
                            item["Initiated"].timestamp(),
                        )
                    )
        return uploads
