"""``tuf.ngclient`` downloads through the object store (a folder or S3), not HTTP.

The updater builds URLs from the base URLs it was given; :data:`URL_SCHEME` URLs name store keys
directly (``flywheel-store:///tuf/metadata/timestamp.json``). A missing key is reported as an
HTTP 404, which is how the updater learns that no newer root exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from tuf.api.exceptions import DownloadError, DownloadHTTPError
from tuf.ngclient import FetcherInterface

from cloud_bridge.store import (
    AccessDenied,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    StoreError,
)

__all__ = ["URL_SCHEME", "StoreFetcher", "store_url"]

URL_SCHEME = "flywheel-store:///"


def store_url(key_prefix: str) -> str:
    """The base URL that makes the updater fetch keys under ``key_prefix``."""
    return f"{URL_SCHEME}{key_prefix.strip('/')}/"


class StoreFetcher(FetcherInterface):
    """Fetch TUF metadata and targets from an :class:`ObjectStore`.

    ``last`` keeps the URL and bytes of the latest download: when the updater refuses metadata,
    it is the file that was refused, and the client reads its signatures to say why.
    """

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.last: tuple[str, bytes] | None = None

    def _fetch(self, url: str) -> Iterator[bytes]:
        if not url.startswith(URL_SCHEME):
            raise DownloadError(f"not a store URL: {url[:200]!r}")
        key = url[len(URL_SCHEME) :]
        try:
            data, _ = self.store.get_bytes(key)
        except ObjectNotFound:
            raise DownloadHTTPError(f"{key} not found", 404) from None
        except AccessDenied:
            raise DownloadHTTPError(f"{key}: access denied", 403) from None
        except InvalidKey as exc:
            raise DownloadError(f"invalid key: {exc}") from None
        except StoreError as exc:
            raise DownloadError(f"{key}: {type(exc).__name__}: {exc}") from None
        self.last = (url, data)
        return iter((data,))
