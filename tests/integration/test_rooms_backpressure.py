"""A client that stops reading never slows the room: it is shed, then disconnected with 4002;
a silent client is dropped on ping timeout."""

import asyncio
import re
import socket
import time
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import live_stream, ready


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("bp") / "data",
        env={
            "HALOBUZZ_CHAT_RATE_USER": "100000/1s",
            "HALOBUZZ_CHAT_RATE_ROOM": "100000/1s",
            "HALOBUZZ_CHAT_MAX_LENGTH": "30000",
            "HALOBUZZ_WS_SEND_QUEUE_BYTES": "200000",
            "HALOBUZZ_WS_STALL_SECONDS": "1",
        },
    ).start()
    yield srv
    srv.stop()


def test_slow_reader_is_shed_then_disconnected_without_slowing_others(server, client):
    host, fast1, fast2, slow_user = (register(client) for _ in range(4))
    boss = register(client, email=ADMIN_EMAIL, username="bpadmin")
    assert cli(server.data_dir, "user", "set-role", "bpadmin", "admin").returncode == 0
    r = client.post(
        f"/api/v1/admin/users/{host['user']['id']}/coins",
        json={"amount": 100000, "reason": "t"},
        headers={**boss["auth"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text
    sid = live_stream(client, boss)["id"]
    gifts = client.get("/api/v1/gifts").json()
    gift = min(
        (g for g in (gifts["items"] if isinstance(gifts, dict) else gifts) if not g["ogExclusive"]),
        key=lambda g: g["price"],
    )

    async def go():
        h = await ready(server, host["accessToken"])
        fast = [await ready(server, u["accessToken"]) for u in (fast1, fast2)]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        slow = await connect(
            f"ws://127.0.0.1:{server.port}/ws?token={slow_user['accessToken']}", max_queue=1, open_timeout=5, sock=sock
        )
        await h.join(sid)
        for f in fast:
            await f.join(sid)
        await slow.send('{"event":"stream:join","data":{"streamId":"%s"},"id":"s1","ts":null}' % sid)
        await asyncio.sleep(0.3)
        # the slow client now stops reading; the host sends 150 × 20 KB of chat (3 MB per viewer)
        big = "x" * 20000
        n = 150

        async def count(f):
            got = 0
            while got < n:
                msg = await f.next(timeout=10)
                if msg["event"] == "chat:new":
                    got += 1
            return got

        readers = [asyncio.create_task(count(f)) for f in fast]
        for i in range(n):
            await h.send("chat:new", {"streamId": sid, "text": f"{i} {big}"})
            if i % 10 == 9:
                await asyncio.sleep(0.05)
        assert await asyncio.gather(*readers) == [n, n]  # readers lose nothing
        lat = []
        # a probe's latency for the readers is unaffected
        for k in range(5):
            t0 = time.perf_counter()
            await h.send("chat:new", {"streamId": sid, "text": f"probe {k}"})
            for f in fast:
                await f.expect("chat:new", where=lambda d, k=k: d["text"] == f"probe {k}")
            lat.append(time.perf_counter() - t0)
        assert max(lat) < 0.5, lat
        # an essential event that cannot be queued any more disconnects the slow client (4002)
        for _ in range(3):
            r = client.post(
                f"/api/v1/streams/{sid}/gifts",
                json={"giftId": gift["id"], "quantity": 1},
                headers={**host["auth"], "Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code in (200, 201), r.text
        for f in fast:
            await f.expect("gift:sent")
        await asyncio.sleep(2.5)  # the slow client's backlog makes no progress for > ws_stall_seconds
        code = None
        try:
            while True:
                await asyncio.wait_for(slow.recv(), 5)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
        assert code == 4002
        for f in fast + [h]:
            await f.close()

    asyncio.run(asyncio.wait_for(go(), 60))
    text = client.get("/metrics").text  # the drop and the disconnect are counted
    assert re.search(r'^halobuzz_ws_disconnects_total\{code="4002"\} [1-9]', text, re.M), "\n".join(
        l for l in text.splitlines() if l.startswith("halobuzz_ws")
    )
    shed = next(float(l.split()[-1]) for l in text.splitlines() if l.startswith("halobuzz_ws_dropped_total "))
    assert shed > 0


def test_silent_client_dropped_on_ping_timeout(tmp_path):
    server = Server(
        tmp_path / "data", env={"HALOBUZZ_WS_PING_INTERVAL": "0.5", "HALOBUZZ_WS_PING_TIMEOUT": "0.5"}
    ).start()
    try:
        with server.client() as client:
            user = register(client)
        _silent_client(server, user)
    finally:
        server.stop()


def _silent_client(server, user):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(
        (
            f"GET /ws?token={user['accessToken']} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    s.settimeout(5)
    data = b""
    deadline = time.monotonic() + 5
    # never answer pings: within ~interval + timeout the server closes with 4005
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    assert b"101 Switching Protocols" in data
    assert b"\x88" in data and (4005).to_bytes(2, "big") in data.split(b"\x88", 1)[1][:4]
