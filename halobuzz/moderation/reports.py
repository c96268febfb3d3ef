"""Reports and flags (the seed's ModerationFlag), the review queue, appeals, reputation.

A flag is raised by a user report (`POST /api/v1/reports`) or by the system (a blocked chat
message, an NSFW image, an age-review selfie). Status moves pending → reviewed (a moderator
confirmed an action; the affected user may appeal) → resolved (dismissed, or the appeal was
decided). Confirmed actions change the affected user's trust score (users.trust_score,
0–100) through a reputation event; dismissing an automated flag or overturning on appeal
reverses the automated effects (chat ban lifted, image un-blurred, message restored,
suspension lifted) and the trust change. Every moderator action is written to the audit log.

All functions here are write units or reads on a plain sqlite3 connection.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..accounts import audit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..infra.clock import iso, parse_iso
from . import chatbans, decisions

TYPES = ("user", "stream", "message", "content")
ACTIONS = ("warn", "blur", "ban", "delete", "none")
STATUSES = ("pending", "reviewed", "resolved")
# Trust-score change for the affected user when an action is confirmed.
TRUST_DELTAS = {"warn": -2, "blur": -5, "delete": -5, "ban": -10, "none": 0}
REPORTER_CONFIRMED = +1
REPORTER_DISMISSED = -1
MAX_REASON = 200
MAX_DETAILS = 2000


# -- flags ----------------------------------------------------------------------------------


def _target_owner(conn: sqlite3.Connection, type_: str, target_id: str) -> tuple[str | None, str | None]:
    """(affected user id, stream id) for a report target; NotFound names targetId."""
    if type_ == "user":
        row = conn.execute(
            "SELECT id FROM users WHERE id = ? OR username = ? COLLATE NOCASE", (target_id, target_id)
        ).fetchone()
        if row:
            return row["id"], None
    elif type_ == "stream":
        row = conn.execute("SELECT host_id, id FROM streams WHERE id = ?", (target_id,)).fetchone()
        if row:
            return row["host_id"], row["id"]
    elif type_ == "message":
        row = conn.execute("SELECT user_id, stream_id FROM chat_messages WHERE id = ?", (target_id,)).fetchone()
        if row:
            return row["user_id"], row["stream_id"]
        row = conn.execute("SELECT sender_id FROM dm_messages WHERE id = ?", (target_id,)).fetchone()
        if row:
            return row["sender_id"], None
    elif type_ == "content":
        row = conn.execute("SELECT owner_id, stream_id FROM moderation_images WHERE id = ?", (target_id,)).fetchone()
        if row:
            return row["owner_id"], row["stream_id"]
    raise NotFound(f"no such {type_} to report", field="targetId")


def create_flag(
    conn: sqlite3.Connection,
    *,
    flag_id: str,
    now: datetime,
    type: str,
    target_id: str,
    reason: str,
    reporter_id: str | None = None,
    details: str | None = None,
    score: float | None = None,
    decision_id: int | None = None,
    action: str = "none",
    target_user_id: str | None = None,
    stream_id: str | None = None,
) -> dict[str, Any]:
    if type not in TYPES:
        raise Invalid(f"type must be one of {', '.join(TYPES)}", field="type")
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}", field="action")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason must not be empty", field="reason")
    if target_user_id is None:
        target_user_id, found_stream = _target_owner(conn, type, target_id)
        stream_id = stream_id or found_stream
        if type == "user":
            target_id = target_user_id
    if reporter_id is not None:
        if type == "message" and not _may_see_message(conn, reporter_id, target_id):
            raise NotFound(f"no such {type} to report", field="targetId")  # a DM is only its participants'
        if reporter_id == target_user_id and type == "user":
            raise Invalid("you cannot report yourself", field="targetId")
        dup = conn.execute(
            "SELECT id FROM moderation_flags WHERE reporter_id = ? AND type = ? AND target_id = ? "
            "AND status = 'pending'",
            (reporter_id, type, target_id),
        ).fetchone()
        if dup:
            # Merged into the open report: a new reason or details are added to it, nothing else.
            row = get_row(conn, dup["id"])
            extra = "; ".join(x for x in (reason if reason != row["reason"] else "", (details or "").strip()) if x)
            if extra and extra not in (row["details"] or ""):
                merged = f"{row['details']}\n{extra}" if row["details"] else extra
                conn.execute(
                    "UPDATE moderation_flags SET details = ?, updated_at = ? WHERE id = ?",
                    (merged[-MAX_DETAILS:], iso(now), dup["id"]),
                )
            return {**flag_json(conn, get_row(conn, dup["id"])), "merged": True}
    at = iso(now)
    conn.execute(
        "INSERT INTO moderation_flags(id, reporter_id, type, target_id, target_user_id, stream_id, reason, "
        "details, score, decision_id, action, status, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
        (
            flag_id,
            reporter_id,
            type,
            target_id,
            target_user_id,
            stream_id,
            reason[:MAX_REASON],
            (details or None) and details[:MAX_DETAILS],
            score,
            decision_id,
            action,
            at,
            at,
        ),
    )
    return flag_json(conn, get_row(conn, flag_id))


def _may_see_message(conn: sqlite3.Connection, user_id: str, message_id: str) -> bool:
    """Room chat is public; a direct message only to the two people in its conversation."""
    row = conn.execute(
        "SELECT c.user_a, c.user_b FROM dm_messages m JOIN dm_conversations c "
        "ON c.id = m.conversation_id WHERE m.id = ?",
        (message_id,),
    ).fetchone()
    return row is None or user_id in (row["user_a"], row["user_b"])


def subject(conn: sqlite3.Connection, type_: str, target_id: str) -> dict[str, Any] | None:
    """What a flag is about, for the reviewer: the text of the flagged chat message or DM, who
    wrote it and where (room or conversation); None for other flag types."""
    if type_ != "message":
        return None
    r = conn.execute(
        "SELECT m.id, m.text, m.status, m.created_at, m.stream_id, u.id AS uid, u.username, "
        "s.title FROM chat_messages m LEFT JOIN users u ON u.id = m.user_id "
        "LEFT JOIN streams s ON s.id = m.stream_id WHERE m.id = ?",
        (target_id,),
    ).fetchone()
    if r is not None:
        return {
            "kind": "chat",
            "messageId": r["id"],
            "text": r["text"],
            "status": r["status"],
            "at": r["created_at"],
            "author": {"id": r["uid"], "username": r["username"]},
            "where": {"streamId": r["stream_id"], "streamTitle": r["title"]},
        }
    r = conn.execute(
        "SELECT m.id, m.text, m.status, m.created_at, m.conversation_id, m.sender_id, "
        "a.username AS sender_name, o.id AS other_id, o.username AS other_name "
        "FROM dm_messages m JOIN dm_conversations c ON c.id = m.conversation_id "
        "JOIN users a ON a.id = m.sender_id "
        "JOIN users o ON o.id = CASE WHEN c.user_a = m.sender_id THEN c.user_b ELSE c.user_a END "
        "WHERE m.id = ?",
        (target_id,),
    ).fetchone()
    if r is not None:
        return {
            "kind": "dm",
            "messageId": r["id"],
            "text": r["text"],
            "status": r["status"],
            "at": r["created_at"],
            "author": {"id": r["sender_id"], "username": r["sender_name"]},
            "where": {
                "conversationId": r["conversation_id"],
                "recipient": {"id": r["other_id"], "username": r["other_name"]},
            },
        }
    return None


def get_row(conn: sqlite3.Connection, flag_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM moderation_flags WHERE id = ?", (flag_id,)).fetchone()
    if row is None:
        raise NotFound("no such flag", field="flagId")
    return row


def flag_json(conn: sqlite3.Connection, r: sqlite3.Row, *, with_decision: bool = True) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "reporterId": r["reporter_id"],
        "type": r["type"],
        "targetId": r["target_id"],
        "targetUserId": r["target_user_id"],
        "streamId": r["stream_id"],
        "reason": r["reason"],
        "details": r["details"],
        "score": r["score"],
        "action": r["action"],
        "status": r["status"],
        "resolution": r["resolution"],
        "reviewedBy": r["reviewed_by"],
        "reviewedAt": r["reviewed_at"],
        "note": r["note"],
        "createdAt": r["created_at"],
        "updatedAt": r["updated_at"],
        "automated": r["reporter_id"] is None,
    }
    out["subject"] = subject(conn, r["type"], r["target_id"])
    if with_decision:
        out["decision"] = decisions.to_json(decisions.get(conn, r["decision_id"]))
        ap = conn.execute(
            "SELECT * FROM moderation_appeals WHERE flag_id = ? ORDER BY created_at DESC LIMIT 1", (r["id"],)
        ).fetchone()
        out["appeal"] = appeal_json(ap) if ap else None
    return out


def queue(
    conn: sqlite3.Connection,
    *,
    status: str = "pending",
    type: str | None = None,
    limit: int = 50,
    before: str | None = None,
) -> dict[str, Any]:
    """Oldest first, so nothing starves; `before` is the cursor (created_at|id of the last item seen)."""
    if status not in (*STATUSES, "appealed", "all"):
        raise Invalid(f"status must be one of {', '.join((*STATUSES, 'appealed', 'all'))}", field="status")
    sql = "SELECT * FROM moderation_flags f WHERE 1=1"
    params: list[Any] = []
    if status == "appealed":
        sql += " AND EXISTS(SELECT 1 FROM moderation_appeals a WHERE a.flag_id = f.id AND a.status = 'pending')"
    elif status != "all":
        sql += " AND status = ?"
        params.append(status)
    if type:
        if type not in TYPES:
            raise Invalid(f"type must be one of {', '.join(TYPES)}", field="type")
        sql += " AND type = ?"
        params.append(type)
    if before:
        at, _, fid = before.partition("|")
        sql += " AND (created_at, id) > (?, ?)"
        params += [at, fid]
    sql += " ORDER BY created_at, id LIMIT ?"
    params.append(limit + 1)
    rows = conn.execute(sql, params).fetchall()
    items = [flag_json(conn, r) for r in rows[:limit]]
    cursor = f"{rows[limit - 1]['created_at']}|{rows[limit - 1]['id']}" if len(rows) > limit else None
    return {"items": items, "cursor": cursor}


# -- reputation -----------------------------------------------------------------------------


def adjust_trust(
    conn: sqlite3.Connection, user_id: str, delta: int, reason: str, now: datetime, flag_id: str | None = None
) -> int | None:
    if not delta or not user_id:
        return None
    row = conn.execute("SELECT trust_score FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        return None
    after = max(0, min(100, int(row["trust_score"]) + delta))
    applied = after - int(row["trust_score"])
    conn.execute("UPDATE users SET trust_score = ?, updated_at = ? WHERE id = ?", (after, iso(now), user_id))
    conn.execute(
        "INSERT INTO reputation_events(user_id, delta, score_after, reason, flag_id, at) VALUES (?,?,?,?,?,?)",
        (user_id, applied, after, reason, flag_id, iso(now)),
    )
    return after


def reputation(conn: sqlite3.Connection, user_id: str, limit: int = 50) -> dict[str, Any]:
    row = conn.execute("SELECT trust_score FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("no such user", field="userId")
    events = [
        {
            "id": r["id"],
            "delta": r["delta"],
            "scoreAfter": r["score_after"],
            "reason": r["reason"],
            "flagId": r["flag_id"],
            "at": r["at"],
        }
        for r in conn.execute(
            "SELECT * FROM reputation_events WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
        )
    ]
    return {"userId": user_id, "trustScore": row["trust_score"], "events": events}


def _reverse_trust(conn: sqlite3.Connection, flag_id: str, user_id: str | None, now: datetime, reason: str) -> None:
    if not user_id:
        return
    total = conn.execute(
        "SELECT COALESCE(SUM(delta), 0) FROM reputation_events WHERE flag_id = ? AND user_id = ?", (flag_id, user_id)
    ).fetchone()[0]
    if total:
        adjust_trust(conn, user_id, -int(total), reason, now, flag_id)


# -- review ---------------------------------------------------------------------------------


@dataclass
class Effects:
    """What the caller does after COMMIT (events, stream end): the unit cannot await."""

    flag: dict[str, Any]
    warn_user: str | None = None
    end_stream: str | None = None
    deleted_message: tuple[str, str] | None = None  # (stream id, message id)
    suspended_until: str | None = None
    notes: list[str] = field(default_factory=list)


def _undo_automated(conn: sqlite3.Connection, f: sqlite3.Row, by: str, now: datetime) -> list[str]:
    """Reverse what the system did on its own for this flag (false positive)."""
    done = []
    if chatbans.lift_for_flag(conn, f["id"], by, now):
        done.append("chat ban lifted")
    if f["type"] == "content":
        cur = conn.execute(
            "UPDATE moderation_images SET status = 'ok' WHERE id = ? AND status = 'blurred'", (f["target_id"],)
        )
        if cur.rowcount:
            done.append("image un-blurred")
    return done


def review(
    conn: sqlite3.Connection,
    flag_id: str,
    *,
    decision: str,
    action: str | None,
    actor: audit.Actor,
    now: datetime,
    note: str | None = None,
    ban_seconds: int | None = None,
    end_stream: bool = False,
    ban_ladder: tuple[int, ...] = chatbans.DEFAULT_LADDER,
    ban_window: int = 7 * 86400,
) -> Effects:
    from ..accounts import users

    f = get_row(conn, flag_id)
    if f["status"] == "resolved":
        raise Conflict("this flag is already resolved", code="already_resolved", field="flagId")
    if decision not in ("confirm", "dismiss"):
        raise Invalid("decision must be confirm or dismiss", field="decision")
    before = {"status": f["status"], "action": f["action"]}
    at = iso(now)
    fx = Effects(flag={})
    if decision == "dismiss":
        fx.notes += _undo_automated(conn, f, actor.name, now)
        _reverse_trust(conn, flag_id, f["target_user_id"], now, "flag dismissed")
        if f["reporter_id"]:
            adjust_trust(conn, f["reporter_id"], REPORTER_DISMISSED, "report dismissed", now, flag_id)
        conn.execute(
            "UPDATE moderation_flags SET status='resolved', resolution='dismissed', action='none', "
            "reviewed_by=?, reviewed_at=?, note=?, updated_at=? WHERE id=?",
            (actor.name, at, note, at, flag_id),
        )
    else:
        action = action or f["action"]
        if action not in ACTIONS:
            raise Invalid(f"action must be one of {', '.join(ACTIONS)}", field="action")
        if action == "blur" and f["type"] != "content":
            raise Invalid("blur applies to content (images) only", field="action")
        if action == "delete" and f["type"] not in ("message", "content"):
            raise Invalid("delete applies to messages and content only", field="action")
        target_user = f["target_user_id"]
        if action == "warn":
            fx.warn_user = target_user
        elif action == "delete":
            if f["type"] == "message":
                cur = conn.execute(
                    "UPDATE chat_messages SET status='deleted', deleted_by=? WHERE id=? AND status='visible'",
                    (actor.user_id or actor.name, f["target_id"]),
                )
                if cur.rowcount:
                    fx.deleted_message = (f["stream_id"], f["target_id"])
                else:  # a direct message: taken out of the conversation for both sides
                    conn.execute(
                        "UPDATE dm_messages SET status='removed' WHERE id=? AND status='delivered'", (f["target_id"],)
                    )
            else:
                conn.execute("UPDATE moderation_images SET status='removed' WHERE id=?", (f["target_id"],))
        elif action == "blur":
            img = conn.execute("SELECT blurred_sha256 FROM moderation_images WHERE id=?", (f["target_id"],)).fetchone()
            if img is None or not img["blurred_sha256"]:
                raise Conflict("no blurred derivative exists for this image yet", code="no_derivative")
            conn.execute(
                "UPDATE moderation_images SET status='blurred' WHERE id=? AND status != 'removed'", (f["target_id"],)
            )
        elif action == "ban" and target_user:
            if ban_seconds is not None and ban_seconds <= 0:
                raise Invalid("banSeconds must be positive", field="banSeconds")
            if ban_seconds:
                until = now + timedelta(seconds=ban_seconds)
                users.set_status(
                    conn, target_user, "suspended", actor, now, reason=f"moderation: {f['reason']}", until=until
                )
                fx.suspended_until = iso(until)
            elif not conn.execute("SELECT 1 FROM moderation_chat_bans WHERE flag_id = ?", (flag_id,)).fetchone():
                ban = chatbans.impose(
                    conn,
                    target_user,
                    now,
                    ladder=ban_ladder,
                    window_seconds=ban_window,
                    reason=f"moderator: {f['reason']}",
                    flag_id=flag_id,
                )
                fx.notes.append(f"chat ban until {iso(ban.until)}")
        if end_stream:
            if f["type"] not in ("stream", "content") or not f["stream_id"]:
                raise Invalid("endStream applies to stream flags (or a stream's images) only", field="endStream")
            fx.end_stream = f["stream_id"]
        adjust_trust(conn, target_user, TRUST_DELTAS[action], f"{action} confirmed: {f['reason']}", now, flag_id)
        if f["reporter_id"] and action != "none":
            adjust_trust(conn, f["reporter_id"], REPORTER_CONFIRMED, "report confirmed", now, flag_id)
        conn.execute(
            "UPDATE moderation_flags SET status=?, resolution='confirmed', action=?, reviewed_by=?, "
            "reviewed_at=?, note=?, updated_at=? WHERE id=?",
            ("reviewed" if action != "none" else "resolved", action, actor.name, at, note, at, flag_id),
        )
    after_row = get_row(conn, flag_id)
    audit.record(
        conn,
        actor,
        f"moderation.{decision}",
        target_type="flag",
        target_id=flag_id,
        before=before,
        after={
            "status": after_row["status"],
            "action": after_row["action"],
            "note": note,
            "effects": fx.notes,
            "endStream": fx.end_stream,
            "suspendedUntil": fx.suspended_until,
        },
        at=at,
    )
    fx.flag = flag_json(conn, after_row)
    return fx


# -- appeals --------------------------------------------------------------------------------


def appeal_json(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "flagId": r["flag_id"],
        "userId": r["user_id"],
        "text": r["text"],
        "status": r["status"],
        "decidedBy": r["decided_by"],
        "decidedAt": r["decided_at"],
        "note": r["note"],
        "createdAt": r["created_at"],
    }


def appeal(
    conn: sqlite3.Connection, *, appeal_id: str, flag_id: str, user_id: str, text: str, now: datetime
) -> dict[str, Any]:
    f = get_row(conn, flag_id)
    if f["target_user_id"] != user_id:
        raise Forbidden("only the affected user can appeal this", code="not_affected")
    if f["action"] == "none":
        raise Conflict("nothing was done on this flag; there is nothing to appeal", code="nothing_to_appeal")
    if f["status"] == "resolved":
        raise Conflict("this flag is already resolved", code="already_resolved")
    text = (text or "").strip()
    if not text:
        raise Invalid("text must not be empty", field="text")
    if conn.execute("SELECT 1 FROM moderation_appeals WHERE flag_id = ? AND status = 'pending'", (flag_id,)).fetchone():
        raise Conflict("an appeal on this flag is already waiting", code="appeal_pending", field="flagId")
    conn.execute(
        "INSERT INTO moderation_appeals(id, flag_id, user_id, text, status, created_at) VALUES (?,?,?,?, 'pending', ?)",
        (appeal_id, flag_id, user_id, text[:MAX_DETAILS], iso(now)),
    )
    return appeal_json(conn.execute("SELECT * FROM moderation_appeals WHERE id = ?", (appeal_id,)).fetchone())


def my_flags(conn: sqlite3.Connection, user_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """Actions taken on the caller's account or content (what they may appeal)."""
    rows = conn.execute(
        "SELECT * FROM moderation_flags WHERE target_user_id = ? AND action != 'none' ORDER BY created_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    out = []
    for r in rows:
        j = flag_json(conn, r)
        j.pop("reporterId", None)  # reporters stay anonymous to the reported
        out.append(j)
    return out


def decide_appeal(
    conn: sqlite3.Connection,
    appeal_id: str,
    *,
    outcome: str,
    actor: audit.Actor,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    from ..accounts import users

    a = conn.execute("SELECT * FROM moderation_appeals WHERE id = ?", (appeal_id,)).fetchone()
    if a is None:
        raise NotFound("no such appeal", field="appealId")
    if a["status"] != "pending":
        raise Conflict("this appeal was already decided", code="already_decided")
    if outcome not in ("upheld", "overturned"):
        raise Invalid("outcome must be upheld or overturned", field="outcome")
    f = get_row(conn, a["flag_id"])
    at = iso(now)
    notes: list[str] = []
    if outcome == "overturned":
        notes += _undo_automated(conn, f, actor.name, now)
        if f["action"] == "delete" and f["type"] == "message":
            cur = conn.execute(
                "UPDATE chat_messages SET status='visible', deleted_by=NULL WHERE id=? AND status='deleted'",
                (f["target_id"],),
            )
            if not cur.rowcount:
                cur = conn.execute(
                    "UPDATE dm_messages SET status='delivered' WHERE id=? AND status='removed'", (f["target_id"],)
                )
            if cur.rowcount:
                notes.append("message restored")
        if f["action"] == "delete" and f["type"] == "content":
            conn.execute(
                "UPDATE moderation_images SET status = CASE WHEN blurred_sha256 IS NULL THEN 'ok' "
                "ELSE 'blurred' END WHERE id=? AND status='removed'",
                (f["target_id"],),
            )
            notes.append("image restored")
        if f["action"] == "ban" and f["target_user_id"]:
            u = conn.execute("SELECT status, status_reason FROM users WHERE id=?", (f["target_user_id"],)).fetchone()
            if u and u["status"] == "suspended" and (u["status_reason"] or "").startswith("moderation:"):
                users.set_status(conn, f["target_user_id"], "active", actor, now, reason="appeal overturned")
                notes.append("suspension lifted")
        _reverse_trust(conn, f["id"], f["target_user_id"], now, "appeal overturned")
    conn.execute(
        "UPDATE moderation_appeals SET status=?, decided_by=?, decided_at=?, note=? WHERE id=?",
        (outcome, actor.name, at, note, appeal_id),
    )
    conn.execute(
        "UPDATE moderation_flags SET status='resolved', resolution=?, updated_at=?, "
        "action = CASE WHEN ? = 'overturned' THEN 'none' ELSE action END WHERE id=?",
        (outcome, at, outcome, f["id"]),
    )
    audit.record(
        conn,
        actor,
        f"moderation.appeal_{outcome}",
        target_type="flag",
        target_id=f["id"],
        before={"status": f["status"], "action": f["action"]},
        after={"appealId": appeal_id, "outcome": outcome, "note": note, "effects": notes},
        at=at,
    )
    out = appeal_json(conn.execute("SELECT * FROM moderation_appeals WHERE id = ?", (appeal_id,)).fetchone())
    out["effects"] = notes
    out["flag"] = flag_json(conn, get_row(conn, f["id"]))
    return out


def appeals(conn: sqlite3.Connection, status: str = "pending", limit: int = 50) -> list[dict[str, Any]]:
    return [
        appeal_json(r)
        for r in conn.execute(
            "SELECT * FROM moderation_appeals WHERE status = ? ORDER BY created_at LIMIT ?", (status, limit)
        )
    ]


def details_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def queue_stats(conn: sqlite3.Connection, now: datetime) -> dict[str, tuple[int, float]]:
    """{flag type: (pending count, age in seconds of the oldest pending)} for every type (metrics)."""
    out = {t: (0, 0.0) for t in TYPES}
    for r in conn.execute(
        "SELECT type, COUNT(*) AS n, MIN(created_at) AS oldest FROM moderation_flags "
        "WHERE status = 'pending' GROUP BY type"
    ):
        out[r["type"]] = (int(r["n"]), max(0.0, (now - parse_iso(r["oldest"])).total_seconds()))
    return out
