"""The object store: one interface (:class:`ObjectStore`), two backends (:class:`LocalStore`,
a folder; :class:`S3Store`, boto3 on any S3 endpoint), and :func:`open_store` to pick one from a
URL. See :mod:`cloud_bridge.store.base` for the semantics both backends share."""

from cloud_bridge.store.base import MultipartInfo, ObjectInfo, ObjectStore, PartInfo
from cloud_bridge.store.errors import (
    AccessDenied,
    IntegrityError,
    InvalidKey,
    NoSuchUpload,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from cloud_bridge.store.factory import open_store
from cloud_bridge.store.keys import MAX_KEY_BYTES, join_key, validate_key
from cloud_bridge.store.local import LocalStore
from cloud_bridge.store.s3 import S3Store

__all__ = [
    "MAX_KEY_BYTES",
    "AccessDenied",
    "IntegrityError",
    "InvalidKey",
    "LocalStore",
    "MultipartInfo",
    "NoSuchUpload",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PartInfo",
    "PreconditionFailed",
    "S3Store",
    "StoreError",
    "StoreUnavailable",
    "join_key",
    "open_store",
    "validate_key",
]
