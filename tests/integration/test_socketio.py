"""Socket.IO clients (the python-socketio client, nobody's code here) on the same rooms as /ws:
auth in the connect packet, join with an ack, chat both ways between the two kinds of client,
a gift reaching both, errors as acks, and reconnecting after a server restart."""

import asyncio

import pytest
import socketio

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import live_stream, ready
from tests.integration.test_rooms import cheapest_gift, grant, send_gift


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("sio") / "data", env={"HALOBUZZ_WS_PING_INTERVAL": "2"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server):
    with server.client() as c:
        boss = register(c, email=ADMIN_EMAIL, username="sioadmin")
    assert cli(server.data_dir, "user", "set-role", "sioadmin", "admin").returncode == 0
    return boss


class Client:
    """A python-socketio AsyncClient that records every event it receives."""

    def __init__(self, **kw) -> None:
        self.sio = socketio.AsyncClient(reconnection_delay=0.2, reconnection_delay_max=0.5, **kw)
        self.events: list[tuple[str, object]] = []
        self.arrived = asyncio.Event()
        self.sio.on("*", self._any)

    async def _any(self, event, *args):
        self.events.append((event, args[0] if args else None))
        self.arrived.set()

    async def connect(self, server, token, transports=("polling", "websocket")):
        await self.sio.connect(
            server.url, auth={"token": token}, transports=list(transports), socketio_path="socket.io", wait_timeout=5
        )
        return self

    async def expect(self, event, where=lambda d: True, timeout=5.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = 0
        while True:
            for name, data in self.events[seen:]:
                if name == event and where(data):
                    return data
            seen = len(self.events)
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {event!r}; saw {[n for n, _ in self.events[-20:]]}")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_refused_without_a_valid_token(server):
    async def go():
        for auth in (None, {"token": "not-a-token"}):
            c = socketio.AsyncClient(reconnection=False)
            errors = []
            c.on("connect_error", lambda data: errors.append(data))
            with pytest.raises(socketio.exceptions.ConnectionError):
                await c.connect(server.url, auth=auth, transports=["polling"], wait_timeout=5)
            # python-socketio hands over {message, data}; socket.io-client makes err.message, err.data
            assert errors and errors[0]["data"]["closeCode"] == 4001, errors
            assert errors[0]["data"]["code"] in ("missing_token", "invalid_token", "unauthorized"), errors

    run(go())


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_join_chat_gift_with_ws_clients(server, client, admin, transport):
    host, viewer, other = register(client), register(client), register(client)
    grant(client, admin, viewer)
    stream = live_stream(client, host)
    gift = cheapest_gift(client)

    async def go():
        sio = await Client().connect(server, viewer["accessToken"], transports=[transport])
        hello = await sio.expect("ready")
        assert hello["userId"] == viewer["user"]["id"]
        assert sio.sio.transport() == transport
        # join: the ack carries what /ws's `stream:state` reply carries
        state = await sio.sio.call("stream:join", {"streamId": stream["id"]}, timeout=5)
        assert state["event"] == "stream:state"
        assert state["data"]["stream"]["id"] == stream["id"] and state["data"]["replyTo"]
        ws = await ready(server, other["accessToken"])
        await ws.join(stream["id"])
        # Socket.IO → room: the /ws client sees it; the sender's ack says it went out
        ack = await sio.sio.call("chat:new", {"streamId": stream["id"], "text": "hi from socket.io"}, timeout=5)
        assert ack["event"] == "ok", ack
        msg = await ws.expect("chat:new", where=lambda d: d.get("text") == "hi from socket.io")
        assert msg["data"]["user"]["id"] == viewer["user"]["id"]
        # /ws → room: the Socket.IO client gets the same payload (the envelope's data)
        await ws.send("chat:new", {"streamId": stream["id"], "text": "hi from /ws"})
        got = await sio.expect("chat:new", where=lambda d: d.get("text") == "hi from /ws")
        same = await ws.expect("chat:new", where=lambda d: d.get("text") == "hi from /ws")
        assert got == same["data"]
        # a gift committed over HTTP reaches both kinds of client
        send_gift(client, viewer, stream["id"], gift["id"])
        g_sio = await sio.expect("gift:sent")
        g_ws = await ws.expect("gift:sent")
        assert g_sio == g_ws["data"] and g_sio["giftId"] == gift["id"]
        # refused frames: the error is the ack; without an ack it is an `error` event
        err = await sio.sio.call("stream:join", {"streamId": "NOPE"}, timeout=5)
        assert err["event"] == "error" and err["data"]["code"] == "not_found"
        await sio.sio.emit("what:ever", {})
        assert (await sio.expect("error"))["code"] == "unknown_event"
        pong = await sio.sio.call("ping", None, timeout=5)
        assert pong["event"] == "pong"
        await sio.sio.disconnect()
        await ws.close()

    run(go())


def test_polling_upgrades_to_websocket(server, client):
    user = register(client)

    async def go():
        sio = await Client().connect(server, user["accessToken"])
        await sio.expect("ready")
        for _ in range(50):
            if sio.sio.transport() == "websocket":
                break
            await asyncio.sleep(0.1)
        assert sio.sio.transport() == "websocket"
        assert (await sio.sio.call("ping", None, timeout=5))["event"] == "pong"
        await sio.sio.disconnect()

    run(go())


@pytest.mark.slow
def test_reconnects_after_a_server_restart(tmp_path):
    srv = Server(tmp_path / "data", env={"HALOBUZZ_WS_PING_INTERVAL": "2"}).start()
    try:
        with srv.client() as client:
            boss = register(client, email=ADMIN_EMAIL, username="restartadmin")
            assert cli(srv.data_dir, "user", "set-role", "restartadmin", "admin").returncode == 0
            host, viewer = register(client), register(client)
            grant(client, boss, viewer)
            stream = live_stream(client, host)
            gift = cheapest_gift(client)

        async def go():
            sio = Client()
            joined = asyncio.Event()

            async def on_connect():
                # what an app does on every (re)connect: join its room again
                for _ in range(20):  # the server may still be loading its live streams
                    try:
                        state = await sio.sio.call("stream:join", {"streamId": stream["id"]}, timeout=5)
                    except socketio.exceptions.TimeoutError:
                        continue
                    if state["event"] == "stream:state":
                        joined.set()
                        return
                    await asyncio.sleep(0.3)

            sio.sio.on("connect", on_connect)
            await sio.connect(srv, viewer["accessToken"], transports=["websocket"])
            await asyncio.wait_for(joined.wait(), 5)
            joined.clear()
            await asyncio.to_thread(srv.stop)
            await asyncio.to_thread(srv.start)
            await asyncio.wait_for(joined.wait(), 40)
            with srv.client() as client:
                send_gift(client, viewer, stream["id"], gift["id"])
            got = await sio.expect("gift:sent", timeout=10)
            assert got["giftId"] == gift["id"]
            await sio.sio.disconnect()

        run(go())
    finally:
        srv.stop()
