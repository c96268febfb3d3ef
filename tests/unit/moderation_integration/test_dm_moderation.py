"""Direct messages through the same moderation as room chat (issue 16): DirectMessages with the
real Moderation service injected, a real SQLite file, the real text models; no server."""

import asyncio

import pytest

from halobuzz.accounts import users
from halobuzz.db import Database
from halobuzz.dms.service import DirectMessages, MessageBlocked, Muted
from halobuzz.infra.clock import FrozenClock
from halobuzz.infra.ids import IdFactory, SystemRandom
from halobuzz.moderation import reports
from halobuzz.moderation.media import MediaStore
from halobuzz.moderation.policy import Thresholds
from halobuzz.moderation.service import Moderation, ModerationConfig
from halobuzz.moderation.text import COMBINED_MODEL_ID, TextScorer
from halobuzz.observability.metrics import Metrics

from .conftest import T0

_SCORER = None


def scorer():
    global _SCORER
    _SCORER = _SCORER or TextScorer()
    return _SCORER


async def _setup(tmp_path, metrics=None):
    clock = FrozenClock(T0)
    db = Database(tmp_path / "dm.db", synchronous="OFF")
    await db.open()
    for uid, name in (("UA", "alice"), ("UB", "bob")):
        await db.write(
            lambda c, uid=uid, name=name: users.insert_user(
                c, uid, users.NewUser(f"{name}@x.io", name, "pw", "NP", "1990-01-01"), "h", clock.now()
            )
        )
    ids = IdFactory(clock, SystemRandom())
    mod = Moderation(
        db,
        clock,
        ids,
        config=ModerationConfig(text=Thresholds(0.6, 0.9), ban_ladder=(60, 120)),
        text_scorer=scorer(),
        nsfw_scorer=None,
        age_estimator=None,
        media=MediaStore(tmp_path / "m"),
        metrics=metrics,
    )
    return clock, db, mod, DirectMessages(db, clock, ids, moderator=mod)


def test_dm_allow_warn_block_and_ban(tmp_path):
    async def go():
        metrics = Metrics()
        clock, db, mod, dms = await _setup(tmp_path, metrics)
        ok = await dms.send("UA", "bob", "hey, nice stream yesterday")
        assert "moderation" not in ok
        warned = await dms.send("UA", "bob", "you stink")
        assert warned["moderation"]["action"] == "warn" and warned["moderation"]["modelId"] == COMBINED_MODEL_ID
        # the example: delivered before, now blocked, flagged and the sender muted
        with pytest.raises(MessageBlocked) as blocked:
            await dms.send("UA", "bob", "you fucking idiot, randi ko chora")
        body = blocked.value.body()
        assert blocked.value.status == 422 and body["code"] == "message_blocked" and "text" in body["fields"]
        verdict = body["moderation"]
        assert verdict["action"] == "block" and verdict["threshold"] == 0.9 and verdict["flagId"]
        assert verdict["mutedUntil"] and verdict["banSeconds"] == 60 and verdict["reasons"]
        # the recipient never sees it; both sides' conversation shows only delivered messages
        page = await dms.messages("UB", ok["conversationId"], None, 50)
        assert [m["text"] for m in page["items"]] == ["hey, nice stream yesterday", "you stink"]
        inbox = await dms.inbox("UB", None, 10)
        assert inbox["items"][0]["lastMessage"]["text"] == "you stink" and inbox["unreadTotal"] == 2
        # muted: even a clean DM is refused with "muted until ..."
        with pytest.raises(Muted) as muted:
            await dms.send("UA", "bob", "sorry")
        assert muted.value.status == 403 and muted.value.code == "muted"
        assert f"muted until {verdict['mutedUntil']}" in muted.value.message
        assert mod.check("UA", "hello room").model_id == "chat-ban"  # the same ban covers room chat
        clock.advance(seconds=61)
        assert "moderation" not in await dms.send("UA", "bob", "sorry")
        # every decision points at its DM
        rows = db.inline.all("SELECT source, action, subject_id FROM moderation_decisions ORDER BY id")
        assert [r["action"] for r in rows] == ["allow", "warn", "block", "allow"]
        assert all(r["source"] == "dm" and r["subject_id"] for r in rows)
        blocked_id = rows[2]["subject_id"]
        assert db.inline.one("SELECT status FROM dm_messages WHERE id = ?", (blocked_id,))["status"] == "blocked"
        # the reviewer sees the text, who, where, model, score, thresholds and reasons
        flag = reports.flag_json(db.inline.conn, reports.get_row(db.inline.conn, verdict["flagId"]))
        subj = flag["subject"]
        assert subj["kind"] == "dm" and subj["text"] == "you fucking idiot, randi ko chora"
        assert subj["author"] == {"id": "UA", "username": "alice"}
        assert subj["where"]["recipient"] == {"id": "UB", "username": "bob"} and subj["status"] == "blocked"
        dec = flag["decision"]
        assert dec["subjectId"] == blocked_id and dec["modelId"] == COMBINED_MODEL_ID and dec["score"] >= 0.9
        assert dec["thresholds"] == {"warn": 0.6, "block": 0.9} and dec["reasons"]
        # metrics: decisions by action and language, model latency
        metrics.watch_moderation_queue(mod.queue_snapshot)
        assert metrics.registry.get_sample_value("halobuzz_moderation_queue_depth", {"type": "message"}) == 1
        assert (
            metrics.registry.get_sample_value("halobuzz_moderation_queue_oldest_age_seconds", {"type": "message"})
            == 61.0
        )
        text = metrics.registry.get_sample_value
        assert (
            text(
                "halobuzz_moderation_decisions_total",
                {"kind": "text", "source": "dm", "action": "block", "lang": "english"},
            )
            == 1
        )
        assert text("halobuzz_moderation_model_seconds_count", {"model": "text"}) == 4
        mod.close()
        await db.close()

    asyncio.run(asyncio.wait_for(go(), 60))


