"""``open_store``: a store from its URL (what the command line and the profile give)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from cloud_bridge.store.base import ObjectStore
from cloud_bridge.store.errors import StoreError
from cloud_bridge.store.local import LocalStore

__all__ = ["open_store"]


def open_store(
    url: str | Path, *, endpoint_url: str | None = None, region: str | None = None
) -> ObjectStore:
    """``s3://bucket[/prefix]`` → :class:`S3Store`; ``file:///path`` or a plain path →
    :class:`LocalStore`. ``endpoint_url`` and ``region`` only apply to S3 (boto3 also reads
    ``AWS_ENDPOINT_URL_S3`` and ``AWS_REGION``)."""
    text = str(url)
    parsed = urlparse(text)
    if parsed.scheme == "s3":
        if "@" in parsed.netloc or ":" in parsed.netloc:
            # Never echo it: the part before '@' may be a key and a secret.
            raise StoreError(
                "an s3:// URL names only a bucket: credentials come from boto3's chain"
            )
        from cloud_bridge.store.s3 import S3Store

        return S3Store(
            parsed.netloc, unquote(parsed.path), endpoint_url=endpoint_url, region=region
        )
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StoreError(f"file URL {text!r} names a host; use file:///absolute/path")
        return LocalStore(Path(unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:
        raise StoreError(f"unknown store URL scheme {parsed.scheme!r} in {text!r}")
    return LocalStore(Path(text))
