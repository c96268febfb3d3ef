"""Festival rules on a real migrated SQLite file: BS dates, zone windows, admin CRUD (audited),
themed gifts, start/end announcements and ledger-paid bonuses."""

from datetime import date, datetime, timedelta, timezone

import pytest

from halobuzz.accounts import audit
from halobuzz.db.connection import connect
from halobuzz.db.migrate import migrate
from halobuzz.errors import Invalid
from halobuzz.festivals import bonus, calendar, schedule, store
from halobuzz.gifts import catalog
from halobuzz.gifts.send import GiftPolicy, send_gift
from halobuzz.infra.clock import FrozenClock, iso
from halobuzz.resources import assets_dir
from halobuzz.wallet import ledger, wallet
from tests.support.world import World

ADMIN = audit.Actor(name="root@x.io", source="cli")
POLICY = GiftPolicy(fee_bps=3000, hold_days=7, combo_seconds=5, spend=wallet.SpendPolicy(0, 2000))


@pytest.fixture()
def world(tmp_path):
    conn = connect(tmp_path / "f.db", synchronous="OFF")
    migrate(conn)
    w = World(conn, FrozenClock(datetime(2026, 12, 24, 12, 0, tzinfo=timezone.utc)))
    catalog.seed(conn, catalog.load_seed(assets_dir()), w.clock.now())
    yield w
    conn.close()


def custom(**kw):
    base = dict(
        id="summer-fest",
        kind="custom",
        name_en="Summer",
        name_ne="गर्मी",
        banner_en="Hi",
        banner_ne="नमस्ते",
        starts_local="2026-12-25T00:00",
        ends_local="2026-12-26T00:00",
        gift_bonus_bps=1000,
        purchase_bonus_bps=2000,
    )
    return store.FestivalSpec(**{**base, **kw})


def test_bikram_sambat_dates_come_from_the_library():
    assert calendar.bs_to_ad("2082-06-06") == date(2025, 9, 22)  # Ghatasthapana 2082
    assert calendar.ad_to_bs(date(2026, 4, 14)) == "2083-01-01"  # Nepali New Year 2083
    with pytest.raises(Invalid) as e:
        calendar.bs_to_ad("2083-13-40")
    assert "bsStart" in e.value.fields


def test_windows_are_local_days_in_nepal_time():
    spec = store.from_template("christmas", 2026)
    start, end = store.window(spec)
    # 00:00 in Kathmandu (UTC+5:45) is 18:15 UTC the day before
    assert start == datetime(2026, 12, 24, 18, 15, tzinfo=timezone.utc)
    assert end - start == timedelta(days=1)
    dashain = store.from_template("dashain", 2083)
    assert dashain.bs_start == "2083-06-25" and dashain.starts_local == "2026-10-11T00:00"
    nny = store.from_template("nepali-new-year", 2084)
    assert nny.bs_start == "2084-01-01" and nny.kind == "new-year"
    explicit = store.from_template("tihar", 2090, bs_start="2090-07-10", bs_end="2090-07-14")
    assert explicit.id == "tihar-2090" and explicit.bs_start == "2090-07-10"
    with pytest.raises(Invalid) as e:
        store.from_template("holi", 2099)
    assert "year" in e.value.fields


def test_bad_fields_are_named(world):
    with pytest.raises(Invalid) as e:
        store.create(
            world.conn,
            custom(ends_local="2026-12-24T00:00", tz="Mars/Base", gift_bonus_bps=99999),
            ADMIN,
            world.clock.now(),
        )
    assert {"tz", "giftBonusBps"} <= set(e.value.fields)
    with pytest.raises(Invalid) as e:
        store.window(custom(ends_local="2026-12-24T00:00"))
    assert "endsLocal" in e.value.fields
    assert world.conn.execute("SELECT COUNT(*) FROM festivals").fetchone()[0] == 0


def test_crud_is_audited_and_themed_gifts_follow_the_window(world):
    now = world.clock.now()
    spec = store.from_template("christmas", 2026)
    out = store.create(world.conn, spec, ADMIN, now)
    assert out["status"] == "scheduled" and out["giftIds"] == ["star"]
    star = catalog.get(world.conn, "star")
    assert star["active_from"] == out["startsAt"] and star["active_until"] == out["endsAt"]
    assert not catalog.available_now(star, now)
    store.update(world.conn, spec.id, {"banner_en": "Merry!", "gift_bonus_bps": 2500}, ADMIN, now)
    store.cancel(world.conn, spec.id, ADMIN, now)
    actions = [e["action"] for e in audit.entries(world.conn, target_id=spec.id)]
    assert actions == ["festival.cancel", "festival.update", "festival.create"]
    other = store.create(world.conn, custom(), ADMIN, now)["id"]
    with pytest.raises(Invalid):
        store.update(world.conn, other, {"id": "x"}, ADMIN, now)


def test_start_and_end_are_announced_once(world):
    store.create(world.conn, store.from_template("christmas", 2026), ADMIN, world.clock.now())
    assert schedule.announce(world.conn, world.clock.now()) == []
    world.clock.set(datetime(2026, 12, 24, 18, 15, tzinfo=timezone.utc))  # midnight in Kathmandu
    [ev] = schedule.announce(world.conn, world.clock.now())
    assert ev.name == "festival:active" and ev.data["change"] == "started"
    assert ev.data["festival"]["banner"]["ne"] and [f["id"] for f in ev.data["active"]] == ["christmas-2026"]
    assert schedule.announce(world.conn, world.clock.now()) == []
    world.clock.advance(days=1)
    [ev] = schedule.announce(world.conn, world.clock.now())
    assert ev.data["change"] == "ended" and ev.data["active"] == []
    assert schedule.announce(world.conn, world.clock.now()) == []


