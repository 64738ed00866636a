"""Errors raised by the recorder cores."""

from __future__ import annotations

__all__ = ["MessageDefinitionError", "RecorderError"]


class RecorderError(Exception):
    """Base class of recorder errors."""


class MessageDefinitionError(RecorderError):
    """A message type whose definition cannot be found (neither installed nor in rosbags)."""
