"""Message definitions and RIHS01 type hashes for the bags' schemas.

rosbag2 (and so ``ros2 bag info``, rosbags and Foxglove) needs, per topic, the full message
definition text (the type and every nested type, ``ros2msg`` format) and the RIHS01 type hash.
Both come from what is *installed*: the ``share/<pkg>/msg/<Type>.msg`` files that every ROS 2
interface package installs (the ``ros-*`` wheels put them under ``<venv>/share``), and the
``<Type>.json`` type descriptions beside them whose ``type_hashes`` are what the running system
advertises. rosbags' Kilted typestore is the base (it knows every core type); types it lacks are
parsed from the installed ``.msg`` files, and an installed hash always wins over a computed one,
so a bag matches the graph it was recorded from.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from fw_recorder.errors import MessageDefinitionError

__all__ = ["MessageDefinitions", "interface_share_dirs"]


def interface_share_dirs() -> list[Path]:
    """Folders that may hold ``<pkg>/msg/*.msg``: every ``<prefix>/share`` on the ament prefix
    path, then the Python environment's own ``share`` (where the ros-* wheels install)."""
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    prefixes += [sys.prefix, sys.base_prefix]
    seen: list[Path] = []
    for prefix in prefixes:
        share = Path(prefix) / "share"
        if share.is_dir() and share not in seen:
            seen.append(share)
    return seen


class MessageDefinitions:
    """Resolves ``pkg/msg/Type`` to ``(definition text, RIHS01 hash)``, cached per type."""

    def __init__(self, share_dirs: Iterable[Path] | None = None) -> None:
        self._shares = list(share_dirs) if share_dirs is not None else interface_share_dirs()
        self.typestore: Typestore = get_typestore(Stores.ROS2_KILTED)
        self._cache: dict[str, tuple[str, str]] = {}

    def _find(self, msgtype: str, suffix: str) -> Path | None:
        pkg, _, name = msgtype.partition("/msg/")
        for share in self._shares:
            candidate = share / pkg / "msg" / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def _register(self, msgtype: str, depth: int = 0) -> None:
        """Add ``msgtype`` (and, recursively, the types it uses) from installed .msg files."""
        if msgtype in self.typestore.fielddefs:
            return
        if depth > 32:
            raise MessageDefinitionError(f"{msgtype}: type nesting too deep")
        path = self._find(msgtype, ".msg")
        if path is None:
            raise MessageDefinitionError(
                f"{msgtype}: not in rosbags' Kilted typestore and no {msgtype}.msg installed "
                f"under {[str(s) for s in self._shares]}"
            )
        types = get_types_from_msg(path.read_text(), msgtype)
        for fields in types.values():
            for dep in _referenced_types(fields):
                if dep != msgtype:
                    self._register(dep, depth + 1)
        self.typestore.register(types)

    def _installed_hash(self, msgtype: str) -> str | None:
        path = self._find(msgtype, ".json")
        if path is None:
            return None
        try:
            described = json.loads(path.read_text())
            for entry in described.get("type_hashes", []):
                if entry.get("type_name") == msgtype:
                    return str(entry["hash_string"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return None

    def get(self, msgtype: str) -> tuple[str, str]:
        """``(msgdef, rihs01)`` of ``msgtype`` (``pkg/msg/Type``).

        Raises :class:`MessageDefinitionError` when the type is unknown.
        """
        cached = self._cache.get(msgtype)
        if cached is not None:
            return cached
        if "/msg/" not in msgtype:
            raise MessageDefinitionError(f"{msgtype!r} is not a message type (pkg/msg/Type)")
        self._register(msgtype)
        msgdef, _ = self.typestore.generate_msgdef(msgtype, ros_version=2)
        rihs01 = self._installed_hash(msgtype) or self.typestore.hash_rihs01(msgtype)
        self._cache[msgtype] = (msgdef, rihs01)
        return msgdef, rihs01


def _referenced_types(fields: object) -> list[str]:
    """Message types named in a rosbags field list (nested, arrays and sequences included)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            if "/msg/" in node:
                found.append(node)
        elif isinstance(node, tuple | list):
            for item in node:
                walk(item)

    walk(fields)
    return found
