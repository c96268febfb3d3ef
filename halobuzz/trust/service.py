"""Trust as async calls: explain a score, admin verification (audited), and the sync job that keeps
users.trust_score (what /me shows) equal to the computed score."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..accounts import audit
from ..errors import NotFound
from ..infra.clock import iso
from . import signals
from .gates import GatePolicy, Gates

SYNC_BATCH = 500


def set_verified(conn, user_id: str, verified: bool, actor: audit.Actor, now, note: str | None = None) -> dict:
    row = conn.execute("SELECT trust_verified FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("no such user", field="userId")
    conn.execute("UPDATE users SET trust_verified = ?, updated_at = ? WHERE id = ?", (int(verified), iso(now), user_id))
    if verified:
        conn.execute(
            "INSERT INTO trust_verifications(user_id, verified_by, note, at) VALUES (?,?,?,?) "
            "ON CONFLICT(user_id) DO UPDATE SET verified_by = excluded.verified_by, note = excluded.note, "
            "at = excluded.at",
            (user_id, actor.name, note, iso(now)),
        )
    else:
        conn.execute("DELETE FROM trust_verifications WHERE user_id = ?", (user_id,))
    signals.sync(conn, user_id, now)
    out = signals.explain(conn, user_id, now)
    audit.record(
        conn,
        actor,
        "trust.verify" if verified else "trust.unverify",
        target_type="user",
        target_id=user_id,
        before={"verified": bool(row[0])},
        after={"verified": verified, "score": out["score"], "level": out["level"], "note": note},
        at=iso(now),
    )
    return {"userId": user_id, **out}


class Trust:
    def __init__(self, db, clock, policy: GatePolicy | None = None, sync_every: float = 600) -> None:
        self.db, self.clock = db, clock
        self.gates = Gates(policy or GatePolicy(), clock)
        self.sync_every = sync_every
        self._cursor = ""

    async def explain(self, user_id: str) -> dict[str, Any]:
        now = self.clock.now()
        return signals.explain(self.db.inline.conn, user_id, now)

    async def set_verified(self, user_id: str, verified: bool, actor: audit.Actor, note: str | None = None) -> dict:
        now = self.clock.now()
        return await self.db.write(lambda conn: set_verified(conn, user_id, verified, actor, now, note))

    async def run_sync(self) -> int:
        """Recompute users with recent activity, plus the next slice of everyone (account age moves daily)."""
        now = self.clock.now()
        since = iso(now - timedelta(seconds=2 * self.sync_every))
        recent = await self.db.readers.fetchall(
            "SELECT user_id FROM reputation_events WHERE at >= ?1 UNION "
            "SELECT user_id FROM moderation_decisions WHERE kind IN ('text', 'image') AND at >= ?1 AND action = 'block' "
            "AND user_id IS NOT NULL "
            "UNION SELECT user_id FROM payment_orders WHERE updated_at >= ?1 UNION "
            "SELECT host_id FROM streams WHERE ended_at >= ?1",
            (since,),
        )
        sliced = await self.db.readers.fetchall(
            "SELECT id FROM users WHERE id > ? ORDER BY id LIMIT ?", (self._cursor, SYNC_BATCH)
        )
        self._cursor = sliced[-1][0] if len(sliced) == SYNC_BATCH else ""
        ids = sorted({r[0] for r in recent} | {r[0] for r in sliced})
        changed = 0
        for i in range(0, len(ids), SYNC_BATCH):
            chunk = ids[i : i + SYNC_BATCH]

            def unit(conn, chunk=chunk):
                n = 0
                for uid in chunk:
                    before = conn.total_changes
                    signals.sync(conn, uid, now)
                    n += conn.total_changes != before
                return n

            changed += await self.db.write(unit)
        return changed
