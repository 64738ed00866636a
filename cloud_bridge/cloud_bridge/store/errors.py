"""Errors of the object store. Every message names the key (and the store's URL) but never a
credential: boto3's exceptions are translated here, not passed through."""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "IntegrityError",
    "InvalidKey",
    "NoSuchUpload",
    "ObjectNotFound",
    "PreconditionFailed",
    "StoreError",
    "StoreUnavailable",
]


class StoreError(Exception):
    """Base class of every store error."""


class ObjectNotFound(StoreError):  # noqa: N818 - S3's names
    """The key does not exist."""


class PreconditionFailed(StoreError):  # noqa: N818 - S3's names
    """A conditional write lost: the object changed (If-Match) or exists (If-None-Match)."""


class InvalidKey(StoreError, ValueError):  # noqa: N818 - S3's names
    """A key that could escape its prefix or that a backend cannot hold."""


class StoreUnavailable(StoreError):  # noqa: N818 - S3's names
    """The store could not be reached (connection refused or cut, timeout): retry later."""


class AccessDenied(StoreError):  # noqa: N818 - S3's names
    """The credentials do not allow this operation on this key."""


class NoSuchUpload(StoreError):  # noqa: N818 - S3's names
    """A multipart upload the store no longer knows (aborted, expired, or the store lost it)."""


class IntegrityError(StoreError):
    """The store's copy differs from the bytes sent (size or checksum): never treat it as good."""
