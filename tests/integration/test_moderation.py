"""Moderation over a real server: the chat path with real websocket clients (warn, block,
escalating chat ban enforced at send time, stored decisions), reports, the review queue,
appeals, trust score, audit, minor restrictions, clean image uploads and bad input, CLI."""

import asyncio
import io
import json

import numpy as np
import pytest

from halobuzz.moderation.text import COMBINED_MODEL_ID
from tests.conftest import Server, cli, register
from tests.integration.rooms_client import live_stream, ready


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("moderation") / "data",
        env={
            "HALOBUZZ_CHAT_RATE_USER": "1000/1s",
            "HALOBUZZ_MODERATION_BAN_LADDER": "60,120,300",
            "HALOBUZZ_MODERATION_IMAGE_MAX_BYTES": "300000",
            "HALOBUZZ_MODERATION_IMAGE_MAX_PIXELS": "1000000",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def mod(server):
    with server.client() as c:
        m = register(c, username="modmoderator")
    assert cli(server.data_dir, "user", "set-role", "modmoderator", "moderator").returncode == 0
    return m


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def png(w=64, h=48, seed=0, flat=False) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = np.full((h, w, 3), 90, np.uint8) if flat else (rng.random((h, w, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_chat_warn_block_and_ban_enforced_at_send(server, client, mod):
    host, viewer, other = register(client), register(client), register(client)
    st = live_stream(client, host)
    sid = st["id"]

    async def go():
        a, b = await ready(server, viewer["accessToken"]), await ready(server, other["accessToken"])
        await a.join(sid)
        await b.join(sid)
        await a.send("chat:new", {"streamId": sid, "text": "hello everyone"})
        assert (await b.expect("chat:new"))["data"]["text"] == "hello everyone"
        # warn band: delivered, the sender alone gets ai:warning
        await a.send("chat:new", {"streamId": sid, "text": "you stink"})
        got = await b.expect("chat:new")
        assert got["data"]["text"] == "you stink"
        w = await a.expect("ai:warning")
        assert w["data"]["action"] == "warn" and w["data"]["blocked"] is False
        assert w["data"]["modelId"] == COMBINED_MODEL_ID and w["data"]["reasons"]
        await b.silent("ai:warning", 0.2)
        # block: not delivered, warning + a temporary chat ban (first rung: 60 s)
        await a.send("chat:new", {"streamId": sid, "text": "you are a fucking idiot"})
        blk = await a.expect("ai:warning", where=lambda d: d.get("action") == "block")
        assert blk["data"]["blocked"] is True and blk["data"]["score"] >= 0.9
        ban = await a.expect("ai:warning", where=lambda d: d.get("kind") == "chat_ban")
        assert ban["data"]["seconds"] == 60 and ban["data"]["level"] == 0 and ban["data"]["flagId"]
        await b.silent("chat:new", 0.3)
        # while banned even a clean message is refused, as "muted until ...", not as an ai:warning block
        await a.send("chat:new", {"streamId": sid, "text": "sorry, friendly now"})
        refused = await a.expect("error")
        assert refused["data"]["code"] == "muted" and refused["data"]["until"] == ban["data"]["until"]
        assert "muted until " + ban["data"]["until"] in refused["data"]["message"]
        await a.silent("ai:warning", 0.2)
        await b.silent("chat:new", 0.3)
        flag_id = ban["data"]["flagId"]

        # the affected user appeals; a moderator overturns → ban lifted, chat works again
        r = client.post(
            f"/api/v1/moderation/flags/{flag_id}/appeal", json={"text": "I was quoting a movie"}, headers=viewer["auth"]
        )
        assert r.status_code == 201, r.text
        again = client.post(
            f"/api/v1/moderation/flags/{flag_id}/appeal", json={"text": "again"}, headers=viewer["auth"]
        )
        assert again.status_code == 409
        stranger = client.post(
            f"/api/v1/moderation/flags/{flag_id}/appeal", json={"text": "me too"}, headers=other["auth"]
        )
        assert stranger.status_code == 403
        appeals = client.get("/api/v1/moderation/appeals", headers=mod["auth"]).json()["items"]
        appeal = next(x for x in appeals if x["flagId"] == flag_id)
        d = client.post(
            f"/api/v1/moderation/appeals/{appeal['id']}/decide", json={"outcome": "overturned"}, headers=mod["auth"]
        )
        assert d.status_code == 200, d.text
        assert "chat ban lifted" in d.json()["effects"]
        await a.send("chat:new", {"streamId": sid, "text": "thanks moderators"})
        assert (await b.expect("chat:new"))["data"]["text"] == "thanks moderators"
        await a.close()
        await b.close()
        return flag_id

    flag_id = run(go())
    # the automated flag explains itself: model id, score, threshold crossed, thresholds, reasons
    f = client.get(f"/api/v1/moderation/flags/{flag_id}", headers=mod["auth"]).json()
    assert f["type"] == "message" and f["automated"] and f["status"] == "resolved"
    assert f["resolution"] == "overturned"
    # ... and shows the reviewer what was said, by whom, where
    subj = f["subject"]
    assert subj["kind"] == "chat" and subj["text"] == "you are a fucking idiot" and subj["status"] == "blocked"
    assert subj["author"]["id"] == viewer["user"]["id"] and subj["where"]["streamId"] == sid
    out = cli(server.data_dir, "moderation", "queue", "--status", "resolved", "--type", "message")
    assert out.returncode == 0 and "'you are a fucking idiot'" in out.stdout and COMBINED_MODEL_ID in out.stdout
    dec = f["decision"]
    assert dec["modelId"] == COMBINED_MODEL_ID and dec["action"] == "block" and dec["threshold"] == 0.9
    assert dec["thresholds"] == {"warn": 0.6, "block": 0.9} and dec["reasons"] and dec["subjectId"] == f["targetId"]
    # every scored message is stored as a decision (allow and warn too)
    items = client.get("/api/v1/moderation/decisions?kind=text", headers=mod["auth"]).json()["items"]
    mine = [x for x in items if x["userId"] == viewer["user"]["id"]]
    assert {"allow", "warn", "block"} <= {x["action"] for x in mine}
    assert all(x["subjectId"] for x in mine)  # delivered messages too: every decision points at its message
    # replay from the CLI: lower thresholds turn the warn into a block and an allow may become a warn
    out = cli(server.data_dir, "moderation", "replay", "--since", "1d", "--warn", "0.5", "--block", "0.85", "--json")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["total"] >= 3 and rep["transitions"].get("warn->block", 0) >= 1
    text = cli(server.data_dir, "moderation", "replay", "--since", "1d", "--warn", "0.5", "--block", "0.85")
    assert "decisions" in text.stdout and "warn->block" in text.stdout


def test_reports_queue_review_trust_audit(server, client, mod):
    reporter, target = register(client), register(client)
    # bad input names the field
    bad = client.post(
        "/api/v1/reports", json={"type": "planet", "targetId": "x", "reason": "r"}, headers=reporter["auth"]
    )
    assert bad.status_code == 422 and "type" in bad.json()["error"]["fields"]
    missing = client.post(
        "/api/v1/reports", json={"type": "user", "targetId": "nobody-here", "reason": "spam"}, headers=reporter["auth"]
    )
    assert missing.status_code == 404 and "targetId" in missing.json()["error"]["fields"]
    assert client.post("/api/v1/reports", json={"type": "user", "targetId": "x", "reason": "r"}).status_code == 401
    r = client.post(
        "/api/v1/reports",
        json={"type": "user", "targetId": target["user"]["username"], "reason": "harassment", "details": "in DMs"},
        headers=reporter["auth"],
    )
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    # plain users cannot see the queue
    assert client.get("/api/v1/moderation/queue", headers=reporter["auth"]).status_code == 403
    q = client.get("/api/v1/moderation/queue?type=user&limit=200", headers=mod["auth"]).json()
    item = next(x for x in q["items"] if x["id"] == fid)
    assert item["reporterId"] == reporter["user"]["id"] and item["targetUserId"] == target["user"]["id"]
    assert item["status"] == "pending" and item["action"] == "none"
    cq = cli(server.data_dir, "moderation", "queue", "--type", "user")
    assert cq.returncode == 0 and fid in cq.stdout
    bad_action = client.post(
        f"/api/v1/moderation/flags/{fid}/review", json={"decision": "confirm", "action": "blur"}, headers=mod["auth"]
    )
    assert bad_action.status_code == 422 and "action" in bad_action.json()["error"]["fields"]
    ok = client.post(
        f"/api/v1/moderation/flags/{fid}/review",
        json={"decision": "confirm", "action": "warn", "note": "first warning"},
        headers=mod["auth"],
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["flag"]["status"] == "reviewed" and ok.json()["flag"]["action"] == "warn"
    assert client.get("/api/v1/me", headers=target["auth"]).json()["trust"]["score"] == 48
    assert client.get("/api/v1/me", headers=reporter["auth"]).json()["trust"]["score"] == 51
    summary = client.get(f"/api/v1/moderation/users/{target['user']['id']}", headers=mod["auth"]).json()
    assert summary["trustScore"] == 48 and summary["events"][0]["delta"] == -2
    # the affected user sees it and may appeal; upheld → resolved, trust stays
    mine = client.get("/api/v1/moderation/mine", headers=target["auth"]).json()["items"]
    assert [m["id"] for m in mine] == [fid] and "reporterId" not in mine[0]
    ap = client.post(f"/api/v1/moderation/flags/{fid}/appeal", json={"text": "not me"}, headers=target["auth"])
    assert ap.status_code == 201
    up = client.post(
        f"/api/v1/moderation/appeals/{ap.json()['id']}/decide", json={"outcome": "upheld"}, headers=mod["auth"]
    )
    assert up.status_code == 200 and up.json()["flag"]["status"] == "resolved"
    assert client.get("/api/v1/me", headers=target["auth"]).json()["trust"]["score"] == 48
    log = cli(server.data_dir, "audit", "list", "--target", fid, "--json")
    actions = [json.loads(line)["action"] for line in log.stdout.splitlines() if line.strip()]
    assert "moderation.confirm" in actions and "moderation.appeal_upheld" in actions


def test_moderator_ends_a_reported_stream(server, client, mod):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)["id"]
    fid = client.post(
        "/api/v1/reports", json={"type": "stream", "targetId": sid, "reason": "nudity"}, headers=viewer["auth"]
    ).json()["id"]
    r = client.post(
        f"/api/v1/moderation/flags/{fid}/review",
        json={"decision": "confirm", "action": "ban", "banSeconds": 3600, "endStream": True},
        headers=mod["auth"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["streamEnded"] is True
    assert client.get(f"/api/v1/streams/{sid}").json()["status"] == "ended"
    # the host's account is suspended for an hour (sessions revoked, audited by accounts)
    assert client.get("/api/v1/me", headers=host["auth"]).status_code in (401, 403)
    assert client.post(f"/api/v1/moderation/streams/{sid}/end", headers=mod["auth"]).json()["ended"] is False


def test_minor_restrictions_follow_a_moderators_judgement(server, client, mod):
    kid, adult, friend = register(client), register(client), register(client)
    assert client.get("/api/v1/me/restrictions", headers=kid["auth"]).json()["restrictedMinor"] is False
    j = client.post(
        f"/api/v1/moderation/users/{kid['user']['id']}/minor",
        json={"minor": True, "reason": "ID check"},
        headers=mod["auth"],
    )
    assert j.status_code == 200 and j.json()["restrictedMinor"] and j.json()["judgedMinor"]
    assert (
        client.post(
            f"/api/v1/moderation/users/{kid['user']['id']}/minor", json={"minor": True}, headers=kid["auth"]
        ).status_code
        == 403
    )
    # payments refused
    packs = client.get("/api/v1/payments/packs").json()
    items = packs["items"] if isinstance(packs, dict) else packs
    pack = next(p for p in items if "esewa" in p.get("gateways", ["esewa"]))
    order = client.post("/api/v1/payments/orders", json={"gateway": "esewa", "packId": pack["id"]}, headers=kid["auth"])
    assert order.status_code == 403 and order.json()["error"]["code"] == "minor_restricted"
    # spend cap: the minor default applies
    assert client.get("/api/v1/wallet", headers=kid["auth"]).json()["dailySpendLimit"] == 2000
    # DMs: a stranger cannot write first; after the minor writes, a reply is fine
    no = client.post("/api/v1/dms", json={"to": kid["user"]["username"], "text": "hi"}, headers=adult["auth"])
    assert no.status_code == 403 and no.json()["error"]["code"] == "dm_not_allowed"
    assert client.post(
        "/api/v1/dms", json={"to": friend["user"]["username"], "text": "hey"}, headers=kid["auth"]
    ).status_code in (200, 201)
    assert client.post(
        "/api/v1/dms", json={"to": kid["user"]["username"], "text": "hey back"}, headers=friend["auth"]
    ).status_code in (200, 201)
    # the judgement is audited and reversible
    assert (
        client.post(
            f"/api/v1/moderation/users/{kid['user']['id']}/minor", json={"minor": False}, headers=mod["auth"]
        ).json()["restrictedMinor"]
        is False
    )
    log = cli(server.data_dir, "audit", "list", "--target", kid["user"]["id"], "--json")
    assert log.stdout.count("moderation.judge_minor") == 2


def test_clean_avatar_roundtrip_and_bad_uploads(server, client):
    u = register(client)
    data = png()
    r = client.post("/api/v1/me/avatar", content=data, headers={**u["auth"], "Content-Type": "image/png"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["moderation"]["action"] == "allow" and body["image"]["status"] == "ok"
    assert body["moderation"]["modelId"] == "nsfw-mobilenetv2-v1"
    got = client.get(f"/api/v1/users/{u['user']['id']}/avatar")
    assert got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/png"
    assert client.get(body["image"]["url"]).content == data
    # multipart works too
    mp = client.post("/api/v1/me/avatar", files={"image": ("a.png", png(seed=1), "image/png")}, headers=u["auth"])
    assert mp.status_code == 201, mp.text
    wrong_field = client.post("/api/v1/me/avatar", files={"photo": ("a.png", data, "image/png")}, headers=u["auth"])
    assert wrong_field.status_code == 422 and "image" in wrong_field.json()["error"]["fields"]
    cases = [
        (b"", 422, "image_empty"),
        (b"hello, I am not an image at all", 415, "unsupported_media_type"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, 422, "image_corrupt"),
        (data[: len(data) // 2], 422, "image_corrupt"),
        (b"\xff\xd8\xff" + b"\x00" * 400_000, 413, "payload_too_large"),
        (png(1200, 1000, flat=True), 422, "image_too_many_pixels"),
    ]
    for payload, status, code in cases:
        r = client.post(
            "/api/v1/me/avatar", content=payload, headers={**u["auth"], "Content-Type": "application/octet-stream"}
        )
        assert r.status_code == status, (code, r.text)
        err = r.json()["error"]
        assert err["code"] == code and "image" in err["fields"], err
    assert client.get("/api/v1/images/nope").status_code == 404


def test_frames_need_the_host_of_a_live_stream(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)["id"]
    frame = png(seed=3)
    r = client.post(
        f"/api/v1/streams/{sid}/frames", content=frame, headers={**host["auth"], "Content-Type": "image/png"}
    )
    assert r.status_code == 200 and r.json()["moderation"]["action"] == "allow" and "image" not in r.json()
    no = client.post(
        f"/api/v1/streams/{sid}/frames", content=frame, headers={**viewer["auth"], "Content-Type": "image/png"}
    )
    assert no.status_code == 403
    th = client.post(
        f"/api/v1/streams/{sid}/thumbnail", content=frame, headers={**host["auth"], "Content-Type": "image/png"}
    )
    assert th.status_code == 201
    assert client.get(f"/api/v1/streams/{sid}/thumbnail").content == frame


def test_cli_score_and_eval(server):
    lines = "hello friend\nyou are a fucking idiot\n\n".encode() + b"\xff\xfe\x00binary\n" + ("x" * 50_000).encode()
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "halobuzz", "moderation", "score", "--data-dir", str(server.data_dir)],
        input=lines,
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.decode().splitlines()]
    assert len(rows) == 5 and all(set(r) == {"text", "score", "action", "reasons"} for r in rows)
    assert rows[0]["action"] == "allow" and rows[1]["action"] == "block"
    assert rows[2]["action"] == "allow" and rows[3]["action"] == "allow"
    ev = cli(server.data_dir, "moderation", "eval", "tests/data/moderation_dev.jsonl")
    assert ev.returncode == 0, ev.stderr
    assert "[warn] threshold 0.60" in ev.stdout and "[block] threshold 0.90" in ev.stdout and "precision" in ev.stdout
    bad = cli(server.data_dir, "moderation", "replay", "--since", "yesterday")
    assert bad.returncode != 0 and "yesterday" in bad.stderr


def test_dm_warn_block_mute_and_review(server, client, mod):
    alice, bob = register(client), register(client)
    B = bob["user"]["username"]

    async def go():
        alice_ws, bob_ws = await ready(server, alice["accessToken"]), await ready(server, bob["accessToken"])
        # warn: delivered; only the sender learns why (REST response and ai:warning over /ws)
        r = client.post("/api/v1/dms", json={"to": B, "text": "you stink"}, headers=alice["auth"])
        assert r.status_code == 201 and r.json()["moderation"]["action"] == "warn"
        assert (await bob_ws.expect("dm:new"))["data"]["message"]["text"] == "you stink"
        await alice_ws.send("dm:send", {"to": B, "text": "you stink again"})
        w = await alice_ws.expect("ai:warning")
        assert w["data"]["kind"] == "dm" and w["data"]["action"] == "warn" and w["data"]["blocked"] is False
        await bob_ws.expect("dm:new")
        await bob_ws.silent("ai:warning", 0.2)
        # the example: no longer delivered
        r = client.post(
            "/api/v1/dms", json={"to": B, "text": "you fucking idiot, randi ko chora"}, headers=alice["auth"]
        )
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "message_blocked" and "text" in err["fields"]
        assert (
            err["moderation"]["action"] == "block" and err["moderation"]["flagId"] and err["moderation"]["mutedUntil"]
        )
        await bob_ws.silent("dm:new", 0.3)
        # the chat ban covers DMs (REST and /ws) and room chat: "muted until ..."
        r2 = client.post("/api/v1/dms", json={"to": B, "text": "sorry"}, headers=alice["auth"])
        assert r2.status_code == 403 and r2.json()["error"]["code"] == "muted"
        assert "muted until " + err["moderation"]["mutedUntil"] in r2.json()["error"]["message"]
        await alice_ws.send("dm:send", {"to": B, "text": "sorry"})
        assert (await alice_ws.expect("error"))["data"]["code"] == "muted"
        await alice_ws.close()
        await bob_ws.close()
        return err["moderation"]["flagId"]

    flag_id = asyncio.run(asyncio.wait_for(go(), 30))
    convo = client.get("/api/v1/dms", headers=bob["auth"]).json()["items"][0]
    assert convo["lastMessage"]["text"] == "you stink again"
    # the reviewer sees the DM's text, author, recipient and the decision
    f = client.get(f"/api/v1/moderation/flags/{flag_id}", headers=mod["auth"]).json()
    assert f["subject"]["kind"] == "dm" and f["subject"]["text"] == "you fucking idiot, randi ko chora"
    assert f["subject"]["author"]["id"] == alice["user"]["id"] and f["subject"]["where"]["recipient"]["username"] == B
    assert f["decision"]["subjectId"] == f["subject"]["messageId"] and f["decision"]["thresholds"]["block"] == 0.9
    # /metrics has the moderation series
    text = client.get("/metrics").text
    assert 'halobuzz_moderation_decisions_total{action="block",kind="text",lang="english",source="dm"}' in text
    assert "halobuzz_moderation_queue_oldest_age_seconds" in text
