"""``build_dataset``: the store's episodes → a sharded Parquet dataset, incrementally.

A dataset folder::

    <root>/data/shard-00000.parquet ...   the steps (see :mod:`cloud_bridge.dataset.schema`)
    <root>/episodes.json                  episodes built: files digest, content hash, shard
    <root>/quarantine.json                episodes refused, with the reason
    <root>/stats.json                     normalisation figures over every step
    <root>/card.json                      episodes, robots, releases, content hash

A build lists the store's episodes (their manifests), and decodes only those it has not built
or quarantined in the same version (the manifest's file digests): a rebuild costs the new
episodes. Each is downloaded to a cache, verified against its manifest's SHA-256, and re-run
through the robot loop (:func:`cloud_bridge.dataset.replay.replay_episode`). An episode that
fails anywhere on the way is quarantined with its reason and the build goes on; it is tried
again only when the store holds a new version of it. The new episodes' rows go to new shards
(episodes are never split), then ``episodes.json`` is written: the commit point, so shards of a
build that died before it are deleted by the next one. ``stats.json`` and ``card.json`` are
then recomputed over every shard.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import cloud_bridge
from cloud_bridge.catalog.catalog import list_episodes
from cloud_bridge.dataset.atomic import read_json, write_json, write_parquet
from cloud_bridge.dataset.card import DatasetCard, content_sha256, dataset_hash
from cloud_bridge.dataset.errors import DatasetError, EpisodeRejected
from cloud_bridge.dataset.fetch import fetch_episode, files_digest, read_manifest
from cloud_bridge.dataset.replay import ReleaseUnavailable, replay_episode
from cloud_bridge.dataset.schema import control_rate, steps_schema
from cloud_bridge.dataset.stats import compute_stats
from cloud_bridge.store.base import ObjectStore
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile, load_profile
from fw_policy.base import Policy

__all__ = [
    "DATASET_FORMAT",
    "ROWS_PER_SHARD",
    "EpisodeOutcome",
    "build_dataset",
    "default_profile",
    "load_steps",
]

_log = logging.getLogger(__name__)

#: The format tag of ``episodes.json``.
DATASET_FORMAT = "flywheel.dataset/1"
#: A new shard is started once one holds this many rows (at an episode's end).
ROWS_PER_SHARD = 200_000


@dataclass(frozen=True)
class EpisodeOutcome:
    """What the build did with one episode (for progress displays)."""

    key: str
    #: ``decoded``, ``unchanged``, ``quarantined``, ``pending``.
    verdict: str
    rows: int = 0
    #: Messages decoded from its bag.
    messages: int = 0
    reason: str = ""


def default_profile() -> RobotProfile:
    """The simulated robot's profile (what the golden and simulated episodes ran)."""
    from fw_bringup.node_parameters import default_profile_path

    return load_profile(default_profile_path("sim"))


def _shard_name(index: int) -> str:
    return f"data/shard-{index:05d}.parquet"


def _load_state(root: Path, spec_id: str, fps: float) -> dict[str, Any]:
    state = read_json(root / "episodes.json", None)
    if state is None:
        return {"format": DATASET_FORMAT, "spec_id": spec_id, "fps": fps, "episodes": {}}
    if not isinstance(state, dict) or state.get("format") != DATASET_FORMAT:
        raise DatasetError(f"{root / 'episodes.json'} is not a {DATASET_FORMAT} index")
    if state.get("spec_id") != spec_id or state.get("fps") != fps:
        raise DatasetError(
            f"{root} was built with spec {state.get('spec_id')} at {state.get('fps')} Hz, "
            f"this profile gives {spec_id} at {fps} Hz: build into a new folder"
        )
    return state


def load_steps(root: Path, columns: list[str] | None = None) -> pa.Table:
    """Every step of the dataset at ``root``, episodes in their shards' order."""
    state = read_json(Path(root) / "episodes.json", None)
    if not isinstance(state, dict):
        raise DatasetError(f"{root} holds no dataset (no episodes.json)")
    shards = sorted({str(e["shard"]) for e in state["episodes"].values()})
    if not shards:
        return steps_schema(int(state.get("observation_size", 1))).empty_table()
    tables = [pq.read_table(Path(root) / s, columns=columns) for s in shards]
    return pa.concat_tables(tables)


