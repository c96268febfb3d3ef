"""Economy: the money flows as async calls used by routes, jobs and the CLI.

Each call runs exactly one write unit (idempotency check, rules, ledger, side
tables — all in one transaction); its events are emit()ted inside the unit, so the
writer publishes them only after COMMIT.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import partial
from typing import Any, Callable

from ..accounts import audit
from ..config import Settings
from ..db import Database, emit
from ..errors import NotFound
from ..events import Event
from ..gifts import catalog
from ..gifts import send as gift_send
from ..infra.clock import Clock, iso
from ..infra.ids import IdFactory
from ..infra.paging import page
from ..og import bonus as og_bonus
from ..og import subscribe as og_subscribe
from ..og import tiers as og_tiers
from ..reply import Reply
from ..wallet import idempotency, wallet


class Economy:
    def __init__(self, db: Database, clock: Clock, ids: IdFactory, settings: Settings) -> None:
        self.db, self.clock, self.ids = db, clock, ids
        self.spend = wallet.SpendPolicy(settings.spend_limit_adult, settings.spend_limit_minor)
        self.gift_policy = gift_send.GiftPolicy(
            settings.platform_fee_bps, settings.earnings_hold_days, settings.gift_combo_seconds, self.spend
        )
        self.tiers = og_tiers.load(settings.og_tiers)
        self.trust_gates: Any = None  # halobuzz.trust.gates.Gates, set by the app: payouts need trust

    def coins_of(self, user_id: str) -> dict[str, int]:
        """The seed's User.coins block for a profile."""
        view = wallet.view_from_row(self._wallet_row(user_id))
        return {k: view[k] for k in ("balance", "bonusBalance", "totalEarned", "totalSpent")}

    def _wallet_row(self, user_id: str) -> sqlite3.Row:
        row = self.db.inline.one(wallet.WALLET_VIEW_SQL, (user_id,))
        if row is None:
            raise NotFound("no such user", field="userId")
        return row

    async def _once(
        self,
        user_id: str,
        key: str | None,
        route: str,
        body: dict[str, Any],
        work: Callable[[sqlite3.Connection, datetime, str], tuple[dict[str, Any], list[Event]]],
    ) -> Reply:
        """Run `work(conn, now, key)` once per (user, Idempotency-Key) in one write unit; its events
        go out after COMMIT. A replay returns the stored first answer and announces nothing."""
        checked = idempotency.check_key(key)
        req_hash = idempotency.body_hash(route, body)
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> tuple[int, dict[str, Any], bool]:
            def run() -> tuple[int, dict[str, Any]]:
                response, events = work(conn, now, checked)
                for event in events:
                    emit(conn, event)
                return 201, response

            return idempotency.once(conn, user_id, checked, req_hash, iso(now), run)

        status, answer, replayed = await self.db.write(unit)
        return Reply(status, answer, replayed)

    # -- reads (routes translate these; they hold no SQL) -----------------------------
    def wallet_of(self, user_id: str) -> dict[str, Any]:
        """The caller's coins plus today's cap and spend."""
        conn, now = self.db.inline.conn, self.clock.now()
        view: dict[str, Any] = wallet.view(conn, user_id)
        user = self.db.inline.one("SELECT * FROM users WHERE id = ?", (user_id,))
        if user is None:
            raise NotFound("no such user", field="userId")
        view["dailySpendLimit"] = wallet.daily_limit(user, now.date(), self.spend) or None
        view["spentToday"] = wallet.spent_today(conn, user_id, now.date().isoformat())
        return view

    async def transactions(self, user_id: str, cursor: int | None, limit: int) -> dict[str, Any]:
        """Ledger lines, newest first, one page (`cursor`: the last id of the previous page)."""
        rows = await self.db.readers.fetchall(*wallet.transactions_query(user_id, limit=limit, before=cursor))
        return page(wallet.transaction_rows(rows), limit)

    async def ledger_of(self, user_id: str, cursor: int | None, limit: int) -> dict[str, Any]:
        """An admin's view of a user's wallet and ledger lines; 404 for an unknown user."""
        if self.db.inline.one("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
            raise NotFound("no such user", field="userId")  # the wallet view has a row for anyone
        return {
            "wallet": wallet.view_from_row(self._wallet_row(user_id)),
            **await self.transactions(user_id, cursor, limit),
        }

    async def payouts(self, status: str, limit: int) -> dict[str, Any]:
        rows = await self.db.readers.fetchall(wallet.PAYOUTS_SQL, (status, limit))
        return {"items": [wallet.payout_json(r) for r in rows]}

    def og_tier_list(self) -> list[dict[str, Any]]:
        """Tiers with the gifts each unlocks."""
        rows = self.db.inline.all("SELECT id, og_min_level FROM gifts WHERE og_min_level > 0 AND active = 1")
        return [
            t.to_json([r["id"] for r in rows if r["og_min_level"] <= t.tier]) for _, t in sorted(self.tiers.items())
        ]

    async def create_gift(self, spec: catalog.GiftSpec, actor: audit.Actor) -> dict[str, Any]:
        now = self.clock.now()
        return await self.db.write(lambda conn: catalog.create(conn, spec, actor, now))

    async def update_gift(self, gift_id: str, changes: dict[str, Any], actor: audit.Actor) -> dict[str, Any]:
        now = self.clock.now()
        return await self.db.write(lambda conn: catalog.update(conn, gift_id, changes, actor, now))

    async def send_gift(self, user_id: str, stream_id: str, gift_id: str, quantity: int, key: str | None) -> Reply:
        def work(conn: sqlite3.Connection, now: datetime, key: str) -> tuple[dict[str, Any], list[Event]]:
            out = gift_send.send_gift(
                conn,
                sender_id=user_id,
                stream_id=stream_id,
                gift_id=gift_id,
                quantity=quantity,
                key=key,
                policy=self.gift_policy,
                now=now,
            )
            return out.response, out.events

        return await self._once(user_id, key, f"gift:{stream_id}", {"giftId": gift_id, "quantity": quantity}, work)

    async def subscribe_og(self, user_id: str, tier: int, key: str | None) -> Reply:
        t = og_tiers.get(self.tiers, tier)
        sub_id = self.ids.new()

        def work(conn: sqlite3.Connection, now: datetime, key: str) -> tuple[dict[str, Any], list[Event]]:
            out = og_subscribe.subscribe(
                conn, user_id=user_id, tier=t, key=key, sub_id=sub_id, now=now, spend=self.spend
            )
            return out.response, out.events

        return await self._once(user_id, key, "og:subscribe", {"tier": tier}, work)

    async def request_payout(self, user_id: str, amount: int, key: str | None) -> Reply:
        payout_id = self.ids.new()
        if self.trust_gates is not None:
            self.trust_gates.check(self.db.inline.conn, user_id, "payouts")
        return await self._once(
            user_id,
            key,
            "payout",
            {"amount": amount},
            lambda conn, now, _key: (wallet.request_payout(conn, payout_id, user_id, amount, now), []),
        )

    async def set_daily_limit(
        self, user_id: str, limit: int | None, actor: audit.Actor | None = None, lock: bool | None = None
    ) -> dict[str, Any]:
        """The user's own call (no actor) or an admin's (actor: audited, may lock)."""
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> dict[str, Any]:
            before = conn.execute(
                "SELECT daily_spend_limit, spend_limit_locked FROM users WHERE id = ?", (user_id,)
            ).fetchone()
            if actor is None:
                wallet.refuse_minor_raise(
                    conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone(),
                    limit,
                    now.date(),
                    self.spend,
                )
            wallet.set_daily_limit(conn, user_id, limit, by_admin=actor is not None, lock=lock)
            user = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
            if actor:
                audit.record(
                    conn,
                    actor,
                    "wallet.set_limit",
                    target_type="user",
                    target_id=user_id,
                    before={"dailySpendLimit": before[0], "locked": bool(before[1])},
                    after={"dailySpendLimit": limit, "locked": bool(user["spend_limit_locked"])},
                    at=iso(now),
                )
            return {
                "dailySpendLimit": wallet.daily_limit(user, now.date(), self.spend) or None,
                "locked": bool(user["spend_limit_locked"]),
                "spentToday": wallet.spent_today(conn, user_id, now.date().isoformat()),
            }

        return await self.db.write(unit)

    async def decide_payout(
        self, payout_id: str, approve: bool, actor: audit.Actor, note: str | None
    ) -> dict[str, Any]:
        now = self.clock.now()

        def unit(conn: sqlite3.Connection) -> dict[str, Any]:
            out = wallet.decide_payout(conn, payout_id, approve, actor.name, now, note)
            audit.record(
                conn,
                actor,
                f"payout.{out['status']}",
                target_type="payout",
                target_id=payout_id,
                before={"status": "pending"},
                after=out,
                at=iso(now),
            )
            return out

        return await self.db.write(unit)

    async def adjust(
        self, user_id: str, amount: int, bucket: str, reason: str, actor: audit.Actor, key: str | None = None
    ) -> dict[str, Any]:
        """An operator grant or revocation, audited. With an Idempotency-Key a retry returns the
        first answer (keys are per admin) instead of granting twice."""
        now = self.clock.now()
        tx_key = f"adjust:{self.ids.new()}"
        if key is None:
            return await self.db.write(
                lambda conn: adjust_audited(conn, tx_key, user_id, amount, bucket, reason, actor, now)
            )
        checked = idempotency.check_key(key)
        req_hash = idempotency.body_hash(f"adjust:{user_id}", {"amount": amount, "bucket": bucket, "reason": reason})

        def unit(conn: sqlite3.Connection) -> tuple[int, dict[str, Any], bool]:
            return idempotency.once(
                conn,
                actor.user_id or actor.name,
                checked,
                req_hash,
                iso(now),
                lambda: (200, adjust_audited(conn, tx_key, user_id, amount, bucket, reason, actor, now)),
            )

        _, answer, _ = await self.db.write(unit)
        return answer

    # -- jobs (idempotent functions of the database) -------------------------------
    job_batch = og_bonus.BATCH  # OG rows per write unit, so an OG job never holds the writer long

    async def run_daily_bonus(self) -> int:
        """Pay every owed OG bonus: due periods listed on a reader, settled in short write units."""
        now, paid = self.clock.now(), 0
        sql, params = og_bonus.due_query(now)
        due = [r[0] for r in await self.db.readers.fetchall(sql, params)]
        while due:  # every unit consumes at least one id
            batch = await self.db.write(partial(og_bonus.pay_batch, now=now, limit=self.job_batch, ids=due))
            paid += len(batch.paid)
            due = due[batch.consumed :]
        return paid

    async def run_og_expiry(self) -> int:
        """Bring OG levels in line, `job_batch` users per write unit; events go out after each commit."""
        now, changed = self.clock.now(), 0
        sql, params = og_bonus.level_query(now)
        users = [r[0] for r in await self.db.readers.fetchall(sql, params)]

        def unit(conn: sqlite3.Connection, ids: list[str]) -> og_bonus.ExpiryBatch:
            batch = og_bonus.expire_batch(conn, now, self.job_batch, ids)
            for event in batch.events:
                emit(conn, event)
            return batch

        while users:
            batch = await self.db.write(partial(unit, ids=users))
            changed += len(batch.events)
            users = users[batch.consumed :]
        return changed

    async def run_hold_release(self, batch: int = 2000) -> int:
        """Release every matured hold, `batch` per write unit so the writer is never held long."""
        now = self.clock.now()
        total = 0
        while True:
            done = await self.db.write(lambda conn: wallet.release_due_holds(conn, now, limit=batch))
            total += done
            if done < batch:
                return total


def adjust_audited(
    conn: sqlite3.Connection,
    tx_key: str,
    user_id: str,
    amount: int,
    bucket: str,
    reason: str,
    actor: audit.Actor,
    now: datetime,
) -> dict[str, Any]:
    """The write unit behind `coins grant|revoke` and the admin API: ledger + audit, together."""
    if conn.execute("SELECT id FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise NotFound("no such user", field="user")
    posted = wallet.adjust(conn, tx_key, user_id, amount, bucket, reason, now)
    audit.record(
        conn,
        actor,
        "coins.grant" if amount > 0 else "coins.revoke",
        target_type="user",
        target_id=user_id,
        after={"amount": amount, "bucket": bucket, "reason": reason, "txId": posted.tx_id},
        at=iso(now),
    )
    return {"txId": posted.tx_id, **wallet.view(conn, user_id)}
