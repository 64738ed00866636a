"""A signed release repository for tests: fresh keys, a store, and test models.

Models come from :mod:`fw_policy.model_file` (no model blob is checked in); they are made once
per session by :func:`make_models` and published with :class:`RepoUnderTest`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cloud_bridge.releases import Expiry, OnlineSigners, ReleaseCard, ReleaseRepository
from cloud_bridge.releases.command import card_for_model
from cloud_bridge.releases.keys import generate_keys, key_path, load_signer
from cloud_bridge.store import ObjectStore

__all__ = ["MODEL_KINDS", "RepoUnderTest", "make_models"]

#: name -> arguments of ``python -m fw_policy.model_file`` (after the path).
MODEL_KINDS: dict[str, list[str]] = {
    "mlp1": ["mlp", "--version", "mlp-v1", "--seed", "1"],
    "mlp2": ["mlp", "--version", "mlp-v2", "--seed", "2"],
    "mlp3": ["mlp", "--version", "mlp-v3", "--seed", "3"],
    # Stands still: the policy's commands are zero, safety has nothing to do.
    "still": ["constant", "--action", "0", "0", "--version", "still-v1"],
    # Drives straight ahead at 0.9 of 0.8 m/s whatever it sees: toward the obstacles.
    "ram": ["constant", "--action", "0.9", "0", "--version", "ram-v1"],
    "other_spec": ["mlp", "--spec-id", "00000000deadbeef", "--version", "other-v1"],
    "nan": ["nan", "--version", "nan-v1"],
}


def make_models(folder: Path) -> dict[str, Path]:
    from fw_policy.model_file import main as make

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, args in MODEL_KINDS.items():
        path = folder / f"{name}.onnx"
        assert make([args[0], str(path), *args[1:]]) == 0
        paths[name] = path
    return paths


@dataclass
class RepoUnderTest:
    """Keys in ``keys_dir``, a repository in ``store``, the root a robot trusts in ``root``."""

    store: ObjectStore
    keys_dir: Path
    root: Path
    repo: ReleaseRepository

    @classmethod
    def create(cls, store: ObjectStore, folder: Path) -> RepoUnderTest:
        keys = folder / "keys"
        generate_keys(keys)
        repo = ReleaseRepository(store)
        root_bytes = repo.initialise(
            cls._signer(keys, "root"), cls._signer(keys, "targets"), cls._online_of(keys)
        )
        root = folder / "root.json"
        root.write_bytes(root_bytes)
        return cls(store, keys, root, repo)

    @staticmethod
    def _signer(keys: Path, role: str):  # type: ignore[no-untyped-def]
        return load_signer(key_path(keys, role))

    @staticmethod
    def _online_of(keys: Path) -> OnlineSigners:
        return OnlineSigners(
            load_signer(key_path(keys, "snapshot")), load_signer(key_path(keys, "timestamp"))
        )

    @property
    def online(self) -> OnlineSigners:
        return self._online_of(self.keys_dir)

    @property
    def targets(self):  # type: ignore[no-untyped-def]
        return self._signer(self.keys_dir, "targets")

    def publish(
        self,
        release: str,
        model: Path,
        channel: tuple[str, str] | None = ("fleet", "canary"),
        parent: str | None = None,
        timestamp_s: float | None = None,
    ) -> ReleaseCard:
        data = model.read_bytes()
        try:
            card = card_for_model(release, data, parent=parent, code_version="test")
        except Exception:
            # A model no robot runs (another spec): sign it anyway, as a careless or hostile
            # publisher would; the robot must refuse it.
            import hashlib

            import onnx

            from fw_policy.onnx_model import SPEC_ID_KEY

            meta = {p.key: p.value for p in onnx.load_from_string(data).metadata_props}
            card = ReleaseCard(
                release, meta[SPEC_ID_KEY], (0.8, 1.0), hashlib.sha256(data).hexdigest(), "x"
            )
        expiry = Expiry()
        if timestamp_s is not None:
            expiry = Expiry(timestamp=datetime.timedelta(seconds=timestamp_s))
        return self.repo.publish(
            data, card, self.targets, self.online, channel=channel, expiry=expiry
        )

    def promote(self, release: str, channel: tuple[str, str] = ("fleet", "canary")) -> None:
        self.repo.promote(release, *channel, self.targets, self.online)
