"""A TCP proxy between a client and the S3 server that counts part uploads and cuts the
connection at chosen points of the upload stream (RST, as a dropped network would).

``cut_at`` are offsets in the total bytes sent client → server over all connections; each one
cuts the connection carrying that byte, once. ``part_requests`` counts the requests per part
number (``PUT ...?partNumber=N``), so a test sees exactly which parts were sent again.
"""

from __future__ import annotations

import collections
import contextlib
import re
import socket
import struct
import threading
from collections.abc import Iterable

__all__ = ["FaultProxy"]

_PART_REQUEST = re.compile(rb"PUT \S*[?&]partNumber=(\d+)")
_CHUNK = 1 << 16


def _reset(sock: socket.socket) -> None:
    # Linger 0: close() sends RST, the way a cut link surfaces to both ends.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    """Listens on 127.0.0.1:``port`` and forwards to 127.0.0.1:``upstream_port``."""

    def __init__(self, upstream_port: int, cut_at: Iterable[int] = ()) -> None:
        self.upstream_port = upstream_port
        self._cuts = sorted(cut_at)
        self._lock = threading.Lock()
        self.bytes_up = 0
        self.cuts_done = 0
        self.part_requests: collections.Counter[int] = collections.Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed.set()
        self._listener.close()

    def resent_parts(self, parts: int) -> int:
        """Part requests beyond one per part."""
        return sum(self.part_requests.values()) - parts

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                _reset(client)
                continue
            state = {"open": True}
            threading.Thread(
                target=self._pump_up, args=(client, upstream, state), daemon=True
            ).start()
            threading.Thread(
                target=self._pump_down, args=(upstream, client, state), daemon=True
            ).start()

    def _cut(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        state["open"] = False
        _reset(client)
        _reset(upstream)

    def _pump_up(
        self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]
    ) -> None:
        tail = b""
        try:
            while state["open"]:
                data = client.recv(_CHUNK)
                if not data:
                    upstream.shutdown(socket.SHUT_WR)
                    return
                with self._lock:
                    start = self.bytes_up
                    cut = self._cuts[0] if self._cuts else None
                    if cut is not None and start + len(data) > cut:
                        data = data[: max(cut - start, 0)]
                        self._cuts.pop(0)
                        self.cuts_done += 1
                    else:
                        cut = None
                    self.bytes_up += len(data)
                    # Request lines may straddle reads: search the end of the previous read too.
                    window = tail + data
                    for match in _PART_REQUEST.finditer(window):
                        if match.end() > len(tail):
                            self.part_requests[int(match.group(1))] += 1
                    tail = window[-256:]
                if data:
                    upstream.sendall(data)
                if cut is not None:
                    self._cut(client, upstream, state)
                    return
        except OSError:
            self._cut(client, upstream, state)

    def _pump_down(
        self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]
    ) -> None:
        try:
            while state["open"]:
                data = upstream.recv(_CHUNK)
                if not data:
                    client.shutdown(socket.SHUT_WR)
                    return
                client.sendall(data)
        except OSError:
            self._cut(client, upstream, state)
