"""The festival banner in a real Chromium: shown from /festivals/active in English and Nepali,
arriving live over /ws when a festival starts, the leaderboard page, and the admin editor."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.browser
KTM = ZoneInfo("Asia/Kathmandu")


def local(dt):
    return dt.astimezone(KTM).strftime("%Y-%m-%dT%H:%M:%S")


def test_banner_languages_live_start_and_editor(console, api, results_dir):
    # the demo appliance runs a launch festival: the banner shows for everyone, in both languages
    c = console(375, 800)
    c.goto("/live")
    page = c.page
    page.wait_for_selector("#festival-banner:not([hidden]) #festival-text")
    assert "bonus coins" in page.text_content("#festival-text")
    c.no_overflow()
    page.screenshot(path=str(results_dir / "festival-banner-375.png"))
    page.select_option("#lang", "ne")
    page.wait_for_function("() => document.querySelector('#festival-text').textContent.includes('सिक्का')")
    assert page.text_content("#festival-name") == "हेलोबज सुरुवात"
    page.select_option("#lang", "en")

    # a signed-in viewer sees a new festival appear the moment it starts (festival:active on /ws)
    viewer = api.user("fan", coins=500)
    v = console(1280, 860)
    v.login(viewer["email"], viewer["password"])
    r = api.http.delete("/api/v1/admin/festivals/halobuzz-launch", headers=api.admin["auth"])
    assert r.status_code == 200, r.text
    v.page.wait_for_selector("#festival-banner[hidden]", state="attached", timeout=15000)
    now = datetime.now(timezone.utc)
    r = api.http.post(
        "/api/v1/admin/festivals",
        headers=api.admin["auth"],
        json={
            "template": "custom",
            "id": "browser-fest",
            "nameEn": "Browser Fest",
            "nameNe": "ब्राउजर चाड",
            "bannerEn": "Browser Fest is live!",
            "bannerNe": "ब्राउजर चाड सुरु!",
            "giftBonusBps": 1500,
            "startsLocal": local(now + timedelta(seconds=3)),
            "endsLocal": local(now + timedelta(hours=2)),
        },
    )
    assert r.status_code == 201, r.text
    v.page.wait_for_function(
        "() => document.querySelector('#festival-text')?.textContent === 'Browser Fest is live!'", timeout=20000
    )
    assert "15" in v.page.text_content(".festival-bonus")
    v.page.screenshot(path=str(results_dir / "festival-banner-1280.png"))
    v.page.click("#festival-board-link")
    v.page.wait_for_selector("#festival-title")
    assert v.page.text_content("#festival-title") == "Browser Fest"

    # the admin festival editor adds a festival from a template
    a = console(1280, 860)
    a.login("admin@demo.halobuzz", then="/festival")
    a.goto("/festival")
    a.page.wait_for_selector("#festival-form")
    a.page.select_option("#festival-template", "christmas")
    a.page.fill("#festival-year", "2030")
    a.page.fill("#festival-gift-bonus", "700")
    a.page.click("#festival-add")
    a.page.wait_for_selector('#festival-table tr[data-festival="christmas-2030"]')
    a.page.screenshot(path=str(results_dir / "festival-editor-1280.png"), full_page=True)
    listed = api.http.get("/api/v1/festivals").json()["items"]
    assert next(f for f in listed if f["id"] == "christmas-2030")["giftBonusBps"] == 700
