"""Festivals, trust gates and the AI features through a real server and real /ws clients."""

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import live_stream, ready

KTM = ZoneInfo("Asia/Kathmandu")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("fest") / "data",
        env={
            "HALOBUZZ_TRUST_MIN_GO_LIVE": "55",
            "HALOBUZZ_TRUST_MIN_DM_STRANGERS": "55",
            "HALOBUZZ_BOREDOM_INTERVAL": "0.3",
            "HALOBUZZ_BOREDOM_WINDOW": "2",
            "HALOBUZZ_BOREDOM_COOLDOWN": "600",
            "HALOBUZZ_FESTIVAL_BONUS_SECONDS": "0.3",
            "HALOBUZZ_METRICS_INTERVAL": "0.3",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server):
    with server.client() as c:
        boss = register(c, email=ADMIN_EMAIL, username="festadmin")
    assert cli(server.data_dir, "user", "set-role", "festadmin", "admin").returncode == 0
    return boss


def verify(client, admin, user):
    r = client.post(
        f"/api/v1/admin/users/{user['user']['id']}/trust/verify", json={"note": "test"}, headers=admin["auth"]
    )
    assert r.status_code == 200 and r.json()["level"] == "verified", r.text


def grant(client, admin, user, amount=10_000):
    r = client.post(
        f"/api/v1/admin/users/{user['user']['id']}/coins",
        json={"amount": amount, "reason": "test"},
        headers={**admin["auth"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def local(dt):
    return dt.astimezone(KTM).strftime("%Y-%m-%dT%H:%M:%S")


def test_gated_features_refuse_a_low_trust_account_naming_the_rule(server, client, admin):
    newbie, other = register(client), register(client)
    me = client.get("/api/v1/me/trust", headers=newbie["auth"]).json()
    assert me["score"] == 50 and me["level"] == "medium" and "contributions" in me
    s = client.post("/api/v1/streams", json={"title": "first"}, headers=newbie["auth"]).json()
    r = client.post(f"/api/v1/streams/{s['id']}/start", headers=newbie["auth"])
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "trust_gate" and err["rule"] == "trust_min_go_live" and "trust_min_go_live" in err["message"]
    r = client.post("/api/v1/dms", json={"to": other["user"]["username"], "text": "hi"}, headers=newbie["auth"])
    assert r.status_code == 403 and r.json()["error"]["rule"] == "trust_min_dm_strangers"
    # an admin verification lifts every gate; /me shows the level too
    verify(client, admin, newbie)
    assert client.post(f"/api/v1/streams/{s['id']}/start", headers=newbie["auth"]).status_code == 200
    assert client.get("/api/v1/me", headers=newbie["auth"]).json()["trust"]["level"] == "verified"
    actions = client.get("/api/v1/admin/audit", params={"target": newbie["user"]["id"]}, headers=admin["auth"])
    assert "trust.verify" in [e["action"] for e in actions.json()["items"]]


def test_festival_starts_on_schedule_reaches_clients_and_pays_bonus(server, client, admin):
    host, fan = register(client), register(client)
    verify(client, admin, host)
    grant(client, admin, fan)
    stream = live_stream(client, host)

    async def go():
        fan_ws = await ready(server, fan["accessToken"])
        host_ws = await ready(server, host["accessToken"])
        now = datetime.now(timezone.utc)
        body = {
            "template": "custom",
            "id": f"fest-{uuid.uuid4().hex[:8]}",
            "nameEn": "Test Fest",
            "nameNe": "परीक्षण चाड",
            "bannerEn": "It is on!",
            "bannerNe": "सुरु भयो!",
            "startsLocal": local(now + timedelta(seconds=2)),
            "endsLocal": local(now + timedelta(hours=1)),
            "giftBonusBps": 1000,
        }
        r = client.post("/api/v1/admin/festivals", json=body, headers=admin["auth"])
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "scheduled" and r.json()["startsAt"].endswith("Z")
        fid = r.json()["id"]
        assert fid not in [f["id"] for f in client.get("/api/v1/festivals/active").json()["items"]]
        for ws in (fan_ws, host_ws):  # every connected client hears it when it starts
            msg = await ws.expect("festival:active", timeout=15, where=lambda d: d["festival"]["id"] == fid)
            assert msg["data"]["change"] == "started" and msg["data"]["festival"]["banner"]["ne"] == "सुरु भयो!"
        active = client.get("/api/v1/festivals/active").json()["items"]
        assert fid in [f["id"] for f in active]
        # a gift during the festival earns the sender 10 % of its paid coins in bonus coins, via the ledger
        gift = client.post(
            f"/api/v1/streams/{stream['id']}/gifts",
            json={"giftId": "momo", "quantity": 10},
            headers={**fan["auth"], "Idempotency-Key": uuid.uuid4().hex},
        )
        assert gift.status_code == 201, gift.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            w = client.get("/api/v1/wallet", headers=fan["auth"]).json()
            if w["bonusBalance"]:
                break
            await asyncio.sleep(0.2)
        assert w["bonusBalance"] == 10 and w["balance"] == 10_000 - 100
        board = client.get(f"/api/v1/festivals/{fid}/leaderboard").json()
        assert board["items"][0]["userId"] == fan["user"]["id"] and board["items"][0]["coins"] == 100
        # cancel: ends now, announced
        assert client.delete(f"/api/v1/admin/festivals/{fid}", headers=admin["auth"]).status_code == 200
        msg = await fan_ws.expect("festival:active", timeout=10, where=lambda d: d["change"] == "ended")
        assert msg["data"]["festival"]["id"] == fid
        await fan_ws.close()
        await host_ws.close()

    run(go())
    txs = client.get("/api/v1/wallet/transactions", headers=fan["auth"]).json()["items"]
    assert "festival_bonus" in [t["kind"] for t in txs]
    assert cli(server.data_dir, "ledger", "verify").returncode == 0
    doctor = cli(server.data_dir, "doctor")
    assert doctor.returncode == 0 and "festival bonuses" in doctor.stdout, doctor.stdout + doctor.stderr


def test_admin_festival_input_errors_name_the_field(client, admin):
    r = client.post("/api/v1/admin/festivals", json={"template": "holi", "year": 2099}, headers=admin["auth"])
    assert r.status_code == 422 and "year" in r.json()["error"]["fields"]
    r = client.post("/api/v1/admin/festivals", json={"template": "custom", "id": "x1"}, headers=admin["auth"])
    assert r.status_code == 422 and "nameEn" in r.json()["error"]["fields"]
    r = client.post(
        "/api/v1/admin/festivals",
        json={"template": "christmas", "year": 2030, "giftBonusBps": 20000},
        headers=admin["auth"],
    )
    assert r.status_code == 422 and "giftBonusBps" in r.json()["error"]["fields"]
    assert client.post("/api/v1/admin/festivals", json={"template": "christmas", "year": 2030}).status_code == 401


def test_bored_room_nudges_its_host_only(server, client, admin):
    host, viewer = register(client), register(client)
    verify(client, admin, host)
    stream = live_stream(client, host, title="quiet room")

    async def go():
        host_ws = await ready(server, host["accessToken"])
        viewer_ws = await ready(server, viewer["accessToken"])
        await host_ws.join(stream["id"])
        await viewer_ws.join(stream["id"])
        # nobody says anything: once the 2 s window has filled, the host (only) is nudged
        nudge = await host_ws.expect("ai:suggestion", timeout=15)
        assert nudge["data"]["streamId"] == stream["id"] and nudge["data"]["reason"]
        assert nudge["data"]["action"] in ("quiz", "battle", "cohost") and nudge["data"]["engagementScore"] < 30
        update = await viewer_ws.expect(
            "metrics:update", timeout=5, where=lambda d: d.get("engagementScore") is not None
        )
        assert 0 <= update["data"]["engagementScore"] <= 100
        await viewer_ws.silent("ai:suggestion", 1.0)
        await host_ws.close()
        await viewer_ws.close()

    run(go())
    view = client.get(f"/api/v1/streams/{stream['id']}/insights", headers=host["auth"]).json()
    assert view["nudges"] and view["engagementScore"] is not None
    assert client.get(f"/api/v1/streams/{stream['id']}/insights", headers=viewer["auth"]).status_code == 403


def test_cohosts_gift_suggestions_and_business_metrics(server, client, admin):
    a, b, fan = register(client), register(client), register(client)
    for h in (a, b):
        verify(client, admin, h)
    sa, sb = live_stream(client, a, title="namaste"), live_stream(client, b, title="गीत संगीत")
    r = client.get(f"/api/v1/streams/{sa['id']}/cohosts", headers=a["auth"])
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    mine = next(i for i in items if i["streamId"] == sb["id"])
    assert mine["reasons"] and mine["hostId"] == b["user"]["id"]
    assert client.get(f"/api/v1/streams/{sa['id']}/cohosts", headers=b["auth"]).status_code == 403

    async def go():
        b_ws = await ready(server, b["accessToken"])
        inv = client.post(
            f"/api/v1/streams/{sa['id']}/cohosts/invite", json={"candidateStreamId": sb["id"]}, headers=a["auth"]
        )
        assert inv.status_code == 201, inv.text
        got = await b_ws.expect("battle:invite")
        assert got["data"]["id"] == inv.json()["id"]
        assert client.post(f"/api/v1/battles/{inv.json()['id']}/decline", headers=b["auth"]).status_code == 200
        await b_ws.close()

    run(go())
    # declined: b is out of a's list for the cooldown
    after = client.get(f"/api/v1/streams/{sa['id']}/cohosts", headers=a["auth"]).json()
    assert sb["id"] not in [i["streamId"] for i in after["items"]] and after["excludedAfterDecline"] == 1
    # gift suggestions never exceed what is left of today's cap
    grant(client, admin, fan, 5_000)
    assert client.put("/api/v1/wallet/limits", json={"dailySpendLimit": 30}, headers=fan["auth"]).status_code == 200
    sugg = client.get(f"/api/v1/streams/{sa['id']}/gift-suggestions", headers=fan["auth"]).json()
    assert sugg["items"] and all(i["price"] <= 30 for i in sugg["items"]) and sugg["remainingToday"] == 30
    kid = register(client, birthDate="2013-01-01")
    assert client.get(f"/api/v1/streams/{sa['id']}/gift-suggestions", headers=kid["auth"]).json()["items"] == []
    text = client.get("/metrics").text
    for name in (
        'halobuzz_active_users{window="5m"}',
        "halobuzz_live_streams",
        "halobuzz_live_viewers",
        "halobuzz_gifts_per_minute",
        "halobuzz_gift_coins_per_minute",
        "halobuzz_festival_bonus_coins_total",
    ):
        assert name in text, name
    live = float(next(line.split()[-1] for line in text.splitlines() if line.startswith("halobuzz_live_streams ")))
    assert live >= 2


def test_cli_festivals_and_trust_are_audited(server, client, admin):
    d = server.data_dir
    out = cli(d, "festivals", "add", "dashain", "--year", "2083")
    assert out.returncode == 0, out.stderr
    assert "dashain-2083" in out.stdout and "BS 2083-06-25" in out.stdout
    bad = cli(d, "festivals", "add", "holi", "--year", "2099")
    assert bad.returncode == 1 and "--bs-start" in bad.stderr
    out = cli(d, "festivals", "add", "holi", "--year", "2099", "--bs-start", "2099-11-20", "--bs-end", "2099-11-21")
    assert out.returncode == 0, out.stderr
    assert cli(d, "festivals", "edit", "holi-2099", "--gift-bonus-bps", "1200").returncode == 0
    assert cli(d, "festivals", "cancel", "holi-2099").returncode == 0
    listing = cli(d, "festivals", "list", "--all").stdout
    assert "holi-2099" in listing and "cancelled" in listing and "dashain-2083" in listing
    user = register(client)
    shown = cli(d, "trust", "show", user["user"]["username"])
    assert shown.returncode == 0 and "50 (medium)" in shown.stdout and "account_age" in shown.stdout
    assert cli(d, "trust", "verify", user["user"]["username"], "--note", "id seen").returncode == 0
    assert client.get("/api/v1/me/trust", headers=user["auth"]).json()["level"] == "verified"
    audit = cli(d, "audit", "list").stdout
    for action in ("festival.create", "festival.update", "festival.cancel", "trust.verify"):
        assert action in audit, action


def test_openapi_declares_request_and_response_schemas(client):
    doc = client.get("/docs/openapi.json").json()
    routes = {
        ("get", "/api/v1/festivals/active"),
        ("get", "/api/v1/festivals"),
        ("get", "/api/v1/festivals/{festival_id}/leaderboard"),
        ("get", "/api/v1/admin/festivals"),
        ("post", "/api/v1/admin/festivals"),
        ("patch", "/api/v1/admin/festivals/{festival_id}"),
        ("delete", "/api/v1/admin/festivals/{festival_id}"),
        ("get", "/api/v1/me/trust"),
        ("get", "/api/v1/admin/users/{user_id}/trust"),
        ("post", "/api/v1/admin/users/{user_id}/trust/verify"),
        ("get", "/api/v1/streams/{stream_id}/cohosts"),
        ("post", "/api/v1/streams/{stream_id}/cohosts/invite"),
        ("get", "/api/v1/streams/{stream_id}/gift-suggestions"),
        ("get", "/api/v1/streams/{stream_id}/insights"),
    }
    for method, path in routes:
        op = doc["paths"][path][method]
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert ok and op["responses"][ok[0]]["content"]["application/json"]["schema"], (method, path)
        if method in ("post", "patch"):
            assert op["requestBody"]["content"]["application/json"]["schema"], (method, path)
