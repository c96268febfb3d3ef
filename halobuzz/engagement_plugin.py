"""plugin(app, hb): wires festivals, trust, the AI features (boredom, cohosts, gift suggestions)
and the business metrics into the app. (Interim: moves into app.build_services with the
composition root.)"""
from __future__ import annotations

from . import demo, doctor
from .ai.boredom import BoredomDetector
from .ai.service import Insights
from .events import GIFT_SENT
from .festivals import bonus, store
from .festivals import checks as festival_checks
from .infra.clock import iso
from .festivals.service import Festivals
from .jobs.scheduler import Jobs
from .observability.business import Activity, BusinessCollector, GiftFlow
from .trust.gates import GatePolicy
from .trust.service import Trust

doctor.CHECKS.append(("festival bonuses", festival_checks.bonuses_match_ledger))
demo.SEEDERS.append(festival_checks.seed_demo_festival)

DEFAULTS = {"festival_check_seconds": 60.0, "festival_bonus_seconds": 10.0, "boredom_interval": 15.0,
            "boredom_window": 180.0, "boredom_threshold": 30.0, "boredom_cooldown": 300.0,
            "cohost_cooldown": 3600.0, "trust_sync_seconds": 600.0}


def _s(settings, name):
    return getattr(settings, name, DEFAULTS.get(name))


def build(hb) -> dict:
    s = hb.settings
    festivals = Festivals(hb.db, hb.bus, hb.clock)
    trust = Trust(hb.db, hb.clock, GatePolicy.from_settings(s), sync_every=_s(s, "trust_sync_seconds"))
    streams, battles = hb.extras["streams"], hb.extras.get("battles")
    economy, dms, rt = hb.extras["economy"], hb.extras.get("dms"), hb.extras["realtime"]
    for gated in (streams, economy, dms):
        if gated is not None:
            gated.trust_gates = trust.gates
    insights = Insights(hb.db, hb.clock, hb.bus, streams, battles, economy.spend,
                        detector=BoredomDetector(window=_s(s, "boredom_window"), threshold=_s(s, "boredom_threshold"),
                                                 cooldown=_s(s, "boredom_cooldown")),
                        cohost_cooldown=_s(s, "cohost_cooldown"))
    rt.engagement = insights
    activity, flow = Activity(hb.clock.timestamp), GiftFlow(hb.clock.timestamp)

    def on_gift(event) -> None:
        flow.add(int(event.data.get("coins", 0) or 0))
        if event.data.get("senderId"):
            activity.seen(event.data["senderId"])

    hb.bus.subscribe(GIFT_SENT, on_gift)

    def snapshot() -> dict:
        now = hb.clock.timestamp()
        hub = hb.extras.get("hub")
        if hub is not None:
            for uid in tuple(hub.by_user):
                activity.seen(uid, now)
        live = streams.live.by_id
        gifts_min, coins_min = flow.per_minute(now)
        engagement = sorted(((sid, score) for sid in live if (score := insights.engagement_score(sid)) is not None),
                            key=lambda p: -live[p[0]].viewer_count)
        conn, at = hb.db.inline.conn, hb.clock.now()
        fests = [bonus.uplift(conn, r["id"], at) for r in conn.execute(store.ACTIVE_SQL, (iso(at),))]
        return {"active": activity.counts(now), "liveStreams": len(live),
                "viewers": sum(st.viewer_count for st in live.values()), "giftsPerMinute": gifts_min,
                "coinsPerMinute": coins_min, "giftsTotal": flow.gifts, "coinsTotal": flow.coins,
                "engagement": engagement, "nudges": insights.nudges_sent, "festivals": fests,
                "festivalBonusCoins": festivals.bonus_coins_paid}

    hb.metrics.registry.register(BusinessCollector(snapshot))
    return {"festivals": festivals, "trust": trust, "insights": insights, "activity": activity}


def plugin(app, hb) -> None:
    from .api import festivals as festivals_api, insights as insights_api, trust as trust_api
    parts = build(hb)
    hb.extras.update(parts)
    app.ctx.activity = parts["activity"]
    s = hb.settings
    jobs: Jobs = hb.extras.setdefault("jobs", Jobs())
    jobs.add("festival_schedule", parts["festivals"].run_schedule, _s(s, "festival_check_seconds"))
    jobs.add("festival_bonuses", parts["festivals"].run_bonuses, _s(s, "festival_bonus_seconds"))
    jobs.add("trust_sync", parts["trust"].run_sync, _s(s, "trust_sync_seconds"))
    jobs.add("boredom", parts["insights"].run_boredom, _s(s, "boredom_interval"))
    for bp in (festivals_api.bp, festivals_api.admin_bp, trust_api.bp, insights_api.bp):
        app.blueprint(bp)

    @app.listener("after_server_start")
    async def start_festivals(app):
        await parts["festivals"].start()

    @app.listener("before_server_stop")
    async def stop_festivals(app):
        await parts["festivals"].stop()
