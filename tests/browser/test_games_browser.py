"""Games in the console (Chromium): lobby, a challenge played and its proof checked in the browser
with WebCrypto, lottery tickets bought and the draw verified, a bracket, the admin band."""

import re
import time

import pytest

from tests.browser.conftest import Console  # noqa: F401  (fixtures come from conftest)
from tests.conftest import Server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("games-browser") / "data",
        env={
            "HALOBUZZ_DEMO": "1",
            "HALOBUZZ_STREAM_HEARTBEAT_TIMEOUT": "3600",
            "HALOBUZZ_GAMES_LOTTERY_EVERY": "0",
            "HALOBUZZ_GAMES_COMPLIANCE": '{"NP": "games_of_chance=true"}',
            "HALOBUZZ_GAMES_RATE": "1000/1s",
        },
    ).start()
    yield srv
    srv.stop()


def test_challenge_and_in_browser_proof(console, api):
    u = api.user("gamer", coins=500)
    c = console()
    c.login(u["email"], u["password"], then="/games")
    page = c.page
    page.wait_for_selector("#game-challenge .p-rate")
    keys = page.evaluate("""async () => {
        const m = await import('/assets/console/js/games/strings.js');
        return [Object.keys(m.EN).sort(), Object.keys(m.NE).sort()];
    }""")
    assert keys[0] == keys[1]
    assert "45 %" in page.locator("#game-challenge .p-rate").text_content()
    page.fill("#challenge-stake", "20")
    page.click("#challenge-start")
    page.wait_for_selector("#puzzle-text")
    a, b, d = map(int, re.findall(r"\d+", page.locator("#puzzle-text").text_content()))
    page.fill("#puzzle-answer", str(a * b + d))
    page.click("#puzzle-send")
    page.wait_for_selector("#verify-proof")
    page.click("#verify-proof")
    page.wait_for_selector("#proof-result.ok")
    assert "4 draws" in page.locator("#proof-result").text_content()
    # the quiz bank (with its answers) is not served
    assert api.http.get("/assets/games/quiz/bank.json").status_code == 404


def test_lottery_tickets_and_draw_verified_in_browser(console, api):
    u = api.user("ticket", coins=500)
    draws_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 8))
    r = api.http.post(
        "/api/v1/games/rounds", json={"game": "lottery", "stake": 5, "drawsAt": draws_at}, headers=api.admin["auth"]
    )
    assert r.status_code == 201, r.text
    lid = r.json()["id"]
    c = console()
    c.login(u["email"], u["password"], then=f"/game/{lid}")
    page = c.page
    page.wait_for_selector("#join-count")
    page.fill("#join-count", "4")
    page.fill("#join-seed", "my-lucky-seed")
    page.click("#join-round")
    page.wait_for_function(
        "() => /settled/.test(document.querySelector('#round-status')?.textContent || '')", timeout=20000
    )
    page.wait_for_selector("#verify-proof")
    page.click("#verify-proof")
    page.wait_for_selector("#proof-result.ok")
    assert api.http.get("/api/v1/wallet", headers=u["auth"]).json()["balance"] >= 480


def test_bracket_and_admin_band(console, api):
    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    t = api.http.post(
        "/api/v1/admin/games/tournaments",
        json={"name": "Tihar Cup", "format": "double", "entryFee": 10, "startsAt": starts},
        headers=api.admin["auth"],
    ).json()
    c = console()
    c.login("admin@demo.halobuzz", then=f"/tournament/{t['id']}")
    page = c.page
    page.wait_for_selector("#register-tournament")
    page.click("#register-tournament")
    page.wait_for_function("() => !document.querySelector('#register-tournament')")
    c.goto("/gamesadmin")
    page.wait_for_selector("#report-table")
    page.fill("#p-challenge", "0.6")
    page.click("#save-challenge")
    page.wait_for_function(
        "() => /35 % and 55 %/.test(document.querySelector('#settings-challenge .form-error, "
        "#settings-challenge .field-error')?.textContent || '') || "
        "[...document.querySelectorAll('#settings-challenge .field-error, #settings-challenge "
        ".form-error')].some(e => /35 % and 55 %/.test(e.textContent))"
    )
    page.fill("#p-challenge", "0.4")
    page.click("#save-challenge")
    page.wait_for_selector(".toast")
    assert api.http.get("/api/v1/games").json()["items"][2]["aiWinRate"] == 0.4
