"""Issue 15 item 1: revocation reaches open websockets (real server, real clients).

A ban through the admin API, `halobuzz user ban` in another process, a suspension, a logout
and an access token that expires all close the affected sockets (4003 with a reason, or 4007
for an expired token) within a second; sockets of other sessions stay open.
"""

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import WS, live_stream, ready


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("revoke") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin(server):
    with server.client() as c:
        boss = register(c, email=ADMIN_EMAIL, username="revokeadmin")
    assert cli(server.data_dir, "user", "set-role", "revokeadmin", "admin").returncode == 0
    return boss


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def closed_with(ws: WS, within: float = 1.5) -> tuple[int, str]:
    """Wait for the server to close the socket; returns (code, reason)."""
    t0 = time.monotonic()
    try:
        while True:
            await ws.next(within)
    except ConnectionClosed as exc:
        assert time.monotonic() - t0 < within
        rcvd = exc.rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (1006, "")


def login(client, user) -> dict:
    r = client.post("/api/v1/auth/login", json={"email": user["user"]["email"], "password": user["password"]})
    assert r.status_code == 200, r.text
    return r.json()


def test_admin_ban_closes_every_socket_of_the_user(server, client, admin):
    host, troll = register(client), register(client)
    stream = live_stream(client, host)

    async def go():
        a, b = await ready(server, troll["accessToken"]), await ready(server, troll["accessToken"])
        watcher = await ready(server, host["accessToken"])
        await a.join(stream["id"])
        await watcher.join(stream["id"])
        r = await asyncio.to_thread(
            client.post,
            f"/api/v1/admin/users/{troll['user']['id']}/ban",
            json={"reason": "spam"},
            headers=admin["auth"],
        )
        assert r.status_code == 200, r.text
        for ws in (a, b):
            code, reason = await closed_with(ws)
            assert code == 4003 and "banned" in reason
        # the host's socket is untouched
        cid = await watcher.send("ping")
        await watcher.expect("pong", where=lambda d: d["replyTo"] == cid)
        # and a new socket is refused at auth
        with pytest.raises(ConnectionClosed):
            again = await WS.open(server, troll["accessToken"])
            await again.next(2)
        await watcher.close()

    run(go())


def test_cli_ban_from_another_process_closes_sockets(server, client):
    victim = register(client)

    async def go():
        ws = await ready(server, victim["accessToken"])
        out = await asyncio.to_thread(
            cli, server.data_dir, "user", "ban", victim["user"]["username"], "--reason", "spam"
        )
        assert out.returncode == 0, out.stderr
        code, reason = await closed_with(ws)
        assert code == 4003 and "banned" in reason

    run(go())


def test_suspension_closes_sockets_with_its_reason(server, client, admin):
    victim = register(client)

    async def go():
        ws = await ready(server, victim["accessToken"])
        r = await asyncio.to_thread(
            client.post,
            f"/api/v1/admin/users/{victim['user']['id']}/ban",
            json={"reason": "cool off", "days": 2},
            headers=admin["auth"],
        )
        assert r.status_code == 200, r.text
        code, reason = await closed_with(ws)
        assert code == 4003 and "suspended" in reason

    run(go())


def test_moderation_suspension_closes_sockets(server, client):
    reporter, victim = register(client), register(client)
    mod = register(client)
    assert cli(server.data_dir, "user", "set-role", mod["user"]["username"], "moderator").returncode == 0
    fid = client.post(
        "/api/v1/reports",
        json={"type": "user", "targetId": victim["user"]["id"], "reason": "abuse"},
        headers=reporter["auth"],
    ).json()["id"]

    async def go():
        ws = await ready(server, victim["accessToken"])
        r = await asyncio.to_thread(
            client.post,
            f"/api/v1/moderation/flags/{fid}/review",
            json={"decision": "confirm", "action": "ban", "banSeconds": 3600},
            headers=mod["auth"],
        )
        assert r.status_code == 200, r.text
        code, reason = await closed_with(ws)
        assert code == 4003 and "suspended" in reason

    run(go())


def test_logout_closes_only_that_sessions_sockets(server, client):
    user = register(client)
    other = login(client, user)  # a second session (another device)

    async def go():
        mine = await ready(server, user["accessToken"])
        theirs = await ready(server, other["accessToken"])
        r = await asyncio.to_thread(client.post, "/api/v1/auth/logout", headers=user["auth"])
        assert r.status_code == 200
        code, reason = await closed_with(mine)
        assert code == 4003 and "logout" in reason
        cid = await theirs.send("ping")
        await theirs.expect("pong", where=lambda d: d["replyTo"] == cid)
        await theirs.close()

    run(go())


def test_socket_does_not_outlive_its_access_token(tmp_path):
    srv = Server(tmp_path / "data", env={"HALOBUZZ_ACCESS_TOKEN_TTL": "2"}).start()
    try:
        with srv.client() as client:
            user = register(client)

            async def go():
                stale = await WS.open(srv, user["accessToken"])
                hello = (await stale.expect("ready"))["data"]
                assert hello["expiresAt"]
                renewed = await ready(srv, user["accessToken"])
                # re-auth with a fresh token before expiry keeps `renewed` open
                await asyncio.sleep(1.0)
                fresh = (
                    await asyncio.to_thread(
                        client.post, "/api/v1/auth/refresh", json={"refreshToken": user["refreshToken"]}
                    )
                ).json()
                cid = await renewed.send("auth", {"token": fresh["accessToken"]})
                again = await renewed.expect("ready", where=lambda d: d["replyTo"] == cid)
                assert again["data"]["expiresAt"] > hello["expiresAt"]
                code, reason = await closed_with(stale, within=3.0)
                assert code == 4007 and "expired" in reason
                cid = await renewed.send("ping")
                await renewed.expect("pong", where=lambda d: d["replyTo"] == cid)
                # another account's token is refused and changes nothing
                other = await asyncio.to_thread(register, client)
                cid = await renewed.send("auth", {"token": other["accessToken"]})
                err = await renewed.expect("error", where=lambda d: d["replyTo"] == cid)
                assert err["data"]["code"] == "wrong_account"
                await renewed.close()

            run(go())
    finally:
        srv.stop()
