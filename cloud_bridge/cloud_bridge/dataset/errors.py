"""The dataset build's errors."""

from __future__ import annotations

__all__ = ["DatasetError", "EpisodeRejected"]


class DatasetError(Exception):
    """A dataset folder that cannot be built into or read (the reason is the message)."""


class EpisodeRejected(Exception):  # noqa: N818 - a verdict on an episode, like the uploader's
    """An episode that cannot become rows: its files do not match its manifest, its bag does
    not read, or it holds nothing the loop can step on. The message is the reason, kept in
    ``quarantine.json``."""