def test_dm_without_moderator_is_unchanged(tmp_path):
    async def go():
        clock, db, mod, _ = await _setup(tmp_path)
        plain = DirectMessages(db, clock, IdFactory(clock, SystemRandom()))
        out = await plain.send("UA", "bob", "you fucking idiot")
        assert out["message"]["text"] == "you fucking idiot" and "moderation" not in out
        assert db.inline.one("SELECT COUNT(*) AS n FROM moderation_decisions")["n"] == 0
        await db.close()

    asyncio.run(asyncio.wait_for(go(), 30))


def test_chat_decisions_point_at_their_message_and_reviewer_sees_chat_text(tmp_path):
    async def go():
        clock, db, mod, _ = await _setup(tmp_path)
        assert mod.check("UA", "hello there", subject_id="M1").action == "allow"
        assert mod.check("UA", "you stink", subject_id="M2").action == "warn"
        mod.flush()
        await db.write(lambda c: None)
        rows = db.inline.all("SELECT subject_id FROM moderation_decisions ORDER BY id")
        assert [r["subject_id"] for r in rows] == ["M1", "M2"]
        mod.close()
        await db.close()

    asyncio.run(asyncio.wait_for(go(), 30))


def test_queue_stats_and_chat_subject(world):
    from halobuzz.moderation.reports import create_flag, flag_json, get_row, queue_stats

    author, host = world.user(), world.user()
    mid = world.message(author, world.stream(host), text="you absolute muppet")
    create_flag(
        world.conn, flag_id="F1", now=world.clock.now(), type="message", target_id=mid, reason="rude", reporter_id="MOD"
    )
    world.clock.advance(seconds=90)
    stats = queue_stats(world.conn, world.clock.now())
    assert stats["message"] == (1, 90.0) and stats["user"] == (0, 0.0)
    subj = flag_json(world.conn, get_row(world.conn, "F1"))["subject"]
    assert subj["kind"] == "chat" and subj["text"] == "you absolute muppet" and subj["author"]["id"] == author
    assert subj["where"]["streamId"]