def _remove_orphans(root: Path, state: dict[str, Any]) -> None:
    """Shards no episode refers to: left by a build that died before its commit."""
    referenced = {str(e["shard"]) for e in state["episodes"].values()}
    for path in sorted((root / "data").glob("*.parquet*")):
        if path.relative_to(root).as_posix() not in referenced:
            _log.warning("removing %s: no episode refers to it (an interrupted build)", path)
            path.unlink()


class _ShardWriter:
    """Collects new episodes' tables into shards of about :data:`ROWS_PER_SHARD` rows."""

    def __init__(self, root: Path, next_index: int) -> None:
        self.root = root
        self.index = next_index
        self.pending: list[tuple[str, pa.Table]] = []
        self.rows = 0
        #: episode key -> shard name, for what was written.
        self.written: dict[str, str] = {}

    def add(self, key: str, table: pa.Table) -> None:
        self.pending.append((key, table))
        self.rows += table.num_rows
        if self.rows >= ROWS_PER_SHARD:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        name = _shard_name(self.index)
        write_parquet(self.root / name, pa.concat_tables(t for _, t in self.pending))
        self.written.update({key: name for key, _ in self.pending})
        self.index += 1
        self.pending, self.rows = [], 0


def build_dataset(
    store: ObjectStore,
    root: Path,
    *,
    profile: RobotProfile | None = None,
    cache: Path | None = None,
    models: Mapping[str, Policy] | None = None,
    robot: str | None = None,
    progress: Callable[[int, int, EpisodeOutcome], None] | None = None,
) -> DatasetCard:
    """Build (or extend) the dataset at ``root`` from the episodes in ``store``.

    ``profile``: the robot's (default: the simulated robot's). ``cache``: where episodes are
    downloaded (default: a temporary folder, removed after). ``models``: ONNX releases'
    policies by ``model_version``. ``robot``: only this robot's episodes. ``progress`` is
    called after each episode with ``(done, total, outcome)``.
    """
    profile = profile or default_profile()
    if profile.policy.trigger != "scan":
        # A timer-triggered policy decides on the robot's timer, which a bag does not record:
        # refused here rather than every episode quarantined as having no step.
        raise DatasetError(
            f"the profile's policy.trigger is {profile.policy.trigger!r}: the dataset build "
            "re-runs scan-triggered policies only"
        )
    spec = spec_by_name(profile.policy.observation_spec)
    root = Path(root)
    (root / "data").mkdir(parents=True, exist_ok=True)
    state = _load_state(root, spec.spec_id, control_rate(profile))
    state["observation_size"] = spec.size
    quarantine: dict[str, Any] = read_json(root / "quarantine.json", {})
    _remove_orphans(root, state)

    entries = sorted(list_episodes(store, robot), key=lambda e: (e.robot_id, e.episode))
    counts = {"decoded": 0, "unchanged": 0, "quarantined": 0, "pending": 0}
    own_cache = cache is None
    cache_dir = Path(tempfile.mkdtemp(prefix="fw-dataset-")) if cache is None else Path(cache)
    build = _Build(store, root, state, quarantine, cache_dir, profile, models)
    try:
        for done, entry in enumerate(entries, 1):
            outcome = build.episode(entry.robot_id, entry.episode)
            counts[outcome.verdict] += 1
            if progress is not None:
                progress(done, len(entries), outcome)
        build.writer.flush()
    finally:
        if own_cache:
            shutil.rmtree(cache_dir, ignore_errors=True)
    for key, record in build.new_episodes.items():
        state["episodes"][key] = {**record, "shard": build.writer.written[key]}
    write_json(root / "quarantine.json", quarantine)
    write_json(root / "episodes.json", state)  # the commit point
    return _finish(root, state, quarantine, spec.feature_names(), counts)


