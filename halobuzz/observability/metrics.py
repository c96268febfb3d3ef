"""Every Prometheus metric the appliance exposes is named here, on one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        # process_cpu_seconds_total, process_resident_memory_bytes ... (the CPU alert in packaging/)
        ProcessCollector(registry=r)
        self.http_requests = Counter(
            "halobuzz_http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "halobuzz_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.write_queue_depth = Gauge(
            "halobuzz_db_write_queue_depth", "Write units waiting for the writer thread", registry=r
        )
        self.commit_latency = Histogram(
            "halobuzz_db_commit_duration_seconds",
            "Time from BEGIN to COMMIT of one group",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "halobuzz_db_commit_batch_size",
            "Write units per committed group",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.write_failures = Counter(
            "halobuzz_db_write_unit_failures_total", "Write units rolled back to their savepoint", registry=r
        )
        self.rate_limited = Counter(
            "halobuzz_rate_limited_total", "Requests refused by the rate limiter", ["group"], registry=r
        )
        self._request_children: dict[tuple, tuple] = {}
        self.events_published = Counter(
            "halobuzz_events_published_total", "Events published on the in-process bus", ["event"], registry=r
        )
        # Litestream replication (db/replication.py); all 0 when no replica is configured.
        self.replication_enabled = Gauge(
            "halobuzz_replication_enabled", "1 when a Litestream replica is configured", registry=r
        )
        self.replication_up = Gauge("halobuzz_replication_up", "1 while the Litestream child process runs", registry=r)
        self.replication_healthy = Gauge(
            "halobuzz_replication_healthy", "1 when the replica is reachable and within the lag limit", registry=r
        )
        self.replication_lag = Gauge(
            "halobuzz_replication_lag_seconds", "Age of the oldest local transaction not yet on the replica", registry=r
        )
        self.replication_local_txid = Gauge(
            "halobuzz_replication_local_txid", "Latest transaction id Litestream has seen locally", registry=r
        )
        self.replication_replica_txid = Gauge(
            "halobuzz_replication_replica_txid", "Latest transaction id present on the replica", registry=r
        )
        self.replication_restarts = Counter(
            "halobuzz_replication_restarts_total", "Times the Litestream child was restarted", registry=r
        )
        # Payments (halobuzz/payments): revenue is what verified gateway payments credited, in minor units.
        self.payments_revenue = Counter(
            "halobuzz_payments_revenue_minor_total",
            "Verified payment revenue credited, minor units",
            ["gateway", "currency"],
            registry=r,
        )
        self.payments_verification_failures = Counter(
            "halobuzz_payments_verification_failures_total",
            "Gateway callbacks/webhooks refused (bad signature, amount, unknown order ...)",
            ["gateway", "reason"],
            registry=r,
        )
        self.payments_clawback_coins = Counter(
            "halobuzz_payments_clawback_coins_total",
            "Coins clawed back on refunds and chargebacks",
            ["gateway"],
            registry=r,
        )
        # Games (halobuzz/games): the AI win rate over the last 24 h vs its published p, per game and p.
        # out_of_band = 1 when the whole 99 % Wilson interval lies outside 35-55 % (alert in packaging/).
        self.games_ai_win_wilson_low = Gauge(
            "halobuzz_games_ai_win_wilson_low",
            "Lower end of the 99 % Wilson interval of the AI win rate (24 h)",
            ["game", "p"],
            registry=r,
        )
        self.games_ai_win_wilson_high = Gauge(
            "halobuzz_games_ai_win_wilson_high",
            "Upper end of the 99 % Wilson interval of the AI win rate (24 h)",
            ["game", "p"],
            registry=r,
        )
        self.games_ai_win_rounds = Gauge(
            "halobuzz_games_ai_win_rounds",
            "Rounds decided by the fair draw at p in the last 24 h",
            ["game", "p"],
            registry=r,
        )
        self.games_ai_win_out_of_band = Gauge(
            "halobuzz_games_ai_win_out_of_band",
            "1 when the AI win rate's 99 % interval left the 35-55 % band",
            ["game", "p"],
            registry=r,
        )

        # Moderation (halobuzz/moderation/service.py): every automated text decision, the scorer's
        # latency per message (normalise + lexicon + both ONNX models), appeal outcomes; the
        # review queue is read at scrape time (watch_moderation_queue).
        self.moderation_decisions = Counter(
            "halobuzz_moderation_decisions_total",
            "Automated moderation decisions",
            ["kind", "source", "action", "lang"],
            registry=r,
        )
        self.moderation_model_seconds = Histogram(
            "halobuzz_moderation_model_seconds",
            "Time to score one message (normalise, lexicon, models)",
            ["model"],
            buckets=(2e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.05),
            registry=r,
        )
        self.moderation_appeals = Counter(
            "halobuzz_moderation_appeal_outcomes_total", "Appeals decided, by outcome", ["outcome"], registry=r
        )

    def watch_moderation_queue(self, snapshot) -> None:
        """Review queue gauges read at scrape time: `snapshot()` returns {type: (pending, oldest_age_seconds)}."""
        self.registry.register(_ModerationQueueCollector(snapshot))

    def watch_websockets(self, snapshot) -> None:
        """Websocket room counters, read from the hub at scrape time (no per-delivery cost):
        `snapshot()` returns {connections, rooms, deliveries, writes, shed, disconnects: {code: n}}."""
        self.registry.register(_WebsocketCollector(snapshot))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; label children are cached (labels() is the costly part)."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.http_latency.labels(method, route), self.http_requests.labels(method, route, str(status)))
            self._request_children[key] = children
        children[0].observe(seconds)
        children[1].inc()


class _ModerationQueueCollector:
    def __init__(self, snapshot) -> None:
        self.snapshot = snapshot

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily(
            "halobuzz_moderation_queue_depth", "Pending flags in the review queue", labels=["type"]
        )
        age = GaugeMetricFamily(
            "halobuzz_moderation_queue_oldest_age_seconds",
            "Age of the oldest pending flag (0 when none)",
            labels=["type"],
        )
        for type_, (n, oldest) in sorted(self.snapshot().items()):
            depth.add_metric([type_], n)
            age.add_metric([type_], oldest)
        yield depth
        yield age


class _WebsocketCollector:
    def __init__(self, snapshot) -> None:
        self.snapshot = snapshot

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        s = self.snapshot()
        yield GaugeMetricFamily(
            "halobuzz_ws_connections", "Open authenticated websocket connections", value=s["connections"]
        )
        yield GaugeMetricFamily("halobuzz_ws_rooms", "Rooms with at least one connection", value=s["rooms"])
        yield CounterMetricFamily(
            "halobuzz_ws_deliveries", "Events delivered (messages x recipients)", value=s["deliveries"]
        )
        yield CounterMetricFamily(
            "halobuzz_ws_writes", "Coalesced socket writes (one per member per tick)", value=s["writes"]
        )
        yield CounterMetricFamily(
            "halobuzz_ws_dropped", "Presence/chat events shed from slow clients' queues", value=s["shed"]
        )
        closes = CounterMetricFamily("halobuzz_ws_disconnects", "Websocket disconnects by close code", labels=["code"])
        for code, n in sorted(s["disconnects"].items()):
            closes.add_metric([str(code)], n)
        yield closes
