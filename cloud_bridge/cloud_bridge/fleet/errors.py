"""Errors of the fleet tools."""

from __future__ import annotations

__all__ = ["FleetError"]


class FleetError(RuntimeError):
    """The fleet cannot be started, stopped or read as asked; the message says why and what
    to do."""
