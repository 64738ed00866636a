"""The training side's errors."""

from __future__ import annotations

__all__ = ["TrainError"]


class TrainError(Exception):
    """Training cannot go on: a dataset that is missing, malformed or does not match the
    observation spec, a parent checkpoint that does not fit, or an export that fails its
    checks. The message says which and why."""
