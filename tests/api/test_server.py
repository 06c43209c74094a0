"""``labelops.server``: the transport under uvicorn's protocol sends a response's writes
together, on the event loop's next turn, over a real socket."""

from __future__ import annotations

import asyncio
import socket

from labelops.server import HOLD_BYTES, CoalescingTransport


async def _pair() -> tuple[asyncio.Transport, socket.socket, list[bytes]]:
    """A real asyncio transport on one end of a socket pair, the other end, and the
    list of the transport's own writes (each one a send)."""
    ours, theirs = socket.socketpair()
    theirs.settimeout(5)
    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    sent: list[bytes] = []
    write = transport.write

    def recorded(data: bytes) -> None:
        sent.append(bytes(data))
        write(data)

    transport.write = recorded  # type: ignore[method-assign]
    return transport, theirs, sent


def _read(peer: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = peer.recv(65536)
        assert chunk, "the connection closed early"
        data += chunk
    return data


def test_headers_and_body_leave_as_one_write_on_the_next_turn():
    async def scenario() -> tuple[list[bytes], list[bytes], bytes]:
        transport, peer, sent = await _pair()
        coalescing = CoalescingTransport(transport)
        coalescing.write(b"HTTP/1.1 201 Created\r\ncontent-length: 9\r\n\r\n")
        coalescing.write(memoryview(b'{"id": 7}'))
        before = list(sent)  # nothing has left within the step that wrote
        await asyncio.sleep(0)
        received = _read(peer, 52)
        coalescing.close()
        peer.close()
        return before, sent, received

    before, sent, received = asyncio.run(scenario())
    assert before == []
    assert sent == [b'HTTP/1.1 201 Created\r\ncontent-length: 9\r\n\r\n{"id": 7}']
    assert received == sent[0]


def test_a_streamed_response_is_sent_once_enough_is_held_and_close_sends_the_rest():
    async def scenario() -> tuple[list[bytes], bytes, int]:
        transport, peer, sent = await _pair()
        coalescing = CoalescingTransport(transport)
        chunk = b"x" * (HOLD_BYTES // 4)
        for _ in range(5):
            coalescing.write(chunk)
        held = coalescing.get_write_buffer_size() - transport.get_write_buffer_size()
        coalescing.write(b"end")
        coalescing.close()  # before the loop's next turn: the held bytes go first
        await asyncio.sleep(0.01)
        received = _read(peer, 5 * len(chunk) + 3)
        peer.close()
        return sent, received, held

    sent, received, held = asyncio.run(scenario())
    assert [len(data) for data in sent] == [4 * (HOLD_BYTES // 4), HOLD_BYTES // 4 + 3]
    assert held == HOLD_BYTES // 4  # the fifth chunk, held after the first four left
    assert received == b"x" * (5 * (HOLD_BYTES // 4)) + b"end"


def test_abort_drops_what_is_held():
    async def scenario() -> list[bytes]:
        transport, peer, sent = await _pair()
        coalescing = CoalescingTransport(transport)
        coalescing.write(b"never sent")
        coalescing.abort()
        await asyncio.sleep(0)
        peer.close()
        return sent

    assert asyncio.run(scenario()) == []
