"""Scoring functions of the AI features: engagement/boredom, cohost ranking, gift suggestions."""

from datetime import datetime, timezone

import pytest

from halobuzz.accounts import audit
from halobuzz.ai import boredom, cohosts, gifts
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.festivals import store
from halobuzz.gifts import catalog
from halobuzz.infra.clock import FrozenClock
from halobuzz.resources import assets_dir
from halobuzz.wallet import wallet
from tests.support.world import World

SPEND = wallet.SpendPolicy(0, 2000)


def lively(det, sid="s", host="h", seconds=200, chat_per_10s=3, viewers=10, start=0.0, chat0=0):
    chat = chat0
    for i in range(seconds // 10 + 1):
        det.observe(sid, host, start + i * 10, chat, i * 2, i // 6, [f"v{j}" for j in range(viewers)])
        chat += chat_per_10s
    return chat


def test_engagement_is_high_when_people_talk_and_falls_when_chat_stops():
    det = boredom.BoredomDetector(window=120, threshold=30, cooldown=300)
    chat = lively(det)
    assert det.evaluate("s", 200) is None
    busy = det.score_of("s")
    # chat stops, likes and gifts go on: the score falls, not yet a nudge
    for i in range(1, 13):
        det.observe("s", "h", 200 + i * 10, chat, 40 + i * 2, 3 + i // 6, [f"v{j}" for j in range(10)])
    assert det.evaluate("s", 320) is None and det.score_of("s") < busy - 10
    # then the room goes quiet altogether (viewers still there): the host is nudged, chat named first
    for i in range(1, 13):
        det.observe("s", "h", 320 + i * 10, chat, 64, 5, [f"v{j}" for j in range(10)])
    nudge = det.evaluate("s", 440)
    assert det.score_of("s") < 30
    assert nudge is not None and nudge["signal"] == "chat" and nudge["action"] == "quiz"
    assert "0.0 chat messages/min" in nudge["reason"]
    assert det.evaluate("s", 450) is None  # cooldown: one nudge, not a stream of them


def test_leaving_viewers_lower_retention():
    det = boredom.BoredomDetector(window=60)
    for i in range(7):
        det.observe("s", "h", i * 10, i * 5, 0, 0, [f"v{j}" for j in range(20 - 3 * i)])
    det.evaluate("s", 60)
    e = det.rooms["s"].last
    assert e.parts["retention"] == 0.0 and e.rates["leftPerMin"] == 18.0


def test_host_is_not_counted_as_a_viewer_and_no_nudge_before_warmup():
    det = boredom.BoredomDetector(window=120, threshold=101)
    det.observe("s", "h", 0, 0, 0, 0, ["h", "v1"])
    det.observe("s", "h", 10, 0, 0, 0, ["h", "v1"])
    assert det.evaluate("s", 10) is None  # not warmed up yet
    assert det.rooms["s"].samples[-1].viewers == frozenset({"v1"})


def room(sid, lang="en", country="NP", category="music", viewers=10, host=None, shared=0):
    v = frozenset({f"{sid}-{i}" for i in range(viewers - shared)} | {f"shared-{i}" for i in range(shared)})
    return cohosts.Room(sid, host or f"h-{sid}", f"host-{sid}", "t", country, category, lang, v)


def test_cohost_ranking_prefers_same_language_and_gives_reasons():
    me = room("me", lang="ne")
    ranked = cohosts.rank(me, [room("a", lang="en"), room("b", lang="ne"), room("c", lang="en", viewers=1000)])
    assert ranked[0]["streamId"] == "b" and "same language (ne)" in ranked[0]["reasons"]
    assert cohosts.rank(me, [room("b", lang="ne", host="x")], excluded_hosts={"x"}) == []


def test_cohost_overlap_and_size():
    me = room("me", shared=5)
    with_overlap = cohosts.rank_one(me, room("o", shared=5))
    none = cohosts.rank_one(me, room("p"))
    assert with_overlap[0] > none[0] and any("shared viewers" in r for r in with_overlap[2])
    assert cohosts.rank_one(me, room("big", viewers=10_000))[1]["size"] == 0.0


def test_language_of_by_script():
    assert cohosts.language_of(["नमस्ते साथीहरू", "hello"], "NP") == "ne"
    assert cohosts.language_of(["नमस्ते दोस्तों"], "IN") == "hi"
    assert cohosts.language_of(["hello friends", "k cha"], "NP") == "en"


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "g.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(datetime(2026, 12, 25, 6, 0, tzinfo=timezone.utc)))
    catalog.seed(conn, catalog.load_seed(assets_dir()), w.clock.now())
    yield w
    conn.close()


def test_gift_suggestions_respect_coins_and_daily_cap(world):
    fan, host = world.user(), world.user()
    sid = world.stream(host)
    wallet.adjust(world.conn, "g", fan, 100_000, "paid", "t", world.clock.now())
    out = gifts.suggest(world.conn, fan, sid, world.clock.now(), SPEND, limit=50)
    assert out["items"] and max(i["price"] for i in out["items"]) > 100
    wallet.set_daily_limit(world.conn, fan, 60)
    out = gifts.suggest(world.conn, fan, sid, world.clock.now(), SPEND, limit=50)
    assert out["remainingToday"] == 60 and out["items"]
    assert all(i["price"] <= 60 and i["price"] * i["maxQuantity"] <= 60 for i in out["items"])


def test_no_suggestions_for_minors(world):
    kid, host = world.user(birth="2014-05-05"), world.user()
    sid = world.stream(host)
    wallet.adjust(world.conn, "g", kid, 1000, "paid", "t", world.clock.now())
    out = gifts.suggest(world.conn, kid, sid, world.clock.now(), SPEND)
    assert out["items"] == [] and "under 18" in out["reason"]


def test_festival_gift_is_recommended_while_it_runs(world):
    fan, host = world.user(), world.user()
    sid = world.stream(host)
    wallet.adjust(world.conn, "g", fan, 1000, "paid", "t", world.clock.now())
    store.create(world.conn, store.from_template("christmas", 2026), audit.Actor("a", "cli"), world.clock.now())
    out = gifts.suggest(world.conn, fan, sid, world.clock.now(), SPEND)
    assert out["items"][0]["giftId"] == "star" and "festival gift" in out["items"][0]["reasons"]
