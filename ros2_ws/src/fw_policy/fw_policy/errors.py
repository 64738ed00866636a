"""Errors raised by fw_policy."""

from __future__ import annotations

__all__ = ["ModelRejectedError"]


class ModelRejectedError(ValueError):
    """A model file cannot be used; ``str(exc)`` is the reason an operator reads."""
