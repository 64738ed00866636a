"""The publishing side: a TUF repository of releases and channels in an object store.

Every change (publish, promote, rollback) is one commit of new metadata, in TUF's order:

1. the target files (``model.onnx``, ``card.json``, a channel pointer), content-addressed, so
   writing one that exists changes nothing;
2. ``<N>.targets.json``, signed with the *offline* targets key, then ``<M>.snapshot.json``, signed
   with the *online* snapshot key, each created with If-None-Match at a version no file has yet:
   nothing anybody wrote is ever replaced;
3. ``timestamp.json``, signed with the online timestamp key and written with **If-Match** on the
   version this commit started from. That write is the commit: of two publishers that started
   from the same state only one can make it, and the other gets :class:`ChannelConflictError` (its
   versioned files, which nothing names, are removed) and must re-read and retry.

Readers (:mod:`cloud_bridge.releases.client`) start from ``timestamp.json``, so they see either
the state before a commit or the state after it, never a mix.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import TypeVar

from securesystemslib.signer import Signer
from tuf.api.exceptions import LengthOrHashMismatchError, RepositoryError
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from cloud_bridge.releases.card import ChannelPointer, ReleaseCard
from cloud_bridge.releases.errors import (
    ChannelConflictError,
    KeyFileError,
    ReleaseError,
    ReleaseNotFoundError,
    RepositoryMissingError,
)
from cloud_bridge.releases.layout import (
    DEFAULT_TUF_PREFIX,
    card_target,
    channel_target,
    check_name,
    model_target,
    release_of_target,
)
from cloud_bridge.store import ObjectNotFound, ObjectStore, PreconditionFailed

__all__ = [
    "Expiry",
    "OnlineSigners",
    "ReleaseRepository",
    "ReleaseSummary",
    "RepositoryState",
]

log = logging.getLogger(__name__)

#: The top-level roles this repository reads.
T = TypeVar("T", Root, Timestamp, Snapshot, Targets)

_VERSIONED = re.compile(r"^(\d+)\.(root|targets|snapshot)\.json$")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Expiry:
    """How long each role's metadata stays valid after it is signed."""

    root: datetime.timedelta = datetime.timedelta(days=365)
    targets: datetime.timedelta = datetime.timedelta(days=365)
    snapshot: datetime.timedelta = datetime.timedelta(days=30)
    #: Robots refuse a timestamp older than this: re-sign it (``flywheel release refresh``)
    #: well within it, or every robot freezes on its current release.
    timestamp: datetime.timedelta = datetime.timedelta(days=7)


@dataclass(frozen=True)
class OnlineSigners:
    """The online keys of the repository service."""

    snapshot: Signer
    timestamp: Signer


@dataclass(frozen=True)
class RepositoryState:
    """One consistent, verified read of the repository's top-level metadata."""

    root: Metadata[Root]
    timestamp: Metadata[Timestamp]
    #: Version tag of ``timestamp.json`` as read: the condition of the next commit.
    timestamp_etag: str
    snapshot: Metadata[Snapshot]
    targets: Metadata[Targets]


