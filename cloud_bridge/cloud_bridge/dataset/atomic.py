"""Writing a dataset folder's files so a crash never leaves one half written: each goes to a
temporary name beside it, is flushed, then renamed over the old one."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["read_json", "write_json", "write_parquet"]


def _finite(value: Any) -> Any:
    """NaN and infinities as ``null``: strict JSON, readable by any tool."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, atomically."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w") as f:
        json.dump(_finite(data), f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    temporary.replace(path)


def read_json(path: Path, default: Any) -> Any:
    """The JSON at ``path``, or ``default`` when there is no file."""
    if not path.exists():
        return default
    with path.open() as f:
        return json.load(f)


def write_parquet(path: Path, table: pa.Table) -> None:
    """``table`` as Parquet (zstd) at ``path``, atomically."""
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary, compression="zstd")
    temporary.replace(path)
