"""The two documents a release repository signs besides the model: a release's card and a
channel's pointer. Both are JSON targets; both are parsed here, strictly, on either side."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cloud_bridge.releases.errors import ReleaseError
from cloud_bridge.releases.layout import check_name

__all__ = ["ChannelPointer", "ReleaseCard"]


def _require(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ReleaseError(
            f"{what}: {key!r} is missing or not a {getattr(kind, '__name__', kind)}"
        )
    return value


def _load(text: bytes | str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{what} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ReleaseError(f"{what} is not a JSON object")
    return doc


@dataclass(frozen=True)
class ReleaseCard:
    """What a release is: its model's contract and where it came from."""

    #: Release id (``check_name``).
    release: str
    #: Observation spec id the model was trained on (``fw.spec_id`` in the ONNX metadata).
    spec_id: str
    #: ``[max_linear (m/s), max_angular (rad/s)]``: what an action of 1.0 means.
    action_scale: tuple[float, float]
    #: Hex SHA-256 of ``model.onnx``.
    model_sha256: str
    #: ``fw.model_version`` of the model.
    model_version: str
    #: Content hash of the dataset it was trained on ("" when unknown).
    dataset_hash: str = ""
    #: Evaluation metrics by name (finite numbers).
    metrics: dict[str, float] = field(default_factory=dict)
    #: The release it was trained from or replaces (None for a first release).
    parent: str | None = None
    #: Version of the code that built it (a git revision).
    code_version: str = ""
    #: When it was published (ISO 8601, UTC).
    created_at: str = ""

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["action_scale"] = list(self.action_scale)
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, text: bytes | str) -> ReleaseCard:
        what = "release card"
        doc = _load(text, what)
        scale = _require(doc, "action_scale", list, what)
        if len(scale) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            for v in scale
        ):
            raise ReleaseError(f"{what}: action_scale must be two positive numbers")
        metrics = doc.get("metrics", {})
        if not isinstance(metrics, dict) or not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
            for k, v in metrics.items()
        ):
            raise ReleaseError(f"{what}: metrics must map names to numbers")
        parent = doc.get("parent")
        if parent is not None:
            check_name("parent release", parent)
        return cls(
            release=check_name("release", _require(doc, "release", str, what)),
            spec_id=_require(doc, "spec_id", str, what),
            action_scale=(float(scale[0]), float(scale[1])),
            model_sha256=_require(doc, "model_sha256", str, what),
            model_version=_require(doc, "model_version", str, what),
            dataset_hash=str(doc.get("dataset_hash", "")),
            metrics={k: float(v) for k, v in metrics.items()},
            parent=parent,
            code_version=str(doc.get("code_version", "")),
            created_at=str(doc.get("created_at", "")),
        )


@dataclass(frozen=True)
class ChannelPointer:
    """A fleet's channel: the release its robots run, signed like the release itself."""

    fleet: str
    channel: str
    #: The release robots on this channel run.
    release: str
    #: The release it replaced (None for the first).
    previous: str | None = None
    #: Releases this channel rolled back: a robot never installs them from it again.
    withdrawn: tuple[str, ...] = ()
    #: When the pointer was signed (ISO 8601, UTC), and why (promote or rollback note).
    updated_at: str = ""
    note: str = ""

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc["withdrawn"] = list(self.withdrawn)
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, text: bytes | str) -> ChannelPointer:
        what = "channel pointer"
        doc = _load(text, what)
        withdrawn = doc.get("withdrawn", [])
        if not isinstance(withdrawn, list):
            raise ReleaseError(f"{what}: withdrawn must be a list")
        previous = doc.get("previous")
        return cls(
            fleet=check_name("fleet", _require(doc, "fleet", str, what)),
            channel=check_name("channel", _require(doc, "channel", str, what)),
            release=check_name("release", _require(doc, "release", str, what)),
            previous=None if previous is None else check_name("release", previous),
            withdrawn=tuple(check_name("release", r) for r in withdrawn),
            updated_at=str(doc.get("updated_at", "")),
            note=str(doc.get("note", "")),
        )