@dataclass(frozen=True)
class ReleaseSummary:
    """A published release, its card, and the channels that name it."""

    card: ReleaseCard
    model_length: int
    channels: tuple[str, ...]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ReleaseRepository:
    """Releases and channels signed with TUF, in ``store`` under ``prefix``."""

    def __init__(self, store: ObjectStore, prefix: str = DEFAULT_TUF_PREFIX) -> None:
        self.store = store
        self.prefix = prefix.strip("/")

    # --- keys in the store ---------------------------------------------------------------
    def metadata_key(self, name: str) -> str:
        return f"{self.prefix}/metadata/{name}"

    def target_key(self, target: TargetFile) -> str:
        """Where a target's bytes live (consistent snapshot: the hash prefixes the name)."""
        directory, sep, base = target.path.rpartition("/")
        return f"{self.prefix}/targets/{directory}{sep}{target.hashes['sha256']}.{base}"

    # --- reading ---------------------------------------------------------------------------
    def _get(self, name: str) -> tuple[bytes, str]:
        try:
            data, info = self.store.get_bytes(self.metadata_key(name))
        except ObjectNotFound:
            raise RepositoryMissingError(
                f"{self.store.url}: no {name} under {self.prefix}/metadata/ "
                "(create the repository with `flywheel keys init --store`)"
            ) from None
        return data, info.etag

    def _metadata(self, name: str, kind: type[T]) -> Metadata[T]:
        data, _ = self._get(name)
        try:
            md = Metadata[T].from_bytes(data)
        except RepositoryError as exc:  # not metadata at all (a truncated or foreign file)
            raise ReleaseError(f"{name} is not TUF metadata: {exc}") from None
        if not isinstance(md.signed, kind):
            raise ReleaseError(f"{name} holds {md.signed.type} metadata, not {kind.type}")
        return md

    def _versions(self, role: str) -> list[int]:
        versions = []
        for info in self.store.list(f"{self.prefix}/metadata/"):
            match = _VERSIONED.match(info.key.rsplit("/", 1)[-1])
            if match and match.group(2) == role:
                versions.append(int(match.group(1)))
        return sorted(versions)

    def read(self) -> RepositoryState:
        """The current state, each role verified with the keys its delegator names."""
        try:
            return self._read()
        except RepositoryError as exc:
            raise ReleaseError(
                f"{self.store.url}: the repository's metadata does not verify: {exc}"
            ) from None

    def _read(self) -> RepositoryState:
        root = self._metadata("1.root.json", Root)
        root.verify_delegate(Root.type, root)
        version = 2
        while True:  # follow the root chain (key rotations)
            try:
                data, _ = self.store.get_bytes(self.metadata_key(f"{version}.root.json"))
            except ObjectNotFound:
                break
            new_root = Metadata[Root].from_bytes(data)
            root.verify_delegate(Root.type, new_root)
            new_root.verify_delegate(Root.type, new_root)
            root, version = new_root, version + 1
        ts_data, ts_etag = self._get("timestamp.json")
        timestamp = Metadata[Timestamp].from_bytes(ts_data)
        root.verify_delegate(Timestamp.type, timestamp)
        snap_version = timestamp.signed.snapshot_meta.version
        snapshot = self._metadata(f"{snap_version}.snapshot.json", Snapshot)
        root.verify_delegate(Snapshot.type, snapshot)
        targets_version = snapshot.signed.meta["targets.json"].version
        targets = self._metadata(f"{targets_version}.targets.json", Targets)
        root.verify_delegate(Targets.type, targets)
        return RepositoryState(root, timestamp, ts_etag, snapshot, targets)

    def read_target(self, state: RepositoryState, path: str) -> bytes:
        """A target's bytes, checked against the signed length and hash."""
        target = state.targets.signed.targets.get(path)
        if target is None:
            raise ReleaseNotFoundError(f"{path} is not a signed target")
        data, _ = self.store.get_bytes(self.target_key(target))
        try:
            target.verify_length_and_hashes(data)
        except LengthOrHashMismatchError as exc:
            raise ReleaseError(
                f"the store's copy of {path} differs from what was signed: {exc}"
            ) from None
        return data

    # --- creating ----------------------------------------------------------------------------
    def initialise(
        self,
        root_signer: Signer,
        targets_signer: Signer,
        online: OnlineSigners,
        expiry: Expiry = Expiry(),
    ) -> bytes:
        """Create the repository (root v1, empty targets); the root metadata robots trust."""
        now = _now()
        root = Metadata(Root(expires=now + expiry.root, consistent_snapshot=True))
        for role, signer in (
            (Root.type, root_signer),
            (Targets.type, targets_signer),
            (Snapshot.type, online.snapshot),
            (Timestamp.type, online.timestamp),
        ):
            root.signed.add_key(signer.public_key, role)
        root.sign(root_signer)
        root_bytes = root.to_bytes()
        try:
            self.store.put_bytes(self.metadata_key("1.root.json"), root_bytes, if_none_match=True)
        except PreconditionFailed:
            raise ReleaseError(
                f"{self.store.url}: a repository already exists under {self.prefix}/"
            ) from None
        targets = Metadata(Targets(version=1, expires=now + expiry.targets))
        targets.sign(targets_signer)
        self._write_chain(None, targets, online, expiry, written=[])
        log.info("created the release repository in %s under %s/", self.store.url, self.prefix)
        return root_bytes

    # --- changes -----------------------------------------------------------------------------
    def publish(
        self,
        model: bytes,
        card: ReleaseCard,
        targets_signer: Signer,
        online: OnlineSigners,
        *,
        channel: tuple[str, str] | None = None,
        expiry: Expiry = Expiry(),
    ) -> ReleaseCard:
        """Sign ``model`` and ``card`` as a new release (and point ``channel`` at it)."""
        check_name("release", card.release)
        if _sha256(model) != card.model_sha256:
            raise ReleaseError("the card's model_sha256 is not the model's")
        state = self.read()
        self._check_signer(state, Targets.type, targets_signer)
        current = state.targets.signed.targets
        if model_target(card.release) in current:
            raise ReleaseError(f"release {card.release!r} exists; releases are never replaced")
        if card.parent is not None and model_target(card.parent) not in current:
            raise ReleaseNotFoundError(f"parent release {card.parent!r} is not published")
        if not card.created_at:
            card = replace(card, created_at=_now().isoformat())
        files = {model_target(card.release): model, card_target(card.release): card.to_json()}
        if channel is not None:
            files.update(
                self._pointer_file(state, card.release, *channel, note="publish", publishing=True)
            )
        self._commit(state, files, targets_signer, online, expiry)
        return card

    def promote(
        self,
        release: str,
        fleet: str,
        channel: str,
        targets_signer: Signer,
        online: OnlineSigners,
        *,
        note: str = "promote",
        expiry: Expiry = Expiry(),
    ) -> ChannelPointer:
        """Point ``fleet``'s ``channel`` at a published release."""
        state = self.read()
        self._check_signer(state, Targets.type, targets_signer)
        files = self._pointer_file(state, release, fleet, channel, note=note)
        self._commit(state, files, targets_signer, online, expiry)
        return ChannelPointer.from_json(next(iter(files.values())))

    def rollback(
        self,
        fleet: str,
        channel: str,
        targets_signer: Signer,
        online: OnlineSigners,
        *,
        to: str | None = None,
        note: str = "rollback",
        expiry: Expiry = Expiry(),
    ) -> ChannelPointer:
        """Point the channel back (at its previous release, or ``to``) and withdraw the
        release it named, so that no robot on the channel installs it again."""
        state = self.read()
        self._check_signer(state, Targets.type, targets_signer)
        current = self._current_pointer(state, fleet, channel)
        if current is None:
            raise ReleaseNotFoundError(f"channel {fleet}/{channel} names no release")
        target = to or current.previous
        if target is None:
            raise ReleaseNotFoundError(
                f"channel {fleet}/{channel} has no previous release; name one with --to"
            )
        if to is None and target in current.withdrawn:
            raise ReleaseError(
                f"the previous release of {fleet}/{channel}, {target!r}, was withdrawn; "
                "name the release to go back to with --to"
            )
        if target == current.release:
            raise ReleaseError(f"channel {fleet}/{channel} already names {target!r}")
        withdrawn = (*current.withdrawn, current.release)
        files = self._pointer_file(
            state,
            target,
            fleet,
            channel,
            note=note,
            withdrawn=withdrawn,
            allow_withdrawn=to is not None,  # the operator named it
        )
        self._commit(state, files, targets_signer, online, expiry)
        return ChannelPointer.from_json(next(iter(files.values())))

    def refresh_timestamp(self, online: OnlineSigners, expiry: Expiry = Expiry()) -> int:
        """Re-sign ``timestamp.json`` with a new expiry (run it on a schedule); its version."""
        state = self.read()
        self._check_signer(state, Timestamp.type, online.timestamp)
        timestamp = state.timestamp.signed
        timestamp.version += 1
        timestamp.expires = _now() + expiry.timestamp
        state.timestamp.signatures.clear()
        state.timestamp.sign(online.timestamp)
        try:
            self.store.put_bytes(
                self.metadata_key("timestamp.json"),
                state.timestamp.to_bytes(),
                if_match=state.timestamp_etag,
            )
        except PreconditionFailed:
            raise ChannelConflictError(
                "timestamp.json changed while it was re-signed (a publish committed); retry"
            ) from None
        return timestamp.version

    # --- listing -----------------------------------------------------------------------------
    def channels(self, state: RepositoryState | None = None) -> list[ChannelPointer]:
        state = state or self.read()
        return [
            ChannelPointer.from_json(self.read_target(state, path))
            for path in sorted(state.targets.signed.targets)
            if path.startswith("channels/")
        ]

    def releases(self) -> list[ReleaseSummary]:
        state = self.read()
        naming: dict[str, list[str]] = {}
        for pointer in self.channels(state):
            naming.setdefault(pointer.release, []).append(f"{pointer.fleet}/{pointer.channel}")
        summaries = []
        for path, target in state.targets.signed.targets.items():
            release = release_of_target(path)
            if release is None:
                continue
            card = ReleaseCard.from_json(self.read_target(state, card_target(release)))
            summaries.append(
                ReleaseSummary(card, target.length, tuple(sorted(naming.get(release, []))))
            )
        return sorted(summaries, key=lambda s: (s.card.created_at, s.card.release))

    def history(self, fleet: str, channel: str) -> list[tuple[int, ChannelPointer]]:
        """Every state the channel went through, newest first, with its targets version."""
        path = channel_target(fleet, channel)
        state = self.read()
        out: list[tuple[int, ChannelPointer]] = []
        seen: set[str] = set()
        for version in reversed(self._versions(Targets.type)):
            if version > state.targets.signed.version:
                continue  # a file of a publish that lost its commit: never signed in
            md = self._metadata(f"{version}.targets.json", Targets)
            try:
                state.root.verify_delegate(Targets.type, md)
            except RepositoryError as exc:
                raise ReleaseError(f"targets v{version} does not verify: {exc}") from None
            target = md.signed.targets.get(path)
            if target is None or target.hashes["sha256"] in seen:
                continue
            seen.add(target.hashes["sha256"])
            data, _ = self.store.get_bytes(self.target_key(target))
            try:
                target.verify_length_and_hashes(data)
            except LengthOrHashMismatchError as exc:
                raise ReleaseError(f"{path} v{version} is not what was signed: {exc}") from None
            out.append((version, ChannelPointer.from_json(data)))
        return out

    # --- internals ---------------------------------------------------------------------------
    @staticmethod
    def _check_signer(state: RepositoryState, role: str, signer: Signer) -> None:
        keyid = signer.public_key.keyid
        if keyid not in state.root.signed.roles[role].keyids:
            raise KeyFileError(
                f"this key ({keyid[:12]}…) is not a {role} key of this repository's root"
            )

    def _current_pointer(
        self, state: RepositoryState, fleet: str, channel: str
    ) -> ChannelPointer | None:
        path = channel_target(fleet, channel)
        if path not in state.targets.signed.targets:
            return None
        return ChannelPointer.from_json(self.read_target(state, path))

    def _pointer_file(
        self,
        state: RepositoryState,
        release: str,
        fleet: str,
        channel: str,
        *,
        note: str,
        withdrawn: tuple[str, ...] | None = None,
        allow_withdrawn: bool = False,
        publishing: bool = False,
    ) -> dict[str, bytes]:
        targets = state.targets.signed.targets
        if model_target(release) not in targets and not publishing:
            raise ReleaseNotFoundError(f"release {release!r} is not published")
        current = self._current_pointer(state, fleet, channel)
        if current is not None and current.release == release:
            raise ReleaseError(f"channel {fleet}/{channel} already names {release!r}")
        kept = current.withdrawn if current is not None else ()
        if withdrawn is not None:
            kept = withdrawn
        if release in kept and not allow_withdrawn:
            raise ReleaseError(f"release {release!r} was withdrawn from {fleet}/{channel}")
        pointer = ChannelPointer(
            fleet=fleet,
            channel=channel,
            release=release,
            previous=None if current is None else current.release,
            withdrawn=tuple(r for r in kept if r != release),
            updated_at=_now().isoformat(),
            note=note,
        )
        return {channel_target(fleet, channel): pointer.to_json()}

    def _next_version(self, role: str, current: int) -> int:
        # Past every file of the role, those of commits that lost or died included: a
        # versioned file is created once and never replaced.
        return max([current, *self._versions(role)]) + 1

    def _put_new(self, key: str, data: bytes, written: list[str]) -> None:
        try:
            self.store.put_bytes(key, data, if_none_match=True)
        except PreconditionFailed:
            raise ChannelConflictError(
                f"{key} was created by another publisher meanwhile; nothing was committed, "
                "re-read the repository and retry"
            ) from None
        written.append(key)

    def _commit(
        self,
        state: RepositoryState,
        files: dict[str, bytes],
        targets_signer: Signer,
        online: OnlineSigners,
        expiry: Expiry,
    ) -> None:
        self._check_signer(state, Snapshot.type, online.snapshot)
        self._check_signer(state, Timestamp.type, online.timestamp)
        targets = state.targets
        for path, data in files.items():
            target = TargetFile.from_data(path, data, ["sha256"])
            # Content-addressed: when the key exists, the same bytes are there already.
            with suppress(PreconditionFailed):
                self.store.put_bytes(self.target_key(target), data, if_none_match=True)
            targets.signed.targets[path] = target
        targets.signed.version = self._next_version(Targets.type, targets.signed.version)
        targets.signed.expires = _now() + expiry.targets
        targets.signatures.clear()
        targets.sign(targets_signer)
        written: list[str] = []
        try:
            self._write_chain(state, targets, online, expiry, written)
        except ChannelConflictError:
            for key in written:
                try:
                    self.store.delete(key)
                except Exception as exc:  # best effort: an orphan is never read anyway
                    log.warning("could not remove %s: %s", key, exc)
            raise

    def _write_chain(
        self,
        state: RepositoryState | None,
        targets: Metadata[Targets],
        online: OnlineSigners,
        expiry: Expiry,
        written: list[str],
    ) -> None:
        """Write targets, a snapshot naming it, and the timestamp naming that (the commit)."""
        now = _now()
        targets_bytes = targets.to_bytes()
        version = targets.signed.version
        self._put_new(self.metadata_key(f"{version}.targets.json"), targets_bytes, written)

        snapshot = Metadata(Snapshot(expires=now + expiry.snapshot))
        if state is not None:
            snapshot = state.snapshot
            snapshot.signatures.clear()
            snapshot.signed.expires = now + expiry.snapshot
        snapshot.signed.version = self._next_version(
            Snapshot.type, 0 if state is None else state.snapshot.signed.version
        )
        snapshot.signed.meta["targets.json"] = MetaFile(version=version)
        snapshot.sign(online.snapshot)
        snapshot_bytes = snapshot.to_bytes()
        snap_version = snapshot.signed.version
        self._put_new(self.metadata_key(f"{snap_version}.snapshot.json"), snapshot_bytes, written)

        timestamp = Metadata(Timestamp(expires=now + expiry.timestamp))
        if state is not None:
            timestamp = state.timestamp
            timestamp.signatures.clear()
            timestamp.signed.version += 1
            timestamp.signed.expires = now + expiry.timestamp
        timestamp.signed.snapshot_meta = MetaFile(
            version=snap_version,
            length=len(snapshot_bytes),
            hashes={"sha256": _sha256(snapshot_bytes)},
        )
        timestamp.sign(online.timestamp)
        key = self.metadata_key("timestamp.json")
        try:
            if state is None:
                self.store.put_bytes(key, timestamp.to_bytes(), if_none_match=True)
            else:
                self.store.put_bytes(key, timestamp.to_bytes(), if_match=state.timestamp_etag)
        except PreconditionFailed:
            raise ChannelConflictError(
                "another publisher committed first (timestamp.json changed since this change "
                "read it); nothing of this change was committed: re-read and retry"
            ) from None
