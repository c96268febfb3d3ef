"""plugin(app, hb): wires live rooms — streams, chat, DMs, battles, the /ws endpoint — into the app."""
from __future__ import annotations

from sanic import Sanic

from ..chat.service import ChatService
from ..streams.media import make_provider
from ..streams.service import Streams
from .hub import Hub
from .rooms import Realtime


def plugin(app: Sanic, hb) -> None:
    from ..api import streams as streams_api
    from . import endpoint
    s = hb.settings
    provider = make_provider(s.media_provider, s.agora_app_id, s.agora_app_certificate, s.agora_token_ttl)
    streams = Streams(hb.db, hb.clock, hb.ids, hb.bus, provider, heartbeat_timeout=s.stream_heartbeat_timeout)
    chat = ChatService(hb.db, hb.clock, hb.ids, rate_user=s.chat_rate_user, rate_room=s.chat_rate_room,
                       max_length=s.chat_max_length, max_length_og=s.chat_max_length_og, backlog=s.chat_backlog,
                       moderator_source=lambda: hb.extras.get("chat_moderator"))
    hub = Hub(tick=s.ws_tick_ms / 1000.0, queue_limit=s.ws_send_queue_bytes, max_per_user=s.ws_max_per_user,
              max_per_ip=s.ws_max_per_ip, ping_interval=s.ws_ping_interval, ping_timeout=s.ws_ping_timeout,
              stall_seconds=s.ws_stall_seconds)
    dms = _dms(hb)
    battles = _battles(hb, streams)
    rt = Realtime(hb, hub, streams, chat, dms, battles)
    if hasattr(hb.metrics, "watch_websockets"):
        hb.metrics.watch_websockets(hub.metrics_snapshot)
    hb.extras.update({"streams": streams, "chat": chat, "hub": hub, "realtime": rt})
    if dms is not None:
        hb.extras["dms"] = dms
    if battles is not None:
        hb.extras["battles"] = battles

    # Keepalive is ours (one sweeper for all sockets, no task per connection): see Hub._pinger.
    app.config.WEBSOCKET_PING_INTERVAL = None
    app.config.WEBSOCKET_PING_TIMEOUT = None
    app.config.WEBSOCKET_MAX_SIZE = 64 * 1024
    app.blueprint(streams_api.bp)
    app.blueprint(endpoint.bp)
    for extra in _extra_blueprints():
        app.blueprint(extra)

    @app.listener("after_server_start")
    async def start_rooms(app: Sanic):
        await streams.load()
        hub.start()
        rt.start()
        if battles is not None:
            await battles.load()

    @app.listener("before_server_stop")
    async def stop_rooms(app: Sanic):
        await rt.stop()
        if battles is not None:
            await battles.stop()
        await hub.stop()


def _dms(hb):
    try:
        from ..dms.service import DirectMessages
    except ImportError:
        return None
    return DirectMessages(hb.db, hb.clock, hb.ids)


def _battles(hb, streams):
    try:
        from ..streams.battles import Battles
    except ImportError:
        return None
    s = hb.settings
    return Battles(hb.db, hb.clock, hb.ids, hb.bus, streams, min_seconds=s.battle_min_seconds,
                   boost_seconds=s.battle_boost_seconds)


def _extra_blueprints():
    out = []
    try:
        from ..api import dms
        out.append(dms.bp)
    except ImportError:
        pass
    try:
        from ..api import battles
        out.append(battles.bp)
    except ImportError:
        pass
    return out
