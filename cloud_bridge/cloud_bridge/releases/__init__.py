"""Releases signed with TUF (python-tuf): publishing, channels, and the robot's client.

A release is ``model.onnx`` + ``card.json`` published as TUF targets; each fleet's channels
(``canary``, ``stable``) are signed pointers naming a release. The root and targets keys are
offline (the operator's), snapshot and timestamp online. Robots verify everything with
``tuf.ngclient`` from the root metadata provisioned in their profile.

- :class:`ReleaseRepository`: publish, promote, roll back, list, history (the ``flywheel
  release`` command);
- :class:`ReleaseClient`: check a channel, stage and verify a release on the robot;
- :mod:`cloud_bridge.releases.keys`: key files (the ``flywheel keys`` command).
"""

from cloud_bridge.releases.card import ChannelPointer, ReleaseCard
from cloud_bridge.releases.client import ReleaseClient, StagedRelease
from cloud_bridge.releases.errors import (
    ChannelConflictError,
    KeyFileError,
    RefusalReason,
    ReleaseError,
    ReleaseNotFoundError,
    ReleaseRefusedError,
    RepositoryMissingError,
)
from cloud_bridge.releases.repository import (
    Expiry,
    OnlineSigners,
    ReleaseRepository,
    ReleaseSummary,
)

__all__ = [
    "ChannelConflictError",
    "ChannelPointer",
    "Expiry",
    "KeyFileError",
    "OnlineSigners",
    "RefusalReason",
    "ReleaseCard",
    "ReleaseClient",
    "ReleaseError",
    "ReleaseNotFoundError",
    "ReleaseRefusedError",
    "ReleaseRepository",
    "ReleaseSummary",
    "RepositoryMissingError",
    "StagedRelease",
]