class _Build:
    """One build's decisions on each episode of the store."""

    def __init__(
        self,
        store: ObjectStore,
        root: Path,
        state: dict[str, Any],
        quarantine: dict[str, Any],
        cache: Path,
        profile: RobotProfile,
        models: Mapping[str, Policy] | None,
    ) -> None:
        self.store = store
        self.built: dict[str, Any] = state["episodes"]
        self.fps = float(state["fps"])
        self.quarantine = quarantine
        self.cache = cache
        self.profile = profile
        self.models = models
        shards = [int(Path(e["shard"]).stem.split("-")[1]) for e in self.built.values()]
        self.writer = _ShardWriter(root, max(shards, default=-1) + 1)
        #: Episodes decoded by this build: their ``episodes.json`` records, less the shard.
        self.new_episodes: dict[str, dict[str, Any]] = {}

    def episode(self, robot_id: str, episode: str) -> EpisodeOutcome:
        """Decode one episode unless this version of it was built or refused before."""
        key = f"{robot_id}/{episode}"
        try:
            manifest = read_manifest(self.store, robot_id, episode)
        except EpisodeRejected as exc:
            return self._refuse(robot_id, episode, "", str(exc))
        digest = files_digest(manifest)
        if key in self.built:
            if self.built[key]["bag_sha256"] == digest:
                return EpisodeOutcome(key, "unchanged")
            reason = "changed in the store after it was built: rebuild into a new folder"
            return self._refuse(robot_id, episode, digest, reason)
        refused = self.quarantine.get(key)
        if refused is not None and refused["bag_sha256"] == digest:
            return EpisodeOutcome(key, "unchanged", reason=refused["reason"])
        try:
            files = fetch_episode(self.store, robot_id, episode, self.cache, manifest)
            replay = replay_episode(
                files.folder, self.profile, episode_id=episode, robot_id=robot_id,
                fps=self.fps, models=self.models,
            )  # fmt: skip
        except ReleaseUnavailable as exc:
            _log.warning("%s: %s (left for a later build)", key, exc)
            return EpisodeOutcome(key, "pending", reason=str(exc))
        except EpisodeRejected as exc:
            return self._refuse(robot_id, episode, digest, str(exc))
        self.quarantine.pop(key, None)
        table = replay.table
        self.new_episodes[key] = {
            "robot_id": robot_id,
            "episode": episode,
            "bag_sha256": digest,
            "content_sha256": content_sha256(table),
            "rows": table.num_rows,
            "releases": replay.releases,
            "messages": replay.messages,
        }
        self.writer.add(key, table)
        return EpisodeOutcome(key, "decoded", table.num_rows, replay.messages)

    def _refuse(self, robot_id: str, episode: str, digest: str, reason: str) -> EpisodeOutcome:
        key = f"{robot_id}/{episode}"
        _log.warning("quarantined %s: %s", key, reason)
        self.quarantine[key] = {
            "robot_id": robot_id,
            "episode": episode,
            "bag_sha256": digest,
            "reason": reason,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        return EpisodeOutcome(key, "quarantined", reason=reason)


def _finish(
    root: Path,
    state: dict[str, Any],
    quarantine: dict[str, Any],
    feature_names: list[str],
    counts: dict[str, int],
) -> DatasetCard:
    built: dict[str, Any] = state["episodes"]
    table = load_steps(root)
    write_json(root / "stats.json", compute_stats(table, feature_names))
    card = DatasetCard(
        dataset_hash=dataset_hash({k: str(e["content_sha256"]) for k, e in built.items()}),
        episodes=sorted(built),
        robots=sorted({str(e["robot_id"]) for e in built.values()}),
        releases=sorted({str(r) for e in built.values() for r in e["releases"]}),
        steps=table.num_rows,
        spec_id=str(state["spec_id"]),
        fps=float(state["fps"]),
        shards=sorted({str(e["shard"]) for e in built.values()}),
        quarantined=len(quarantine),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        code_version=f"cloud_bridge {cloud_bridge.__version__}",
        last_build=counts,
    )
    write_json(root / "card.json", card.as_dict())
    return card
