"""Business metrics: active-user windows, gift flow per minute, and the Prometheus exposition."""

from prometheus_client import CollectorRegistry, generate_latest

from halobuzz.observability.business import Activity, BusinessCollector, GiftFlow


def test_active_users_by_window_and_pruning():
    a = Activity(clock=lambda: 100_000.0)
    a.seen("recent", 100_000 - 60)
    a.seen("hour", 100_000 - 1800)
    a.seen("day", 100_000 - 20_000)
    a.seen("gone", 100_000 - 90_000)
    assert a.counts() == {"5m": 1, "1h": 2, "1d": 3}
    assert "gone" not in a.last


def test_gift_flow_per_minute():
    g = GiftFlow(clock=lambda: 1000.0)
    g.add(10, 900.0)
    g.add(5, 970.0)
    g.add(20, 999.0)
    assert g.per_minute(1000.0) == (2, 25) and (g.gifts, g.coins) == (3, 35)


def test_exposition():
    reg = CollectorRegistry()
    reg.register(
        BusinessCollector(
            lambda: {
                "active": {"5m": 1, "1h": 2, "1d": 3},
                "liveStreams": 2,
                "viewers": 7,
                "giftsPerMinute": 3,
                "coinsPerMinute": 30,
                "giftsTotal": 9,
                "coinsTotal": 90,
                "engagement": [("s1", 42.5)],
                "nudges": 1,
                "festivals": [{"festivalId": "dashain-2083", "uplift": 1.8}],
                "festivalBonusCoins": 12,
            }
        )
    )
    text = generate_latest(reg).decode()
    for line in (
        'halobuzz_active_users{window="1h"} 2.0',
        "halobuzz_live_viewers 7.0",
        "halobuzz_gift_coins_total 90.0",
        'halobuzz_stream_engagement_score{stream="s1"} 42.5',
        'halobuzz_festival_uplift_ratio{festival="dashain-2083"} 1.8',
        "halobuzz_festival_bonus_coins_total 12.0",
    ):
        assert line in text, line
