"""Coins over real HTTP: gifts, idempotency, races, OG, wallet, admin grants."""

import concurrent.futures as cf
import uuid

from tests.conftest import ADMIN_EMAIL, cli, register


def live_stream(client, host):
    s = client.post("/api/v1/streams", json={"title": "money test"}, headers=host["auth"])
    assert s.status_code == 201, s.text
    sid = s.json()["id"]
    assert client.post(f"/api/v1/streams/{sid}/start", headers=host["auth"]).status_code == 200
    return sid


def grant(server, user, amount):
    out = cli(
        server.data_dir,
        "coins",
        "grant",
        "--user",
        user["user"]["username"],
        "--amount",
        str(amount),
        "--reason",
        "test",
    )
    assert out.returncode == 0, out.stderr


def key():
    return uuid.uuid4().hex


def root_admin(server, client):
    """The allow-listed admin of this module's server (registered once, then logged in)."""
    r = client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": "correct horse battery"})
    if r.status_code != 200:
        register(client, email=ADMIN_EMAIL, username="money_root")
        r = client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": "correct horse battery"})
    assert cli(server.data_dir, "user", "set-role", ADMIN_EMAIL, "admin").returncode == 0
    data = r.json()
    return {**data, "auth": {"Authorization": f"Bearer {data['accessToken']}"}}


def test_gift_flow_wallet_and_ledger_lines(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)
    grant(server, viewer, 500)
    r = client.post(
        f"/api/v1/streams/{sid}/gifts",
        json={"giftId": "rhino", "quantity": 2},
        headers={**viewer["auth"], "Idempotency-Key": key()},
    )
    assert r.status_code == 201, r.text
    assert r.json()["coins"] == 198 and r.json()["wallet"]["balance"] == 302
    w = client.get("/api/v1/wallet", headers=viewer["auth"]).json()
    assert (w["balance"], w["totalSpent"]) == (302, 198)
    me = client.get("/api/v1/me", headers=viewer["auth"]).json()
    assert me["coins"]["balance"] == 302
    hw = client.get("/api/v1/wallet", headers=host["auth"]).json()
    assert hw["earningsHeld"] == 198 - 198 * 3000 // 10000 and hw["balance"] == 0
    lines = client.get("/api/v1/wallet/transactions", headers=viewer["auth"]).json()["items"]
    assert [ln["kind"] for ln in lines] == ["gift", "grant"] and lines[0]["amount"] == -198
    board = client.get(f"/api/v1/streams/{sid}/leaderboard").json()["items"]
    assert board[0]["userId"] == viewer["user"]["id"] and board[0]["coins"] == 198
    assert client.get(f"/api/v1/streams/{sid}").json()["totalCoins"] == 198


def test_idempotent_retry_and_key_reuse_with_other_body(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)
    grant(server, viewer, 100)
    k = key()
    first = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "heart"}, headers={**viewer["auth"], "Idempotency-Key": k}
    )
    again = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "heart"}, headers={**viewer["auth"], "Idempotency-Key": k}
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers.get("idempotent-replayed") == "true"
    other = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "rose"}, headers={**viewer["auth"], "Idempotency-Key": k}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_mismatch"
    assert client.get("/api/v1/wallet", headers=viewer["auth"]).json()["balance"] == 95
    missing = client.post(f"/api/v1/streams/{sid}/gifts", json={"giftId": "rose"}, headers=viewer["auth"])
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["error"]["fields"]


def test_concurrent_spends_of_the_same_coins(server):
    with server.client() as c:
        host, viewer = register(c), register(c)
        sid = live_stream(c, host)
        grant(server, viewer, 99 * 5)

    def one(_):
        with server.client() as c2:
            return c2.post(
                f"/api/v1/streams/{sid}/gifts",
                json={"giftId": "rhino"},
                headers={**viewer["auth"], "Idempotency-Key": key()},
            ).status_code

    with cf.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(16)))
    assert codes.count(201) == 5 and codes.count(409) == 11, codes
    with server.client() as c:
        assert c.get("/api/v1/wallet", headers=viewer["auth"]).json()["balance"] == 0


def test_gift_bad_input(server, client):
    host, viewer = register(client), register(client)
    sid = live_stream(client, host)
    grant(server, viewer, 50)
    h = {**viewer["auth"], "Idempotency-Key": key()}
    cases = [
        ({"giftId": "rose", "quantity": 0}, 422, "quantity"),
        ({"giftId": "rose", "quantity": -3}, 422, "quantity"),
        ({"giftId": "rose", "quantity": 10**15}, 422, "quantity"),
        ({"giftId": 5}, 422, "giftId"),
        ({"giftId": "rose", "extra": 1}, 422, "extra"),
        ({"giftId": "unicorn"}, 404, "giftId"),
    ]
    for body, status, field in cases:
        r = client.post(f"/api/v1/streams/{sid}/gifts", json=body, headers={**viewer["auth"], "Idempotency-Key": key()})
        assert r.status_code == status and field in r.json()["error"].get("fields", {}), (body, r.text)
    poor = client.post(f"/api/v1/streams/{sid}/gifts", json={"giftId": "rhino"}, headers=h)
    assert poor.status_code == 409 and poor.json()["error"]["balance"] == 50
    self_gift = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "rose"}, headers={**host["auth"], "Idempotency-Key": key()}
    )
    assert self_gift.status_code == 403
    client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
    ended = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "rose"}, headers={**viewer["auth"], "Idempotency-Key": key()}
    )
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "stream_not_live"
    assert client.get("/api/v1/wallet", headers=viewer["auth"]).json()["balance"] == 50


