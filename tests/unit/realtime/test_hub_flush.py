"""Hub fan-out without sockets: coalesced writes, frames that commit during a chunked sweep
of a big room (members not reached yet get them in the same sweep and the same write; members
already passed on the next sweep), joiners mid-sweep, and the counters /metrics reads."""

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

    def fail_connection(self, code: int) -> None:
        pass


def frames(conn) -> list[bytes]:
    data, out, i = bytes(conn.transport.data), [], 0
    while i < len(data):
        n = data[i + 1]
        assert n < 126
        out.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return out


def test_messages_committed_during_a_sweep_reach_the_rest_of_it_once_in_order(monkeypatch):
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
            if calls == 1:  # first yield inside the walk: a message commits
                room.publish(p.text_frame(b"m2"), p.CHAT)
            if calls == 2:  # second yield: someone joins, another message commits
                j = hub.attach(FakeWS(), "late", "late", "s", "1.1.1.1")
                hub.join(j, "R")
                late.append(j)
                room.publish(p.text_frame(b"m3"), p.CHAT)
            await real_sleep(0)

        monkeypatch.setattr(hub_mod.asyncio, "sleep", sleep)
        room.publish(p.text_frame(b"m1"), p.CHAT)
        await hub.flush()
        monkeypatch.setattr(hub_mod.asyncio, "sleep", real_sleep)
        await hub.flush()  # anything left over
        for c in conns:
            assert frames(c) == [b"m1", b"m2", b"m3"], frames(c)
            assert c.seen == 3
        assert frames(late[0]) == [b"m3"]  # joined after m2 was published
        # one write per member per sweep: sweep 1 gives 0-2 [m1], 3-5 [m1 m2], 6-9 [m1 m2 m3];
        # sweep 2 gives 0-2 [m2 m3], 3-5 [m3], late [m3]; 6-9 are skipped (already up to date)
        assert bytes(conns[4].transport.data) == p.text_frame(b"m1") + p.text_frame(b"m2") + p.text_frame(b"m3")
        snap = hub.metrics_snapshot()
        assert snap["connections"] == 11 and snap["rooms"] == 1
        assert snap["deliveries"] == (3 + 6 + 12) + (6 + 3 + 1) and snap["writes"] == 10 + 7
        room = hub.rooms["R"]
        assert room.frames == [] and room.base == 3  # the log is trimmed once everyone had it

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


class SlowTransport(FakeTransport):
    aborted = False

    def get_write_buffer_size(self) -> int:
        return 10**9  # never drains: everything goes to the backlog

    def abort(self) -> None:
        self.aborted = True


def test_slow_member_backlog_keeps_publish_order_sheds_chat_and_keeps_money_events():
    async def go():
        hub = Hub(tick=0.0, queue_limit=1000)
        fast = hub.attach(FakeWS(), "f", "f", "s", "ip")
        slow = hub.attach(FakeWS(), "s", "s", "s", "ip")
        slow.transport = SlowTransport()
        for c in (fast, slow):
            hub.join(c, "R")
        room = hub.rooms["R"]
        room.publish(p.text_frame(b"c1"), p.CHAT)
        room.publish(p.text_frame(b"g1"), p.ESSENTIAL)
        room.publish(p.text_frame(b"c2"), p.CHAT)
        room.publish(p.text_frame(b"c3"), p.CHAT)
        await hub.flush()
        assert frames(fast) == [b"c1", b"g1", b"c2", b"c3"]  # publish order, one write
        assert [lane for lane, _ in slow.backlog] == [p.CHAT, p.ESSENTIAL, p.CHAT]  # runs of one lane
        assert b"".join(d for _, d in slow.backlog) == b"".join(p.text_frame(x) for x in (b"c1", b"g1", b"c2", b"c3"))
        for _ in range(40):  # overflow: chat is shed, the gift stays
            room.publish(p.text_frame(b"c" * 60), p.CHAT)
        await hub.flush()
        assert not slow.closed and any(d == p.text_frame(b"g1") for _, d in slow.backlog)
        assert slow.backlog_bytes <= 1000 and hub.shed_total > 0
        for _ in range(20):  # money events that cannot fit: 4002, never dropped silently
            room.publish(p.text_frame(b"g" * 100), p.ESSENTIAL)
        await hub.flush()
        assert slow.closed and hub.slow_disconnects == 1
        assert slow.transport.data.startswith(b"\x88")  # our 4002 close frame went out
        assert hub.metrics_snapshot()["disconnects"] == {p.CLOSE_SLOW: 1}
        assert len(frames(fast)) == 4 + 40 + 20

    asyncio.run(go())
