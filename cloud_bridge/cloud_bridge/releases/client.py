"""The robot's side: check a channel, download a release to staging and verify it there.

Trust starts from the root metadata provisioned on the robot (its profile names the file) and
nothing else: ``tuf.ngclient`` walks the root chain from it, then timestamp, snapshot and
targets, checking signatures, thresholds, versions (no rollback) and expiry (no freeze), and
every target's length and hash. Each refusal is a :class:`ReleaseRefusedError` with a
:class:`RefusalReason` and a sentence; nothing refused ever leaves staging.

A verified release is then checked as a model for *this* robot: its card's and its ONNX
metadata's observation spec id against the robot's spec, an onnxruntime load and a finite
warm-up (:func:`fw_policy.onnx_model.load_model`, the same checks the policy node makes).
Only then is it moved from ``staging/`` to ``releases/<id>/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import Metadata, Root
from tuf.ngclient import Updater, UpdaterConfig

from cloud_bridge.releases.card import ChannelPointer, ReleaseCard
from cloud_bridge.releases.errors import RefusalReason, ReleaseError, ReleaseRefusedError
from cloud_bridge.releases.fetcher import StoreFetcher, store_url
from cloud_bridge.releases.layout import (
    CARD_FILE,
    DEFAULT_TUF_PREFIX,
    MODEL_FILE,
    card_target,
    channel_target,
    check_name,
    model_target,
)
from cloud_bridge.store import ObjectStore

if TYPE_CHECKING:
    from fw_common.observation import ObservationSpec

__all__ = ["ReleaseClient", "StagedRelease"]

log = logging.getLogger(__name__)

# python-tuf's message for a length mismatch (tuf.api._payload.BaseFile._verify_length).
_OBSERVED_LENGTH = re.compile(r"Observed length (\d+) does not match expected length (\d+)")

#: Largest model the robot downloads (bytes): the signed length bounds it too.
MAX_MODEL_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class StagedRelease:
    """A release verified on this robot and ready to swap in."""

    release: str
    card: ReleaseCard
    #: The verified model file (under ``releases/<id>/``).
    model_path: Path
    #: What ``load_model`` said about it (``OnnxModel.describe()``).
    model_info: dict[str, Any]


class ReleaseClient:
    """Check channels and stage releases from ``store``, trusting only ``trusted_root``.

    ``cache_dir`` holds the trusted metadata (TUF's local cache: it is what makes a replayed
    older version a rollback), ``staging/`` and the verified ``releases/``.
    """

    def __init__(
        self,
        store: ObjectStore,
        trusted_root: Path,
        cache_dir: Path,
        spec: ObservationSpec,
        *,
        prefix: str = DEFAULT_TUF_PREFIX,
    ) -> None:
        self.store = store
        self.spec = spec
        self.cache_dir = Path(cache_dir)
        self.metadata_dir = self.cache_dir / "metadata"
        self.staging_dir = self.cache_dir / "staging"
        self.releases_dir = self.cache_dir / "releases"
        for d in (self.metadata_dir, self.staging_dir, self.releases_dir):
            d.mkdir(parents=True, exist_ok=True)
        try:
            self._root_bytes = Path(trusted_root).read_bytes()
            self._root = Metadata[Root].from_bytes(self._root_bytes)
        except (OSError, tuf_errors.RepositoryError, ValueError) as exc:
            raise ReleaseError(
                f"provisioned root {str(trusted_root)!r} is unusable: {exc}"
            ) from None
        if not isinstance(self._root.signed, Root):
            raise ReleaseError(f"provisioned root {str(trusted_root)!r} is not root metadata")
        self._prefix = prefix.strip("/")
        self.fetcher = StoreFetcher(store)

    # --- TUF -----------------------------------------------------------------------------------
    def _updater(self) -> Updater:
        # One refresh per Updater (python-tuf's rule), so a new one per check; the trusted
        # state persists in metadata_dir between them.
        return Updater(
            metadata_dir=str(self.metadata_dir),
            metadata_base_url=store_url(f"{self._prefix}/metadata"),
            target_base_url=store_url(f"{self._prefix}/targets"),
            target_dir=str(self.staging_dir),
            fetcher=self.fetcher,
            config=UpdaterConfig(targets_max_length=16 * 1024 * 1024),
            bootstrap=self._root_bytes,
        )

    def _refused_metadata(self, exc: Exception) -> ReleaseRefusedError:
        """Say why signed metadata was refused, from the file the updater refused."""
        message = str(exc)
        if isinstance(exc, tuf_errors.ExpiredMetadataError):
            return ReleaseRefusedError(RefusalReason.EXPIRED, message)
        if isinstance(exc, tuf_errors.EqualVersionNumberError | tuf_errors.BadVersionNumberError):
            return ReleaseRefusedError(RefusalReason.ROLLBACK, message)
        if isinstance(exc, tuf_errors.DownloadError):
            if isinstance(exc, tuf_errors.DownloadLengthMismatchError):
                return ReleaseRefusedError(RefusalReason.TAMPERED, message)
            return ReleaseRefusedError(RefusalReason.UNAVAILABLE, message)
        if isinstance(exc, tuf_errors.LengthOrHashMismatchError):
            # Metadata whose length or hash differs from what the signed parent says.
            return ReleaseRefusedError(self._length_reason(message), message)
        last = self.fetcher.last
        if isinstance(exc, tuf_errors.UnsignedMetadataError) and last is not None:
            return ReleaseRefusedError(self._signature_reason(last[1]), f"{message} ({last[0]})")
        if last is not None:
            try:
                json.loads(last[1])
            except ValueError:
                return ReleaseRefusedError(RefusalReason.TRUNCATED, f"{message} ({last[0]})")
        return ReleaseRefusedError(RefusalReason.INVALID_METADATA, message)

    @staticmethod
    def _length_reason(message: str) -> str:
        """Shorter than signed: truncated; otherwise (longer, or another hash): tampered."""
        match = _OBSERVED_LENGTH.search(message)
        if match and int(match.group(1)) < int(match.group(2)):
            return RefusalReason.TRUNCATED
        return RefusalReason.TAMPERED

    def _signature_reason(self, data: bytes) -> str:
        try:
            doc = json.loads(data)
            signatures = doc.get("signatures", [])
            role = doc["signed"]["_type"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return RefusalReason.TRUNCATED
        if not signatures:
            return RefusalReason.UNSIGNED
        trusted = self._trusted_keyids(role)
        if any(s.get("keyid") not in trusted for s in signatures if isinstance(s, dict)):
            return RefusalReason.UNKNOWN_KEY
        return RefusalReason.TAMPERED

    def _trusted_keyids(self, role: str) -> set[str]:
        # The newest root the robot trusts, not merely the provisioned one (keys rotate).
        root = self._root
        with suppress(OSError, ValueError, tuf_errors.RepositoryError):
            root = Metadata[Root].from_bytes((self.metadata_dir / "root.json").read_bytes())
        signed = root.signed
        return set(signed.roles[role].keyids) if role in signed.roles else set()

    @contextmanager
    def _tuf(self, release: str | None = None) -> Iterator[None]:
        """Translate what the updater raises into a refusal with its reason."""
        self.fetcher.last = None
        try:
            yield
        except ReleaseRefusedError:
            raise
        except (tuf_errors.RepositoryError, tuf_errors.DownloadError) as exc:
            refused = self._refused_metadata(exc)
            refused.release = release
            raise refused from None

    def refresh(self) -> Updater:
        """A refreshed updater: the repository's current signed state, verified."""
        with self._tuf():
            updater = self._updater()  # re-verifies the trusted root chain on disk
            updater.refresh()
        return updater

    def check(self, fleet: str, channel: str, updater: Updater | None = None) -> ChannelPointer:
        """The release ``fleet``'s ``channel`` names now (signed, verified)."""
        path = channel_target(fleet, channel)
        updater = updater or self.refresh()
        with self._tuf():
            info = updater.get_targetinfo(path)
            if info is None:
                raise ReleaseRefusedError(RefusalReason.NOT_FOUND, f"no signed channel {path}")
            local = self.cache_dir / "channels" / f"{check_name('fleet', fleet)}.{channel}.json"
            local.parent.mkdir(exist_ok=True)
            cached = updater.find_cached_target(info, str(local))
            if cached is None:
                self._download(updater, info, local)
        try:
            pointer = ChannelPointer.from_json(local.read_bytes())
        except ReleaseError as exc:
            raise ReleaseRefusedError(RefusalReason.INVALID_CARD, str(exc)) from None
        if (pointer.fleet, pointer.channel) != (fleet, channel):
            raise ReleaseRefusedError(
                RefusalReason.INVALID_CARD,
                f"{path} names {pointer.fleet}/{pointer.channel}, not {fleet}/{channel}",
            )
        return pointer

    def _download(self, updater: Updater, info: Any, path: Path) -> None:
        """Download a target; a length/hash mismatch says truncated or tampered."""
        try:
            updater.download_target(info, str(path))
        except tuf_errors.LengthOrHashMismatchError as exc:
            reason = self._length_reason(str(exc))
            raise ReleaseRefusedError(reason, f"{info.path}: {exc}") from None

    # --- staging -------------------------------------------------------------------------------
    def installed(self, release: str) -> StagedRelease | None:
        """A release verified earlier and still on disk, its model still the card's bytes
        (else None: it is staged again)."""
        folder = self.releases_dir / check_name("release", release)
        model = folder / MODEL_FILE
        try:
            card = ReleaseCard.from_json((folder / CARD_FILE).read_bytes())
            digest = hashlib.sha256(model.read_bytes()).hexdigest()
        except (OSError, ReleaseError):
            return None
        return StagedRelease(release, card, model, {}) if digest == card.model_sha256 else None

    def stage(self, release: str, updater: Updater | None = None) -> StagedRelease:
        """Download ``release`` to staging, verify it there, move it to ``releases/``."""
        check_name("release", release)
        updater = updater or self.refresh()
        staging = self.staging_dir / release
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with self._tuf(release):
                card_info = updater.get_targetinfo(card_target(release))
                model_info = updater.get_targetinfo(model_target(release))
                if card_info is None or model_info is None:
                    raise ReleaseRefusedError(
                        RefusalReason.NOT_FOUND, f"release {release!r} is not signed", release
                    )
                if model_info.length > MAX_MODEL_BYTES:
                    raise ReleaseRefusedError(
                        RefusalReason.INVALID_MODEL,
                        f"model of {model_info.length} bytes (max {MAX_MODEL_BYTES})",
                        release,
                    )
                self._download(updater, card_info, staging / CARD_FILE)
                self._download(updater, model_info, staging / MODEL_FILE)
            staged = self._verify_model(release, staging)
            final = self.releases_dir / release
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        except ReleaseRefusedError as exc:
            exc.release = release
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return StagedRelease(release, staged.card, final / MODEL_FILE, staged.model_info)

    def _verify_model(self, release: str, folder: Path) -> StagedRelease:
        from fw_policy.errors import ModelRejectedError
        from fw_policy.onnx_model import load_model

        try:
            card = ReleaseCard.from_json((folder / CARD_FILE).read_bytes())
        except ReleaseError as exc:
            raise ReleaseRefusedError(RefusalReason.INVALID_CARD, str(exc), release) from None
        if card.release != release:
            raise ReleaseRefusedError(
                RefusalReason.INVALID_CARD, f"card names release {card.release!r}", release
            )
        if card.spec_id != self.spec.spec_id:
            raise ReleaseRefusedError(
                RefusalReason.WRONG_SPEC,
                f"release is for observation spec {card.spec_id}, this robot uses "
                f"{self.spec.name} v{self.spec.version} ({self.spec.spec_id})",
                release,
            )
        try:
            model = load_model(folder / MODEL_FILE, self.spec)
        except ModelRejectedError as exc:
            reason = (
                RefusalReason.WRONG_SPEC
                if "observation spec" in str(exc)
                else RefusalReason.INVALID_MODEL
            )
            raise ReleaseRefusedError(reason, str(exc), release) from None
        if model.sha256 != card.model_sha256:
            raise ReleaseRefusedError(
                RefusalReason.INVALID_CARD, "the card's model_sha256 is not the model's", release
            )
        return StagedRelease(release, card, folder / MODEL_FILE, model.describe())

    def prune(self, keep: set[str]) -> None:
        """Remove verified releases not in ``keep`` (the active and previous ones)."""
        for folder in self.releases_dir.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
