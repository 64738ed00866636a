"""Episode metadata and triggers read from the robot's own topics (plain functions).

``fw/policy/info`` and ``fw/sim/scenario`` are std_msgs/String JSON documents published by
other nodes; these functions tolerate anything (missing keys, bad JSON, wrong types) because a
malformed message must never stop the recorder.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["event_reason", "policy_version", "scenario_seed"]

_VERSION_KEYS = (
    "version",
    "policy_version",
    "model_version",
    "release",
    "model_sha256",
    "model_id",
    "model",
    "kind",
)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def policy_version(text: str) -> str:
    """A policy version from a ``fw/policy/info`` JSON document.

    The first of ``version``, ``policy_version``, ``model_version``... that is present; for a
    document without any, a short hash of the text (so a change is still a change).
    """
    doc = _json(text)
    if isinstance(doc, dict):
        for key in _VERSION_KEYS:
            value = doc.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)
    return "sha1:" + hashlib.sha1(text.encode(errors="replace")).hexdigest()[:12]


def scenario_seed(text: str) -> int | None:
    """The ``seed`` of a ``fw/sim/scenario`` JSON document, or None."""
    doc = _json(text)
    if isinstance(doc, dict):
        seed = doc.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
    return None


def event_reason(level: int, name: str, message: str, min_level: int) -> str | None:
    """The trigger reason for a safety event (DiagnosticStatus), or None below ``min_level``."""
    if level < min_level:
        return None
    names = {0: "OK", 1: "WARN", 2: "ERROR", 3: "STALE"}
    return f"[{names.get(level, level)}] {name}: {message}".strip()
