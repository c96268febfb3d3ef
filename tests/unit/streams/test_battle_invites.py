"""Issue 15 item 9: a PK battle invitation expires at its TTL by the injected clock (both
streams are free again, both hosts told), and the inviter can cancel it."""

import asyncio
from datetime import datetime, timezone

import pytest

from halobuzz.accounts import users
from halobuzz.db import Database
from halobuzz.errors import Conflict, Forbidden
from halobuzz.events import Bus
from halobuzz.infra.clock import FrozenClock, iso
from halobuzz.infra.ids import IdFactory, SystemRandom
from halobuzz.streams.battles import BATTLE_END, Battles
from halobuzz.streams.live import LiveStreams

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class LiveOnly:
    def __init__(self) -> None:
        self.live = LiveStreams()


async def world(tmp_path):
    clock = FrozenClock(T0)
    bus = Bus()
    db = Database(tmp_path / "hb.db", synchronous="OFF", readers=1, publish=bus.publish_all)
    await db.open()
    streams = LiveOnly()

    def seed(conn):
        for n in ("a", "b", "c"):
            users.insert_user(
                conn,
                f"U{n}",
                users.NewUser(f"{n}@x.io", f"host_{n}", "pw", "NP", "1990-01-01"),
                "hash",
                clock.now(),
                "host",
            )
            conn.execute(
                "INSERT INTO streams(id, host_id, title, country, status, created_at) VALUES (?,?,?,?,?,?)",
                (f"S{n}", f"U{n}", "t", "NP", "live", iso(clock.now())),
            )

    await db.write(seed)
    for n in ("a", "b", "c"):
        streams.live.add(f"S{n}", f"U{n}", "NP", clock.timestamp(), clock.timestamp())
    ended = []
    bus.subscribe(BATTLE_END, ended.append)
    battles = Battles(db, clock, IdFactory(clock, SystemRandom()), bus, streams, min_seconds=30, invite_ttl=120)
    return db, clock, battles, ended


def status(db, bid):
    return db.inline.one("SELECT status FROM battles WHERE id = ?", (bid,))["status"]


def test_invitation_expires_at_its_ttl(tmp_path):
    async def go():
        db, clock, battles, ended = await world(tmp_path)
        try:
            inv = await battles.invite("Ua", "Sa", "Sb", 60)
            assert inv["expiresAt"] == "2026-03-01T12:02:00.000Z"
            clock.advance(seconds=119.9)
            assert await battles.expire_due() == []
            with pytest.raises(Conflict) as exc:
                await battles.invite("Ub", "Sb", "Sa", 60)
            assert exc.value.code == "already_in_battle"
            clock.advance(seconds=0.1)  # exactly the TTL
            assert await battles.expire_due() == [inv["id"]]
            assert status(db, inv["id"]) == "cancelled"
            assert [e.data["reason"] for e in ended] == ["expired"] and set(ended[0].users) == {"Ua", "Ub"}
            again = await battles.invite("Ub", "Sb", "Sa", 60)  # both streams are free again
            assert again["status"] == "invited"
            # an invitation past its TTL is expired by the next invite even before its timer fires
            clock.advance(seconds=121)
            third = await battles.invite("Uc", "Sc", "Sa", 60)
            assert third["status"] == "invited" and status(db, again["id"]) == "cancelled"
            # ... and cannot be accepted late
            clock.advance(seconds=120)
            with pytest.raises(Conflict) as exc:
                await battles.accept("Ua", third["id"])
            assert exc.value.code == "expired"
            await battles.stop()
        finally:
            await db.close()

    asyncio.run(go())


def test_inviter_cancels(tmp_path):
    async def go():
        db, clock, battles, ended = await world(tmp_path)
        try:
            inv = await battles.invite("Ua", "Sa", "Sb", 60)
            with pytest.raises(Forbidden):
                await battles.cancel("Ub", inv["id"])  # the invited host declines instead
            out = await battles.cancel("Ua", inv["id"])
            assert out["status"] == "cancelled" and status(db, inv["id"]) == "cancelled"
            assert ended[-1].data["reason"] == "cancelled" and set(ended[-1].users) == {"Ua", "Ub"}
            with pytest.raises(Exception):
                await battles.accept("Ub", inv["id"])
            assert (await battles.invite("Ub", "Sb", "Sa", 60))["status"] == "invited"
            await battles.stop()
        finally:
            await db.close()

    asyncio.run(go())
