"""Client mistakes get a clear 4xx JSON error naming the field, and change nothing."""

import time
import uuid

import jwt
import pytest

from tests.conftest import Server, register

GOOD = {
    "email": "x{}@example.com",
    "password": "long enough pw",
    "username": "bad_input_{}",
    "country": "NP",
    "birthDate": "2000-01-01",
}


def body(i, **changes):
    b = {k: (v.format(i) if isinstance(v, str) and "{}" in v else v) for k, v in GOOD.items()}
    b.update(changes)
    return b


@pytest.mark.parametrize(
    "payload,field,status",
    [
        (lambda i: body(i, email=123), "email", 422),
        (lambda i: body(i, email="not-an-email"), "email", 422),
        (lambda i: body(i, country="ZZ"), "country", 422),
        (lambda i: body(i, birthDate="2000-13-45"), "birthDate", 422),
        (lambda i: body(i, birthDate="2020-01-01"), "birthDate", 422),
        (lambda i: body(i, username="a" * 500), "username", 422),
        (lambda i: body(i, username="bad\u0000name"), "username", 422),
        (lambda i: body(i, password="short"), "password", 422),
        (lambda i: body(i, username="01M88VYN7JW7VHQG1G1697PR3M"), "username", 422),  # would shadow an id
        (lambda i: {**body(i), "isAdmin": True}, "isAdmin", 422),
        (lambda i: {k: v for k, v in body(i).items() if k != "email"}, "email", 422),
    ],
)
def test_register_rejects_and_names_field(client, payload, field, status):
    i = time.monotonic_ns()
    r = client.post("/api/v1/auth/register", json=payload(i))
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert field in err["fields"], err
    assert r.json()["requestId"] == r.headers["x-request-id"]
    # nothing was created: the good version of the same body still registers
    ok = client.post("/api/v1/auth/register", json=body(i))
    assert ok.status_code == 201, ok.text


def test_malformed_json_and_empty_body(client):
    for raw in (b"{not json", b"", b"[1,2]", b"null"):
        r = client.post("/api/v1/auth/login", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, (raw, r.text)
        assert r.headers["content-type"].startswith("application/json")


def test_oversized_body_is_413(client):
    r = client.post("/api/v1/auth/login", content=b'{"email":"' + b"a" * 200_000 + b'"}')
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_missing_forged_and_expired_tokens(client, server):
    assert client.get("/api/v1/me").json()["error"]["code"] == "missing_token"
    reg = register(client)
    token = reg["accessToken"]
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[::-1]}"
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    hs = jwt.encode(
        {"sub": reg["user"]["id"], "sid": "x", "exp": 9999999999, "iat": 1, "aud": "halobuzz"},
        "s" * 40,
        algorithm="HS256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {hs}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer garbage"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_expired_access_token(tmp_path):
    srv = Server(tmp_path / "d", env={"HALOBUZZ_ACCESS_TOKEN_TTL": "1"}).start()
    try:
        with srv.client() as c:
            reg = register(c)
            assert c.get("/api/v1/me", headers=reg["auth"]).status_code == 200
            time.sleep(2.1)
            r = c.get("/api/v1/me", headers=reg["auth"])
            assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    finally:
        srv.stop()


def test_unknown_route_and_method_are_json(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/auth/login")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "POST"  # RFC 9110: a 405 names the methods the resource has
    r = client.delete("/api/v1/streams")
    assert r.status_code == 405 and set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_rate_limit_429_with_retry_after(tmp_path):
    srv = Server(
        tmp_path / "d", env={"HALOBUZZ_RATE_LIMIT_AUTH": "3/1m", "HALOBUZZ_RATE_LIMIT_DEFAULT": "5/1m"}
    ).start()
    try:
        with srv.client() as c:
            codes = [
                c.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "x" * 8}).status_code
                for _ in range(4)
            ]
            assert codes == [401, 401, 401, 429]
            r = c.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "x" * 8})
            assert r.json()["error"]["code"] == "rate_limited" and 1 <= int(r.headers["retry-after"]) <= 20
            # health is never limited
            assert all(c.get("/healthz").status_code == 200 for _ in range(10))
            # a forwarded header from an untrusted peer does not buy a fresh bucket
            r = c.post(
                "/api/v1/auth/login",
                json={"email": "a@b.co", "password": "x" * 8},
                headers={"X-Forwarded-For": "9.9.9.9"},
            )
            assert r.status_code == 429
    finally:
        srv.stop()


def test_security_headers_cors_and_request_id(tmp_path):
    srv = Server(tmp_path / "d", env={"HALOBUZZ_CORS_ORIGINS": "https://app.example.com"}).start()
    try:
        with srv.client() as c:
            r = c.get("/healthz", headers={"Origin": "https://evil.example", "X-Request-Id": "abc-123"})
            assert "access-control-allow-origin" not in r.headers
            assert r.headers["x-request-id"] == "abc-123"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["x-content-type-options"] == "nosniff"
            ok = c.options(
                "/api/v1/me", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}
            )
            assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
            assert "Authorization" in ok.headers["access-control-allow-headers"]
    finally:
        srv.stop()


