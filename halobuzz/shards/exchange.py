"""The shard exchange: this shard's link to its peers over NATS JetStream.

- an outbox publisher drains shard_outbox to JetStream (Nats-Msg-Id = the row's msg_id, so a
  re-publish after a crash is dropped by the stream's duplicate window, and the receiver is
  idempotent by transfer id anyway);
- a durable pull consumer on our `gifts` subject decides incoming gifts/cancels;
- a durable pull consumer on our `receipts` subject settles or refunds our outgoing gifts;
- a sweep turns overdue pending transfers into cancel requests.

A JetStream message is acked only after the write unit that acted on it has committed, so a
crash at any instant leaves it to be redelivered, and the write units make the repeat harmless.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..db import emit
from ..gifts.send import GiftPolicy
from ..infra.clock import Clock, iso
from ..infra.ids import IdFactory
from ..wallet import idempotency, wallet
from . import transfers
from .messages import BadMessage, Signer, Verifier
from .shardmap import ShardMap

log = logging.getLogger("halobuzz.shards")
STREAM = "HALOBUZZ_SHARDS"


def server_list(urls: str) -> list[str]:
    """The nats_url setting: one URL or several, comma separated (a cluster)."""
    return [u.strip() for u in urls.split(",") if u.strip()]


@dataclass(frozen=True)
class ExchangeConfig:
    nats_url: str
    gift_timeout: float = 60.0  # seconds before an unanswered gift is cancelled (then refunded if B agrees)
    ack_wait: float = 10.0  # JetStream redelivers a message not acked within this
    replicas: int = 1  # JetStream stream replicas (3 on a NATS cluster)
    sweep_interval: float = 5.0
    duplicate_window: float = 600.0


class ShardExchange:
    def __init__(
        self,
        db,
        clock: Clock,
        ids: IdFactory,
        *,
        shard_map: ShardMap,
        shard: str,
        signer: Signer,
        config: ExchangeConfig,
        gift_policy: GiftPolicy,
        spend: wallet.SpendPolicy,
    ) -> None:
        self.db, self.clock, self.ids = db, clock, ids
        self.map, self.shard, self.signer, self.config = shard_map, shard, signer, config
        self.verifier = Verifier(shard, shard_map.peer_keys())
        self.gift_policy, self.spend = gift_policy, spend
        self.me = shard_map.shard(shard)
        self._nc: Any = None
        self._js: Any = None
        self._tasks: list[asyncio.Task] = []
        self._poke = asyncio.Event()
        self.ready = asyncio.Event()
        self._stopping = False
        self.published = 0
        self.bad_messages = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Returns at once: connecting (with retries, NATS may be down or still starting) and the
        workers run in the background. Gifts sent meanwhile wait in the outbox."""
        self._stopping = False
        self.ready = asyncio.Event()
        self._tasks = [asyncio.create_task(self._boot(), name="shards-boot")]

    async def _boot(self) -> None:
        # nats-py is imported here, not at module level: it costs ≈0.35 s of every start and only
        # a sharded deployment uses it.
        import nats  # noqa: PLC0415

        backoff = 0.2
        while not self._stopping:
            try:
                if self._nc is None:
                    self._nc = await nats.connect(
                        server_list(self.config.nats_url),
                        name=f"halobuzz-{self.shard}",
                        max_reconnect_attempts=-1,
                        reconnect_time_wait=0.5,
                        allow_reconnect=True,
                        connect_timeout=3,
                        error_cb=self._nats_error,
                    )
                    self._js = self._nc.jetstream(timeout=5)
                await self._ensure_stream()
                gifts = await self._consumer(self.me.subjects["gifts"], f"gifts-{self.shard}")
                receipts = await self._consumer(self.me.subjects["receipts"], f"receipts-{self.shard}")
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS unreachable or JetStream not ready yet
                log.warning("cannot reach NATS JetStream yet (%r); retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        else:
            return
        self._tasks += [
            asyncio.create_task(self._publisher(), name="shards-publisher"),
            asyncio.create_task(self._consume(gifts, self._on_gift), name="shards-gifts"),
            asyncio.create_task(self._consume(receipts, self._on_receipt), name="shards-receipts"),
            asyncio.create_task(self._sweeper(), name="shards-sweeper"),
        ]
        self._poke.set()
        self.ready.set()
        log.info("shard exchange connected", extra={"shard": self.shard, "nats": self.config.nats_url})

    @property
    def nc(self):
        """The NATS connection (None until connected): other shard features share it."""
        return self._nc

    async def _nats_error(self, exc: Exception) -> None:
        log.warning("nats client error", extra={"error": repr(exc)})

    async def stop(self) -> None:
        self._stopping = True
        self._poke.set()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._nc is not None:
            # Not drain(): nats-py's drain waits for pull subscriptions' internal queues, which a
            # cancelled fetch can leave non-empty (seen: a 5 s stall on every stop). Nothing is
            # lost by closing: every message we act on is acked after COMMIT, every publish
            # waited for its PubAck.
            try:
                await asyncio.wait_for(self._nc.flush(), 1.0)
            except Exception:  # noqa: BLE001 - already closed or the server is gone
                pass
            try:
                await self._nc.close()
            except Exception:  # noqa: BLE001
                pass
            self._nc = None

    async def _ensure_stream(self) -> None:
        from nats.js import api as js_api  # noqa: PLC0415
        from nats.js.errors import NotFoundError  # noqa: PLC0415

        subjects = sorted({s.subjects[k] for s in self.map.shards for k in ("gifts", "receipts")})
        cfg = js_api.StreamConfig(
            name=STREAM,
            subjects=subjects,
            storage=js_api.StorageType.FILE,
            retention=js_api.RetentionPolicy.LIMITS,
            max_age=7 * 86400,
            duplicate_window=self.config.duplicate_window,
            num_replicas=self.config.replicas,
        )
        for attempt in range(5):  # peers starting at once may race to create it
            try:
                info = await self._js.stream_info(STREAM)
                if set(info.config.subjects or ()) != set(subjects):
                    await self._js.update_stream(cfg)
                return
            except NotFoundError:
                try:
                    await self._js.add_stream(cfg)
                    return
                except Exception:  # noqa: BLE001
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2)

    async def _consumer(self, subject: str, durable: str):
        from nats.js import api as js_api  # noqa: PLC0415

        cfg = js_api.ConsumerConfig(
            durable_name=durable,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            ack_wait=self.config.ack_wait,
            max_ack_pending=1000,
            deliver_policy=js_api.DeliverPolicy.ALL,
            filter_subject=subject,
        )
        return await self._js.pull_subscribe(subject, durable=durable, stream=STREAM, config=cfg)

    # -- outbox -> JetStream -------------------------------------------------------------------

    async def _publisher(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                await asyncio.wait_for(self._poke.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            self._poke.clear()
            try:
                while await self.publish_pending():
                    pass
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS down or slow: keep the rows, try again
                log.warning("shard outbox publish failed; will retry", extra={"error": repr(exc)})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                self._poke.set()

    async def publish_pending(self, limit: int = 200) -> int:
        rows = await self.db.readers.fetchall(
            "SELECT id, msg_id, subject, payload FROM shard_outbox WHERE published_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        if not rows:
            return 0
        sent: list[int] = []
        try:
            for r in rows:
                await self._js.publish(
                    r["subject"], r["payload"].encode(), headers={"Nats-Msg-Id": r["msg_id"]}, timeout=5
                )
                sent.append(r["id"])
        finally:
            if sent:
                at = iso(self.clock.now())
                await self.db.write(lambda conn: transfers.mark_sent(conn, sent, at))
                self.published += len(sent)
        return len(sent)

    # -- JetStream -> write units ------------------------------------------------------------

    async def _consume(self, sub, handle) -> None:
        while not self._stopping:
            try:
                msgs = await sub.fetch(batch=100, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - timeout (nothing waiting) or NATS reconnecting
                continue
            good: list[tuple[Any, dict[str, Any]]] = []
            for m in msgs:
                try:
                    good.append((m, self.verifier.verify(m.data)))
                except BadMessage as exc:
                    self.bad_messages += 1
                    log.warning("refused a shard message", extra={"error": str(exc), "subject": m.subject})
                    await m.term()
            if not good:
                continue
            try:
                await handle([c for _, c in good])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - not acked: JetStream redelivers after ack_wait
                log.exception("handling shard messages failed; they will be redelivered")
                continue
            for m, _ in good:  # only after COMMIT
                try:
                    await m.ack()
                except Exception:  # noqa: BLE001 - lost ack: redelivery is harmless (idempotent)
                    pass

    async def _on_gift(self, batch: list[dict[str, Any]]) -> None:
        now = self.clock.now()

        def unit(conn):
            queued = 0
            for claims in batch:
                if claims["typ"] not in ("gift", "cancel"):
                    continue
                reply = self.map.shard(claims["from"]).subjects["receipts"]
                out = transfers.receive(
                    conn, claims, signer=self.signer, reply_subject=reply, policy=self.gift_policy, now=now
                )
                for e in out.events:
                    emit(conn, e)
                queued += out.queued
            return queued

        await self.db.write(unit, after=self._poke_if)

    async def _on_receipt(self, batch: list[dict[str, Any]]) -> None:
        now = self.clock.now()

        def unit(conn):
            for claims in batch:
                if claims["typ"] == "receipt":
                    for e in transfers.settle(conn, claims, now).events:
                        emit(conn, e)
            return 0

        await self.db.write(unit)

    def _poke_if(self, queued: int) -> None:
        """After COMMIT: outbox rows were written, wake the publisher."""
        if queued:
            self._poke.set()

    # -- overdue transfers ---------------------------------------------------------------------

    async def _sweeper(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.config.sweep_interval)
            try:
                await self.expire_overdue()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("shard transfer sweep failed")

    async def expire_overdue(self) -> int:
        subjects = {s.name: s.subjects["gifts"] for s in self.map.shards}
        now = self.clock.now()
        out = await self.db.write(
            lambda conn: transfers.expire(conn, signer=self.signer, subjects=subjects, now=now),
            after=lambda o: self._poke_if(o.queued),
        )
        return out.response["cancelling"]

    # -- the call routes make ------------------------------------------------------------------

    async def send_gift(
        self, sender_id: str, dest: str, stream_id: str, gift_id: str, quantity: int, key: str | None
    ) -> tuple[int, dict[str, Any], bool]:
        """Gift to a stream on shard `dest`. Returns (status, body, replayed); 202: in transit."""
        if not self.map.has(dest):
            from ..errors import Invalid

            raise Invalid(f"no shard named {dest!r} in the shard map", field="shard")
        key = idempotency.check_key(key)
        req_hash = idempotency.body_hash(f"xgift:{dest}:{stream_id}", {"giftId": gift_id, "quantity": quantity})
        now = self.clock.now()
        deadline = now + timedelta(seconds=self.config.gift_timeout)
        transfer_id = f"{self.shard}-{self.ids.new()}"
        subject = self.map.shard(dest).subjects["gifts"]
        queued = [0]

        def unit(conn):
            def run():
                out = transfers.send(
                    conn,
                    signer=self.signer,
                    dest=dest,
                    dest_subject=subject,
                    transfer_id=transfer_id,
                    sender_id=sender_id,
                    stream_id=stream_id,
                    gift_id=gift_id,
                    quantity=quantity,
                    key=key,
                    spend=self.spend,
                    now=now,
                    deadline=deadline,
                )
                for e in out.events:
                    emit(conn, e)
                queued[0] = out.queued
                return 202, out.response

            return idempotency.once(conn, sender_id, key, req_hash, iso(now), run)

        return await self.db.write(unit, after=lambda _: self._poke_if(queued[0]))

    async def reconcile(self) -> dict[str, Any]:
        return await self.db.write(transfers.reconcile)
