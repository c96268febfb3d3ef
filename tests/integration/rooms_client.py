"""A small websocket test client for /ws (real `websockets` client against the real server)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, Callable

from websockets.asyncio.client import connect

_ids = itertools.count(1)


class WS:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.log: list[dict] = []

    @classmethod
    async def open(cls, server, token: str | None, **kw) -> "WS":
        url = f"ws://127.0.0.1:{server.port}/ws" + (f"?token={token}" if token else "")
        ws = await connect(url, open_timeout=5, **kw)
        return cls(ws)

    async def send(self, event: str, data: Any = None) -> str:
        cid = f"c{next(_ids)}"
        await self.ws.send(json.dumps({"event": event, "data": data, "id": cid, "ts": None}))
        return cid

    async def next(self, timeout: float = 3.0) -> dict:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        msg = json.loads(raw)
        self.log.append(msg)
        return msg

    async def expect(self, event: str, timeout: float = 3.0, where: Callable[[dict], bool] | None = None) -> dict:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {event!r} within {timeout}s; saw {[m['event'] for m in self.log[-20:]]}")
            msg = await self.next(left)
            if msg["event"] == event and (where is None or where(msg["data"])):
                return msg

    async def silent(self, event: str, seconds: float = 0.5) -> None:
        """Assert no `event` arrives within `seconds`."""
        try:
            msg = await self.expect(event, seconds)
        except (AssertionError, asyncio.TimeoutError):
            return
        raise AssertionError(f"unexpected {event}: {msg}")

    async def join(self, stream_id: str) -> dict:
        cid = await self.send("stream:join", {"streamId": stream_id})
        return (await self.expect("stream:state", where=lambda d: d.get("replyTo") == cid))["data"]

    async def close(self) -> None:
        await self.ws.close()


async def ready(server, token: str) -> WS:
    ws = await WS.open(server, token)
    await ws.expect("ready")
    return ws


def live_stream(client, host: dict, title: str = "hello world", **fields) -> dict:
    r = client.post("/api/v1/streams", json={"title": title, **fields}, headers=host["auth"])
    assert r.status_code == 201, r.text
    s = client.post(f"/api/v1/streams/{r.json()['id']}/start", headers=host["auth"])
    assert s.status_code == 200, s.text
    return s.json()