def test_user_text_is_stored_as_given_and_only_ever_served_as_json(client):
    host = register(client)
    title = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    r = client.post("/api/v1/streams", json={"title": title}, headers=host["auth"])
    assert r.status_code == 201
    got = client.get(f"/api/v1/streams/{r.json()['id']}")
    assert got.json()["title"] == title, "stored as given (escaping is the renderer's job)"
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in got.headers["content-security-policy"]


def test_signed_in_users_are_limited_per_account_not_per_ip(tmp_path):
    srv = Server(
        tmp_path / "d", env={"HALOBUZZ_RATE_LIMIT_DEFAULT": "6/1m", "HALOBUZZ_RATE_LIMIT_USER": "6/1m"}
    ).start()
    try:
        with srv.client() as c:
            a, b = register(c), register(c)  # anonymous: 2 of the IP's overall budget of 6
            # anonymous callers share the IP's budget: 4 left
            assert [c.get("/api/v1/gifts").status_code for _ in range(5)] == [200] * 4 + [429]
            # garbage tokens are not a way out of the IP bucket
            assert c.get("/api/v1/gifts", headers={"Authorization": "Bearer nope"}).status_code == 429
            # two accounts on the same IP each get their own bucket of 6
            for who in (a, b):
                codes = [c.get("/api/v1/me", headers=who["auth"]).status_code for _ in range(7)]
                assert codes == [200] * 6 + [429], codes
    finally:
        srv.stop()


def test_odd_bytes_and_huge_numbers_are_4xx_not_500(client):
    reg = register(client)
    r = client.post(
        "/api/v1/auth/login",
        content=b'{"email":"\xff\xfe","password":"x"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    for path in (
        "/api/v1/wallet/transactions?cursor=99999999999999999999",
        "/api/v1/wallet/transactions?cursor=9223372036854775808",
        "/api/v1/wallet/transactions?limit=-1",
    ):
        r = client.get(path, headers=reg["auth"])
        assert r.status_code == 422, (path, r.text)
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer \xff\xfe".encode("latin-1")})
    assert r.status_code == 401


def test_one_anonymous_budget_per_ip_across_groups_and_unknown_routes(tmp_path):
    """Issue 15 item 3: the seed's 100 / 15 min per IP is one budget, not one per route group;
    fresh unknown paths count against it, the console and health endpoints do not."""
    srv = Server(tmp_path / "d", env={"HALOBUZZ_RATE_LIMIT_DEFAULT": "100/15m"}).start()
    try:
        with srv.client() as c:
            codes = [c.get(f"/api/v1/x{uuid.uuid4().hex[:8]}").status_code for _ in range(90)]
            assert codes == [404] * 90
            codes += [
                c.get(path).status_code
                for path in ("/api/v1/gifts", "/api/v1/streams", "/api/v1/og/tiers", "/nowhere/" + uuid.uuid4().hex)
                for _ in range(5)
            ]
            assert codes.count(429) == 10 and codes[100:] == [429] * 10, codes[88:]
            r = c.get("/api/v1/gifts")
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            # the console, its assets and health stay reachable
            assert c.get("/").status_code == 200
            assert c.get("/assets/console/js/app.js").status_code == 200
            assert c.get("/healthz").status_code == 200
    finally:
        srv.stop()


def test_bodies_must_say_they_are_json(client):
    """Issue 15 item 5: a body without Content-Type: application/json is 415, not parsed."""
    body = b'{"email": "a@b.co", "password": "xxxxxxxx"}'
    for ctype in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"content-type": ctype} if ctype else {}
        r = client.post("/api/v1/auth/login", content=body, headers=headers)
        assert r.status_code == 415, (ctype, r.text)
        assert r.json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 401


def test_control_characters_in_titles_and_dms_are_refused(client):
    host, friend = register(client), register(client)
    r = client.post("/api/v1/streams", json={"title": "hello\x00world"}, headers=host["auth"])
    assert r.status_code == 422 and "title" in r.json()["error"]["fields"], r.text
    r = client.post("/api/v1/streams", json={"title": "hi", "category": "mu\x1bsic"}, headers=host["auth"])
    assert r.status_code == 422 and "category" in r.json()["error"]["fields"], r.text
    to = friend["user"]["username"]
    r = client.post("/api/v1/dms", json={"to": to, "text": "ring\x07ring"}, headers=host["auth"])
    assert r.status_code == 422 and "text" in r.json()["error"]["fields"], r.text
    r = client.post("/api/v1/dms", json={"to": to, "text": "two\nlines"}, headers=host["auth"])
    assert r.status_code in (200, 201), r.text


def test_short_body_is_408_and_idle_connections_close_at_request_timeout(tmp_path):
    import socket

    srv = Server(tmp_path / "d", env={"HALOBUZZ_REQUEST_TIMEOUT": "2"}).start()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            s.sendall(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"email":'
            )
            t0 = time.monotonic()
            reply = s.recv(4096)
            assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
            assert time.monotonic() - t0 < 8
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
            t0 = time.monotonic()
            assert s.recv(4096) == b""  # closed by the server, not held for 120 s
            assert time.monotonic() - t0 < 8
    finally:
        srv.stop()
