from datetime import timedelta

import pytest

from halobuzz.errors import Conflict, Forbidden, Invalid, NotFound
from halobuzz.moderation import chatbans, decisions, reports
from halobuzz.moderation.policy import Thresholds, decide
from halobuzz.moderation.replay import replay

from .conftest import MOD


def flag(world, **kw):
    world.n += 1
    return reports.create_flag(world.conn, flag_id=f"F{world.n:04d}", now=world.clock.now(), **kw)


def test_report_validation_and_duplicates(world):
    a, b = world.user(), world.user()
    with pytest.raises(Invalid) as e:
        flag(world, type="planet", target_id=b, reason="x", reporter_id=a)
    assert "type" in e.value.fields
    with pytest.raises(Invalid):
        flag(world, type="user", target_id=b, reason="   ", reporter_id=a)
    with pytest.raises(NotFound) as e:
        flag(world, type="message", target_id="nope", reason="x", reporter_id=a)
    assert "targetId" in e.value.fields
    with pytest.raises(Invalid):
        flag(world, type="user", target_id=a, reason="x", reporter_id=a)
    f1 = flag(world, type="user", target_id="user3", reason="spam", reporter_id=a)  # by username
    assert f1["targetId"] == b and f1["targetUserId"] == b
    assert flag(world, type="user", target_id=b, reason="spam again", reporter_id=a)["id"] == f1["id"]
    s = world.stream(b)
    m = world.message(b, s)
    f2 = flag(world, type="message", target_id=m, reason="rude", reporter_id=a)
    assert f2["streamId"] == s and f2["targetUserId"] == b


def test_confirm_delete_message_trust_and_appeal_overturn_restores(world):
    rep, u = world.user(), world.user()
    s = world.stream(u)
    m = world.message(u, s)
    f = flag(world, type="message", target_id=m, reason="slur", reporter_id=rep)
    fx = reports.review(world.conn, f["id"], decision="confirm", action="delete", actor=MOD, now=world.clock.now())
    assert fx.deleted_message == (s, m) and fx.flag["status"] == "reviewed"
    assert world.conn.execute("SELECT status FROM chat_messages WHERE id=?", (m,)).fetchone()[0] == "deleted"
    assert world.trust(u) == 45 and world.trust(rep) == 51
    with pytest.raises(Forbidden):
        reports.appeal(world.conn, appeal_id="A0", flag_id=f["id"], user_id=rep, text="x", now=world.clock.now())
    a = reports.appeal(world.conn, appeal_id="A1", flag_id=f["id"], user_id=u, text="context!", now=world.clock.now())
    out = reports.decide_appeal(world.conn, a["id"], outcome="overturned", actor=MOD, now=world.clock.now())
    assert "message restored" in out["effects"] and out["flag"]["status"] == "resolved"
    assert world.conn.execute("SELECT status FROM chat_messages WHERE id=?", (m,)).fetchone()[0] == "visible"
    assert world.trust(u) == 50
    with pytest.raises(Conflict):
        reports.decide_appeal(world.conn, a["id"], outcome="upheld", actor=MOD, now=world.clock.now())
    with pytest.raises(Conflict):
        reports.review(world.conn, f["id"], decision="confirm", action="warn", actor=MOD, now=world.clock.now())
    events = world.conn.execute(
        "SELECT delta, reason FROM reputation_events WHERE user_id=? ORDER BY id", (u,)
    ).fetchall()
    assert [e["delta"] for e in events] == [-5, 5]


def test_trust_is_clamped_and_dismissing_an_automated_ban_lifts_it(world):
    u = world.user()
    world.conn.execute("UPDATE users SET trust_score = 3 WHERE id = ?", (u,))
    f = flag(world, type="user", target_id=u, reason="x", reporter_id=world.user())
    reports.review(world.conn, f["id"], decision="confirm", action="ban", actor=MOD, now=world.clock.now())
    assert world.trust(u) == 0  # -10 clamped at 0, the event stores the applied delta
    assert world.conn.execute("SELECT delta FROM reputation_events WHERE user_id=?", (u,)).fetchone()[0] == -3
    assert chatbans.active_until(world.conn, u, world.clock.now()) is not None
    auto = flag(world, type="user", target_id=u, reason="auto", action="ban", target_user_id=u)
    chatbans.impose(world.conn, u, world.clock.now(), reason="auto", flag_id=auto["id"])
    fx = reports.review(world.conn, auto["id"], decision="dismiss", action=None, actor=MOD, now=world.clock.now())
    assert "chat ban lifted" in fx.notes and fx.flag["status"] == "resolved" and fx.flag["action"] == "none"
    with pytest.raises(Conflict):
        reports.appeal(world.conn, appeal_id="A9", flag_id=auto["id"], user_id=u, text="x", now=world.clock.now())


def test_queue_is_oldest_first_with_cursor(world):
    rep = world.user()
    ids = []
    for _ in range(5):
        ids.append(flag(world, type="user", target_id=world.user(), reason="x", reporter_id=rep)["id"])
        world.clock.advance(seconds=1)
    page = reports.queue(world.conn, limit=2)
    got = [f["id"] for f in page["items"]]
    while page["cursor"]:
        page = reports.queue(world.conn, limit=2, before=page["cursor"])
        got += [f["id"] for f in page["items"]]
    assert got == ids
    with pytest.raises(Invalid):
        reports.queue(world.conn, status="weird")


def test_decisions_round_trip_into_replay(world):
    u, now = world.user(), world.clock.now()
    th = Thresholds(0.6, 0.9)
    for score in (0.1, 0.55, 0.7, 0.88, 0.95):
        decisions.record(
            world.conn,
            decide(score, th, model_id="text-profanity-en-v1", reasons=["r"]),
            kind="text",
            source="chat",
            at=now,
            user_id=u,
        )
    decisions.record(world.conn, decide(0.7, th, model_id="old-model"), kind="text", source="chat", at=now)
    rows = decisions.since(world.conn, "text", now - timedelta(hours=1))
    assert len(rows) == 6 and rows[2]["threshold"] == 0.6 and rows[2]["warn"] == 0.6 and rows[2]["reasons"] == ["r"]
    rep = replay(rows, Thresholds(0.5, 0.85), model_id="text-profanity-en-v1")
    assert rep.stale == 1 and len(rep.changes) == 2  # 0.55 allow->warn, 0.88 warn->block
    assert decisions.since(world.conn, "text", now + timedelta(seconds=1)) == []


def test_prune_keeps_warn_block_and_flagged_decisions(world):
    u, now = world.user(), world.clock.now()
    th = Thresholds(0.6, 0.9)
    old = now - timedelta(days=40)
    ids = [
        decisions.record(world.conn, decide(s, th, model_id="m"), kind="text", source="chat", at=old, user_id=u)
        for s in (0.1, 0.2, 0.7, 0.95)
    ]
    flagged = decisions.record(world.conn, decide(0.1, th, model_id="m"), kind="image", source="profile", at=old)
    flag(world, type="user", target_id=u, reason="x", decision_id=flagged, target_user_id=u)
    fresh = decisions.record(world.conn, decide(0.1, th, model_id="m"), kind="text", source="chat", at=now)
    assert decisions.prune_allowed(world.conn, now - timedelta(days=30)) == 2
    left = {r[0] for r in world.conn.execute("SELECT id FROM moderation_decisions")}
    assert left == {ids[2], ids[3], flagged, fresh}
