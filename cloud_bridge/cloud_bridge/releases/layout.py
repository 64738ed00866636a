"""Where releases live: TUF metadata and target paths in the store, and the names they use.

One TUF repository per store, under ``tuf/`` (a different root can be given)::

    tuf/metadata/1.root.json, 2.root.json ...        root (offline key), one file per version
    tuf/metadata/<N>.targets.json                    targets (offline key): releases and channels
    tuf/metadata/<N>.snapshot.json                   snapshot (online key)
    tuf/metadata/timestamp.json                      timestamp (online key): the one mutable file
    tuf/targets/releases/<release>/<sha256>.model.onnx
    tuf/targets/releases/<release>/<sha256>.card.json
    tuf/targets/channels/<fleet>/<sha256>.<channel>.json

The repository uses TUF's consistent snapshots: every file but ``timestamp.json`` is written once
under a name that carries its version or hash, so a reader never sees a half-updated repository
and a publisher never overwrites what another wrote.
"""

from __future__ import annotations

import re

from cloud_bridge.releases.errors import ReleaseError

__all__ = [
    "CARD_FILE",
    "CHANNELS",
    "DEFAULT_TUF_PREFIX",
    "MODEL_FILE",
    "card_target",
    "channel_target",
    "check_name",
    "model_target",
    "release_of_target",
]

DEFAULT_TUF_PREFIX = "tuf"
MODEL_FILE = "model.onnx"
CARD_FILE = "card.json"
#: The channels a fleet has, most cautious first.
CHANNELS = ("canary", "stable")

# A release id, fleet or channel name: one path segment, no dots at the start, bounded length.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(kind: str, name: str) -> str:
    """``name`` unchanged when it is a valid release id, fleet or channel name."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ReleaseError(
            f"{kind} {str(name)[:80]!r} is not a valid name: 1-64 characters of letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return name


def model_target(release: str) -> str:
    return f"releases/{check_name('release', release)}/{MODEL_FILE}"


def card_target(release: str) -> str:
    return f"releases/{check_name('release', release)}/{CARD_FILE}"


def channel_target(fleet: str, channel: str) -> str:
    return f"channels/{check_name('fleet', fleet)}/{check_name('channel', channel)}.json"


def release_of_target(path: str) -> str | None:
    """The release id of a model target path, else None."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "releases" and parts[2] == MODEL_FILE:
        return parts[1]
    return None
