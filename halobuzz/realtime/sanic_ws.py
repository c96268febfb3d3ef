"""Every use of Sanic's private websocket internals, in one place.

The hub writes frames straight to the transport (no task or lock per connection), sends
its own pings, and replaces the per-connection frame assembler once a socket is
authenticated. Those need attributes of Sanic's `WebsocketImplProtocol` that are not
public API: `io_proto`, `ws_proto`, `pings`, `assembler`, `recv_cancel` and
`connection_lost_waiter`. `tests/unit/realtime/test_sanic_ws.py` checks that the
installed Sanic still has each of them, so an upgrade that changes them fails loudly
there instead of quietly in production.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

# (attribute, what we use it for) — checked by the test against the installed Sanic.
PRIVATE_ATTRIBUTES = (
    ("io_proto", "the HTTP protocol whose transport frames are written to"),
    ("ws_proto", "the websockets sans-I/O protocol: send_ping, data_to_send, close_rcvd"),
    ("pings", "payload -> future, resolved by Sanic when the pong arrives"),
    ("assembler", "the frame assembler we replace with our inbox"),
    ("recv_cancel", "future cancelled by Sanic on a close frame or EOF"),
    ("connection_lost_waiter", "future resolved when the TCP connection is lost"),
)


def configure(app: Any) -> None:
    """Keepalive is ours (one sweeper for all sockets, no task per connection): see Hub._pinger."""
    app.config.WEBSOCKET_PING_INTERVAL = None
    app.config.WEBSOCKET_PING_TIMEOUT = None
    app.config.WEBSOCKET_MAX_SIZE = 64 * 1024


def transport(ws: Any) -> asyncio.Transport:
    return ws.io_proto.transport


def send_ping(ws: Any, loop: asyncio.AbstractEventLoop) -> asyncio.Future:
    """A protocol-level ping written synchronously; the future resolves on its pong."""
    payload = os.urandom(4)
    fut = loop.create_future()
    ws.pings[payload] = fut
    ws.ws_proto.send_ping(payload)
    out = transport(ws)
    for chunk in ws.ws_proto.data_to_send():
        if chunk:
            out.write(chunk)
    return fut


def close_code_received(ws: Any) -> int | None:
    rcvd = getattr(ws.ws_proto, "close_rcvd", None)
    return int(rcvd.code) if rcvd is not None else None


def take_over_reading(ws: Any, inbox: Any, closed: asyncio.Future) -> Any:
    """Swap Sanic's assembler for `inbox`; `closed` resolves when the peer goes away.
    Returns the old assembler (it may still hold a frame pipelined before the swap)."""
    old = ws.assembler
    ws.assembler = inbox
    # A close frame or EOF cancels recv_cancel; losing the TCP connection resolves
    # connection_lost_waiter.
    ws.recv_cancel = closed
    lost = ws.connection_lost_waiter
    if lost is not None:
        lost.add_done_callback(lambda _f: closed.done() or closed.set_result(None))
    return old


def release(ws: Any) -> None:
    ws.recv_cancel = None
