"""Moderation at run time: the chat moderator, image uploads, selfies, the review queue.

Built once by the composition root (moderation/setup.py); the ONNX scorers load in a thread after
start (loading.py), and every scoring path waits for them rather than skipping moderation. Domain code:
no Sanic; events leave through the bus after COMMIT; other areas (ending a stream,
pruning the chat backlog) are reached through plain callables passed in.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import Any, Awaitable, Callable

from ..accounts import audit
from ..chat.moderation import ModerationVerdict
from ..db import emit
from ..errors import Conflict, DomainError, Forbidden, Invalid, NotFound, PayloadTooLarge, UnsupportedMedia
from ..events import AI_WARNING, CHAT_DELETED, Event
from ..infra.clock import iso, parse_iso
from . import chatbans, decisions, reports, restrictions
from . import image as img
from .loading import ModelLoader, Scorers
from .media import MediaStore
from .policy import Action, Decision, Thresholds, decide

log = logging.getLogger("halobuzz.moderation")
KINDS = ("profile", "thumbnail", "frame")
FLUSH_SECONDS = 0.05


_IMAGE_ERRORS = {"too_large": PayloadTooLarge, "unsupported_type": UnsupportedMedia}


def image_error(exc: img.ImageError, field: str = "image") -> DomainError:
    cls = _IMAGE_ERRORS.get(exc.code)
    if cls is not None:
        return cls(f"{field}: {exc}", field=field)
    code = "image_too_many_pixels" if exc.code == "too_many_pixels" else "image_corrupt"
    return Invalid(f"{field}: {exc}", field=field, code=code)


@dataclass(frozen=True)
class ModerationConfig:
    text: Thresholds = Thresholds(0.6, 0.9)
    image: Thresholds = Thresholds(0.5, 0.7)
    age_review: float = 0.5
    ban_ladder: tuple[int, ...] = chatbans.DEFAULT_LADDER
    ban_window: int = 7 * 86400
    image_max_bytes: int = 5 * 1024 * 1024
    image_max_pixels: int = 25_000_000

    @classmethod
    def from_settings(cls, s: Any) -> "ModerationConfig":
        return cls(
            text=Thresholds(float(s.moderation_warn), float(s.moderation_block)),
            image=Thresholds(float(s.moderation_image_warn), float(s.moderation_image_block)),
            age_review=float(s.moderation_age_review),
            ban_ladder=chatbans.parse_ladder(s.moderation_ban_ladder),
            ban_window=int(s.moderation_ban_window),
            image_max_bytes=int(s.moderation_image_max_bytes),
            image_max_pixels=int(s.moderation_image_max_pixels),
        )


class Moderation:
    records_subjects = True  # check() takes subject_id (halobuzz.chat.moderation.safe_check)

    def __init__(
        self,
        db,
        clock,
        ids,
        *,
        config: ModerationConfig,
        media: MediaStore,
        models: ModelLoader | None = None,
        text_scorer=None,
        nsfw_scorer=None,
        age_estimator=None,
        end_stream: Callable[[str, str], Awaitable[Any]] | None = None,
        forget_message: Callable[[str, str], None] | None = None,
        metrics=None,
    ) -> None:
        """`models` loads the scorers (serve: in a thread after start); or pass them built."""
        self.db = db
        self.clock = clock
        self.ids = ids
        self.config = config
        self.models = models or ModelLoader.loaded(Scorers(text_scorer, nsfw_scorer, age_estimator))
        self.media = media
        self.end_stream_fn = end_stream
        self.forget_message = forget_message
        self._ban_hint: dict[str, float] = {}  # user -> until (unix) while the ban write is in flight
        self._pending_block: dict[str, Decision] = {}  # user -> decision awaiting on_blocked
        self._buffer: list[tuple] = []  # chat decisions waiting for the next flush
        self._ro: sqlite3.Connection | None = None
        self._ro_lock = threading.Lock()
        # observability.metrics.Metrics or None; see ModerationMetrics below
        self.metrics = ModerationMetrics(metrics) if metrics is not None else None

    # -- the scorers: every use waits for the load (bounded), none skips moderation -------------
    async def ready(self) -> None:
        """Await the models' load (raises ModelsUnavailable, 503, past the wait or on a failed
        load). Async callers await this before the synchronous check/judge."""
        await self.models.wait()

    @property
    def text(self):
        return self.models.get().text

    @property
    def nsfw(self):
        return self.models.get().nsfw

    @property
    def age(self):
        return self.models.get().age

    # -- reads that run several queries (queue, flag details): off the loop, read-only -----------
    def _read_sync(self, fn):
        with self._ro_lock:
            if self._ro is None:
                from ..db.connection import connect

                self._ro = connect(self.db.path, readonly=True, check_same_thread=False)
            return fn(self._ro)

    async def read(self, fn):
        return await asyncio.to_thread(self._read_sync, fn)

    def queue_snapshot(self) -> dict[str, tuple[int, float]]:
        """{flag type: (pending, oldest age in s)} for the metrics scrape (read-only connection)."""
        return self._read_sync(lambda conn: reports.queue_stats(conn, self.clock.now()))

    def close(self) -> None:
        try:
            self.flush()
        except Exception:
            log.exception("could not flush moderation decisions")
        with self._ro_lock:
            if self._ro is not None:
                self._ro.close()
                self._ro = None

    # -- chat (the ChatModerator protocol of halobuzz.chat.moderation) -------------------------
    def banned_until(self, user_id: str, now: datetime) -> datetime | None:
        hint = self._ban_hint.get(user_id)
        ts = now.timestamp()
        if hint is not None and hint > ts:
            return datetime.fromtimestamp(hint, now.tzinfo)
        row = self.db.inline.one(
            "SELECT MAX(until) AS until FROM moderation_chat_bans WHERE user_id = ? AND lifted_at IS NULL", (user_id,)
        )
        until = parse_iso(row["until"]) if row and row["until"] else None
        return until if until and until > now else None

    def check(self, user_id: str, text: str, *, subject_id: str | None = None) -> ModerationVerdict:
        """Room chat: score, decide, remember the decision (for the message ``subject_id``)."""
        now = self.clock.now()
        until = self.banned_until(user_id, now)
        if until is not None:
            return ModerationVerdict("block", 1.0, [f"chat_ban:until={iso(until)}"], "chat-ban")
        d = self.judge(user_id, text, source="chat")
        if d.action is Action.BLOCK:
            self._pending_block[user_id] = d  # stored with its flag and ban in on_blocked
        else:
            self._buffer.append(
                decisions.values(d, kind="text", source="chat", at=now, user_id=user_id, subject_id=subject_id)
            )
            if len(self._buffer) == 1:
                loop = _loop()
                if loop is None:
                    self.flush()
                else:
                    loop.call_later(FLUSH_SECONDS, self.flush)
        return ModerationVerdict(d.action.value, d.score, list(d.reasons), d.model_id)

    def judge(self, user_id: str, text: Any, *, source: str) -> Decision:
        """Score one chat message or DM and decide (no side effects but metrics)."""
        if not isinstance(text, str):
            text = ""
        m = self.metrics
        t0 = perf_counter() if m is not None else 0.0
        v = self.text.score(text)
        d = decide(v.score, self.config.text, model_id=v.model_id, reasons=v.reasons)
        if m is not None:
            m.scored(source, d.action.value, getattr(v, "lang", "unknown"), perf_counter() - t0)
        return d

    # -- direct messages (the DMModerator protocol of halobuzz.dms.service) ----------------------
    def judge_dm(self, user_id: str, text: str) -> Decision:
        return self.judge(user_id, text, source="dm")

    def record_dm(
        self,
        conn: sqlite3.Connection,
        d: Decision,
        *,
        sender_id: str,
        message_id: str,
        conversation_id: str,
        now: datetime,
    ) -> dict[str, Any]:
        """Inside the DM's write unit: the decision (pointing at the DM), and for a block the
        review flag and the next rung of the chat ban, all committed with the message or not at all."""
        did = decisions.record(conn, d, kind="text", source="dm", at=now, user_id=sender_id, subject_id=message_id)
        out: dict[str, Any] = {"decisionId": did}
        if d.action is Action.BLOCK:
            flag_id = self.ids.new()
            cfg = self.config
            reports.create_flag(
                conn,
                flag_id=flag_id,
                now=now,
                type="message",
                target_id=message_id,
                reason="toxic direct message (automated block)",
                score=d.score,
                decision_id=did,
                action="ban",
                target_user_id=sender_id,
                details=", ".join(d.reasons) or None,
            )
            ban = chatbans.impose(
                conn,
                sender_id,
                now,
                ladder=cfg.ban_ladder,
                window_seconds=cfg.ban_window,
                reason="automated: toxic direct message",
                flag_id=flag_id,
            )
            out.update(flagId=flag_id, mutedUntil=iso(ban.until), banSeconds=ban.seconds, banLevel=ban.level)
        return out

    def on_blocked(self, user_id: str, stream_id: str, verdict: ModerationVerdict) -> None:
        if verdict.model_id == "chat-ban":
            return
        now = self.clock.now()
        d = self._pending_block.pop(user_id, None) or decide(
            verdict.score, self.config.text, model_id=verdict.model_id, reasons=verdict.reasons
        )
        flag_id = self.ids.new()
        cfg = self.config
        self._ban_hint[user_id] = now.timestamp() + cfg.ban_ladder[0]

        def unit(conn: sqlite3.Connection):
            msg = conn.execute(
                "SELECT id FROM chat_messages WHERE user_id = ? AND stream_id = ? AND status = 'blocked' "
                "ORDER BY rowid DESC LIMIT 1",
                (user_id, stream_id),
            ).fetchone()
            mid = msg["id"] if msg else None
            did = decisions.record(conn, d, kind="text", source="chat", at=now, user_id=user_id, subject_id=mid)
            reports.create_flag(
                conn,
                flag_id=flag_id,
                now=now,
                type="message",
                target_id=mid or stream_id,
                reason="toxic chat message (automated block)",
                score=d.score,
                decision_id=did,
                action="ban",
                target_user_id=user_id,
                stream_id=stream_id,
                details=", ".join(d.reasons) or None,
            )
            ban = chatbans.impose(
                conn,
                user_id,
                now,
                ladder=cfg.ban_ladder,
                window_seconds=cfg.ban_window,
                reason="automated: toxic chat message",
                flag_id=flag_id,
            )
            emit(
                conn,
                Event(
                    AI_WARNING,
                    {
                        "streamId": stream_id,
                        "kind": "chat_ban",
                        "blocked": True,
                        "until": iso(ban.until),
                        "seconds": ban.seconds,
                        "level": ban.level,
                        "flagId": flag_id,
                    },
                    users=(user_id,),
                ),
            )
            return ban

        def done(fut):
            self._ban_hint.pop(user_id, None)
            exc = fut.exception()
            if exc is not None:
                log.error("could not store a chat block", exc_info=exc)

        fut = self.db.writer.submit(unit)
        loop = _loop()
        fut.add_done_callback(lambda f: loop.call_soon_threadsafe(done, f) if loop else done(f))

    def flush(self) -> None:
        """Write the buffered allow/warn decisions as one unit (one writer hop per ~50 ms, not per message)."""
        rows, self._buffer = self._buffer, []
        if rows:
            self._submit(lambda conn: decisions.record_many(conn, rows))

    def _submit(self, fn) -> None:
        try:
            fut = self.db.writer.submit(fn)
        except Exception:
            log.exception("could not queue a moderation decision")
            return
        fut.add_done_callback(
            lambda f: f.exception() and log.error("moderation decision not stored", exc_info=f.exception())
        )

    # -- images ------------------------------------------------------------------------------
    def _analyse(self, data: bytes) -> tuple[Any, dict[str, float], float, list[str]]:
        """Decode once (limits, sniffing), score. Runs in a worker thread."""
        im = img.decode(data, max_bytes=self.config.image_max_bytes, max_pixels=self.config.image_max_pixels)
        probs = self.nsfw.score_array(self.nsfw.preprocess(im))[0]
        named = {c: round(float(p), 6) for c, p in zip(img.CLASSES, probs)}
        score = min(1.0, named["porn"] + named["hentai"] + 0.5 * named["sexy"])
        top = max(named, key=named.get)
        return im, named, round(score, 6), [f"nsfw:top={top}:{named[top]:.3f}"]

    def _check_upload(self, data: bytes | None, field: str = "image") -> bytes:
        if not data:
            raise Invalid(f"{field}: the upload is empty", field=field, code="image_empty")
        if len(data) > self.config.image_max_bytes:
            raise PayloadTooLarge(
                f"{field}: {len(data)} bytes; the limit is {self.config.image_max_bytes}", field=field
            )
        if img.sniff(data) is None:
            raise UnsupportedMedia(f"{field}: not a JPEG, PNG, GIF or WebP image", field=field)
        return bytes(data)

    def _stream_for_host(self, stream_id: str, user_id: str, *, live: bool) -> sqlite3.Row:
        row = self.db.inline.one("SELECT id, host_id, status FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            raise NotFound("no such stream", field="streamId")
        if row["host_id"] != user_id:
            raise Forbidden("only the host uploads images for this stream", code="not_host")
        if live and row["status"] != "live":
            raise Conflict("the stream is not live", code="not_live", field="streamId")
        if row["status"] == "ended" and not live:
            raise Conflict("the stream has ended", code="bad_state", field="streamId")
        return row

    async def upload_image(
        self, owner_id: str, kind: str, data: bytes | None, *, stream_id: str | None = None
    ) -> dict[str, Any]:
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
        data = self._check_upload(data)
        if kind != "profile":
            self._stream_for_host(stream_id or "", owner_id, live=kind == "frame")
        await self.ready()
        try:
            im, probs, score, reasons = await asyncio.to_thread(self._analyse, data)
        except img.ImageError as exc:
            raise image_error(exc) from None
        d = decide(score, self.config.image, model_id=self.nsfw.model_id, reasons=reasons)
        blocked = d.action is Action.BLOCK
        store = kind != "frame" or d.action is not Action.ALLOW  # plain frames are scored, not kept
        sha = blurred_sha = None
        if store:
            sha = await asyncio.to_thread(self.media.put, data)
            if blocked:
                blurred = await asyncio.to_thread(img.blur, data)
                blurred_sha = await asyncio.to_thread(self.media.put, blurred)
        image_id = self.ids.new() if store else None
        flag_id = self.ids.new()
        now = self.clock.now()
        content_type = img.sniff(data)
        w, h = im.size

        def unit(conn: sqlite3.Connection):
            did = decisions.record(
                conn, d, kind="image", source=kind, at=now, user_id=owner_id, subject_id=image_id or stream_id
            )
            if store:
                conn.execute(
                    "INSERT INTO moderation_images(id, owner_id, kind, stream_id, sha256, blurred_sha256, "
                    "content_type, width, height, bytes, score, status, decision_id, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        image_id,
                        owner_id,
                        kind,
                        stream_id,
                        sha,
                        blurred_sha,
                        content_type,
                        w,
                        h,
                        len(data),
                        score,
                        "blurred" if blocked else "ok",
                        did,
                        iso(now),
                    ),
                )
            flag = None
            if d.action is not Action.ALLOW:
                flag = reports.create_flag(
                    conn,
                    flag_id=flag_id,
                    now=now,
                    type="content",
                    target_id=image_id,
                    reason=f"nsfw {kind} ({'auto-blurred' if blocked else 'needs review'})",
                    score=score,
                    decision_id=did,
                    action="blur" if blocked else "none",
                    target_user_id=owner_id,
                    stream_id=stream_id,
                    details=", ".join(f"{k}={v:.3f}" for k, v in probs.items()),
                )
            return did, flag

        did, flag = await self.db.write(unit)
        out: dict[str, Any] = {
            "kind": kind,
            "moderation": {
                "action": d.action.value,
                "score": round(score, 4),
                "modelId": d.model_id,
                "threshold": d.threshold,
                "reasons": list(d.reasons),
                "decisionId": did,
                "reviewQueued": flag is not None,
                "blurred": blocked,
            },
        }
        if store:
            out["image"] = {
                "id": image_id,
                "url": f"/api/v1/images/{image_id}",
                "width": w,
                "height": h,
                "contentType": content_type,
                "status": "blurred" if blocked else "ok",
            }
        return out

    def image_row(self, image_id: str) -> sqlite3.Row:
        row = self.db.inline.one("SELECT * FROM moderation_images WHERE id = ?", (image_id,))
        if row is None or row["status"] == "removed":
            raise NotFound("no such image", field="imageId")
        return row

    def latest_image(self, kind: str, *, owner_id: str | None = None, stream_id: str | None = None) -> sqlite3.Row:
        if owner_id:
            row = self.db.inline.one(
                "SELECT id FROM moderation_images WHERE owner_id = ? AND kind = ? AND "
                "status != 'removed' ORDER BY created_at DESC LIMIT 1",
                (owner_id, kind),
            )
        else:
            row = self.db.inline.one(
                "SELECT id FROM moderation_images WHERE stream_id = ? AND kind = ? AND "
                "status != 'removed' ORDER BY created_at DESC LIMIT 1",
                (stream_id, kind),
            )
        if row is None:
            raise NotFound(f"no {kind} image", field="imageId")
        return self.image_row(row["id"])

    def image_bytes(self, row: sqlite3.Row, *, original: bool = False) -> tuple[bytes, str]:
        """The served file: the blurred derivative while the image is blurred, unless `original`
        (moderators only — the route checks)."""
        if row["status"] == "blurred" and not original:
            data = self.media.read(row["blurred_sha256"] or "")
            if data is None:
                raise NotFound("the blurred image is missing on disk", field="imageId")
            return data, img.sniff(data) or "application/octet-stream"
        data = self.media.read(row["sha256"])
        if data is None:
            raise NotFound("the image file is missing on disk", field="imageId")
        return data, row["content_type"]

    async def ensure_blurred(self, image_id: str) -> None:
        row = self.db.inline.one("SELECT sha256, blurred_sha256 FROM moderation_images WHERE id = ?", (image_id,))
        if row is None or row["blurred_sha256"]:
            return
        data = self.media.read(row["sha256"])
        if data is None:
            raise NotFound("the image file is missing on disk", field="imageId")
        blurred = await asyncio.to_thread(img.blur, data)
        sha = await asyncio.to_thread(self.media.put, blurred)
        await self.db.write(
            lambda conn: conn.execute("UPDATE moderation_images SET blurred_sha256 = ? WHERE id = ?", (sha, image_id))
        )

    # -- age -----------------------------------------------------------------------------------
    async def age_check(self, user_id: str, data: bytes | None) -> dict[str, Any]:
        """A review signal only: never restricts by itself. The selfie is not stored."""
        data = self._check_upload(data, "selfie")
        await self.ready()
        try:
            est = await asyncio.to_thread(
                lambda: self.age.estimate(
                    img.decode(data, max_bytes=self.config.image_max_bytes, max_pixels=self.config.image_max_pixels)
                )
            )
        except img.ImageError as exc:
            raise image_error(exc, "selfie") from None
        review = est.p_under_18 >= self.config.age_review
        now, flag_id = self.clock.now(), self.ids.new()
        reasons = [
            f"age:estimate={est.age:.1f}",
            f"age:p_under_18={est.p_under_18:.3f}",
            f"age:confidence={est.confidence:.3f}",
        ]

        def unit(conn):
            did = decisions.record_raw(
                conn,
                kind="age",
                source="selfie",
                at=now,
                model_id=est.model_id,
                score=est.p_under_18,
                action="review" if review else "allow",
                threshold=self.config.age_review if review else None,
                warn_at=self.config.age_review,
                block_at=None,
                reasons=reasons,
                user_id=user_id,
                subject_id=user_id,
            )
            if review:
                reports.create_flag(
                    conn,
                    flag_id=flag_id,
                    now=now,
                    type="user",
                    target_id=user_id,
                    reason="age review: selfie suggests under 18 (model signal only)",
                    score=est.p_under_18,
                    decision_id=did,
                    action="none",
                    target_user_id=user_id,
                    details="; ".join(reasons),
                )
            return did

        did = await self.db.write(unit)
        return {
            "received": True,
            "reviewQueued": review,
            "decisionId": did,
            "note": "a moderator reviews age signals; nothing changes on your account from this check alone",
        }

    async def judge_minor(self, user_id: str, minor: bool, actor: audit.Actor, reason: str | None) -> dict:
        now = self.clock.now()
        return await self.db.write(lambda conn: restrictions.judge_minor(conn, user_id, minor, actor, now, reason))

    # -- reports and review --------------------------------------------------------------------
    async def report(
        self, reporter_id: str, type_: str, target_id: str, reason: str, details: str | None
    ) -> dict[str, Any]:
        fid, now = self.ids.new(), self.clock.now()
        return await self.db.write(
            lambda conn: reports.create_flag(
                conn,
                flag_id=fid,
                now=now,
                type=type_,
                target_id=target_id,
                reason=reason,
                reporter_id=reporter_id,
                details=details,
            )
        )

    async def review(
        self,
        flag_id: str,
        *,
        decision: str,
        action: str | None,
        actor: audit.Actor,
        note: str | None = None,
        ban_seconds: int | None = None,
        end_stream: bool = False,
    ) -> dict[str, Any]:
        if decision == "confirm" and action == "blur":
            row = self.db.inline.one("SELECT type, target_id FROM moderation_flags WHERE id = ?", (flag_id,))
            if row is not None and row["type"] == "content":
                await self.ensure_blurred(row["target_id"])
        now = self.clock.now()
        cfg = self.config

        def unit(conn):
            fx = reports.review(
                conn,
                flag_id,
                decision=decision,
                action=action,
                actor=actor,
                now=now,
                note=note,
                ban_seconds=ban_seconds,
                end_stream=end_stream,
                ban_ladder=cfg.ban_ladder,
                ban_window=cfg.ban_window,
            )
            if fx.warn_user:
                emit(
                    conn,
                    Event(
                        AI_WARNING,
                        {"kind": "moderator_warning", "flagId": flag_id, "reason": fx.flag["reason"], "note": note},
                        users=(fx.warn_user,),
                    ),
                )
            if fx.deleted_message:
                sid, mid = fx.deleted_message
                emit(conn, Event(CHAT_DELETED, {"streamId": sid, "messageId": mid, "by": "moderation"}, room=sid))
            return fx

        def forget(fx):
            target = fx.flag.get("targetUserId")
            if target:
                self._ban_hint.pop(target, None)
            if fx.deleted_message and self.forget_message:
                self.forget_message(*fx.deleted_message)

        fx = await self.db.write(unit, after=forget)
        out = {"flag": fx.flag, "effects": list(fx.notes)}
        if fx.suspended_until:
            out["effects"].append(f"account suspended until {fx.suspended_until}")
        if fx.end_stream:
            out["streamEnded"] = await self.end_stream(fx.end_stream, actor, "moderation")
        return out

    async def end_stream(self, stream_id: str, actor: audit.Actor, reason: str = "moderation") -> bool:
        """End a stream the way the streams code does (its service publishes stream:ended); audited."""
        if self.end_stream_fn is None:
            raise NotFound("streams are not available")
        try:
            await self.end_stream_fn(stream_id, "moderation")
            ended = True
        except Conflict:
            ended = False  # already ended
        now = self.clock.now()
        await self.db.write(
            lambda conn: audit.record(
                conn,
                actor,
                "moderation.end_stream",
                target_type="stream",
                target_id=stream_id,
                after={"reason": reason, "ended": ended},
                at=iso(now),
            )
        )
        return ended

    async def appeal(self, flag_id: str, user_id: str, text: str) -> dict[str, Any]:
        aid, now = self.ids.new(), self.clock.now()
        return await self.db.write(
            lambda conn: reports.appeal(conn, appeal_id=aid, flag_id=flag_id, user_id=user_id, text=text, now=now)
        )

    async def decide_appeal(self, appeal_id: str, outcome: str, actor: audit.Actor, note: str | None) -> dict:
        now = self.clock.now()
        out = await self.db.write(
            lambda conn: reports.decide_appeal(conn, appeal_id, outcome=outcome, actor=actor, now=now, note=note)
        )
        if self.metrics is not None:
            self.metrics.appeal(outcome)
        target = out["flag"].get("targetUserId")
        if target:
            self._ban_hint.pop(target, None)
        return out


class ModerationMetrics:
    """The moderation part of observability.metrics.Metrics, with label children cached (the
    chat path scores every message; ``labels()`` is the costly part of a counter)."""

    def __init__(self, metrics) -> None:
        self.m = metrics
        self._children: dict[tuple, Any] = {}
        self._latency = metrics.moderation_model_seconds.labels("text")

    def scored(self, source: str, action: str, lang: str, seconds: float) -> None:
        key = (source, action, lang)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.m.moderation_decisions.labels("text", source, action, lang)
        child.inc()
        self._latency.observe(seconds)

    def appeal(self, outcome: str) -> None:
        self.m.moderation_appeals.labels(outcome).inc()


def _loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
