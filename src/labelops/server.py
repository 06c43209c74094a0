"""How ``labelops serve`` runs uvicorn: its httptools protocol, with a response's writes
sent together on the event loop's next turn.

uvicorn writes a response's status line and headers, then its body, as two writes on
the socket, each sent at once. Each send wakes the client (and, on this 2-core machine,
the kernel often switches to it), while the server is in the middle of its turn.
Holding the writes until the loop's next turn sends each response in one write, after
the turn's Python work is done. At saturation on PostgreSQL (``bench/queue.py``'s
harness, interleaved against uvicorn as is, six rounds) that served 1.5-16 % more
labels per second (7.5 % on average); sending the two writes as one at once, without
waiting for the turn, gained nothing. ``submit?next=true``, then run on a
worker thread, was 3-6 % slower, and the realistic load's p99 about 1 ms higher.

Run as ``python -m labelops.server --host H --port P --workers N``. This module imports
only uvicorn: with several workers, the supervising process stays small.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CoalescingTransport", "OneWriteHttpToolsProtocol", "main"]

HOLD_BYTES = 64 * 1024
"""A streamed response's chunks are sent once this much is held."""
KEEP_ALIVE_S = 75
"""Labellers submit every few seconds to a minute: their connections stay open between
answers (uvicorn's default closes them after 5 s idle)."""


class CoalescingTransport(asyncio.Transport):
    """A transport that holds its writes until the event loop's next turn and sends
    them as one; a streamed response is sent whenever ``HOLD_BYTES`` are held, and
    ``close`` sends what is held first.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold ``data`` until the loop's next turn (or until ``HOLD_BYTES`` are held)."""
        if not self._held:
            self._loop.call_soon(self._send_held)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HOLD_BYTES:
            self._send_held()

    def _send_held(self) -> None:
        if not self._held:
            return
        held = b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        """Send the held write, then close."""
        self._send_held()
        self._transport.close()

    def abort(self) -> None:
        """Close at once; the held writes are dropped."""
        self._held.clear()
        self._held_bytes = 0
        self._transport.abort()

    def is_closing(self) -> bool:
        """Whether the transport is closing or closed."""
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """As the wrapped transport's."""
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        """As the wrapped transport's."""
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        """As the wrapped transport's."""
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        """As the wrapped transport's."""
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """As the wrapped transport's."""
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """As the wrapped transport's."""
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        """Bytes waiting to be sent, the held write included."""
        return self._transport.get_write_buffer_size() + self._held_bytes

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """As the wrapped transport's."""
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        """As the wrapped transport's."""
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        """Send the held write, then end the stream."""
        self._send_held()
        self._transport.write_eof()


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Wrap the connection's transport, then start as uvicorn does."""
        super().connection_made(CoalescingTransport(transport))


def main(argv: list[str] | None = None) -> None:
    """Serve ``labelops.api.app:create_server_app`` with uvicorn until stopped."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m labelops.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        "labelops.api.app:create_server_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # By name: each worker process imports it (the class of this module run as
        # ``__main__`` would not be found there).
        http="labelops.server:OneWriteHttpToolsProtocol",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


if __name__ == "__main__":
    main()
