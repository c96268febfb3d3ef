"""Accounts over real HTTP against a real server process."""

import time

import jwt

from tests.conftest import ADMIN_EMAIL, Server, cli, register


def test_register_login_me_roundtrip(client):
    reg = register(client)
    assert reg["user"]["coins"] == {"balance": 0, "bonusBalance": 0, "totalEarned": 0, "totalSpent": 0}
    me = client.get("/api/v1/me", headers=reg["auth"])
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == reg["user"]["username"]
    assert body["ogLevel"] == 0 and body["ogExpiresAt"] is None
    assert body["trust"] == {"score": 50, "level": "medium"}
    login = client.post("/api/v1/auth/login", json={"email": reg["user"]["email"], "password": reg["password"]})
    assert login.status_code == 200
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer " + login.json()["accessToken"]}).status_code == 200
    )


def test_access_token_is_eddsa_with_key_id(client):
    reg = register(client)
    header = jwt.get_unverified_header(reg["accessToken"])
    assert header["alg"] == "EdDSA" and header["kid"]
    jwks = client.get("/api/v1/auth/keys").json()
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]


def test_wrong_password_and_duplicate_registration(client):
    reg = register(client)
    bad = client.post("/api/v1/auth/login", json={"email": reg["user"]["email"], "password": "nope-nope-nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_credentials"
    again = client.post(
        "/api/v1/auth/register",
        json={
            "email": reg["user"]["email"].upper(),
            "password": "whatever123",
            "username": "someone_else",
            "country": "NP",
            "birthDate": "1990-01-01",
        },
    )
    assert again.status_code == 409 and "email" in again.json()["error"]["fields"]


def test_refresh_retry_within_leeway_keeps_the_session(client):
    reg = register(client)
    first = client.post("/api/v1/auth/refresh", json={"refreshToken": reg["refreshToken"]})
    retry = client.post("/api/v1/auth/refresh", json={"refreshToken": reg["refreshToken"]})  # response was lost
    assert first.status_code == retry.status_code == 200
    for pair in (first.json(), retry.json()):
        assert client.get("/api/v1/me", headers={"Authorization": "Bearer " + pair["accessToken"]}).status_code == 200


def test_refresh_rotates_and_reuse_revokes_family(tmp_path):
    srv = Server(tmp_path / "d", env={"HALOBUZZ_REFRESH_REUSE_LEEWAY": "0"}).start()
    try:
        with srv.client() as client:
            _rotation_and_reuse(client)
    finally:
        srv.stop()


def _rotation_and_reuse(client):
    reg = register(client)
    first = reg["refreshToken"]
    r1 = client.post("/api/v1/auth/refresh", json={"refreshToken": first})
    assert r1.status_code == 200
    second = r1.json()["refreshToken"]
    assert second != first
    # A stolen copy of the first token is replayed: the whole family dies.
    replay = client.post("/api/v1/auth/refresh", json={"refreshToken": first})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "refresh_token_reused"
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": second}).status_code == 401
    newest_access = {"Authorization": "Bearer " + r1.json()["accessToken"]}
    assert client.get("/api/v1/me", headers=newest_access).status_code == 401


def test_logout_ends_session_immediately(client):
    reg = register(client)
    assert client.post("/api/v1/auth/logout", headers=reg["auth"]).status_code == 200
    after = client.get("/api/v1/me", headers=reg["auth"])
    assert after.status_code == 401 and after.json()["error"]["code"] == "session_revoked"
    assert client.post("/api/v1/auth/refresh", json={"refreshToken": reg["refreshToken"]}).status_code == 401


def test_cli_ban_applies_to_running_server(server, client):
    reg = register(client)
    name = reg["user"]["username"]
    out = cli(server.data_dir, "user", "ban", name, "--reason", "spam")
    assert out.returncode == 0, out.stderr
    me = client.get("/api/v1/me", headers=reg["auth"])
    assert me.status_code == 403 and me.json()["error"]["code"] == "account_blocked"
    login = client.post("/api/v1/auth/login", json={"email": reg["user"]["email"], "password": reg["password"]})
    assert login.status_code == 403
    assert cli(server.data_dir, "user", "ban", name, "--lift").returncode == 0
    login = client.post("/api/v1/auth/login", json={"email": reg["user"]["email"], "password": reg["password"]})
    assert login.status_code == 200
    log = cli(server.data_dir, "audit", "list", "--target", reg["user"]["id"], "--json")
    actions = [line for line in log.stdout.splitlines()]
    assert any('"user.banned"' in a for a in actions) and any('"user.unban"' in a for a in actions)


def test_admin_routes_need_role_and_allow_list(server, client):
    plain = register(client)
    assert client.get("/api/v1/admin/users", headers=plain["auth"]).status_code == 403
    # An admin role without an allow-listed email is still refused.
    other = register(client)
    assert cli(server.data_dir, "user", "set-role", other["user"]["username"], "admin").returncode == 0
    refused = client.get("/api/v1/admin/users", headers=other["auth"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_not_allowed"
    boss = register(client, email=ADMIN_EMAIL, username="rootadmin")
    assert cli(server.data_dir, "user", "set-role", "rootadmin", "admin").returncode == 0
    listed = client.get("/api/v1/admin/users", params={"q": plain["user"]["username"]}, headers=boss["auth"])
    assert listed.status_code == 200 and [u["id"] for u in listed.json()["items"]] == [plain["user"]["id"]]
    promoted = client.post(
        f"/api/v1/admin/users/{plain['user']['id']}/role",
        json={"role": "host"},
        headers={**boss["auth"], "X-Request-Id": "req-promote-1"},
    )
    assert promoted.status_code == 200
    audit = client.get("/api/v1/admin/audit", params={"target": plain["user"]["id"]}, headers=boss["auth"]).json()
    entry = audit["items"][0]
    assert entry["action"] == "user.set_role" and entry["actor"] == ADMIN_EMAIL
    assert entry["before"] == {"role": "user"} and entry["after"] == {"role": "host"}
    assert entry["requestId"] == "req-promote-1"


def _live_refresh_tokens(data_dir, session_of_token: str) -> int:
    import hashlib
    import sqlite3

    db = sqlite3.connect(data_dir / "halobuzz.db")
    try:
        sid = db.execute(
            "SELECT session_id FROM refresh_tokens WHERE token_hash = ?",
            (hashlib.sha256(session_of_token.encode()).hexdigest(),),
        ).fetchone()[0]
        return db.execute(
            "SELECT count(*) FROM refresh_tokens WHERE session_id = ? AND used_at IS NULL", (sid,)
        ).fetchone()[0]
    finally:
        db.close()


def test_refresh_retry_replaces_the_successor_instead_of_forking(tmp_path):
    """Issue 15 item 2: a retry within the leeway keeps the session but leaves ONE live refresh
    token; the successor it replaced is dead, and presenting it after the leeway is reuse."""
    srv = Server(tmp_path / "d", env={"HALOBUZZ_REFRESH_REUSE_LEEWAY": "1"}).start()
    try:
        with srv.client() as client:
            reg = register(client)
            first = client.post("/api/v1/auth/refresh", json={"refreshToken": reg["refreshToken"]}).json()
            retry = client.post("/api/v1/auth/refresh", json={"refreshToken": reg["refreshToken"]}).json()
            assert first["refreshToken"] != retry["refreshToken"]
            assert _live_refresh_tokens(srv.data_dir, reg["refreshToken"]) == 1
            time.sleep(1.2)
            # the replaced successor (e.g. a copy an attacker caught) is reuse: the session ends
            stolen = client.post("/api/v1/auth/refresh", json={"refreshToken": first["refreshToken"]})
            assert stolen.status_code == 401 and stolen.json()["error"]["code"] == "refresh_token_reused"
            assert client.post("/api/v1/auth/refresh", json={"refreshToken": retry["refreshToken"]}).status_code == 401
    finally:
        srv.stop()
