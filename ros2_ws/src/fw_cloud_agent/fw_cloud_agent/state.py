"""What the cloud agent remembers across restarts, in one JSON file written atomically.

A robot that reboots must come back on the release it was running, must still know which
releases it rolled back (it never reinstalls them), and keeps each release's intervention
record, the baseline the next release is compared with.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AgentState", "ReleaseRecord"]

log = logging.getLogger(__name__)


@dataclass
class ReleaseRecord:
    """How a release drove while it was active on this robot."""

    #: Safety interventions counted while it was active.
    interventions: int = 0
    #: Seconds it was active (monotonic time, summed over runs).
    seconds: float = 0.0

    def rate_per_minute(self) -> float | None:
        """Interventions per minute, or None before it has driven at all."""
        return None if self.seconds <= 0.0 else 60.0 * self.interventions / self.seconds


@dataclass
class AgentState:
    """The agent's durable state (see the module docstring)."""

    #: Release the policy runs (None: the profile's own model, no release yet).
    active: str | None = None
    #: Model file of the active release.
    active_model: str = ""
    #: Release that ran before the active one, and its model file: where a rollback goes.
    previous: str | None = None
    previous_model: str = ""
    #: Releases rolled back on this robot, with why: never installed again.
    rolled_back: dict[str, str] = field(default_factory=dict)
    #: Releases refused (verification or the policy's own checks), with why.
    refused: dict[str, str] = field(default_factory=dict)
    #: Intervention record by release.
    records: dict[str, ReleaseRecord] = field(default_factory=dict)
    #: Wall time (s since the epoch) of the last swap and of the last contact with the store.
    swapped_at: float | None = None
    last_contact: float | None = None

    def record(self, release: str) -> ReleaseRecord:
        return self.records.setdefault(release, ReleaseRecord())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AgentState:
        doc: dict[str, Any] = json.loads(text)
        records = {
            str(k): ReleaseRecord(int(v["interventions"]), float(v["seconds"]))
            for k, v in doc.pop("records", {}).items()
        }
        known = {f for f in cls.__dataclass_fields__ if f != "records"}
        return cls(**{k: v for k, v in doc.items() if k in known}, records=records)

    @classmethod
    def load(cls, path: Path) -> AgentState:
        """The saved state; a fresh one when there is none. A corrupt file is kept aside
        (``.corrupt``) and reported, never silently dropped."""
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls()
        try:
            state = cls.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            aside = path.with_suffix(path.suffix + ".corrupt")
            os.replace(path, aside)
            log.error(
                "agent state %s is corrupt (%s); kept as %s, starting fresh", path, exc, aside
            )
            return cls()
        return state

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the old file or the new one, never half)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(self.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
