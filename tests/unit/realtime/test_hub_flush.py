"""Hub fan-out without sockets: coalesced writes, frames that commit during a chunked walk
of a big room (next flush, coalesced), joiners mid-walk, and the counters /metrics reads."""
import asyncio

from halobuzz.realtime import hub as hub_mod
from halobuzz.realtime import protocol as p
from halobuzz.realtime.hub import Hub


class FakeTransport:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, b: bytes) -> None:
        self.data += b

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name):
        return None


class FakeWS:
    def __init__(self) -> None:
        self.io_proto = type("IO", (), {})()
        self.io_proto.transport = FakeTransport()


def frames(conn) -> list[bytes]:
    data, out, i = bytes(conn.transport.data), [], 0
    while i < len(data):
        n = data[i + 1]
        assert n < 126
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out


def test_messages_committed_during_a_walk_go_out_next_flush_once_in_order(monkeypatch):
    monkeypatch.setattr(hub_mod, "YIELD_EVERY", 3)

    async def go():
        hub = Hub(tick=0.0)
        conns = [hub.attach(FakeWS(), f"u{i}", f"u{i}", "s", "1.1.1.1") for i in range(10)]
        for c in conns:
            hub.join(c, "R")
        room = hub.rooms["R"]
        late = []
        real_sleep = asyncio.sleep
        calls = 0

        async def sleep(t):
            nonlocal calls
            calls += 1
            if calls == 1:            # first yield inside the walk: a message commits
                room.publish(p.text_frame(b"m2"), p.CHAT)
            if calls == 2:            # second yield: someone joins, another message commits
                j = hub.attach(FakeWS(), "late", "late", "s", "1.1.1.1")
                hub.join(j, "R")
                late.append(j)
                room.publish(p.text_frame(b"m3"), p.CHAT)
            await real_sleep(0)

        monkeypatch.setattr(hub_mod.asyncio, "sleep", sleep)
        room.publish(p.text_frame(b"m1"), p.CHAT)
        await hub.flush()
        monkeypatch.setattr(hub_mod.asyncio, "sleep", real_sleep)
        await hub.flush()   # anything left over
        for c in conns:
            assert frames(c) == [b"m1", b"m2", b"m3"], frames(c)
        assert frames(late[0]) == [b"m2", b"m3"]   # joined before m2 went out
        snap = hub.metrics_snapshot()
        assert snap["connections"] == 11 and snap["rooms"] == 1
        assert snap["deliveries"] == 10 + 11 * 2 and snap["writes"] == 10 + 11
    asyncio.run(go())


def test_member_who_left_gets_nothing_more_and_closes_are_counted():
    async def go():
        hub = Hub(tick=0.0)
        a = hub.attach(FakeWS(), "a", "a", "s", "ip")
        b = hub.attach(FakeWS(), "b", "b", "s", "ip")
        hub.join(a, "R")
        hub.join(b, "R")
        hub.to_room("R", "chat:new", {"text": "x"})
        hub.leave(b)
        await hub.flush()
        assert len(frames(a)) == 1 and frames(b) == []
        hub.count_disconnect(1000)
        hub.count_disconnect(p.CLOSE_SLOW)
        hub.count_disconnect(p.CLOSE_SLOW)
        assert hub.metrics_snapshot()["disconnects"] == {1000: 1, 4002: 2}
    asyncio.run(go())
