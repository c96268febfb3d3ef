"""Buying coins from the console through the built-in gateway simulators (`halobuzz dev gateways`)."""

from __future__ import annotations

import pytest

from tests.conftest import Server, free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    from tests.integration.test_payments import Sims

    base = tmp_path_factory.mktemp("browser-pay")
    port = free_port()
    sims = Sims(base / "sims.log", f"http://127.0.0.1:{port}/api/v1/payments/stripe/webhook")
    srv = Server(
        base / "data",
        env={
            **sims.env(),
            "HALOBUZZ_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HALOBUZZ_DEMO": "1",
            "HALOBUZZ_PAYMENT_RECHECK_AFTER": "0",
        },
    )
    srv.port, srv.url = port, f"http://127.0.0.1:{port}"
    srv.start()
    srv.sims = sims
    yield srv
    srv.stop()
    sims.stop()


def test_buy_coins_with_esewa_simulator(console, api, results_dir):
    u = api.user("buyer")
    c = console(1280)
    c.login(u["email"], u["password"], then="/wallet")
    page = c.page
    page.wait_for_selector("#buy-npr-10-esewa")
    page.screenshot(path=str(results_dir / "wallet-packs-1280.png"), full_page=True)
    # the console posts the signed form to the (simulated) eSewa page
    page.click("#buy-npr-10-esewa")
    page.wait_for_url(f"{api.server.sims.url}/**")
    page.screenshot(path=str(results_dir / "payment-esewa-simulator.png"))
    page.click("button[value='1']")
    # eSewa sends the browser back to the appliance's return URL; the order is verified and credited,
    # and the browser is sent on (303) to the console's wallet page with the outcome
    page.wait_for_url(lambda url: "#/wallet" in url and "payment=success" in url)
    page.wait_for_selector("#payment-result")
    assert "success" in page.locator("#payment-result").text_content()
    c.goto("/wallet")
    page.wait_for_selector("#orders td.order-completed, #orders td.order-credited, #orders [class^=order-]")
    assert page.locator("#bal-paid .n").text_content() == "500"
    assert api.http.get("/api/v1/wallet", headers=u["auth"]).json()["balance"] == 500
    page.screenshot(path=str(results_dir / "wallet-after-purchase-1280.png"), full_page=True)


def test_gateway_return_to_console_shows_result(console, api):
    u = api.user("back")
    c = console(768)
    c.login(u["email"], u["password"])
    c.page.goto(f"{api.server.url}/?payment=success")
    c.page.wait_for_selector("#payment-result")
    assert "success" in c.page.locator("#payment-result").text_content()
    assert c.page.evaluate("location.hash").startswith("#/wallet")


def test_admin_sees_orders_and_gateway_events(console, api):
    c = console(1280)
    c.login("admin@demo.halobuzz", then="/admin/payments")
    c.page.wait_for_selector("#admin-panel table")
    text = c.page.locator("#admin-panel").text_content()
    assert "esewa" in text
