"""The /ws read path (frames dispatched by the connection's Inbox, not Sanic's assembler) and the
websocket counters on /metrics."""

import asyncio
import json
import re
import time

import pytest

from tests.conftest import Server, register
from tests.integration.rooms_client import WS, live_stream, ready


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("wire") / "data",
        env={"HALOBUZZ_CHAT_RATE_USER": "1000/1s", "HALOBUZZ_CHAT_RATE_ROOM": "1000/1s"},
    ).start()
    yield srv
    srv.stop()


def run(coro):
    return asyncio.run(coro)


def metric(client, name: str, **labels) -> float:
    text = client.get("/metrics").text
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return 0.0


def test_pipelined_auth_join_and_chat_in_order(server, client):
    """Auth, join and chat frames sent back to back (before any reply) are all handled, in order."""
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)["id"]

    async def go():
        v = await ready(server, viewer["accessToken"])
        await v.join(sid)
        ws = await WS.open(server, None)
        env = lambda e, d, i: json.dumps({"event": e, "data": d, "id": i, "ts": None})
        await ws.ws.send(env("auth", {"token": host["accessToken"]}, "a"))
        await ws.ws.send(env("stream:join", {"streamId": sid}, "j"))
        for i in range(20):
            await ws.ws.send(env("chat:new", {"streamId": sid, "text": f"m{i}"}, f"c{i}"))
        await ws.expect("ready")
        await ws.expect("stream:state")
        got = []
        while len(got) < 20:
            got.append((await v.expect("chat:new"))["data"]["text"])
        assert got == [f"m{i}" for i in range(20)]
        await ws.close()
        await v.close()

    run(go())


def test_fragmented_and_bad_frames(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)["id"]

    async def go():
        h = await ready(server, host["accessToken"])
        await h.join(sid)
        v = await ready(server, viewer["accessToken"])
        await v.join(sid)
        frame = json.dumps({"event": "chat:new", "data": {"streamId": sid, "text": "in three parts"}, "id": "f"})
        await h.ws.send([frame[:10], frame[10:30], frame[30:]])  # a fragmented text message
        assert (await v.expect("chat:new"))["data"]["text"] == "in three parts"
        await h.ws.send(b'{"event":"ping","data":{},"id":"b1"}')  # binary envelopes work too
        assert (await h.expect("pong"))["data"]["replyTo"] == "b1"
        await h.ws.send("{nope")
        assert (await h.expect("error"))["data"]["code"] == "bad_frame"
        await h.close()
        await v.close()

    run(go())


def test_websocket_counters_on_metrics(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)["id"]
    before_1000 = metric(client, "halobuzz_ws_disconnects_total", code="1000")
    before_4001 = metric(client, "halobuzz_ws_disconnects_total", code="4001")
    before_deliveries = metric(client, "halobuzz_ws_deliveries_total")

    async def go():
        h = await ready(server, host["accessToken"])
        await h.join(sid)
        v = await ready(server, viewer["accessToken"])
        await v.join(sid)
        assert metric(client, "halobuzz_ws_connections") >= 2
        assert metric(client, "halobuzz_ws_rooms") >= 1
        await h.send("chat:new", {"streamId": sid, "text": "count me"})
        await v.expect("chat:new")
        await h.expect("chat:new")
        assert metric(client, "halobuzz_ws_deliveries_total") >= before_deliveries + 2
        bad = await WS.open(server, "not-a-token")  # refused: 4001
        with pytest.raises(Exception):
            await bad.next()
        await v.close()  # a normal close by the client: code 1000
        await h.close()

    run(go())
    deadline = time.monotonic() + 5
    while metric(client, "halobuzz_ws_disconnects_total", code="1000") < before_1000 + 2:
        assert time.monotonic() < deadline, [l for l in client.get("/metrics").text.splitlines() if "_ws_" in l]
        time.sleep(0.05)
    text = client.get("/metrics").text
    for name in (
        "halobuzz_ws_connections",
        "halobuzz_ws_rooms",
        "halobuzz_ws_deliveries_total",
        "halobuzz_ws_dropped_total",
        "halobuzz_ws_writes_total",
    ):
        assert re.search(rf"^{name} ", text, re.M), name
    assert metric(client, "halobuzz_ws_disconnects_total", code="4001") == before_4001 + 1
