"""Errors of the release repository (publishing) and the release client (the robot's side)."""

from __future__ import annotations

__all__ = [
    "ChannelConflictError",
    "KeyFileError",
    "RefusalReason",
    "ReleaseError",
    "ReleaseNotFoundError",
    "ReleaseRefusedError",
    "RepositoryMissingError",
]


class ReleaseError(Exception):
    """Base class of every release error."""


class KeyFileError(ReleaseError):
    """A signing key file that is missing, unreadable or not the key the root trusts."""


class RepositoryMissingError(ReleaseError):
    """The store holds no TUF repository yet (run ``flywheel keys init --store``)."""


class ReleaseNotFoundError(ReleaseError):
    """A release, fleet or channel the signed metadata does not name."""


class ChannelConflictError(ReleaseError):
    """Another publisher committed first: nothing of this change was written; re-read, retry."""


class RefusalReason:
    """Why the robot refused a release (the ``reason`` of :class:`ReleaseRefusedError`)."""

    #: A target or metadata whose bytes do not match what was signed.
    TAMPERED = "tampered"
    #: A target or metadata shorter than what was signed.
    TRUNCATED = "truncated"
    #: Metadata without any signature.
    UNSIGNED = "unsigned"
    #: Metadata signed by a key the trusted root does not name for that role.
    UNKNOWN_KEY = "unknown_key"
    #: Metadata past its expiry date (a freeze attack, or a repository nobody refreshes).
    EXPIRED = "expired"
    #: Metadata older than what the robot already trusts (a rollback attack).
    ROLLBACK = "rollback"
    #: A model built for another observation spec than the robot's.
    WRONG_SPEC = "wrong_spec"
    #: A model that onnxruntime cannot load, or that fails its warm-up.
    INVALID_MODEL = "invalid_model"
    #: A release card that is not valid JSON or lacks a field.
    INVALID_CARD = "invalid_card"
    #: The channel or release is not named by the signed metadata.
    NOT_FOUND = "not_found"
    #: The channel withdrew the release, or this robot rolled it back before.
    WITHDRAWN = "withdrawn"
    #: The store could not be reached (try again at the next poll).
    UNAVAILABLE = "unavailable"
    #: Metadata the TUF client refused for another reason.
    INVALID_METADATA = "invalid_metadata"


class ReleaseRefusedError(ReleaseError):
    """The robot refused a release or its channel; ``reason`` is a :class:`RefusalReason`."""

    def __init__(self, reason: str, message: str, release: str | None = None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.release = release
