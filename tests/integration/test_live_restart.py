"""Issue 15 item 8: a restart in the middle of a live stream keeps its room state (peak and
unique viewers, chat count, likes, gift breakdown, trending activity, late-join buffer), so
the analytics stored when it ends are right."""

import asyncio
import uuid

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.rooms_client import live_stream, ready


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_restart_mid_stream_keeps_live_state(tmp_path):
    srv = Server(tmp_path / "data", env={"HALOBUZZ_METRICS_INTERVAL": "0.3"}).start()
    try:
        with srv.client() as c:
            boss = register(c, email=ADMIN_EMAIL, username="liveadmin")
            assert cli(srv.data_dir, "user", "set-role", "liveadmin", "admin").returncode == 0
            host, v1, v2, v3, late = (register(c) for _ in range(5))
            sid = live_stream(c, host)["id"]
            r = c.post(
                f"/api/v1/admin/users/{v1['user']['id']}/coins",
                json={"amount": 10_000, "reason": "t"},
                headers={**boss["auth"], "Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code == 200, r.text
            items = c.get("/api/v1/gifts").json()
            items = items["items"] if isinstance(items, dict) else items
            gift = min((g for g in items if not g["ogExclusive"]), key=lambda g: g["price"])

            async def before():
                h = await ready(srv, host["accessToken"])
                await h.join(sid)
                socks = [await ready(srv, v["accessToken"]) for v in (v1, v2, v3)]
                for s in socks:
                    await s.join(sid)
                for i, s in enumerate([h, *socks]):
                    await s.send("chat:new", {"streamId": sid, "text": f"msg {i}"})
                    await h.expect("chat:new", where=lambda d, i=i: d["text"] == f"msg {i}")
                await socks[0].send("stream:like", {"count": 5})
                for _ in range(2):
                    r = await asyncio.to_thread(
                        c.post,
                        f"/api/v1/streams/{sid}/gifts",
                        json={"giftId": gift["id"], "quantity": 1},
                        headers={**v1["auth"], "Idempotency-Key": uuid.uuid4().hex},
                    )
                    assert r.status_code in (200, 201), r.text
                m = await h.expect("metrics:update", where=lambda d: d["likes"] == 5 and d["chatCount"] == 4)
                assert m["data"]["viewers"] == m["data"]["peakViewers"] == m["data"]["uniqueViewers"] == 3
                for s in (h, *socks):
                    await s.close()

            run(before())
    finally:
        assert srv.stop() == 0  # graceful: the last checkpoint is written at stop

    srv = Server(tmp_path / "data", env={"HALOBUZZ_METRICS_INTERVAL": "0.3"}).start()
    try:
        with srv.client() as c:
            view = c.get(f"/api/v1/streams/{sid}").json()
            assert view["status"] == "live"
            assert view["analytics"]["gifts"][gift["id"]]["count"] == 2
            # trending keeps the gift activity: a stream with none scores at most the +3 fresh floor
            listed = c.get("/api/v1/streams").json()["items"]
            assert listed and listed[0]["id"] == sid and listed[0]["trendingScore"] > 3.5, listed

            async def after():
                h = await ready(srv, host["accessToken"])
                await h.join(sid)
                newcomer = await ready(srv, late["accessToken"])
                state = await newcomer.join(sid)
                assert [m["text"] for m in state["recentChat"]] == ["msg 0", "msg 1", "msg 2", "msg 3"]
                assert state["recentChat"][0]["user"]["role"] == "host"
                m = await h.expect("metrics:update", where=lambda d: d["viewers"] == 1)
                assert m["data"]["peakViewers"] == 3 and m["data"]["uniqueViewers"] == 4
                assert m["data"]["chatCount"] == 4 and m["data"]["likes"] == 5
                for s in (h, newcomer):
                    await s.close()

            run(after())
            ended = c.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
            assert ended.status_code == 200, ended.text
            a = ended.json()["analytics"]
            assert a["peakViewers"] == 3 and a["uniqueViewers"] == 4 and a["chatCount"] == 4 and a["likes"] == 5
            assert a["gifts"][gift["id"]]["count"] == 2 and a["gifts"][gift["id"]]["coins"] == 2 * gift["price"]
    finally:
        srv.stop()
