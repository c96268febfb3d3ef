"""Random operation sequences: coins are never created or destroyed and no paid balance goes negative;
OG periods, upgrades, revocations and the jobs keep every entitlement (level, credit, daily bonus)."""

import json
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from halobuzz.errors import DomainError
from halobuzz.gifts import catalog
from halobuzz.gifts.send import send_gift
from halobuzz.infra.clock import FrozenClock, iso, parse_iso
from halobuzz.og import bonus, subscribe, tiers
from halobuzz.resources import assets_dir
from halobuzz.wallet import ledger, wallet
from tests.support.template import migrated_db

from .conftest import POLICY, T0, World

GIFTS = ["rose", "heart", "momo", "rhino", "himalaya", "crown"]
op = st.one_of(
    st.tuples(st.just("grant"), st.integers(0, 3), st.integers(1, 5000), st.sampled_from(["paid", "bonus"])),
    st.tuples(st.just("gift"), st.integers(0, 3), st.sampled_from(GIFTS), st.integers(-2, 30)),
    st.tuples(st.just("og"), st.integers(0, 3), st.integers(1, 5)),
    st.tuples(st.just("tick"), st.integers(0, 3 * 86400)),
    st.tuples(st.just("payout"), st.integers(0, 3), st.integers(1, 3000)),
    st.tuples(st.just("limit"), st.integers(0, 3), st.integers(0, 3000)),
    st.tuples(st.just("revoke"), st.integers(0, 3), st.integers(0, 15)),
    st.tuples(st.just("tick"), st.integers(0, 40 * 86400)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(op, min_size=1, max_size=40))
def test_random_operations_keep_the_books(tmp_path_factory, ops):
    conn = migrated_db(tmp_path_factory.mktemp("p") / "p.db")
    w = World(conn, FrozenClock(T0))
    catalog.seed(conn, catalog.load_seed(assets_dir()), w.clock.now())
    people = [w.user() for _ in range(4)]
    stream = w.stream(people[0])
    table = tiers.load()
    for i, o in enumerate(ops):
        conn.execute("SAVEPOINT op")  # what the writer does for each unit
        try:
            kind = o[0]
            if kind == "grant":
                w.grant(people[o[1]], o[2], o[3])
            elif kind == "gift":
                send_gift(
                    conn,
                    sender_id=people[o[1]],
                    stream_id=stream,
                    gift_id=o[2],
                    quantity=o[3],
                    key=f"g{i}",
                    policy=POLICY,
                    now=w.clock.now(),
                )
            elif kind == "og":
                subscribe.subscribe(
                    conn,
                    user_id=people[o[1]],
                    tier=table[o[2]],
                    key=f"o{i}",
                    sub_id=f"s{i}",
                    now=w.clock.now(),
                    spend=POLICY.spend,
                )
            elif kind == "tick":
                w.clock.advance(seconds=o[1])
                bonus.pay_daily_bonuses(conn, w.clock.now())
                bonus.expire_tiers(conn, w.clock.now())
                wallet.release_due_holds(conn, w.clock.now())
            elif kind == "payout":
                wallet.request_payout(conn, f"p{i}", people[o[1]], o[2], w.clock.now())
            elif kind == "limit":
                wallet.set_daily_limit(conn, people[o[1]], o[2])
            elif kind == "revoke":
                mine = conn.execute(
                    "SELECT id FROM og_subscriptions WHERE user_id = ? ORDER BY starts_at, id", (people[o[1]],)
                ).fetchall()
                if mine:
                    subscribe.revoke(conn, mine[o[2] % len(mine)]["id"], w.clock.now(), "payment_refunded")
        except DomainError:
            conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        assert conn.execute("SELECT COALESCE(SUM(balance),0) FROM ledger_accounts").fetchone()[0] == 0
        negative = conn.execute(
            "SELECT id, balance FROM ledger_accounts WHERE bucket <> 'system' AND balance < 0"
        ).fetchall()
        assert not negative, [tuple(r) for r in negative]
    assert ledger.verify_balances(conn) == []
    assert ledger.verify_chain(conn) == []
    conn.close()


# -- OG entitlements across time: renewals, upgrades over queued periods, revocations, jobs -------------

og_op = st.one_of(
    st.tuples(st.just("og"), st.integers(0, 1), st.integers(1, 5)),
    st.tuples(st.just("og"), st.integers(0, 1), st.integers(1, 2)),  # queues of cheap tiers, then upgrades
    st.tuples(st.just("og"), st.integers(0, 1), st.just(1)),
    st.tuples(st.just("revoke"), st.integers(0, 1), st.integers(0, 15)),
    st.tuples(st.just("tick"), st.integers(0, 2 * 86400)),
    st.tuples(st.just("jump"), st.integers(1, 40), st.integers(0, 86399)),
    st.tuples(st.just("grant"), st.integers(0, 1), st.integers(1000, 100_000)),
)
# The reviewer's reproductions (/tmp/rv/og_edges.py), always run.
REVIEWED = [
    [("og", 0, 1), ("og", 0, 1), ("og", 0, 1), ("jump", 1, 0), ("og", 0, 2)],  # 1.2 queued renewals
    [("og", 0, 1), ("og", 0, 2), ("og", 0, 3)],  # 1.3 chained upgrades
    [
        ("og", 0, 1),
        ("og", 0, 1),
        ("og", 0, 1),
        ("jump", 1, 0),
        ("og", 0, 2),
        ("jump", 40, 0),
        ("jump", 30, 0),
    ],  # 1.4 ended by upgrade
    [("og", 0, 1), ("og", 0, 1), ("revoke", 0, 1), ("jump", 40, 0)],  # 1.4 revoked queued
    [("og", 0, 1), ("og", 0, 1), ("revoke", 0, 0), ("jump", 30, 300)],  # 1.5 queued activates
    [("og", 0, 1), ("og", 0, 1), ("og", 0, 1), ("revoke", 0, 1), ("jump", 30, 0), ("jump", 30, 0)],  # gap
    [("og", 0, 3), ("og", 0, 3), ("revoke", 0, 0), ("jump", 1, 0), ("og", 0, 1), ("jump", 29, 0)],  # higher queued
]


def _dt(text):
    return parse_iso(text)


def _day_start(d):
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def _in_force_on(s, d):
    """Was period s in force at some instant of UTC date d, and is d one of its `duration` dates?
    (The end instant counts: a payment made at the very instant a period is then ended was legitimate.)"""
    starts, expires = _dt(s["starts_at"]), _dt(s["expires_at"])
    end = min(expires, _dt(s["ended_at"]) or expires)
    duration = round((expires - starts).total_seconds() / 86400)
    return starts < end and starts.date() <= d < starts.date() + timedelta(days=duration) and _day_start(d) <= end


def _check_levels(conn, people, now):
    for p in people:
        in_force = subscribe.current(conn, p, now)
        level = conn.execute("SELECT og_level FROM users WHERE id = ?", (p,)).fetchone()[0]
        assert level == (in_force["tier"] if in_force else 0), (p, level, dict(in_force) if in_force else None)


def _check_bonus_entitlement(conn, people):
    subs = conn.execute("SELECT * FROM og_subscriptions").fetchall()
    by_id = {s["id"]: s for s in subs}
    txs = conn.execute(
        "SELECT t.key, t.memo, e.account_id, e.amount FROM ledger_tx t JOIN ledger_entries e "
        "ON e.tx_id = t.id WHERE t.kind = 'og_bonus' AND e.amount > 0"
    ).fetchall()
    seen = set()
    issued = {p: 0 for p in people}
    for t in txs:
        user = t["account_id"].rsplit(":", 1)[0]
        memo = json.loads(t["memo"])
        d = date.fromisoformat(memo["date"])
        s = by_id[memo["subscription"]]
        assert (user, d) not in seen, f"two bonuses for {user} on {d}"
        seen.add((user, d))
        assert s["user_id"] == user and t["amount"] == s["daily_bonus"]
        assert _in_force_on(s, d), f"bonus for {d} from period {dict(s)} that was not in force that date"
        issued[user] += t["amount"]
    for p in people:
        mine = [s for s in subs if s["user_id"] == p]
        dates = {d for (u, d) in seen if u == p}
        for s in mine:
            first = _dt(s["starts_at"]).date()
            dates |= {first + timedelta(days=k) for k in range(366) if _in_force_on(s, first + timedelta(days=k))}
        entitled = sum(max([s["daily_bonus"] for s in mine if _in_force_on(s, d)], default=0) for d in dates)
        assert issued[p] <= entitled, (p, issued[p], entitled)


def _run_jobs(conn, now, limit):
    if limit < 3:  # units that select their own rows
        while bonus.pay_batch(conn, now, limit=limit, max_posts=7).more:
            pass
        while bonus.expire_batch(conn, now, limit=limit).more:
            pass
        return
    # what Economy does: list on a reader, settle the ids in small units
    due = [r[0] for r in conn.execute(*bonus.due_query(now))]
    while due:
        due = due[bonus.pay_batch(conn, now, limit=2, ids=due, max_posts=7).consumed :]
    users = [r[0] for r in conn.execute(*bonus.level_query(now))]
    while users:
        users = users[bonus.expire_batch(conn, now, limit=2, users=users).consumed :]


def _with_examples(test):
    for ops in REVIEWED:
        test = example(ops=ops, batch=1)(test)
        test = example(ops=ops, batch=3)(test)
    return test


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(og_op, min_size=1, max_size=45), st.integers(1, 3))
@_with_examples
def test_og_entitlements_over_time(tmp_path_factory, ops, batch):
    conn = migrated_db(tmp_path_factory.mktemp("og") / "og.db")
    w = World(conn, FrozenClock(T0))
    people = [w.user() for _ in range(2)]
    for p in people:
        w.grant(p, 100_000)
    table = tiers.load()
    for i, o in enumerate(ops):
        conn.execute("SAVEPOINT op")
        if o[0] in ("og", "revoke"):
            # Actions are ordered in time: a job's payment and a revocation at the very same
            # millisecond would leave a period that was paid but, as recorded, never in force.
            w.clock.advance(seconds=0.001)
        try:
            kind, now = o[0], w.clock.now()
            if kind == "og":
                user = people[o[1]]
                before = {
                    s["id"]: s
                    for s in conn.execute(
                        "SELECT * FROM og_subscriptions WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?",
                        (user, iso(now)),
                    ).fetchall()
                }
                paid_before = wallet.view(conn, user)["balance"]
                r = subscribe.subscribe(
                    conn, user_id=user, tier=table[o[2]], key=f"o{i}", sub_id=f"s{i}", now=now, spend=POLICY.spend
                ).response
                ended = [
                    before[s["id"]]
                    for s in conn.execute(
                        "SELECT id FROM og_subscriptions WHERE user_id = ? AND ended_at = ? AND end_reason = 'upgraded'",
                        (user, iso(now)),
                    ).fetchall()
                    if s["id"] in before
                ]
                worth = Fraction(0)
                for s in ended:
                    starts, expires = _dt(s["starts_at"]), _dt(s["expires_at"])
                    worth += (
                        s["value"]
                        if starts >= now
                        else Fraction(s["value"])
                        * Fraction(
                            (expires - now) // timedelta(milliseconds=1),
                            (expires - starts) // timedelta(milliseconds=1),
                        )
                    )
                if r["kind"] == "upgrade":
                    assert r["credit"] <= worth, (r, worth)
                    assert r["credit"] > worth - len(ended), f"credit {r['credit']} loses value of {worth}"
                else:
                    assert r["credit"] == 0 and not ended
                list_price = table[o[2]].price_coins
                assert r["pricePaid"] == max(0, list_price - r["credit"])
                assert r.get("creditReturned", 0) == max(0, r["credit"] - list_price)
                assert paid_before - wallet.view(conn, user)["balance"] == r["pricePaid"] - r.get("creditReturned", 0)
                row = conn.execute("SELECT price, value FROM og_subscriptions WHERE id = ?", (f"s{i}",)).fetchone()
                assert (row["price"], row["value"]) == (r["pricePaid"], list_price)
                _check_levels(conn, [user], now)
            elif kind == "revoke":
                mine = conn.execute(
                    "SELECT id FROM og_subscriptions WHERE user_id = ? ORDER BY starts_at, id", (people[o[1]],)
                ).fetchall()
                if mine:
                    subscribe.revoke(conn, mine[o[2] % len(mine)]["id"], now, "payment_refunded")
                    _check_levels(conn, [people[o[1]]], now)
            elif kind in ("tick", "jump"):
                w.clock.advance(seconds=o[1]) if kind == "tick" else w.clock.advance(days=o[1], seconds=o[2])
                _run_jobs(conn, w.clock.now(), batch)
                _check_levels(conn, people, w.clock.now())
            elif kind == "grant":
                w.grant(people[o[1]], o[2])
        except DomainError:
            conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        assert conn.execute("SELECT COALESCE(SUM(balance),0) FROM ledger_accounts").fetchone()[0] == 0
    w.clock.advance(days=400)
    _run_jobs(conn, w.clock.now(), batch)
    _check_levels(conn, people, w.clock.now())
    _check_bonus_entitlement(conn, people)
    assert ledger.verify_balances(conn) == []
    conn.close()
