"""The composition root: what the appliance is made of, built in one place.

`build_services(settings)` constructs every part once and returns them as one typed
`Services`; `create_app(settings)` puts them on a Sanic app, registers every route
(`api.register`) and owns every start and stop listener. Nothing else wires parts
together: a reader follows a gift from its route to `services.economy` and from
there into `wallet/` and `gifts/`.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable

import httpx
import msgspec
from sanic import Sanic
from sanic_ext import Extend

from . import __version__, config
from .accounts.service import Accounts
from .accounts.tokens import AccessTokens
from .ai.boredom import BoredomDetector
from .ai.service import Insights
from .chat.service import ChatService
from .db import Database
from .db.backup import ServeLock
from .db.replication import ReplicationError, Replicator
from .dms.service import DirectMessages
from .economy.service import Economy
from .events import GIFT_SENT, Bus
from .festivals.service import Festivals
from .games.service import Games
from .gifts import catalog
from .infra.clock import Clock, iso
from .infra.crypto import FieldCipher
from .infra.ids import IdFactory, RandomSource, SystemRandom
from .infra.ratelimit import RateLimiter
from .jobs.scheduler import Jobs
from .media import setup as media_setup
from .media.engine import EngineError
from .media.service import MediaService
from .moderation import decisions
from .moderation.service import Moderation
from .moderation.setup import build_moderation
from .observability.business import Activity, BusinessCollector, GiftFlow
from .observability.metrics import Metrics
from .payments.service import Payments
from .payments.setup import build_payments
from .realtime import catalogue as realtime_catalogue
from .realtime import endpoint as ws_endpoint
from .realtime import revocation, sanic_ws
from .realtime.edge import EdgeOrigin, rooms_subject
from .realtime.hub import Hub
from .realtime.rooms import Realtime
from .realtime.socketio import SocketIOGateway
from .resources import assets_dir
from .shards import service as shards_service
from .shards.service import Shards
from .shards.shardmap import ShardMapError
from .shards.visitors import Visitors
from .streams.battles import Battles
from .streams.media import make_provider
from .streams.service import Streams
from .trust.gates import GatePolicy
from .trust.service import Trust
from .wallet import idempotency

log = logging.getLogger("halobuzz.app")
_names = itertools.count()


@dataclass
class Services:
    """Every part of a running appliance. Routes reach it as `request.app.ctx.services`."""

    settings: config.Settings
    clock: Clock
    ids: IdFactory
    db: Database
    bus: Bus
    metrics: Metrics
    limiter: RateLimiter
    cipher: FieldCipher
    accounts: Accounts
    economy: Economy
    streams: Streams
    chat: ChatService
    dms: DirectMessages
    battles: Battles
    hub: Hub
    realtime: Realtime
    socketio: SocketIOGateway
    payments: Payments
    moderation: Moderation
    games: Games
    replication: Replicator
    serve_lock: ServeLock
    jobs: Jobs
    http: httpx.AsyncClient
    festivals: Festivals
    trust: Trust
    insights: Insights
    activity: Activity  # last-seen users (business metrics)
    gift_flow: GiftFlow  # gifts and coins per minute (business metrics)
    media: MediaService | None = None  # the built-in video path (media_provider = hls)
    # A sharded deployment (setting shard_map): the verified map, visitors, cross-shard gifts over
    # JetStream, global trending; and, with shard_edges, the relay feeding edge processes.
    shards: Shards | None = None
    edge_origin: EdgeOrigin | None = None
    # Named readiness probes for /readyz: name -> () -> problem or None.
    readiness: dict[str, Callable[[], Any]] = field(default_factory=dict)


def build_services(
    settings: config.Settings, *, clock: Clock | None = None, rand: RandomSource | None = None
) -> Services:
    """Construct every part, in dependency order. Raises config.ConfigError on bad settings."""
    s = settings
    config.ensure_secrets(s)
    clock = clock or Clock()
    ids = IdFactory(clock, rand or SystemRandom())
    metrics = Metrics()
    bus = Bus(metrics)
    db = Database(
        s.db_path,
        synchronous=s.synchronous,
        max_batch=s.writer_max_batch,
        readers=s.readers,
        metrics=metrics,
        publish=bus.publish_all,
    )
    keys, active = config.field_keys(s)
    cipher = FieldCipher(keys, active)
    economy = Economy(db, clock, ids, s)
    signing_key = config.signing_key(s)
    try:
        # Verified before anything uses it: the peers' token keys come from the map.
        shard_cfg = shards_service.load(s, signing_key)
    except ShardMapError as exc:
        raise config.ConfigError(f"shard map: {exc}") from None
    visitors = Visitors(db, clock) if shard_cfg else None
    access = AccessTokens(
        signing_key,
        s.shard_id,
        s.access_token_ttl,
        peer_keys=shard_cfg.peer_keys if shard_cfg else None,
        kid=s.shard_id if shard_cfg else None,
    )
    accounts = Accounts(
        db,
        clock,
        ids,
        access,
        bcrypt_rounds=s.bcrypt_rounds,
        refresh_ttl=s.refresh_token_ttl,
        min_age=s.min_age,
        reuse_leeway=s.refresh_reuse_leeway,
        coins_of=economy.coins_of,
        visitor_of=visitors.principal if visitors else None,
    )
    try:
        media = media_setup.build(s, db=db, clock=clock, cipher=cipher)
    except EngineError as exc:
        raise config.ConfigError(f"media_provider = hls: {exc}") from None
    try:
        provider = make_provider(
            s.media_provider,
            s.agora_app_id,
            s.agora_app_certificate,
            s.agora_token_ttl,
            hls=media_setup.provider(media),
        )
    except ValueError as exc:
        raise config.ConfigError(f"media provider: {exc}") from None
    streams = Streams(db, clock, ids, provider, heartbeat_timeout=s.stream_heartbeat_timeout)
    chat = ChatService(
        db,
        clock,
        ids,
        rate_user=s.chat_rate_user,
        rate_room=s.chat_rate_room,
        max_length=s.chat_max_length,
        max_length_og=s.chat_max_length_og,
        backlog=s.chat_backlog,
    )
    moderation = build_moderation(
        s, db, clock, ids, end_stream=streams.end, forget_message=chat.forget_message, metrics=metrics
    )
    chat.moderator = moderation
    metrics.watch_moderation_queue(moderation.queue_snapshot)
    media_setup.attach(media, streams, moderation)
    dms = DirectMessages(db, clock, ids, moderator=moderation)  # DMs get the same moderation as room chat
    battles = Battles(
        db,
        clock,
        ids,
        bus,
        streams,
        min_seconds=s.battle_min_seconds,
        boost_seconds=s.battle_boost_seconds,
        invite_ttl=s.battle_invite_ttl,
    )
    hub = Hub(
        tick=s.ws_tick_ms / 1000.0,
        queue_limit=s.ws_send_queue_bytes,
        max_per_user=s.ws_max_per_user,
        max_per_ip=s.ws_max_per_ip,
        ping_interval=s.ws_ping_interval,
        ping_timeout=s.ws_ping_timeout,
        stall_seconds=s.ws_stall_seconds,
    )
    realtime = Realtime(s, clock, db, bus, hub, streams, chat, dms, battles, authenticate=accounts.authenticate)
    socketio = SocketIOGateway(s, accounts, hub, realtime)  # /socket.io/: the same rooms as /ws
    metrics.watch_websockets(hub.metrics_snapshot)
    http = httpx.AsyncClient(timeout=15.0)
    payments = build_payments(
        s,
        write=db.write,
        fetchall=lambda sql, params=(): db.readers.fetchall(sql, params),
        cipher=cipher,
        clock=clock,
        ids=ids,
        metrics=metrics,
        http=http,
    )
    replication = Replicator(s, metrics)
    trust = Trust(db, clock, GatePolicy.from_settings(s), sync_every=s.trust_sync_seconds)
    streams.trust_gates = dms.trust_gates = economy.trust_gates = trust.gates
    insights = Insights(
        db,
        clock,
        bus,
        streams,
        battles,
        economy.spend,
        detector=BoredomDetector(window=s.boredom_window, threshold=s.boredom_threshold, cooldown=s.boredom_cooldown),
        cohost_cooldown=s.cohost_cooldown,
    )
    realtime.engagement = insights
    activity, gift_flow = Activity(clock.timestamp), GiftFlow(clock.timestamp)
    bus.subscribe(GIFT_SENT, lambda e: _count_gift(activity, gift_flow, e))
    limiter = RateLimiter()
    games = Games(db, clock, ids, s, metrics, limiter)
    games.trust_gates = trust.gates
    shards = edge_origin = None
    if shard_cfg:
        shards = Shards(
            shard_cfg, s, db, clock, ids, visitors, local_trending=lambda: streams.list_live(None, None, 20)["items"]
        )
        if s.shard_edges:
            edge_origin = EdgeOrigin(realtime, accounts, rooms_subject(shard_cfg.map, shard_cfg.shard))
            shards.on_connected.append(edge_origin.start)
    services = Services(
        settings=s,
        clock=clock,
        ids=ids,
        db=db,
        bus=bus,
        metrics=metrics,
        limiter=limiter,
        cipher=cipher,
        accounts=accounts,
        economy=economy,
        streams=streams,
        chat=chat,
        dms=dms,
        battles=battles,
        hub=hub,
        realtime=realtime,
        socketio=socketio,
        payments=payments,
        moderation=moderation,
        games=games,
        replication=replication,
        serve_lock=ServeLock(s.data_dir),
        jobs=Jobs(),
        http=http,
        festivals=Festivals(db, clock),
        trust=trust,
        insights=insights,
        activity=activity,
        gift_flow=gift_flow,
        media=media,
        shards=shards,
        edge_origin=edge_origin,
    )
    services.readiness["replication"] = replication.problem
    services.readiness["moderation"] = moderation.models.problem  # "loading" until the scorers are up
    metrics.registry.register(BusinessCollector(lambda: business_snapshot(services)))
    for name, fn, every in scheduled_jobs(services):
        services.jobs.add(name, fn, every)
    return services


def scheduled_jobs(sv: Services) -> tuple[tuple[str, Callable[[], Awaitable[object]], float], ...]:
    """Every scheduler job: (name, coroutine function, seconds between runs). All idempotent."""
    s = sv.settings

    async def prune_idempotency() -> int:
        cutoff = iso(sv.clock.now() - timedelta(days=s.idempotency_days))
        total = 0
        while True:  # bounded units: the writer is never held long
            n = await sv.db.write(lambda conn: idempotency.prune(conn, cutoff))
            total += n
            if n < 5000:
                return total

    async def prune_decisions() -> int | None:
        before = sv.clock.now() - timedelta(days=max(1, s.moderation_keep_days))
        return await sv.db.write(lambda conn: decisions.prune_allowed(conn, before)) or None

    async def prune_revocations() -> int | None:
        # The realtime watcher reads rows newer than its cursor within a second; a day is plenty.
        cutoff = iso(sv.clock.now() - timedelta(days=1))
        return await sv.db.write(lambda conn: revocation.prune(conn, cutoff)) or None

    async def reconcile_payments() -> dict | None:
        counts = await sv.payments.reconcile()
        return counts if counts.get("checked") else None

    async def games_win_rate_metrics() -> int | None:
        # A few indexed COUNTs (game_rounds_report) on the inline reader, once a minute.
        rows = sv.games.update_metrics(sv.db.inline.conn)
        return sum(r["outOfBand"] for r in rows) or None

    media = (("media_replay_expiry", sv.media.expire_replays, 3600),) if sv.media is not None else ()
    return media + (
        ("og_daily_bonus", sv.economy.run_daily_bonus, 600),
        ("og_expiry", sv.economy.run_og_expiry, 60),
        ("earnings_release", sv.economy.run_hold_release, 600),
        ("idempotency_prune", prune_idempotency, 3600),
        ("payments_reconcile", reconcile_payments, s.payment_reconcile_interval),
        ("moderation_prune", prune_decisions, 3600),
        ("festival_schedule", sv.festivals.run_schedule, s.festival_check_seconds),
        ("festival_bonuses", sv.festivals.run_bonuses, s.festival_bonus_seconds),
        ("trust_sync", sv.trust.run_sync, s.trust_sync_seconds),
        ("boredom", sv.insights.run_boredom, s.boredom_interval),
        ("games_lottery_schedule", sv.games.run_lottery_schedule, 60),
        ("games_nonce_prune", sv.games.run_nonce_prune, 3600),
        ("games_win_rate_metrics", games_win_rate_metrics, 60),
        ("revocations_prune", prune_revocations, 3600),
    )


def _count_gift(activity: Activity, flow: GiftFlow, event) -> None:
    flow.add(int(event.data.get("coins", 0) or 0))
    if event.data.get("senderId"):
        activity.seen(event.data["senderId"])


def business_snapshot(sv: Services) -> dict[str, Any]:
    """What /metrics reports about the business, read at scrape time."""
    now = sv.clock.timestamp()
    for uid in tuple(sv.hub.by_user):  # everyone on /ws counts as active
        sv.activity.seen(uid, now)
    live = sv.streams.live.by_id
    gifts_min, coins_min = sv.gift_flow.per_minute(now)
    engagement = sorted(
        ((sid, score) for sid in live if (score := sv.insights.engagement_score(sid)) is not None),
        key=lambda p: -live[p[0]].viewer_count,
    )
    return {
        "active": sv.activity.counts(now),
        "liveStreams": len(live),
        "viewers": sum(st.viewer_count for st in live.values()),
        "giftsPerMinute": gifts_min,
        "coinsPerMinute": coins_min,
        "giftsTotal": sv.gift_flow.gifts,
        "coinsTotal": sv.gift_flow.coins,
        "engagement": engagement,
        "nudges": sv.insights.nudges_sent,
        "festivals": sv.festivals.metrics_snapshot() if sv.db.inline is not None else [],
        "festivalBonusCoins": sv.festivals.bonus_coins_paid,
    }


def create_app(settings: config.Settings, *, clock: Clock | None = None, rand: RandomSource | None = None) -> Sanic:
    from . import api
    from .api import docs

    services = build_services(settings, clock=clock, rand=rand)
    # msgspec's encoder is several times faster than the stdlib's for response bodies.
    app = Sanic(f"halobuzz{next(_names) or ''}", configure_logging=False, dumps=msgspec.json.encode)
    app.config.update(
        {
            "REQUEST_MAX_SIZE": max(settings.max_body_bytes, 16 * 1024 * 1024),
            "REQUEST_TIMEOUT": settings.request_timeout,
            "GRACEFUL_SHUTDOWN_TIMEOUT": settings.graceful_shutdown_timeout,
            "FALLBACK_ERROR_FORMAT": "json",
            "ACCESS_LOG": False,
            "MOTD": False,
            "CORS": False,
            "HEALTH": False,
            "OAS_TITLE": "HaloBuzz",
            "OAS_VERSION": __version__,
        }
    )
    # /docs: sanic-ext's document moves aside for the contract one; Swagger UI from assets/docs
    app.config.update(docs.config(assets_dir(settings)))
    sanic_ws.configure(app)
    app.ctx.services = services
    # Only what we use: OpenAPI. The injection extension alone adds a signal dispatch
    # to every request, which we do not need.
    from sanic_ext.extensions.openapi.extension import OpenAPIExtension  # noqa: PLC0415

    Extend(app, extensions=[OpenAPIExtension], built_in_extensions=False)
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer", bearer_format="JWT")
    api.register(app)
    app.blueprint(ws_endpoint.bp)
    app.blueprint(realtime_catalogue.bp)  # /docs/asyncapi.json: the /ws and Socket.IO events
    services.socketio.attach(app)
    _listeners(app, services)
    return app


def _listeners(app: Sanic, sv: Services) -> None:
    """Start and stop, in order. Priorities: higher runs first."""

    @app.listener("before_server_start", priority=2000)
    async def lock_data_dir(app: Sanic) -> None:
        # serve holds the data dir's lock while it runs (so `restore` can refuse a live database)
        if not sv.serve_lock.acquire():
            log.warning("another process holds %s: two servers on one data dir?", sv.serve_lock.path)

    @app.listener("before_server_start", priority=1000)
    async def open_db(app: Sanic) -> None:
        await sv.db.open()
        log.info("database open", extra={"path": str(sv.settings.db_path)})

    @app.listener("before_server_start", priority=900)
    async def seed_catalog(app: Sanic) -> None:
        specs = catalog.load_seed(assets_dir(sv.settings))
        now = sv.clock.now()
        await sv.db.write(lambda conn: catalog.seed(conn, specs, now))

    @app.listener("after_server_start")
    async def start_parts(app: Sanic) -> None:
        try:
            await sv.replication.start()
        except ReplicationError as exc:
            # A bad replica setting must not stop the appliance serving: say so loudly.
            sv.replication.status.last_error = str(exc)
            log.error("replication not started: %s", exc)
        await sv.streams.load()
        if sv.media is not None:
            await sv.media.load()  # children for streams still live, on their ports and keys
        sv.hub.start()
        sv.realtime.start()
        await sv.battles.load()
        await sv.festivals.start()
        await sv.games.start()  # recovers the rounds a previous process left open, then runs due rounds
        if sv.shards is not None:
            await sv.shards.start()  # connects to NATS in the background (gifts wait in the outbox)
        sv.jobs.start()  # every job's parts are up
        # Last: the ONNX scorers load in a thread while we already serve (/healthz does not wait
        # for them; /readyz says "loading"; chat, DMs and uploads wait for them, never skip them).
        sv.moderation.models.start()

    @app.listener("before_server_stop")
    async def stop_parts(app: Sanic) -> None:
        sv.jobs.shutdown()
        await sv.festivals.stop()
        await sv.games.stop()
        if sv.edge_origin is not None:
            await sv.edge_origin.stop()
        if sv.shards is not None:
            await sv.shards.stop()
        await sv.realtime.stop()
        if sv.media is not None:
            await sv.media.stop()  # ffmpeg children close their playlists; replays being made finish
        await sv.battles.stop()
        await sv.socketio.stop()
        await sv.hub.stop()
        sv.moderation.close()  # flushes buffered decisions while the writer is still open

    @app.listener("after_server_stop", priority=-1000)
    async def close_db(app: Sanic) -> None:
        # The writer drains its queue and makes the final commit.
        await sv.db.close()
        if not sv.http.is_closed:
            await sv.http.aclose()
        log.info("database closed")

    # After the database closed: the writer's final commit is in the WAL, and Litestream's
    # shutdown sync ships it.
    @app.listener("after_server_stop", priority=-2000)
    async def stop_replication(app: Sanic) -> None:
        await sv.replication.stop()

    @app.listener("after_server_stop", priority=-3000)
    async def unlock_data_dir(app: Sanic) -> None:
        sv.serve_lock.release()
