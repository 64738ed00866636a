"""Crash recovery of the spool: what a killed recorder left in ``incomplete/``.

For each episode folder left there, the readable messages are salvaged
(:mod:`fw_recorder.salvage`) into a fresh, valid bag whose manifest and ``custom_data`` say
``status: recovered, complete: false``, and that episode moves to ``ready/``. A folder with
nothing readable moves to ``quarantine/``. The original partial bag is deleted only after the
recovered one is in ``ready/``; a crash during recovery leaves the original in place (and a
``*.recovering`` folder that the next start deletes).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rosbags.rosbag2 import StoragePlugin, Writer

from fw_recorder.episode_bag import BAG_DIR
from fw_recorder.errors import MessageDefinitionError
from fw_recorder.manifest import read_manifest, write_manifest
from fw_recorder.msgdefs import MessageDefinitions
from fw_recorder.salvage import SalvagedBag, salvage_mcap, salvage_sqlite3
from fw_recorder.spool import SpoolPaths

__all__ = ["RecoveryReport", "recover_spool"]

_RECOVERING = ".recovering"


@dataclass
class RecoveryReport:
    """What :func:`recover_spool` did, by episode name."""

    recovered: dict[str, int] = field(default_factory=dict)  #: name → messages salvaged
    quarantined: dict[str, str] = field(default_factory=dict)  #: name → reason


def _salvage(folder: Path) -> tuple[SalvagedBag, str]:
    bag_dir = folder / BAG_DIR
    files = sorted(bag_dir.glob("*.mcap")) if bag_dir.is_dir() else []
    if files:
        return salvage_mcap(files[0]), "mcap"
    files = sorted(bag_dir.glob("*.db3")) if bag_dir.is_dir() else []
    if files:
        return salvage_sqlite3(files[0]), "sqlite3"
    raise ValueError("no bag file")


def _write_recovered(
    target: Path,
    salvaged: SalvagedBag,
    storage: str,
    defs: MessageDefinitions,
    manifest: dict[str, object],
) -> int:
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    writer = Writer(target / BAG_DIR, version=Writer.VERSION_LATEST, storage_plugin=plugin)
    writer.open()
    conns = {}
    written = 0
    try:
        for tid, topic in salvaged.topics.items():
            try:
                msgdef, rihs01 = defs.get(topic.msgtype)
            except MessageDefinitionError:
                continue
            conns[tid] = writer.add_connection(
                topic.topic,
                topic.msgtype,
                msgdef=msgdef,
                rihs01=rihs01,
                offered_qos_profiles=topic.offered_qos,
            )
        for tid, stamp, data in salvaged.messages:
            conn = conns.get(tid)
            if conn is not None:
                writer.write(conn, stamp, data)
                written += 1
        for key, value in manifest.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            writer.set_custom_data(f"fw.{key}", text)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return written


def _written_by_live_process(manifest: dict[str, object] | None) -> bool:
    """True when another recorder that is still running owns this folder (shared spool)."""
    pid = (manifest or {}).get("writer_pid")
    if not isinstance(pid, int) or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _quarantine(paths: SpoolPaths, folder: Path, reason: str, report: RecoveryReport) -> None:
    paths.quarantine.mkdir(parents=True, exist_ok=True)
    target = paths.quarantine / folder.name
    if target.exists():
        target = paths.quarantine / f"{folder.name}.{time.time_ns()}"
    os.rename(folder, target)
    (target / "QUARANTINED").write_text(reason + "\n")
    report.quarantined[folder.name] = reason


def recover_spool(paths: SpoolPaths, defs: MessageDefinitions) -> RecoveryReport:
    """Recover or quarantine everything in ``incomplete/`` (call before recording starts)."""
    report = RecoveryReport()
    if not paths.incomplete.is_dir():
        return report
    for leftover in paths.incomplete.glob(f"*{_RECOVERING}"):
        shutil.rmtree(leftover, ignore_errors=True)
    for folder in sorted(p for p in paths.incomplete.iterdir() if p.is_dir()):
        name = folder.name
        done = read_manifest(paths.ready / name)
        if done is not None and done.get("status") in ("recovered", "complete"):
            shutil.rmtree(folder, ignore_errors=True)  # crashed after publishing last time
            continue
        manifest = read_manifest(folder) or {"name": name}
        if _written_by_live_process(manifest):
            continue
        try:
            salvaged, storage = _salvage(folder)
        except (ValueError, OSError) as exc:
            _quarantine(paths, folder, f"unreadable: {exc}", report)
            continue
        if not salvaged.messages:
            _quarantine(paths, folder, f"no readable message ({salvaged.stopped})", report)
            continue
        manifest.update(
            status="recovered",
            complete=False,
            recovered_unix=time.time(),
            recovery_note=salvaged.stopped or "file ended without a summary",
            storage=storage,
        )
        staging = paths.incomplete / (name + _RECOVERING)
        staging.mkdir()
        try:
            written = _write_recovered(staging, salvaged, storage, defs, manifest)
        except Exception as exc:
            shutil.rmtree(staging, ignore_errors=True)
            _quarantine(paths, folder, f"rewrite failed: {exc}", report)
            continue
        manifest["message_count"] = written
        write_manifest(staging, manifest)
        paths.ready.mkdir(parents=True, exist_ok=True)
        os.rename(staging, paths.ready / name)
        shutil.rmtree(folder, ignore_errors=True)
        report.recovered[name] = written
    return report
