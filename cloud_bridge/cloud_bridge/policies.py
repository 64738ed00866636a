"""The IAM policy documents shipped in ``cloud_bridge/policies/``, filled in for a bucket and a
robot.

- ``robot.json``: a robot writes only ``episodes/<robot_id>/`` and ``robots/<robot_id>/``,
  reads ``releases/`` and ``tuf/``, lists only those prefixes, and cannot publish or delete.
- ``publisher.json``: the release publisher writes ``releases/`` and ``tuf/`` and reads
  everything; it cannot write episodes.

Both expect the store at the bucket's root (``s3://<bucket>``).
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.store.keys import validate_key

__all__ = ["policy_dir", "render_policy"]

#: Where the templates are: beside the package in the source tree, or where pip put them.
_POLICY_DIRS = (
    Path(__file__).resolve().parent.parent / "policies",
    Path(sys.prefix) / "share" / "cloud_bridge" / "policies",
)


def policy_dir() -> Path:
    """The folder of the policy templates."""
    for folder in _POLICY_DIRS:
        if (folder / "robot.json").is_file():
            return folder
    raise FileNotFoundError(f"no IAM policy templates in {', '.join(map(str, _POLICY_DIRS))}")


def render_policy(name: str, *, bucket: str, robot_id: str | None = None) -> dict[str, Any]:
    """The policy ``name`` (``robot`` or ``publisher``) for ``bucket`` (and ``robot_id``)."""
    if robot_id is not None and "/" in validate_key(robot_id):
        raise ValueError(f"robot id {robot_id!r} must be one key segment")
    if "*" in (robot_id or "") or "*" in bucket or "/" in bucket:
        raise ValueError("bucket and robot id must be literal names")
    if name not in ("robot", "publisher"):
        raise ValueError(f"unknown policy {name!r} (robot or publisher)")
    template = string.Template((policy_dir() / f"{name}.json").read_text())
    values = {"bucket": bucket}
    if robot_id is not None:
        values["robot_id"] = robot_id
    document: dict[str, Any] = json.loads(template.substitute(values))
    return document
