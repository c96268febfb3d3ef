"""Live rooms over a real server and real websocket clients: auth, join, chat, late-join buffer,
gifts and throne fan-out, host controls, presence and metrics."""

import asyncio
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import WS, live_stream, ready


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("rooms") / "data",
        env={
            "HALOBUZZ_METRICS_INTERVAL": "0.3",
            "HALOBUZZ_CHAT_RATE_USER": "5/10s",
            "HALOBUZZ_BATTLE_MIN_SECONDS": "1",
            "HALOBUZZ_BATTLE_BOOST_SECONDS": "1",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server):
    with server.client() as c:
        boss = register(c, email=ADMIN_EMAIL, username="roomsadmin")
    assert cli(server.data_dir, "user", "set-role", "roomsadmin", "admin").returncode == 0
    return boss


def grant(client, admin, user, amount=10_000):
    r = client.post(
        f"/api/v1/admin/users/{user['user']['id']}/coins",
        json={"amount": amount, "reason": "test"},
        headers={**admin["auth"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text


def cheapest_gift(client):
    body = client.get("/api/v1/gifts").json()
    items = body["items"] if isinstance(body, dict) else body
    return min((g for g in items if not g["ogExclusive"]), key=lambda g: g["price"])


def send_gift(client, user, stream_id, gift_id, quantity=1):
    r = client.post(
        f"/api/v1/streams/{stream_id}/gifts",
        json={"giftId": gift_id, "quantity": quantity},
        headers={**user["auth"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_auth_first_then_envelope(server, client):
    user = register(client)

    async def go():
        # no token, and the first frame is not auth → closed with 4001
        ws = await WS.open(server, None)
        await ws.send("stream:join", {"streamId": "x"})
        with pytest.raises(ConnectionClosed) as info:
            await ws.next()
        assert info.value.rcvd.code == 4001
        bad = await WS.open(server, "not-a-token")
        with pytest.raises(ConnectionClosed) as info:
            await bad.next()
        assert info.value.rcvd.code == 4001
        # first-frame auth
        ws = await WS.open(server, None)
        cid = await ws.send("auth", {"token": user["accessToken"]})
        msg = await ws.expect("ready")
        assert set(msg) == {"event", "data", "id", "ts"} and msg["ts"].endswith("Z")
        assert msg["data"]["userId"] == user["user"]["id"] and msg["data"]["replyTo"] == cid
        # refused client frames get `error` with replyTo
        cid = await ws.send("stream:join", {"streamId": "NOPE"})
        err = await ws.expect("error")
        assert err["data"]["code"] == "not_found" and err["data"]["replyTo"] == cid
        await ws.ws.send("not json")
        assert (await ws.expect("error"))["data"]["code"] == "bad_frame"
        await ws.send("what:ever", {})
        assert (await ws.expect("error"))["data"]["code"] == "unknown_event"
        await ws.close()

    run(go())


def test_join_chat_presence_and_late_join_buffer(server, client):
    host, v1, v2 = register(client), register(client), register(client)
    stream = live_stream(client, host)
    sid = stream["id"]

    async def go():
        h = await ready(server, host["accessToken"])
        a = await ready(server, v1["accessToken"])
        state = await h.join(sid)
        assert state["stream"]["id"] == sid and state["you"]["canModerate"] is True
        state = await a.join(sid)
        assert state["recentChat"] == [] and state["you"]["canModerate"] is False
        joined = await h.expect("stream:join", where=lambda d: d["user"]["id"] == v1["user"]["id"])
        assert joined["data"]["viewers"] == 1  # the audience: the host is not a viewer
        for i in range(3):
            await a.send("chat:new", {"streamId": sid, "text": f"hello {i}"})
        for i in range(3):
            got = await h.expect("chat:new")
            assert got["data"]["text"] == f"hello {i}" and got["data"]["user"]["username"] == v1["user"]["username"]
        # late joiner gets the recent messages from the in-memory buffer
        b = await ready(server, v2["accessToken"])
        state = await b.join(sid)
        assert [m["text"] for m in state["recentChat"]] == ["hello 0", "hello 1", "hello 2"]
        await b.close()
        left = await h.expect("stream:leave", where=lambda d: d["userId"] == v2["user"]["id"])
        assert left["data"]["viewers"] == 1
        # every message was persisted
        hist = client.get(f"/api/v1/streams/{sid}/messages").json()["items"]
        assert [m["text"] for m in hist] == ["hello 0", "hello 1", "hello 2"]
        # metrics:update arrives every few seconds
        m = await h.expect("metrics:update", timeout=3)
        assert m["data"]["viewers"] == 1 and m["data"]["chatCount"] == 3
        await a.close()
        await h.close()

    run(go())
    client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])


def test_several_tabs_per_user_and_stream_end_event(server, client):
    host, v = register(client), register(client)
    sid = live_stream(client, host)["id"]

    async def go():
        tab1, tab2 = await ready(server, v["accessToken"]), await ready(server, v["accessToken"])
        await tab1.join(sid)
        await tab2.join(sid)
        h = await ready(server, host["accessToken"])
        state = await h.join(sid)
        assert state["stream"]["viewers"] == 1  # the viewer counts once; the host is not a viewer
        await h.send("chat:new", {"streamId": sid, "text": "both tabs?"})
        for t in (tab1, tab2):
            assert (await t.expect("chat:new"))["data"]["text"] == "both tabs?"
        r = client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
        assert r.status_code == 200
        for t in (tab1, tab2, h):
            ended = await t.expect("stream:ended")
            assert ended["data"]["streamId"] == sid and ended["data"]["reason"] == "host"
        for t in (tab1, tab2, h):
            await t.close()

    run(go())
    ended = client.get(f"/api/v1/streams/{sid}").json()
    assert ended["analytics"]["peakViewers"] == 1 and ended["analytics"]["uniqueViewers"] == 1


def test_gifts_reach_every_viewer_and_throne_changes(server, client, admin):
    host = register(client)
    viewers = [register(client) for _ in range(4)]
    for v in viewers[:2]:
        grant(client, admin, v)
    sid = live_stream(client, host)["id"]
    gift = cheapest_gift(client)

    async def go():
        socks = [await ready(server, v["accessToken"]) for v in viewers]
        for s in socks:
            await s.join(sid)
        send_gift(client, viewers[0], sid, gift["id"])
        for s in socks:
            g = await s.expect("gift:sent")
            assert g["data"]["giftId"] == gift["id"] and g["data"]["senderId"] == viewers[0]["user"]["id"]
            t = await s.expect("throne:claimed")
            assert t["data"]["userId"] == viewers[0]["user"]["id"]
        send_gift(client, viewers[1], sid, gift["id"], quantity=3)
        for s in socks:
            t = await s.expect("throne:claimed")
            assert t["data"]["userId"] == viewers[1]["user"]["id"]
            assert t["data"]["previousUserId"] == viewers[0]["user"]["id"]
        m = await socks[2].expect("metrics:update", where=lambda d: d["totalCoins"] == gift["price"] * 4)
        assert m["data"]["giftsPerMinute"] > 0
        # a late joiner sees the current throne in the stream state
        late = await ready(server, viewers[3]["accessToken"])
        await late.close()
        for s in socks:
            await s.close()

    run(go())
    view = client.get(f"/api/v1/streams/{sid}").json()
    assert view["throne"]["userId"] == viewers[1]["user"]["id"]
    ended = client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"]).json()
    assert ended["analytics"]["totalCoins"] == gift["price"] * 4
    assert ended["analytics"]["gifts"][gift["id"]]["count"] == 4


def test_host_controls(server, client):
    host, mod, troll, fan, quiet = (register(client) for _ in range(5))
    sid = live_stream(client, host)["id"]
    H = host["auth"]

    async def go():
        h, m, t, f, q = [await ready(server, u["accessToken"]) for u in (host, mod, troll, fan, quiet)]
        for s in (h, m, t, f, q):
            await s.join(sid)
        # a plain viewer cannot moderate; the host appoints a room moderator
        r = client.post(
            f"/api/v1/streams/{sid}/mutes", json={"userId": troll["user"]["id"], "seconds": 60}, headers=fan["auth"]
        )
        assert r.status_code == 403
        r = client.post(f"/api/v1/streams/{sid}/moderators", json={"userId": mod["user"]["id"]}, headers=fan["auth"])
        assert r.status_code == 403
        assert (
            client.post(f"/api/v1/streams/{sid}/moderators", json={"userId": mod["user"]["id"]}, headers=H).status_code
            == 200
        )
        # timed mute by the moderator
        r = client.post(
            f"/api/v1/streams/{sid}/mutes", json={"userId": troll["user"]["id"], "seconds": 60}, headers=mod["auth"]
        )
        assert r.status_code == 200 and r.json()["until"]
        assert (await t.expect("room:sanction"))["data"]["action"] == "muted"
        cid = await t.send("chat:new", {"streamId": sid, "text": "can you hear me"})
        err = await t.expect("error", where=lambda d: d["replyTo"] == cid)
        assert err["data"]["code"] == "muted" and err["data"]["until"]
        assert client.delete(f"/api/v1/streams/{sid}/mutes/{troll['user']['id']}", headers=H).status_code == 200
        await t.send("chat:new", {"streamId": sid, "text": "back again"})
        msg = await f.expect("chat:new", where=lambda d: d["text"] == "back again")
        # delete a message for everyone (and from the late-join buffer)
        mid = msg["data"]["id"]
        assert client.delete(f"/api/v1/streams/{sid}/messages/{mid}", headers=mod["auth"]).status_code == 200
        for s in (h, f, t):
            assert (await s.expect("chat:deleted"))["data"]["messageId"] == mid
        # pin a message
        await f.send("chat:new", {"streamId": sid, "text": "welcome all"})
        pin_id = (await h.expect("chat:new", where=lambda d: d["text"] == "welcome all"))["data"]["id"]
        r = client.post(f"/api/v1/streams/{sid}/pin", json={"messageId": pin_id}, headers=H)
        assert r.status_code == 200
        assert (await f.expect("chat:pinned"))["data"]["message"]["text"] == "welcome all"
        # slow mode and chat off
        r = client.patch(f"/api/v1/streams/{sid}/chat", json={"slowModeSeconds": 30}, headers=H)
        assert r.status_code == 200
        assert (await f.expect("room:settings"))["data"]["slowModeSeconds"] == 30
        await q.send("chat:new", {"streamId": sid, "text": "first under slow mode"})
        await h.expect("chat:new", where=lambda d: d["text"] == "first under slow mode")
        cid = await q.send("chat:new", {"streamId": sid, "text": "second too soon"})
        assert (await q.expect("error", where=lambda d: d["replyTo"] == cid))["data"]["code"] == "slow_mode"
        # the host is not slowed down
        await h.send("chat:new", {"streamId": sid, "text": "host 1"})
        await h.send("chat:new", {"streamId": sid, "text": "host 2"})
        await f.expect("chat:new", where=lambda d: d["text"] == "host 2")
        client.patch(f"/api/v1/streams/{sid}/chat", json={"chatEnabled": False, "slowModeSeconds": 0}, headers=H)
        await f.expect("room:settings", where=lambda d: d["chatEnabled"] is False)
        cid = await f.send("chat:new", {"streamId": sid, "text": "hello?"})
        assert (await f.expect("error", where=lambda d: d["replyTo"] == cid))["data"]["code"] == "chat_off"
        client.patch(f"/api/v1/streams/{sid}/chat", json={"chatEnabled": True}, headers=H)
        # kick: removed from the room, cannot rejoin for a while
        r = client.post(f"/api/v1/streams/{sid}/kicks", json={"userId": troll["user"]["id"]}, headers=mod["auth"])
        assert r.status_code == 200
        assert (await t.expect("room:sanction"))["data"]["action"] == "kicked"
        await h.expect("stream:leave", where=lambda d: d["userId"] == troll["user"]["id"])
        cid = await t.send("stream:join", {"streamId": sid})
        err = (await t.expect("error", where=lambda d: d["replyTo"] == cid))["data"]
        assert err["code"] == "room_kicked" and "kicked" in err["message"] and err["until"] in err["message"]
        media = client.get(f"/api/v1/streams/{sid}/media", headers=troll["auth"])
        assert media.status_code == 403 and media.json()["error"]["code"] == "room_kicked"
        # a moderator cannot sanction the host or another moderator; the host can lift the ban
        r = client.post(f"/api/v1/streams/{sid}/bans", json={"userId": host["user"]["id"]}, headers=mod["auth"])
        assert r.status_code == 403
        assert client.delete(f"/api/v1/streams/{sid}/bans/{troll['user']['id']}", headers=H).status_code == 200
        state = await t.join(sid)
        assert all(m["id"] != mid for m in state["recentChat"])
        assert state["pinned"]["id"] == pin_id
        for s in (h, m, t, f, q):
            await s.close()

    run(go())
    client.post(f"/api/v1/streams/{sid}/end", headers=H)


def test_chat_limits(server, client):
    host, v = register(client), register(client)
    sid = live_stream(client, host)["id"]

    async def go():
        ws = await ready(server, v["accessToken"])
        cid = await ws.send("chat:new", {"streamId": sid, "text": "not joined"})
        assert (await ws.expect("error", where=lambda d: d["replyTo"] == cid))["data"]["code"] == "not_in_room"
        await ws.join(sid)
        cid = await ws.send("chat:new", {"streamId": sid, "text": "x" * 201})
        err = await ws.expect("error", where=lambda d: d["replyTo"] == cid)
        assert err["data"]["code"] == "validation_error" and "text" in err["data"]["fields"]
        for i in range(6):
            cid = await ws.send("chat:new", {"streamId": sid, "text": f"spam {i}"})
        texts, errors = [], []
        while len(texts) < 5 or not errors:
            msg = await ws.next()
            if msg["event"] == "chat:new":
                texts.append(msg["data"]["text"])
            elif msg["event"] == "error":
                errors.append(msg["data"])
        assert texts == [f"spam {i}" for i in range(5)]
        assert [e["code"] for e in errors] == ["rate_limited"] and errors[0]["replyTo"] == cid
        assert errors[0]["retryAfter"] >= 1
        await ws.close()

    run(go())
    client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])


def test_connection_cap_per_user(server, client):
    v = register(client)

    async def go():
        socks = [await ready(server, v["accessToken"]) for _ in range(10)]
        extra = await WS.open(server, v["accessToken"])
        with pytest.raises(ConnectionClosed) as info:
            await extra.next()
        assert info.value.rcvd.code == 4004
        await socks[0].close()
        await asyncio.sleep(0.1)
        again = await ready(server, v["accessToken"])
        for s in socks[1:] + [again]:
            await s.close()

    run(go())


def test_pk_battle_from_invite_to_result(server, client, admin):
    host_a, host_b, fan_a, fan_b, outsider = (register(client) for _ in range(5))
    for f in (fan_a, fan_b):
        grant(client, admin, f)
    sa, sb = live_stream(client, host_a)["id"], live_stream(client, host_b)["id"]
    gift = cheapest_gift(client)

    async def go():
        ha, hb_, wa, wb = [await ready(server, u["accessToken"]) for u in (host_a, host_b, fan_a, fan_b)]
        await ha.join(sa)
        await wa.join(sa)
        await hb_.join(sb)
        await wb.join(sb)
        r = client.post(
            "/api/v1/battles",
            json={"streamId": sa, "opponentStreamId": sb, "durationSeconds": 3},
            headers=outsider["auth"],
        )
        assert r.status_code == 403
        r = client.post(
            "/api/v1/battles",
            json={"streamId": sa, "opponentStreamId": sb, "durationSeconds": 3},
            headers=host_a["auth"],
        )
        assert r.status_code == 201, r.text
        bid = r.json()["id"]
        assert (await hb_.expect("battle:invite"))["data"]["id"] == bid
        assert client.post(f"/api/v1/battles/{bid}/accept", headers=host_a["auth"]).status_code == 403
        assert client.post(f"/api/v1/battles/{bid}/accept", headers=host_b["auth"]).status_code == 200
        for s in (ha, hb_, wa, wb):
            assert (await s.expect("battle:start"))["data"]["id"] == bid
        # a normal-time gift for A counts once
        send_gift(client, fan_a, sa, gift["id"])
        score = await wb.expect("battle:score")
        assert score["data"]["scores"] == {sa: gift["price"], sb: 0} and score["data"]["multiplier"] == 1
        # the boost window is announced to both rooms; gifts in it count double
        for s in (wa, wb):
            boost = await s.expect("battle:boost", timeout=5)
            assert boost["data"]["battleId"] == bid and boost["data"]["multiplier"] == 2
        send_gift(client, fan_b, sb, gift["id"])
        score = await wa.expect("battle:score", where=lambda d: d["streamId"] == sb)
        assert score["data"]["scores"][sb] == 2 * gift["price"]
        for s in (ha, hb_, wa, wb):
            end = await s.expect("battle:end", timeout=5)
            assert end["data"]["winnerHostId"] == host_b["user"]["id"] and end["data"]["winnerStreamId"] == sb
        for s in (ha, hb_, wa, wb):
            await s.close()
        return bid

    bid = run(go())
    result = client.get(f"/api/v1/battles/{bid}").json()
    assert result["status"] == "finished" and result["winnerHostId"] == host_b["user"]["id"]
    assert result["scores"] == {sa: gift["price"], sb: 2 * gift["price"]} and len(result["boosts"]) == 1
    for h, s in ((host_a, sa), (host_b, sb)):
        client.post(f"/api/v1/streams/{s}/end", headers=h["auth"])


def test_host_without_heartbeat_is_ended(tmp_path):
    srv = Server(tmp_path / "data", env={"HALOBUZZ_STREAM_HEARTBEAT_TIMEOUT": "1"}).start()
    try:
        with srv.client() as c:
            host, viewer = register(c), register(c)
            sid = live_stream(c, host)["id"]

            async def go():
                v = await ready(srv, viewer["accessToken"])
                await v.join(sid)
                ended = await v.expect("stream:ended", timeout=6)
                assert ended["data"]["reason"] == "heartbeat"
                await v.close()

            run(go())
            s = c.get(f"/api/v1/streams/{sid}").json()
            assert s["status"] == "ended" and s["endedReason"] == "heartbeat"
            # a host connected to its own room keeps the stream alive
            host2 = register(c)
            sid2 = live_stream(c, host2)["id"]

            async def stay():
                h = await ready(srv, host2["accessToken"])
                await h.join(sid2)
                await asyncio.sleep(2.5)
                assert c.get(f"/api/v1/streams/{sid2}").json()["status"] == "live"
                await h.close()

            run(stay())
    finally:
        srv.stop()


def test_pk_invitation_cancelled_by_the_inviter(server, client):
    """Issue 15 item 9 (the expiry itself is tested with the injected clock in
    tests/unit/streams/test_battle_invites.py)."""
    host_a, host_b = register(client), register(client)
    sa, sb = live_stream(client, host_a)["id"], live_stream(client, host_b)["id"]

    async def go():
        hb_ = await ready(server, host_b["accessToken"])
        r = client.post(
            "/api/v1/battles",
            json={"streamId": sa, "opponentStreamId": sb, "durationSeconds": 30},
            headers=host_a["auth"],
        )
        assert r.status_code == 201 and r.json()["expiresAt"], r.text
        bid = r.json()["id"]
        await hb_.expect("battle:invite")
        assert client.post(f"/api/v1/battles/{bid}/cancel", headers=host_b["auth"]).status_code == 403
        r = client.post(f"/api/v1/battles/{bid}/cancel", headers=host_a["auth"])
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        end = await hb_.expect("battle:end")
        assert end["data"]["id"] == bid and end["data"]["reason"] == "cancelled"
        assert client.post(f"/api/v1/battles/{bid}/accept", headers=host_b["auth"]).status_code == 404
        # both streams are free again
        r = client.post(
            "/api/v1/battles",
            json={"streamId": sb, "opponentStreamId": sa, "durationSeconds": 30},
            headers=host_b["auth"],
        )
        assert r.status_code == 201, r.text
        await hb_.close()

    run(go())


def test_pk_invitation_expires_through_the_server(tmp_path):
    """Issue 15 item 9 end to end: with battle_invite_ttl=1 an unanswered invitation expires on
    its own; both hosts get battle:end (reason expired) and both streams can battle again."""
    srv = Server(tmp_path / "data", env={"HALOBUZZ_BATTLE_INVITE_TTL": "1"}).start()
    try:
        with srv.client() as client:
            host_a, host_b = register(client), register(client)
            sa, sb = live_stream(client, host_a)["id"], live_stream(client, host_b)["id"]

            async def go():
                ha, hb_ = await ready(srv, host_a["accessToken"]), await ready(srv, host_b["accessToken"])
                r = await asyncio.to_thread(
                    client.post,
                    "/api/v1/battles",
                    json={"streamId": sa, "opponentStreamId": sb, "durationSeconds": 30},
                    headers=host_a["auth"],
                )
                assert r.status_code == 201, r.text
                bid = r.json()["id"]
                for ws in (ha, hb_):
                    end = await ws.expect("battle:end", timeout=20)
                    assert end["data"]["id"] == bid and end["data"]["reason"] == "expired"
                assert client.get(f"/api/v1/battles/{bid}").json()["status"] == "cancelled"
                r = await asyncio.to_thread(
                    client.post,
                    "/api/v1/battles",
                    json={"streamId": sb, "opponentStreamId": sa, "durationSeconds": 30},
                    headers=host_b["auth"],
                )
                assert r.status_code == 201, r.text
                for ws in (ha, hb_):
                    await ws.close()

            run(go())
    finally:
        srv.stop()
