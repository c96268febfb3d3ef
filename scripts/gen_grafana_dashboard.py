#!/usr/bin/env python3
"""Regenerate packaging/grafana/halobuzz-dashboard.json (a Grafana dashboard over /metrics).

Run after adding a metric worth a panel: python scripts/gen_grafana_dashboard.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "packaging" / "grafana" / "halobuzz-dashboard.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job="$job",instance=~"$instance"'

ROWS = [
    (
        "Traffic",
        [
            (
                "Requests/s by route",
                "timeseries",
                "reqps",
                [(f"sum by (route) (rate(halobuzz_http_requests_total{{{SEL}}}[$__rate_interval]))", "{{route}}")],
            ),
            (
                "Error ratio (5xx)",
                "timeseries",
                "percentunit",
                [
                    (
                        f'sum(rate(halobuzz_http_requests_total{{{SEL},status=~"5.."}}[$__rate_interval])) / '
                        f"sum(rate(halobuzz_http_requests_total{{{SEL}}}[$__rate_interval]))",
                        "5xx ratio",
                    )
                ],
            ),
            (
                "Latency P50 / P95 / P99",
                "timeseries",
                "s",
                [
                    (
                        f"histogram_quantile({q}, sum by (le) (rate(halobuzz_http_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))",
                        f"P{int(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
            ),
            (
                "Rate-limited requests/s",
                "timeseries",
                "reqps",
                [(f"sum by (group) (rate(halobuzz_rate_limited_total{{{SEL}}}[$__rate_interval]))", "{{group}}")],
            ),
        ],
    ),
    (
        "Database",
        [
            (
                "Commit latency P95",
                "timeseries",
                "s",
                [
                    (
                        f"histogram_quantile(0.95, sum by (le) (rate(halobuzz_db_commit_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))",
                        "P95",
                    )
                ],
            ),
            (
                "Write units per commit (mean)",
                "timeseries",
                "short",
                [
                    (
                        f"rate(halobuzz_db_commit_batch_size_sum{{{SEL}}}[$__rate_interval]) / rate(halobuzz_db_commit_batch_size_count{{{SEL}}}[$__rate_interval])",
                        "units/commit",
                    )
                ],
            ),
            ("Write queue depth", "timeseries", "short", [(f"halobuzz_db_write_queue_depth{{{SEL}}}", "queued")]),
            (
                "Write units rolled back/s",
                "timeseries",
                "ops",
                [(f"rate(halobuzz_db_write_unit_failures_total{{{SEL}}}[$__rate_interval])", "rolled back")],
            ),
        ],
    ),
    (
        "Replication (Litestream)",
        [
            (
                "Replica healthy",
                "stat",
                "short",
                [(f"halobuzz_replication_healthy{{{SEL}}} and halobuzz_replication_enabled{{{SEL}}} == 1", "healthy")],
            ),
            ("Replication lag", "timeseries", "s", [(f"halobuzz_replication_lag_seconds{{{SEL}}}", "lag")]),
            (
                "Transaction ids: local vs replica",
                "timeseries",
                "short",
                [
                    (f"halobuzz_replication_local_txid{{{SEL}}}", "local"),
                    (f"halobuzz_replication_replica_txid{{{SEL}}}", "replica"),
                ],
            ),
            (
                "Litestream restarts",
                "timeseries",
                "short",
                [(f"increase(halobuzz_replication_restarts_total{{{SEL}}}[$__rate_interval])", "restarts")],
            ),
        ],
    ),
    (
        "Business",
        [
            (
                "Revenue per hour by currency (minor units)",
                "timeseries",
                "short",
                [("sum by (currency) (increase(halobuzz_payments_revenue_minor_total[1h]))", "{{currency}}")],
            ),
            (
                "Revenue today vs yesterday",
                "timeseries",
                "percentunit",
                [
                    (
                        "sum by (currency) (increase(halobuzz_payments_revenue_minor_total[1d])) / "
                        "sum by (currency) (increase(halobuzz_payments_revenue_minor_total[1d] offset 1d))",
                        "{{currency}}",
                    )
                ],
            ),
            (
                "Payment verification failures/s",
                "timeseries",
                "ops",
                [
                    (
                        f"sum by (gateway) (rate(halobuzz_payments_verification_failures_total{{{SEL}}}[$__rate_interval]))",
                        "{{gateway}}",
                    )
                ],
            ),
            (
                "Events published/s",
                "timeseries",
                "ops",
                [(f"sum by (event) (rate(halobuzz_events_published_total{{{SEL}}}[$__rate_interval]))", "{{event}}")],
            ),
        ],
    ),
    (
        "Audience, engagement and festivals",
        [
            (
                "Active users (5 min / 1 h / 1 day)",
                "timeseries",
                "short",
                [(f"halobuzz_active_users{{{SEL}}}", "{{window}}")],
            ),
            (
                "Live streams and viewers",
                "timeseries",
                "short",
                [(f"halobuzz_live_streams{{{SEL}}}", "streams"), (f"halobuzz_live_viewers{{{SEL}}}", "viewers")],
            ),
            (
                "Gifts and coins per minute",
                "timeseries",
                "short",
                [
                    (f"halobuzz_gifts_per_minute{{{SEL}}}", "gifts/min"),
                    (f"halobuzz_gift_coins_per_minute{{{SEL}}}", "coins/min"),
                ],
            ),
            (
                "Revenue this hour vs same hour last week",
                "timeseries",
                "short",
                [
                    (
                        "sum by (currency) (increase(halobuzz_payments_revenue_minor_total[1h]))",
                        "{{currency}} this hour",
                    ),
                    (
                        "sum by (currency) (increase(halobuzz_payments_revenue_minor_total[1h] offset 1w))",
                        "{{currency}} last week",
                    ),
                ],
            ),
            (
                "Engagement score by stream (busiest 50)",
                "timeseries",
                "short",
                [(f"halobuzz_stream_engagement_score{{{SEL}}}", "{{stream}}")],
            ),
            ("Host nudges sent (boredom)", "timeseries", "short", [(f"halobuzz_ai_nudges_sent{{{SEL}}}", "nudges")]),
            (
                "Festival uplift (coins/h vs the week before)",
                "timeseries",
                "short",
                [(f"halobuzz_festival_uplift_ratio{{{SEL}}}", "{{festival}}")],
            ),
            (
                "Festival bonus coins paid/s",
                "timeseries",
                "short",
                [(f"rate(halobuzz_festival_bonus_coins_total{{{SEL}}}[$__rate_interval])", "bonus coins/s")],
            ),
        ],
    ),
    (
        "Process",
        [
            (
                "CPU (cores)",
                "timeseries",
                "percentunit",
                [(f"rate(process_cpu_seconds_total{{{SEL}}}[$__rate_interval])", "cpu")],
            ),
            ("Resident memory", "timeseries", "bytes", [(f"process_resident_memory_bytes{{{SEL}}}", "rss")]),
            ("Open file descriptors", "timeseries", "short", [(f"process_open_fds{{{SEL}}}", "fds")]),
        ],
    ),
]


def build() -> dict:
    panels, pid, y = [], 1, 0
    for title, items in ROWS:
        panels.append(
            {"type": "row", "title": title, "id": pid, "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}}
        )
        pid += 1
        y += 1
        for i, (ptitle, kind, unit, targets) in enumerate(items):
            panels.append(
                {
                    "type": kind,
                    "title": ptitle,
                    "id": pid,
                    "datasource": DS,
                    "gridPos": {"h": 8, "w": 6, "x": (i % 4) * 6, "y": y + (i // 4) * 8},
                    "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                    "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
                    if kind == "timeseries"
                    else {},
                    "targets": [
                        {"refId": chr(65 + n), "expr": expr, "legendFormat": legend, "datasource": DS}
                        for n, (expr, legend) in enumerate(targets)
                    ],
                }
            )
            pid += 1
        y += 8 * ((len(items) + 3) // 4)
    return {
        "title": "HaloBuzz appliance",
        "uid": "halobuzz-appliance",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "tags": ["halobuzz"],
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
                {"name": "job", "type": "constant", "query": "halobuzz", "hide": 2},
                {
                    "name": "instance",
                    "type": "query",
                    "datasource": DS,
                    "label": "Shard",
                    "query": 'label_values(halobuzz_http_requests_total{job="$job"}, instance)',
                    "includeAll": True,
                    "multi": True,
                    "refresh": 2,
                },
            ]
        },
        "panels": panels,
    }


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {OUT}")
