"""Every Prometheus metric the appliance exposes is named here, on one registry per app."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "halobuzz_http_requests_total", "HTTP requests by route and status",
            ["method", "route", "status"], registry=r)
        self.http_latency = Histogram(
            "halobuzz_http_request_duration_seconds", "HTTP request latency by route",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r)
        self.write_queue_depth = Gauge(
            "halobuzz_db_write_queue_depth", "Write units waiting for the writer thread", registry=r)
        self.commit_latency = Histogram(
            "halobuzz_db_commit_duration_seconds", "Time from BEGIN to COMMIT of one group",
            buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram(
            "halobuzz_db_commit_batch_size", "Write units per committed group",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), registry=r)
        self.write_failures = Counter(
            "halobuzz_db_write_unit_failures_total", "Write units rolled back to their savepoint",
            registry=r)
        self.rate_limited = Counter(
            "halobuzz_rate_limited_total", "Requests refused by the rate limiter", ["group"], registry=r)
        self.events_published = Counter(
            "halobuzz_events_published_total", "Events published on the in-process bus", ["event"],
            registry=r)
