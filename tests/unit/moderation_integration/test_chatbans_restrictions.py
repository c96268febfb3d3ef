from datetime import date, timedelta

import pytest

from halobuzz.errors import Forbidden
from halobuzz.moderation import chatbans, restrictions
from halobuzz.wallet import wallet

from .conftest import MOD


def test_ladder_escalates_within_window_and_resets_after(world):
    u, now = world.user(), world.clock.now()
    ladder = (600, 3600, 86400)
    seen = []
    for i in range(4):
        t = now + timedelta(days=i)  # each after the previous ban ended
        seen.append(chatbans.impose(world.conn, u, t, ladder=ladder, window_seconds=7 * 86400, reason="x").seconds)
    assert seen == [600, 3600, 86400, 86400]
    later = now + timedelta(days=30)
    assert chatbans.impose(world.conn, u, later, ladder=ladder, window_seconds=7 * 86400, reason="x").seconds == 600


def test_ban_is_active_then_expires_and_lifted_bans_do_not_escalate(world):
    u, now = world.user(), world.clock.now()
    ban = chatbans.impose(world.conn, u, now, reason="x", flag_id=None)
    assert chatbans.active_until(world.conn, u, now + timedelta(seconds=10)) == ban.until
    assert chatbans.active_until(world.conn, u, now + timedelta(seconds=601)) is None
    # a second block during the ban extends from its end, never shortens
    second = chatbans.impose(world.conn, u, now + timedelta(seconds=10), reason="y")
    assert second.level == 1 and second.until == ban.until + timedelta(seconds=3600)
    world.conn.execute("UPDATE moderation_chat_bans SET lifted_at = 'x' WHERE user_id = ?", (u,))
    assert chatbans.active_until(world.conn, u, now + timedelta(seconds=20)) is None
    assert chatbans.impose(world.conn, u, now + timedelta(seconds=30), reason="z").level == 0


def test_parse_ladder():
    assert chatbans.parse_ladder("60, 120,300") == (60, 120, 300)
    for bad in ("", "a,b", "0,10", "-5"):
        with pytest.raises(ValueError):
            chatbans.parse_ladder(bad)


def test_declared_and_judged_minors_are_restricted(world):
    today = world.clock.now().date()
    adult, teen = world.user(), world.user(birth=str(date(today.year - 15, 1, 1)))
    assert not restrictions.is_restricted_minor(world.conn, adult, today)
    assert restrictions.is_restricted_minor(world.conn, teen, today)
    with pytest.raises(Forbidden) as info:
        restrictions.require_can_pay(world.conn, teen, today)
    assert info.value.code == "minor_restricted"
    restrictions.require_can_pay(world.conn, adult, today)
    restrictions.judge_minor(world.conn, adult, True, MOD, world.clock.now(), "document check")
    for check in (restrictions.require_can_pay, restrictions.require_games_of_chance):
        with pytest.raises(Forbidden):
            check(world.conn, adult, today)
    s = restrictions.summary(world.conn, adult, today)
    assert s["judgedMinor"] and not s["declaredMinor"] and "games_of_chance" in s["restrictions"]
    audit = world.conn.execute("SELECT action, actor FROM audit_log WHERE target_id = ?", (adult,)).fetchall()
    assert [(a["action"], a["actor"]) for a in audit] == [("moderation.judge_minor", "mod@x.io")]
    hist = world.conn.execute(
        "SELECT minor, by_name, reason FROM minor_judgements WHERE user_id = ?", (adult,)
    ).fetchall()
    assert [tuple(h) for h in hist] == [(1, "mod@x.io", "document check")]
    restrictions.judge_minor(world.conn, adult, False, MOD, world.clock.now())
    assert not restrictions.is_restricted_minor(world.conn, adult, today)


def test_wallet_cap_honours_a_moderators_judgement(world):
    u = world.user()
    policy = wallet.SpendPolicy(0, 2000)
    row = lambda: world.conn.execute("SELECT * FROM users WHERE id = ?", (u,)).fetchone()  # noqa: E731
    assert wallet.daily_limit(row(), world.clock.now().date(), policy) == 0
    restrictions.judge_minor(world.conn, u, True, MOD, world.clock.now())
    assert wallet.daily_limit(row(), world.clock.now().date(), policy) == 2000


def test_minors_get_dms_only_from_people_they_wrote_to(world):
    today = world.clock.now().date()
    kid, stranger, friend = world.user(birth="2013-05-05"), world.user(), world.user()
    assert restrictions.dm_refusal(world.conn, stranger, kid, today)
    assert restrictions.dm_refusal(world.conn, kid, stranger, today) is None  # the minor may write first
    a, b = sorted((kid, friend))
    world.conn.execute(
        "INSERT INTO dm_conversations(id, user_a, user_b, created_at, last_message_at) VALUES ('C1', ?, ?, 't', 't')",
        (a, b),
    )
    world.conn.execute(
        "INSERT INTO dm_messages(id, conversation_id, sender_id, text, created_at) VALUES ('D1', 'C1', ?, 'hi', 't')",
        (kid,),
    )
    assert restrictions.dm_refusal(world.conn, friend, kid, today) is None
    with pytest.raises(Forbidden) as info:
        restrictions.require_dm_allowed(world.conn, stranger, kid, today)
    assert info.value.code == "dm_not_allowed"
    assert restrictions.dm_refusal(world.conn, stranger, friend, today) is None  # adults: no restriction
