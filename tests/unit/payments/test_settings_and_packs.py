import pytest

from halobuzz import config
from halobuzz.og import tiers
from halobuzz.payments import packs, setup


def test_baseline_pack_and_og_packs():
    table = packs.load("", tiers.load())
    assert (table["npr-10"].amount_minor, table["npr-10"].coins) == (1000, 500)
    assert table["og1-npr"].coins == 3000 and table["og1-npr"].amount_minor == 6000 and table["og1-npr"].og_tier == 1
    assert table["og1-usd"].amount_minor >= 50


def test_pack_overrides_are_validated():
    t = tiers.load()
    custom = packs.load('[{"id":"big","gateways":["khalti"],"currency":"NPR","amountMinor":2000,"coins":1000}]', t)
    assert "big" in custom and "npr-10" not in custom
    for bad in (
        '[{"id":"x","gateways":["khalti"],"currency":"NPR","amountMinor":500,"coins":1}]',
        '[{"id":"x","gateways":["esewa"],"currency":"USD","amountMinor":500,"coins":1}]',
        '[{"id":"x","gateways":["esewa"],"currency":"NPR","amountMinor":1050,"coins":1}]',
        '[{"id":"x","gateways":["paypal"],"currency":"NPR","amountMinor":1000,"coins":1}]',
        "not json",
    ):
        with pytest.raises(ValueError):
            packs.load(bad, t)


def test_live_mode_refuses_published_test_keys(tmp_path):
    s = config.load(
        tmp_path,
        env={},
        payments_mode="live",
        stripe_secret_key="sk_test_abc",
        stripe_webhook_secret="whsec_test_secret",
        khalti_api_base="https://dev.khalti.com/api/v2/",
    )
    problems = setup.live_problems(s)
    assert any("eSewa" in p for p in problems) and any("test secret key" in p for p in problems)
    assert any("webhook secret" in p for p in problems) and any("khalti_api_base" in p for p in problems)
    with pytest.raises(config.ConfigError):
        setup.build_payments(s, write=None, fetchall=None, cipher=None, clock=None, ids=None)
    ok = config.load(
        tmp_path,
        env={},
        payments_mode="live",
        esewa_secret_key="real-merchant-key",
        esewa_product_code="HALOBUZZ",
        esewa_form_url="https://epay.esewa.com.np/api/epay/main/v2/form",
        esewa_status_url="https://epay.esewa.com.np/api/epay/transaction/status/",
        khalti_api_base="https://khalti.com/api/v2/",
        stripe_secret_key="sk_live_x",
        stripe_webhook_secret="whsec_live",
    )
    assert setup.live_problems(ok) == []
    assert setup.live_problems(config.load(tmp_path, env={})) == []  # test mode allows them
