"""The run's release desk: its signing keys, the store's release repository, ``releases.json``.

:class:`ReleaseDesk` signs with the keys ``flywheel keys init`` made in ``<run>/keys`` (or the
folder ``--keys`` names: :func:`use_keys` checks they are the store repository's) and logs
every change it makes in ``releases.json``: ``{"release", "channel", "action" (publish, promote,
rollback), "time", "dataset_hash", "parent", "model_sha256", "faulty", "gate"}``.

Releases are never replaced, so each change first looks at what the repository already says:
a release already published with the same model, or a channel already naming the release, is
the trace of an interrupted stage, and is logged (once) instead of being signed again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cloud_bridge.releases import (
    OnlineSigners,
    ReleaseError,
    ReleaseRepository,
    RepositoryMissingError,
)
from cloud_bridge.releases.command import card_for_model
from cloud_bridge.releases.keys import ROLES, generate_keys, key_path, load_signer
from cloud_bridge.run.files import read_json, write_json
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.run.stages import utc_now
from cloud_bridge.store import ObjectStore

__all__ = ["ReleaseDesk", "init_keys", "use_keys"]


def init_keys(store: ObjectStore, layout: RunLayout) -> dict[str, Any]:
    """``flywheel keys init --out <run>/keys --store ...``: the keys (kept when there) and the
    repository, whose root metadata the robots trust; the stage result."""
    if all(key_path(layout.keys, role).exists() for role in ROLES):
        paths = {role: key_path(layout.keys, role) for role in ROLES}
    else:
        paths = generate_keys(layout.keys)
    signers = {role: load_signer(path) for role, path in paths.items()}
    repo = ReleaseRepository(store)
    try:
        root = repo.initialise(
            signers["root"],
            signers["targets"],
            OnlineSigners(signers["snapshot"], signers["timestamp"]),
        )
    except ReleaseError:
        if not layout.trusted_root.exists():
            raise ReleaseError(
                f"{store.url} already holds a release repository this run did not create: "
                "give the run an empty store (or prefix)"
            ) from None
        root = layout.trusted_root.read_bytes()  # an interrupted keys stage made it
    layout.trusted_root.write_bytes(root)
    return {
        "keys": str(layout.keys),
        "trusted_root": str(layout.trusted_root),
        "root_sha256": hashlib.sha256(root).hexdigest(),
        "store": store.url,
    }


def _check_repository_keys(store: ObjectStore, signers: dict[str, Any], keys: Path) -> bytes:
    """The store's root metadata (version 1, what robots trust) when its repository verifies
    and names each of ``signers`` for its role; :class:`ReleaseError` otherwise."""
    repo = ReleaseRepository(store)
    state = repo.read()
    for role, signer in signers.items():
        keyid = signer.public_key.keyid
        if keyid not in state.root.signed.roles[role].keyids:
            raise ReleaseError(
                f"{store.url} holds a release repository made with other keys than {keys} "
                f"(its root does not name this {role} key, {keyid[:12]}…): give the keys "
                "`flywheel keys init` made for this store"
            )
    root, _ = store.get_bytes(repo.metadata_key("1.root.json"))
    return root


def use_keys(store: ObjectStore, layout: RunLayout, keys: Path) -> dict[str, Any]:
    """The ``keys`` stage with the keys of an earlier ``flywheel keys init --out keys``: each
    role's key must be there; the store's repository must be the one they made (it is created
    with them when the store has none yet). Its root metadata, which the robots trust, is
    copied to ``<run>/keys/root.json``; the stage result records the keys it used."""
    missing = [role for role in ROLES if not key_path(keys, role).is_file()]
    if missing:
        raise ReleaseError(
            f"--keys {keys}: no {', '.join(missing)} key there (make them with "
            "`flywheel keys init --out DIR --store ...`)"
        )
    signers = {role: load_signer(key_path(keys, role)) for role in ROLES}
    created = False
    try:
        root = _check_repository_keys(store, signers, keys)
    except RepositoryMissingError:
        root = ReleaseRepository(store).initialise(
            signers["root"],
            signers["targets"],
            OnlineSigners(signers["snapshot"], signers["timestamp"]),
        )
        created = True
    layout.trusted_root.parent.mkdir(parents=True, exist_ok=True)
    layout.trusted_root.write_bytes(root)
    return {
        "keys": str(keys),
        "given": True,
        "repository_created": created,
        "trusted_root": str(layout.trusted_root),
        "root_sha256": hashlib.sha256(root).hexdigest(),
        "store": store.url,
    }


class ReleaseDesk:
    """Publish, promote and roll back the run's releases (see the module docstring)."""

    def __init__(
        self, store: ObjectStore, layout: RunLayout, fleet: str, keys: Path | None = None
    ) -> None:
        self.repo = ReleaseRepository(store)
        self.layout = layout
        self.fleet = fleet
        #: The signing keys' folder: the given one (``--keys``), else the run's own.
        self.keys = layout.keys if keys is None else keys

    def _targets(self) -> Any:
        return load_signer(key_path(self.keys, "targets"))

    def _online(self) -> OnlineSigners:
        return OnlineSigners(
            load_signer(key_path(self.keys, "snapshot")),
            load_signer(key_path(self.keys, "timestamp")),
        )

    def entries(self) -> list[dict[str, Any]]:
        entries = read_json(self.layout.releases, [])
        return entries if isinstance(entries, list) else []

    def _log(self, entry: dict[str, Any]) -> dict[str, Any]:
        entries = self.entries()
        for old in entries:
            if all(old.get(k) == entry[k] for k in ("release", "channel", "action")):
                return dict(old)
        entries.append(entry)
        write_json(self.layout.releases, entries)
        return entry

    def _channel_names(self, channel: str) -> str | None:
        for pointer in self.repo.channels():
            if pointer.fleet == self.fleet and pointer.channel == channel:
                return pointer.release
        return None

    def publish(
        self,
        release: str,
        model: Path,
        *,
        channel: str,
        parent: str | None,
        dataset_hash: str,
        metrics: dict[str, float],
        code_version: str,
        gate: dict[str, Any] | str,
        faulty: bool = False,
    ) -> dict[str, Any]:
        """Sign ``model`` as ``release`` on ``channel``; its ``releases.json`` entry."""
        data = model.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        published = {s.card.release: s.card for s in self.repo.releases()}
        if release in published:
            if published[release].model_sha256 != sha256:
                raise ReleaseError(
                    f"{release} is published with another model "
                    f"({published[release].model_sha256[:12]}), not {model} ({sha256[:12]}): "
                    "this run folder and its store disagree"
                )
            if self._channel_names(channel) != release:
                self.repo.promote(
                    release, self.fleet, channel, self._targets(), self._online(), note="publish"
                )
        else:
            card = card_for_model(
                release,
                data,
                dataset_hash=dataset_hash,
                metrics=metrics,
                parent=parent,
                code_version=code_version,
            )
            self.repo.publish(
                data, card, self._targets(), self._online(), channel=(self.fleet, channel)
            )
        return self._log(
            {
                "release": release,
                "channel": channel,
                "action": "publish",
                "time": utc_now(),
                "dataset_hash": dataset_hash,
                "parent": parent,
                "model_sha256": sha256,
                "faulty": faulty,
                "gate": gate,
            }
        )

    def _published_entry(self, release: str) -> dict[str, Any]:
        for entry in self.entries():
            if entry.get("release") == release and entry.get("action") == "publish":
                return entry
        raise ReleaseError(f"{release} was not published by this run")

    def promote(self, release: str, channel: str) -> dict[str, Any]:
        """Point ``channel`` at the published ``release``."""
        if self._channel_names(channel) != release:
            self.repo.promote(release, self.fleet, channel, self._targets(), self._online())
        first = self._published_entry(release)
        return self._log({**first, "channel": channel, "action": "promote", "time": utc_now()})

    def rollback(self, channel: str, to: str, reason: str) -> dict[str, Any]:
        """Point ``channel`` back at ``to`` and withdraw the release it named."""
        bad = self._channel_names(channel)
        if bad is None:
            raise ReleaseError(f"{self.fleet}/{channel} names no release")
        if bad != to:
            self.repo.rollback(
                self.fleet, channel, self._targets(), self._online(), to=to, note=reason
            )
        else:
            bad = next(
                (e["release"] for e in reversed(self.entries()) if e.get("channel") == channel
                 and e.get("release") != to and e.get("action") == "publish"),
                to,
            )  # fmt: skip
        first = self._published_entry(bad)
        return self._log(
            {**first, "channel": channel, "action": "rollback", "time": utc_now(),
             "rolled_back_to": to, "reason": reason}
        )  # fmt: skip
