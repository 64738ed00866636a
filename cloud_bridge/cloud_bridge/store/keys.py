"""Object keys: what a key may contain, checked by every store method.

A key is a ``/``-separated relative path. It is refused when it could escape its prefix on a
folder backend or confuse a reader: ``..`` or ``.`` segments, a leading ``/``, empty segments
(``a//b``, a trailing ``/``), backslashes, control characters (NUL, DEL and C1 included), or
more than :data:`MAX_KEY_BYTES` bytes of UTF-8 (S3's limit).
"""

from __future__ import annotations

__all__ = ["MAX_KEY_BYTES", "join_key", "validate_key", "validate_prefix"]

import unicodedata

from cloud_bridge.store.errors import InvalidKey

MAX_KEY_BYTES = 1024


def validate_key(key: str) -> str:
    """``key`` unchanged when it is a safe object key; :class:`InvalidKey` saying why if not."""
    if not isinstance(key, str):
        raise InvalidKey(f"key must be a string, not {type(key).__name__}")
    if not key:
        raise InvalidKey("empty key")
    # repr() in messages: a hostile key must not smuggle control characters into a log line.
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidKey(f"key {key[:80]!r} is not valid UTF-8") from exc
    if size > MAX_KEY_BYTES:
        raise InvalidKey(f"key {key[:80]!r}... is {size} bytes (max {MAX_KEY_BYTES})")
    if any(unicodedata.category(c) == "Cc" for c in key):  # C0, DEL, C1
        raise InvalidKey(f"key {key!r} contains a control character")
    if "\\" in key:
        raise InvalidKey(f"key {key!r} contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(f"key {key!r} is absolute")
    for segment in key.split("/"):
        if segment == "":
            raise InvalidKey(f"key {key!r} has an empty segment")
        if segment in (".", ".."):
            raise InvalidKey(f"key {key!r} has a {segment!r} segment")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a valid key optionally ending with ``/``."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def join_key(*parts: str) -> str:
    """Join key parts with ``/`` and validate the result."""
    return validate_key("/".join(p.strip("/") for p in parts if p.strip("/")))
