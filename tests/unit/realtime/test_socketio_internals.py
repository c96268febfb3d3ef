"""The python-socketio / python-engineio internals realtime/socketio.py relies on still exist."""

import inspect

import socketio
from engineio import async_socket
from engineio.async_drivers import sanic as sanic_driver

from halobuzz.realtime.socketio import _RecordingWebSocket, _Server


def test_internals_used_by_the_gateway():
    params = list(inspect.signature(socketio.AsyncServer._handle_event).parameters)
    assert params == ["self", "eio_sid", "namespace", "id", "data"]
    assert _Server._handle_event is not socketio.AsyncServer._handle_event
    server = socketio.AsyncServer(async_mode="sanic")
    assert server.eio._async["websocket"] is sanic_driver.WebSocket
    assert issubclass(_RecordingWebSocket, sanic_driver.WebSocket)
    assert list(inspect.signature(sanic_driver.WebSocket.__init__).parameters) == ["self", "handler", "server"]
    sock = async_socket.AsyncSocket(server.eio, "sid")
    for name in ("queue", "closed", "upgraded", "upgrading", "_websocket_handler", "close"):
        assert hasattr(sock, name), name
    assert hasattr(server.eio, "sockets") and hasattr(server.manager, "eio_sid_from_sid")
