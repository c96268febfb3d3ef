"""The Moderation service on a real database and the real text model (no server)."""

import asyncio
from datetime import timedelta

import pytest

from halobuzz.cli.moderation import parse_span
from halobuzz.db import Database
from halobuzz.events import Bus
from halobuzz.infra.clock import FrozenClock
from halobuzz.infra.ids import IdFactory, SystemRandom
from halobuzz.moderation.media import MediaStore
from halobuzz.moderation.policy import Thresholds
from halobuzz.moderation.service import Moderation, ModerationConfig
from halobuzz.moderation.text import COMBINED_MODEL_ID, TextScorer

from .conftest import T0


def test_media_store_is_content_addressed(tmp_path):
    store = MediaStore(tmp_path / "media")
    a = store.put(b"one")
    assert store.put(b"one") == a and store.read(a) == b"one" and store.path(a).parent.name == a[:2]
    assert store.read("0" * 64) is None and store.read("../etc/passwd") is None
    with pytest.raises(ValueError):
        store.path("../../x")
    assert not list((tmp_path / "media").glob("*/.tmp-*"))


def test_parse_span():
    assert parse_span("1d") == timedelta(days=1) and parse_span("90m") == timedelta(minutes=90)
    import click

    with pytest.raises(click.BadParameter):
        parse_span("soon")


def test_chat_moderator_decides_stores_and_bans(tmp_path):
    async def go():
        clock = FrozenClock(T0)
        bus, events = Bus(), []
        bus.subscribe(None, events.append)
        db = Database(tmp_path / "svc.db", synchronous="OFF", publish=bus.publish_all)
        await db.open()
        from halobuzz.accounts import users

        await db.write(
            lambda c: users.insert_user(
                c, "U1", users.NewUser("u1@x.io", "u1", "pw", "NP", "1990-01-01"), "h", clock.now()
            )
        )
        svc = Moderation(
            db,
            clock,
            IdFactory(clock, SystemRandom()),
            config=ModerationConfig(text=Thresholds(0.6, 0.9), ban_ladder=(60, 120)),
            text_scorer=TextScorer(),
            nsfw_scorer=None,
            age_estimator=None,
            media=MediaStore(tmp_path / "media"),
        )
        assert svc.check("U1", "hello there").action == "allow"
        assert svc.check("U1", "you stink").action == "warn"
        assert svc.check("U1", "\x00\x01\xff binary").action == "allow"
        v = svc.check("U1", "you are a fucking idiot")
        assert v.action == "block" and v.model_id == COMBINED_MODEL_ID
        svc.on_blocked("U1", "S1", v)
        # enforced at once (before the write lands) and after it
        assert svc.check("U1", "friendly").model_id == "chat-ban"
        for _ in range(100):
            if events:
                break
            await asyncio.sleep(0.01)
        assert events and events[0].name == "ai:warning" and events[0].users == ("U1",)
        assert events[0].data["seconds"] == 60
        assert svc.check("U1", "friendly").model_id == "chat-ban"
        clock.advance(seconds=61)
        assert svc.check("U1", "friendly").action == "allow"
        svc.flush()  # chat decisions are buffered (one write unit per ~50 ms)
        await db.write(lambda c: None)  # the writer is FIFO: every queued decision has committed
        rows = db.inline.all("SELECT action, source, model_id, threshold FROM moderation_decisions ORDER BY id")
        assert sorted(r["action"] for r in rows) == ["allow", "allow", "allow", "block", "warn"]
        block = next(r for r in db.inline.all("SELECT * FROM moderation_decisions WHERE action = 'block'"))
        assert block["threshold"] == 0.9 and block["warn_at"] == 0.6
        flag = db.inline.all("SELECT type, action, status, decision_id FROM moderation_flags")
        assert [tuple(f) for f in flag] == [("message", "ban", "pending", block["id"])]
        svc.close()
        await db.close()

    asyncio.run(asyncio.wait_for(go(), 30))
