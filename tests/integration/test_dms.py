"""DMs over REST and /ws: send, inbox with unread counts, read receipts, privacy, blocks."""

import asyncio

from tests.conftest import register
from tests.integration.rooms_client import ready


def test_dm_flow_unread_receipts_and_ws(server, client):
    alice, bob, eve = register(client), register(client), register(client)

    async def go():
        bob_tab1, bob_tab2 = await ready(server, bob["accessToken"]), await ready(server, bob["accessToken"])
        alice_ws = await ready(server, alice["accessToken"])
        r = client.post("/api/v1/dms", json={"to": bob["user"]["username"], "text": "hi bob"}, headers=alice["auth"])
        assert r.status_code == 201, r.text
        cid = r.json()["conversationId"]
        for tab in (bob_tab1, bob_tab2, alice_ws):  # every device of both participants
            got = await tab.expect("dm:new")
            assert got["data"]["conversationId"] == cid and got["data"]["message"]["text"] == "hi bob"
        # over the websocket too
        await alice_ws.send("dm:send", {"to": bob["user"]["username"], "text": "second"})
        assert (await bob_tab1.expect("dm:new"))["data"]["message"]["text"] == "second"
        inbox = client.get("/api/v1/dms", headers=bob["auth"]).json()
        assert inbox["unreadTotal"] == 2 and inbox["items"][0]["unread"] == 2
        assert inbox["items"][0]["with"]["username"] == alice["user"]["username"]
        assert inbox["items"][0]["lastMessage"]["text"] == "second"
        convo = client.get(f"/api/v1/dms/{cid}", headers=bob["auth"]).json()
        assert [m["text"] for m in convo["items"]] == ["hi bob", "second"] and convo["otherLastReadAt"] is None
        # read receipt
        await bob_tab2.send("dm:read", {"conversationId": cid})
        receipt = await alice_ws.expect("dm:read")
        assert receipt["data"]["userId"] == bob["user"]["id"] and receipt["data"]["readAt"]
        assert client.get("/api/v1/dms", headers=bob["auth"]).json()["unreadTotal"] == 0
        assert client.get(f"/api/v1/dms/{cid}", headers=alice["auth"]).json()["otherLastReadAt"]
        # privacy: nobody else can read it, and its existence does not leak
        assert client.get(f"/api/v1/dms/{cid}", headers=eve["auth"]).status_code == 404
        assert client.post(f"/api/v1/dms/{cid}/read", headers=eve["auth"]).status_code == 404
        assert client.get(f"/api/v1/dms/{cid}").status_code == 401
        assert cid not in [c["conversationId"] for c in client.get("/api/v1/dms", headers=eve["auth"]).json()["items"]]
        await eve_cannot_see(server, eve)
        for s in (bob_tab1, bob_tab2, alice_ws):
            await s.close()

    async def eve_cannot_see(server, eve):
        ws = await ready(server, eve["accessToken"])
        cid2 = await ws.send("dm:read", {"conversationId": "nope"})
        assert (await ws.expect("error", where=lambda d: d["replyTo"] == cid2))["data"]["code"] == "not_found"
        await ws.close()

    asyncio.run(asyncio.wait_for(go(), 30))


def test_dm_blocks_privacy_and_bad_input(client):
    a, b = register(client), register(client)
    B = b["user"]["username"]
    assert client.post("/api/v1/dms", json={"to": B, "text": ""}, headers=a["auth"]).status_code == 422
    assert client.post("/api/v1/dms", json={"to": "no_such_user_x", "text": "x"}, headers=a["auth"]).status_code == 404
    assert (
        client.post("/api/v1/dms", json={"to": a["user"]["username"], "text": "me"}, headers=a["auth"]).status_code
        == 422
    )
    assert client.post("/api/v1/dms", json={"to": B, "text": "x", "extra": 1}, headers=a["auth"]).status_code == 422
    # b blocks a: a cannot send; b cannot either until unblocking
    assert client.post("/api/v1/blocks", json={"username": a["user"]["username"]}, headers=b["auth"]).status_code == 200
    r = client.post("/api/v1/dms", json={"to": B, "text": "hello?"}, headers=a["auth"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "dm_not_allowed"
    r = client.post("/api/v1/dms", json={"to": a["user"]["username"], "text": "x"}, headers=b["auth"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "you_blocked"
    assert [x["username"] for x in client.get("/api/v1/blocks", headers=b["auth"]).json()["items"]] == [
        a["user"]["username"]
    ]
    assert client.delete(f"/api/v1/blocks/{a['user']['username']}", headers=b["auth"]).status_code == 200
    assert client.post("/api/v1/dms", json={"to": B, "text": "hello!"}, headers=a["auth"]).status_code == 201
    # privacy: nobody
    assert client.put("/api/v1/privacy/dms", json={"privacy": "nobody"}, headers=b["auth"]).status_code == 200
    assert client.get("/api/v1/privacy/dms", headers=b["auth"]).json() == {"privacy": "nobody"}
    assert client.post("/api/v1/dms", json={"to": B, "text": "again"}, headers=a["auth"]).status_code == 403
    assert client.put("/api/v1/privacy/dms", json={"privacy": "friends"}, headers=b["auth"]).status_code == 422


def test_inbox_pagination(client):
    me = register(client)
    others = [register(client) for _ in range(3)]
    for o in others:
        assert (
            client.post("/api/v1/dms", json={"to": me["user"]["username"], "text": "yo"}, headers=o["auth"]).status_code
            == 201
        )
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/dms", params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=me["auth"]
        ).json()
        seen += [c["with"]["id"] for c in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == [o["user"]["id"] for o in reversed(others)]