def test_og_tiers_and_subscribe(server, client):
    tiers = client.get("/api/v1/og/tiers").json()["items"]
    assert [t["benefits"]["dailyBonus"] for t in tiers] == [60, 180, 600, 1800, 6000]
    assert "crown" in tiers[0]["benefits"]["exclusiveGifts"]
    u = register(client)
    grant(server, u, 3000)
    r = client.post("/api/v1/og/subscribe", json={"tier": 1}, headers={**u["auth"], "Idempotency-Key": key()})
    assert r.status_code == 201 and r.json()["ogLevel"] == 1
    me = client.get("/api/v1/me", headers=u["auth"]).json()
    assert me["ogLevel"] == 1 and me["ogExpiresAt"] == r.json()["expiresAt"]
    bad = client.post("/api/v1/og/subscribe", json={"tier": 9}, headers={**u["auth"], "Idempotency-Key": key()})
    assert bad.status_code == 422 and "tier" in bad.json()["error"]["fields"]


def test_spend_limit_endpoint(server, client):
    host, u = register(client), register(client)
    sid = live_stream(client, host)
    grant(server, u, 1000)
    assert (
        client.put("/api/v1/wallet/limits", json={"dailySpendLimit": 10}, headers=u["auth"]).json()["dailySpendLimit"]
        == 10
    )
    r = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "momo"}, headers={**u["auth"], "Idempotency-Key": key()}
    )
    assert r.status_code == 201
    r = client.post(
        f"/api/v1/streams/{sid}/gifts", json={"giftId": "rose"}, headers={**u["auth"], "Idempotency-Key": key()}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "spend_limit"


def test_admin_grant_and_ledger_inspection_audited(server, client):
    boss = register(client, email="money-" + ADMIN_EMAIL, username="moneyboss")
    # allow-listed email is ADMIN_EMAIL only: a second admin account is refused
    cli(server.data_dir, "user", "set-role", "moneyboss", "admin")
    assert (
        client.post(
            f"/api/v1/admin/users/{boss['user']['id']}/coins", json={"amount": 5, "reason": "x"}, headers=boss["auth"]
        ).status_code
        == 403
    )
    u = register(client)
    out = cli(
        server.data_dir, "coins", "revoke", "--user", u["user"]["username"], "--amount", "7", "--reason", "mistake"
    )
    assert out.returncode == 0 and "balance -7" in out.stdout
    verify = cli(server.data_dir, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout
    doctor = cli(server.data_dir, "doctor")
    assert "ledger chain" in doctor.stdout and doctor.returncode == 0, doctor.stdout


def test_admin_api_grant_payout_queue(server, client):
    root = root_admin(server, client)
    u = register(client)
    r = client.post(
        f"/api/v1/admin/users/{u['user']['id']}/coins",
        json={"amount": 250, "reason": "prize"},
        headers={**root["auth"], "Idempotency-Key": "grant-" + key()},
    )
    assert r.status_code == 200 and r.json()["balance"] == 250
    ledger = client.get(f"/api/v1/admin/users/{u['user']['id']}/ledger", headers=root["auth"]).json()
    assert ledger["wallet"]["balance"] == 250 and ledger["items"][0]["kind"] == "grant"
    audit = client.get("/api/v1/admin/audit", params={"target": u["user"]["id"]}, headers=root["auth"]).json()
    assert audit["items"][0]["action"] == "coins.grant" and audit["items"][0]["after"]["amount"] == 250
    bad = client.post(
        f"/api/v1/admin/users/{u['user']['id']}/coins", json={"amount": 5, "reason": ""}, headers=root["auth"]
    )
    assert bad.status_code == 422 and "reason" in bad.json()["error"]["fields"]
    # payouts need withdrawable earnings: a plain user has none and is not a host
    assert (
        client.post(
            "/api/v1/wallet/payouts", json={"amount": 10}, headers={**u["auth"], "Idempotency-Key": key()}
        ).status_code
        == 403
    )
    queue = client.get("/api/v1/admin/payouts", headers=root["auth"])
    assert queue.status_code == 200 and queue.json()["items"] == [], queue.text


def test_payout_after_hold_release(tmp_path):
    from tests.conftest import Server

    srv = Server(tmp_path / "d", env={"HALOBUZZ_EARNINGS_HOLD_DAYS": "0"}).start()
    try:
        with srv.client() as c:
            root = register(c, email=ADMIN_EMAIL, username="payroot")
            cli(srv.data_dir, "user", "set-role", "payroot", "admin")
            host, viewer = register(c), register(c)
            cli(srv.data_dir, "user", "set-role", host["user"]["username"], "host")
            sid = live_stream(c, host)
            grant(srv, viewer, 1000)
            sent = c.post(
                f"/api/v1/streams/{sid}/gifts",
                json={"giftId": "himalaya"},
                headers={**viewer["auth"], "Idempotency-Key": key()},
            )
            assert sent.status_code == 201, sent.text
            assert c.get("/api/v1/wallet", headers=host["auth"]).json()["earningsAvailable"] == 0
            ran = c.post("/api/v1/admin/jobs/earnings_release/run", headers=root["auth"])
            assert ran.status_code == 200 and ran.json()["result"] == 1, ran.text
            w = c.get("/api/v1/wallet", headers=host["auth"]).json()
            earned = 999 - 999 * 3000 // 10000
            assert (w["earningsHeld"], w["earningsAvailable"]) == (0, earned)
            k = key()
            p1 = c.post("/api/v1/wallet/payouts", json={"amount": 500}, headers={**host["auth"], "Idempotency-Key": k})
            p2 = c.post("/api/v1/wallet/payouts", json={"amount": 500}, headers={**host["auth"], "Idempotency-Key": k})
            assert p1.status_code == 201 and p1.json() == p2.json()
            too_much = c.post(
                "/api/v1/wallet/payouts", json={"amount": earned}, headers={**host["auth"], "Idempotency-Key": key()}
            )
            assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "insufficient_earnings"
            queue = c.get("/api/v1/admin/payouts", headers=root["auth"]).json()["items"]
            assert [q["amount"] for q in queue] == [500]
            ok = c.post(f"/api/v1/admin/payouts/{queue[0]['id']}", json={"approve": True}, headers=root["auth"])
            assert ok.status_code == 200 and ok.json()["status"] == "approved"
            again = c.post(f"/api/v1/admin/payouts/{queue[0]['id']}", json={"approve": False}, headers=root["auth"])
            assert again.status_code == 409
            assert c.get("/api/v1/wallet", headers=host["auth"]).json()["earningsAvailable"] == earned - 500
            unknown = c.post("/api/v1/admin/jobs/nope/run", headers=root["auth"])
            assert unknown.status_code == 404
    finally:
        srv.stop()
    assert cli(srv.data_dir, "ledger", "verify").returncode == 0


def test_login_profile_shows_coins(server, client):
    u = register(client)
    grant(server, u, 77)
    login = client.post("/api/v1/auth/login", json={"email": u["user"]["email"], "password": u["password"]})
    assert login.json()["user"]["coins"]["balance"] == 77


def test_admin_grant_replay_and_parental_lock(server, client):
    root = root_admin(server, client)
    u = register(client)
    k = "grant-" + key()
    first = client.post(
        f"/api/v1/admin/users/{u['user']['id']}/coins",
        json={"amount": 40, "reason": "prize"},
        headers={**root["auth"], "Idempotency-Key": k},
    )
    again = client.post(
        f"/api/v1/admin/users/{u['user']['id']}/coins",
        json={"amount": 40, "reason": "prize"},
        headers={**root["auth"], "Idempotency-Key": k},
    )
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert client.get("/api/v1/wallet", headers=u["auth"]).json()["balance"] == 40
    locked = client.put(
        f"/api/v1/admin/users/{u['user']['id']}/limits",
        json={"dailySpendLimit": 30, "locked": True},
        headers=root["auth"],
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True
    lift = client.put("/api/v1/wallet/limits", json={"dailySpendLimit": None}, headers=u["auth"])
    assert lift.status_code == 403 and lift.json()["error"]["code"] == "spend_limit_locked"
    assert client.put("/api/v1/wallet/limits", json={"dailySpendLimit": 20}, headers=u["auth"]).status_code == 200
    out = cli(
        server.data_dir,
        "coins",
        "grant",
        "--user",
        u["user"]["username"],
        "--amount",
        "5",
        "--reason",
        "r",
        "--key",
        "cli-once-1",
    )
    again = cli(
        server.data_dir,
        "coins",
        "grant",
        "--user",
        u["user"]["username"],
        "--amount",
        "5",
        "--reason",
        "r",
        "--key",
        "cli-once-1",
    )
    assert out.returncode == again.returncode == 0 and "already applied" in again.stdout
    assert client.get("/api/v1/wallet", headers=u["auth"]).json()["balance"] == 45
    lim = cli(server.data_dir, "coins", "limit", "--user", u["user"]["username"], "--daily", "0", "--no-lock")
    assert lim.returncode == 0
    assert client.put("/api/v1/wallet/limits", json={"dailySpendLimit": None}, headers=u["auth"]).status_code == 200
