"""Stage bookkeeping: each stage runs once per run folder, and a re-run resumes.

A stage is a name (``drive-0``, ``train-1``, ...), an iteration and a body that returns its
result (a JSON object). When it finishes, ``stages/<name>.json`` records ``name``,
``iteration``, ``started``, ``finished`` (UTC, ISO 8601), ``wall_s`` and ``result``; that file
is the commit point. A stage whose file exists is skipped, and its recorded result is what the
stages after it read. A stage that was interrupted has no file: before its body runs again, the
outputs it declared are removed, so it starts over from a clean slate rather than on top of
half its own work. A stage whose code is not installed (:class:`StageUnavailableError`) is reported
and left unrecorded. Stages whose work lives in the store (uploads, signed releases) recognise
what they already did there instead, since a store keeps no history to remove.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cloud_bridge.run.files import read_json, write_json
from cloud_bridge.run.layout import RunLayout

__all__ = ["StageBook", "StageError", "StageRecord", "StageUnavailableError", "utc_now"]

_log = logging.getLogger(__name__)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StageError(RuntimeError):
    """A stage could not do its work; the message says why and what to look at."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage {stage}: {reason}")
        self.stage = stage
        self.reason = reason


class StageUnavailableError(RuntimeError):
    """The stage's code is not installed here (an optional part): the run goes on, the stage
    is reported as not available and is not recorded, so a later re-run with the part does
    it."""


@dataclass(frozen=True)
class StageRecord:
    """One finished stage, as ``stages/<name>.json`` holds it."""

    name: str
    iteration: int | None
    started: str
    finished: str
    wall_s: float
    result: dict[str, Any]
    #: True when this run found it done and did not run it again (not stored).
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "iteration": self.iteration,
            "started": self.started,
            "finished": self.finished,
            "wall_s": self.wall_s,
            "result": self.result,
        }


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class StageBook:
    """The stages of one run folder."""

    def __init__(self, layout: RunLayout) -> None:
        self.layout = layout
        #: Every stage this process ran or skipped, in order.
        self.records: list[StageRecord] = []

    def done(self, name: str) -> StageRecord | None:
        """``name``'s record when it finished in this run folder."""
        doc = read_json(self.layout.stage(name))
        if doc is None:
            return None
        try:
            return StageRecord(
                name=str(doc["name"]),
                iteration=doc["iteration"],
                started=str(doc["started"]),
                finished=str(doc["finished"]),
                wall_s=float(doc["wall_s"]),
                result=dict(doc["result"]),
                skipped=True,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{self.layout.stage(name)} is not a stage record ({exc}): remove it to redo "
                "the stage"
            ) from None

    def result(self, name: str) -> dict[str, Any]:
        """The result of a stage that must have finished before the caller."""
        record = self.done(name)
        if record is None:
            raise StageError(name, "has not finished, but a later stage needs its result")
        return record.result

    def run(
        self,
        name: str,
        iteration: int | None,
        body: Callable[[], dict[str, Any]],
        *,
        outputs: Sequence[Path] = (),
    ) -> StageRecord:
        """Run ``body`` as stage ``name`` unless it finished before (then its record). The
        paths in ``outputs`` are removed first: what an interrupted attempt left."""
        record = self.done(name)
        if record is not None:
            _log.info("stage %s: done before (%s), skipped", name, record.finished)
            self.records.append(record)
            return record
        for path in outputs:
            if path.exists() or path.is_symlink():
                _log.info("stage %s: removing %s, left by an interrupted attempt", name, path)
                _remove(path)
        started = utc_now()
        clock = time.monotonic()
        try:
            result = body()
        except StageUnavailableError as exc:
            _log.warning("stage %s: not available: %s", name, exc)
            record = StageRecord(
                name, iteration, started, utc_now(), 0.0, {"available": False, "reason": str(exc)}
            )
            self.records.append(record)
            return record
        record = StageRecord(
            name=name,
            iteration=iteration,
            started=started,
            finished=utc_now(),
            wall_s=round(time.monotonic() - clock, 3),
            result=result,
        )
        write_json(self.layout.stage(name), record.to_dict())
        self.records.append(record)
        return record