def test_past_festival_is_closed_silently(world):
    store.create(
        world.conn, custom(starts_local="2026-01-01T00:00", ends_local="2026-01-02T00:00"), ADMIN, world.clock.now()
    )
    assert schedule.announce(world.conn, world.clock.now()) == []
    assert world.conn.execute("SELECT announced FROM festivals").fetchone()[0] == "ended"


def gift(world, sender, stream, gift_id="rose", quantity=10):
    world.n += 1
    return send_gift(
        world.conn,
        sender_id=sender,
        stream_id=stream,
        gift_id=gift_id,
        quantity=quantity,
        key=f"k{world.n}",
        policy=POLICY,
        now=world.clock.now(),
    )


def test_bonus_paid_once_through_the_ledger(world):
    host, fan = world.user(), world.user()
    sid = world.stream(host)
    wallet.adjust(world.conn, "g1", fan, 1000, "paid", "t", world.clock.now())
    store.create(world.conn, custom(), ADMIN, world.clock.now())
    gift(world, fan, sid)  # before the festival: no bonus
    world.clock.set(datetime(2026, 12, 25, 1, 0, tzinfo=timezone.utc))
    gift(world, fan, sid, quantity=100)  # 100 paid coins, +10 %
    ledger.post(
        world.conn,
        "credit:esewa:o1",
        "purchase",
        [("sys:payment_mint", -500), (f"{fan}:paid", 500)],
        iso(world.clock.now()),
        {"order": "o1"},
    )  # a purchase, +20 %
    done = bonus.settle(world.conn, world.clock.now())
    assert sorted((b["on"], b["coins"]) for b in done.bonuses) == [("gift", 10), ("purchase", 100)]
    assert wallet.view(world.conn, fan)["bonusBalance"] == 110
    assert bonus.settle(world.conn, world.clock.now()).bonuses == []  # cursor moved: nothing twice
    assert wallet.view(world.conn, fan)["bonusBalance"] == 110
    board = store.leaderboard(world.conn, "summer-fest")
    assert board[0]["userId"] == fan and board[0]["coins"] == 100
    assert store.leaderboard(world.conn, "summer-fest", "host")[0]["userId"] == host
    assert ledger.verify_balances(world.conn) == [] and ledger.verify_chain(world.conn) == []


def test_bonus_rounds_down_and_skips_bonus_paid_part():
    assert bonus.bonus_coins(99, 1000) == 9
    assert bonus.bonus_coins(0, 1000) == 0
    assert bonus.bonus_coins(5, 0) == 0


def test_uplift_compares_with_the_week_before(world):
    host, fan = world.user(), world.user()
    sid = world.stream(host)
    wallet.adjust(world.conn, "g1", fan, 100_000, "paid", "t", world.clock.now())
    store.create(world.conn, custom(gift_bonus_bps=0, purchase_bonus_bps=0), ADMIN, world.clock.now())
    gift(world, fan, sid, quantity=168)  # 168 coins in the week before: 1 coin/hour
    bonus.settle(world.conn, world.clock.now())
    world.clock.set(datetime(2026, 12, 25, 1, 0, tzinfo=timezone.utc))
    gift(world, fan, sid, quantity=24)  # during the day-long festival
    bonus.settle(world.conn, world.clock.now())
    world.clock.set(datetime(2026, 12, 26, 0, 0, tzinfo=timezone.utc))
    u = bonus.uplift(world.conn, "summer-fest", world.clock.now())
    assert u["baselineCoinsPerHour"] == 1.0 and u["coinsPerHour"] == 1.0 and u["uplift"] == 1.0


def test_service_announces_on_the_injected_clock_after_commit(tmp_path):
    """The Festivals service on a real Database + Bus with a FrozenClock: nothing before the start,
    `festival:active` published by the writer after COMMIT once the clock reaches it."""
    import asyncio

    from halobuzz.db import Database
    from halobuzz.events import FESTIVAL_ACTIVE, Bus
    from halobuzz.festivals.service import Festivals

    async def go():
        bus, heard = Bus(), []
        bus.subscribe(FESTIVAL_ACTIVE, heard.append)
        db = Database(tmp_path / "svc.db", synchronous="OFF", publish=bus.publish_all)
        await db.open()
        clock = FrozenClock(datetime(2026, 12, 24, 12, 0, tzinfo=timezone.utc))
        svc = Festivals(db, clock)
        try:
            await db.write(lambda conn: catalog.seed(conn, catalog.load_seed(assets_dir()), clock.now()))
            out = await svc.create(store.from_template("christmas", 2026), ADMIN)
            assert out["status"] == "scheduled" and heard == []
            clock.set(datetime(2026, 12, 24, 18, 15, tzinfo=timezone.utc))
            assert await svc.run_schedule() == 1
            assert [e.data["change"] for e in heard] == ["started"]
            assert [f["id"] for f in await svc.active()] == ["christmas-2026"]
            assert await svc.run_schedule() == 0
            clock.advance(days=1)
            await svc.run_schedule()
            assert [e.data["change"] for e in heard] == ["started", "ended"]
        finally:
            await svc.stop()
            await db.close()

    asyncio.run(go())
