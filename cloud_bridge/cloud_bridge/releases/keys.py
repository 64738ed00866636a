"""Signing keys: ed25519 private keys in PEM (PKCS#8) files, one per TUF role.

The root and targets keys are *offline*: the operator keeps them (a hardware token, a safe) and
names them on the command line only to publish. The snapshot and timestamp keys are *online*:
the publishing service holds them to re-sign the repository's state. Each file is written with
mode 0600 and refused when another user can read it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, Signer

from cloud_bridge.releases.errors import KeyFileError

__all__ = ["OFFLINE_ROLES", "ONLINE_ROLES", "ROLES", "generate_keys", "key_path", "load_signer"]

OFFLINE_ROLES = ("root", "targets")
ONLINE_ROLES = ("snapshot", "timestamp")
ROLES = OFFLINE_ROLES + ONLINE_ROLES


def key_path(directory: Path, role: str) -> Path:
    return Path(directory) / f"{role}.key"


def generate_keys(directory: Path, roles: tuple[str, ...] = ROLES) -> dict[str, Path]:
    """A new ed25519 key per role in ``directory``; refuses to overwrite an existing key."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = {role: key_path(directory, role) for role in roles}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing:
        raise KeyFileError(f"refusing to overwrite existing keys: {', '.join(existing)}")
    for path in paths.values():
        signer = CryptoSigner.generate_ed25519()
        # O_EXCL: never replace a key another process wrote meanwhile.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(signer.private_bytes)
    return paths


def load_signer(path: Path) -> Signer:
    """A signer from a private key file; :class:`KeyFileError` saying why it cannot be used."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {str(path)!r}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {str(path)!r} is readable by others (mode {stat.filemode(mode)}); "
            "chmod 600 it"
        )
    try:
        private_key = load_pem_private_key(data, None)
        return CryptoSigner(private_key)
    except (ValueError, TypeError) as exc:
        # The message of a parse error never includes the key bytes.
        raise KeyFileError(
            f"{str(path)!r} is not a PEM private key: {type(exc).__name__}"
        ) from None
