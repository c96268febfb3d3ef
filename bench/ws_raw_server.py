"""The raw baseline for fan-out: websockets.serve + websockets.broadcast (no framework, no app logic).

    python -m bench.ws_raw_server PORT N M RATE
Waits for N clients, then broadcasts M envelope-sized frames stamped with CLOCK_MONOTONIC ns
(RATE = 0: as fast as possible, yielding between broadcasts; else RATE per second), then "END".
"""

import asyncio
import sys
import time

import websockets
from websockets.asyncio.server import serve

CLIENTS: set = set()
PAD = "x" * 120


async def handler(ws):
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def main(port: int, n: int, m: int, rate: float) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None):
        print("READY", flush=True)
        while len(CLIENTS) < n:
            await asyncio.sleep(0.05)
        await asyncio.sleep(float(sys.argv[5]) if len(sys.argv) > 5 else 0.5)
        start = time.perf_counter()
        for i in range(m):
            msg = (
                '{"event":"chat:new","data":{"id":"%d","streamId":"S","user":{"id":"U","username":"u"},'
                '"text":"T%d %s"},"id":"x%d","ts":"2026-01-01T00:00:00.000Z"}' % (i, time.monotonic_ns(), PAD, i)
            )
            websockets.broadcast(CLIENTS, msg)
            if rate:
                await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
            else:
                await asyncio.sleep(0)
        websockets.broadcast(CLIENTS, "END")
        await asyncio.sleep(30)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
