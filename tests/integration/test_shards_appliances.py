"""Two real appliances (`halobuzz serve`, shards np and in) and a real nats-server on loopback:
the signed map (built with the CLI), tokens verified across shards, 307s to the home shard,
a viewer homed on np chatting in a room on in, a cross-shard gift, reconcile, global trending,
and a forged or unsigned map refused at start."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import Server, cli, register
from tests.integration.rooms_client import live_stream, ready
from tests.support.natsd import NatsServer


def _run(*args, cwd):
    r = subprocess.run([sys.executable, "-m", "halobuzz", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    nats = NatsServer(tmp / "nats").start()
    servers = {}
    for name in ("np", "in"):
        servers[name] = Server(
            tmp / name,
            env={
                "HALOBUZZ_SHARD_ID": name,
                "HALOBUZZ_NATS_URL": nats.url,
                "HALOBUZZ_SHARD_MAP": str(tmp / "shards.json"),
                "HALOBUZZ_SHARD_GIFT_TIMEOUT": "20",
                "HALOBUZZ_SHARD_EDGES": "1",
                "HALOBUZZ_SHARD_TRENDING_INTERVAL": "0.5",
            },
        )
    out = _run("shards", "init", "--map", "shards.json", "--operator-key", "operator.pem", cwd=tmp)
    operator = out.strip().rsplit(" ", 1)[-1]
    for name, country in (("np", "NP"), ("in", "IN")):
        key = _run("shards", "pubkey", "--data-dir", str(tmp / name), cwd=tmp).strip()
        _run(
            "shards",
            "add",
            name,
            "--countries",
            country,
            "--url",
            servers[name].url,
            "--public-key",
            key,
            "--map",
            "shards.json",
            cwd=tmp,
        )
    _run("shards", "sign", "--map", "shards.json", "--operator-key", "operator.pem", cwd=tmp)
    _run("shards", "verify", "--map", "shards.json", "--operator", operator, cwd=tmp)
    for srv in servers.values():
        srv.env["HALOBUZZ_SHARD_OPERATOR_KEY"] = operator
        srv.start()
    # an edge process holding viewer sockets for shard in's rooms (no database of its own)
    servers["edge"] = Server(tmp / "edge-in", env={**servers["in"].env}, args=("--edge", "--shard", "in")).start()
    yield tmp, servers, operator
    for srv in servers.values():
        srv.stop()
    nats.stop()


def test_register_sends_people_to_their_countrys_shard(cluster):
    _, s, _ = cluster
    with s["np"].client() as c:
        r = c.post(
            "/api/v1/auth/register",
            json={
                "email": "x@in.io",
                "password": "correct horse battery",
                "username": "indian1",
                "country": "IN",
                "birthDate": "1990-01-01",
            },
        )
        assert r.status_code == 307
        assert r.headers["location"] == s["in"].url + "/api/v1/auth/register"
        assert r.json()["error"]["shard"] == "in"
        r = c.post(
            "/api/v1/auth/register",
            json={
                "email": "x@us.io",
                "password": "correct horse battery",
                "username": "usa1",
                "country": "US",
                "birthDate": "1990-01-01",
            },
        )
        assert r.status_code == 422 and "country" in r.json()["error"]["fields"]
        assert register(c, "nepali1", country="NP")["user"]["country"] == "NP"
        shard_map = c.get("/api/v1/shards").json()
        assert shard_map["shard"] == "np" and {x["name"] for x in shard_map["map"]["shards"]} == {"np", "in"}


def test_peer_tokens_verify_and_account_routes_go_home(cluster):
    _, s, _ = cluster
    with s["np"].client() as c:
        viewer = register(c, "tokenhome", country="NP")
    with s["in"].client() as c:
        r = c.get("/api/v1/wallet", headers=viewer["auth"])
        assert r.status_code == 307 and r.headers["location"] == s["np"].url + "/api/v1/wallet"
        r = c.post(
            "/api/v1/streams/S1/gifts",
            json={"giftId": "rose"},
            headers={**viewer["auth"], "Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_shard"
        # a token signed by an unknown key is refused as usual
        bad = viewer["accessToken"][:-4] + ("AAAA" if not viewer["accessToken"].endswith("AAAA") else "BBBB")
        assert c.get("/api/v1/wallet", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_viewer_from_np_chats_and_gifts_in_a_room_on_in(cluster):
    tmp, s, _ = cluster
    with s["np"].client() as c:
        viewer = register(c, "traveller", country="NP")
    with s["in"].client() as c:
        host = register(c, "mumbaihost", country="IN")
        sid = live_stream(c, host, "namaste")["id"]
    assert (
        cli(s["np"].data_dir, "coins", "grant", "--user", "traveller", "--amount", "500", "--reason", "test").returncode
        == 0
    )

    async def go():
        h = await ready(s["in"], host["accessToken"])
        v = await ready(s["in"], viewer["accessToken"])  # np's token, on in's websocket
        await h.join(sid)
        await v.join(sid)
        await v.send("chat:new", {"streamId": sid, "text": "hello from Kathmandu"})
        got = await h.expect("chat:new")
        assert got["data"]["text"] == "hello from Kathmandu"
        assert got["data"]["user"]["username"] == "traveller@np"
        async with httpx.AsyncClient(base_url=s["np"].url, timeout=10) as c:
            r = await c.post(
                "/api/v1/shards/gifts",
                json={"shard": "in", "streamId": sid, "giftId": "heart", "quantity": 2},
                headers={**viewer["auth"], "Idempotency-Key": "gift-traveller-1"},
            )
            assert r.status_code == 202, r.text
            transfer = r.json()
            gift = await h.expect("gift:sent", timeout=10)
            assert gift["data"]["senderName"] == "traveller@np" and gift["data"]["coins"] == transfer["coins"]
            for _ in range(100):
                st = (await c.get(f"/api/v1/shards/gifts/{transfer['transferId']}", headers=viewer["auth"])).json()
                if st["status"] == "credited":
                    break
                await asyncio.sleep(0.1)
            assert st["status"] == "credited"
            wallet = (await c.get("/api/v1/wallet", headers=viewer["auth"])).json()
            assert wallet["balance"] == 500 - transfer["coins"]
        await v.close()
        await h.close()

    asyncio.run(asyncio.wait_for(go(), 60))
    with s["in"].client() as c:
        board = c.get(f"/api/v1/streams/{sid}/leaderboard").json()["items"]
        assert board[0]["username"] == "traveller@np"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # in's stream shows up in np's global trending
            items = httpx.get(s["np"].url + "/api/v1/shards/trending").json()["items"]
            if any(i["id"] == sid and i["shard"] == "in" for i in items):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"stream {sid} not in np's global trending: {items}")
    for name in ("np", "in"):
        r = cli(s[name].data_dir, "shards", "reconcile", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        report = json.loads(r.stdout)
        assert report["ok"] and report["inFlight"] == []
    np_report = json.loads(cli(s["np"].data_dir, "shards", "reconcile", "--json").stdout)
    in_report = json.loads(cli(s["in"].data_dir, "shards", "reconcile", "--json").stdout)
    assert np_report["peers"]["in"]["exported"] == in_report["peers"]["np"]["imported"] > 0
    assert np_report["peers"]["in"]["transit"] == 0
    for name in ("np", "in"):
        assert cli(s[name].data_dir, "ledger", "verify").returncode == 0


@pytest.mark.parametrize("damage", ["forged", "unsigned"])
def test_a_shard_refuses_to_start_with_a_bad_map(cluster, tmp_path, damage):
    tmp, s, operator = cluster
    doc = json.loads((tmp / "shards.json").read_text())
    if damage == "forged":
        doc["shards"][0]["countries"].append("US")
    else:
        del doc["signature"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    srv = Server(tmp_path / "np-copy", env={**s["np"].env, "HALOBUZZ_SHARD_MAP": str(bad)})
    with pytest.raises(RuntimeError, match="signature does not verify" if damage == "forged" else "not signed"):
        srv.start(timeout=30)
    srv.stop()


def test_an_edge_holds_viewers_of_a_room_whose_writes_stay_on_the_origin(cluster):
    _, s, _ = cluster
    with s["in"].client() as c:
        host = register(c, "edgehost", country="IN")
        local = register(c, "edgelocal", country="IN")
        sid = live_stream(c, host, "edge room")["id"]
    with s["np"].client() as c:
        visitor = register(c, "edgevisitor", country="NP")
    assert (
        cli(s["in"].data_dir, "coins", "grant", "--user", "edgelocal", "--amount", "50", "--reason", "test").returncode
        == 0
    )

    async def go():
        h = await ready(s["in"], host["accessToken"])  # on the origin
        e1 = await ready(s["edge"], local["accessToken"])  # in's own user, on the edge
        e2 = await ready(s["edge"], visitor["accessToken"])  # np's user, on the edge
        await h.join(sid)
        state = await e1.join(sid)
        assert state["stream"]["id"] == sid and state["you"]["username"] == "edgelocal"
        joined = await h.expect("stream:join", where=lambda d: d["user"]["id"] == local["user"]["id"])
        assert joined["data"]["viewers"] == 1  # the audience: the host is not counted
        await e2.join(sid)
        # origin -> edge
        await h.send("chat:new", {"streamId": sid, "text": "from the origin"})
        for ws in (e1, e2):
            assert (await ws.expect("chat:new", timeout=5))["data"]["text"] == "from the origin"
        # edge -> origin (the write happens on the origin) -> every socket, edge and origin
        await e2.send("chat:new", {"streamId": sid, "text": "from the edge"})
        got = await h.expect("chat:new", timeout=5, where=lambda d: d["text"] == "from the edge")
        assert got["data"]["user"]["username"] == "edgevisitor@np"
        await e1.expect("chat:new", timeout=5, where=lambda d: d["text"] == "from the edge")
        # a gift (a money event: lane 0, never shed) made on the origin reaches edge sockets
        async with httpx.AsyncClient(base_url=s["in"].url, timeout=10) as c:
            r = await c.post(
                f"/api/v1/streams/{sid}/gifts",
                json={"giftId": "rose", "quantity": 1},
                headers={**local["auth"], "Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code == 201, r.text
        for ws in (e1, e2):
            gift = await ws.expect("gift:sent", timeout=5)
            assert gift["data"]["senderName"] == "edgelocal"
        # leaving on the edge is presence on the origin
        await e1.close()
        left = await h.expect("stream:leave", timeout=5, where=lambda d: d["userId"] == local["user"]["id"])
        assert left["data"]["viewers"] == 1  # the visitor on the edge is still there
        await e2.close()
        await h.close()

    asyncio.run(asyncio.wait_for(go(), 60))
    with s["in"].client() as c:
        texts = [m["text"] for m in c.get(f"/api/v1/streams/{sid}/messages").json()["items"]]
        assert texts == ["from the origin", "from the edge"]
