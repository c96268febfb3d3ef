"""The web console in a real Chromium: layouts at 375/768/1280 px, two viewers in one room,
session refresh, i18n + keyboard, host studio, admin, OG, payments and moderation when present."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
WIDTHS = (375, 768, 1280)


def boxes(page, *selectors):
    return [page.locator(s).first.bounding_box() for s in selectors]


def test_layouts_at_three_widths(console, api, results_dir):
    host = api.user("host")
    sid = api.live_stream(host, "Layout check")
    viewer = api.user("view", coins=1000)
    friend = api.user("pal")
    r = api.http.post(
        "/api/v1/dms", json={"to": viewer["username"], "text": "Namaste! <b>hi</b>"}, headers=friend["auth"]
    )
    assert r.status_code == 201, r.text
    conv = r.json()["conversationId"]
    for width in WIDTHS:
        c = console(width, 900)
        c.login(viewer["email"], viewer["password"])
        page = c.page
        # live list
        page.wait_for_selector(f'[data-stream-id="{sid}"]')
        c.no_overflow()
        page.screenshot(path=str(results_dir / f"live-{width}.png"), full_page=True)
        # room: two panes from 768 px, one pane on phones
        c.goto(f"/room/{sid}")
        page.wait_for_selector("#gift-rose")
        page.wait_for_function("() => document.querySelector('#room-title').textContent === 'Layout check'")
        stage, side = boxes(page, ".stage", ".side")
        if width >= 768:
            assert side["x"] >= stage["x"] + stage["width"] - 1, (width, stage, side)
            assert abs(side["y"] - stage["y"]) < 40, (width, stage, side)
        else:
            assert side["y"] >= stage["y"] + stage["height"] - 1, (width, stage, side)
            assert abs(side["x"] - stage["x"]) < 2 and abs(side["width"] - stage["width"]) < 2
        c.no_overflow()
        page.screenshot(path=str(results_dir / f"room-{width}.png"))
        # inbox: conversations left and chat right from 768 px; one of them on phones
        c.goto(f"/inbox/{conv}")
        page.wait_for_selector("#dm-log .dm")
        assert page.locator("#dm-log .dm-text").first.text_content() == "Namaste! <b>hi</b>"
        convos, thread = page.locator(".inbox > section").first, page.locator("#thread")
        if width >= 768:
            a, b = convos.bounding_box(), thread.bounding_box()
            assert b["x"] >= a["x"] + a["width"] - 1 and abs(a["y"] - b["y"]) < 40, (a, b)
        else:
            assert not convos.is_visible() and thread.is_visible()
        c.no_overflow()
        page.screenshot(path=str(results_dir / f"inbox-{width}.png"))
        for route, ready in (("/wallet", "#bal-paid"), ("/og", "#og-buy-1"), ("/host", "#earnings-held")):
            c.goto(route)
            page.wait_for_selector(ready)
            c.no_overflow()
            page.screenshot(path=str(results_dir / f"{route.strip('/')}-{width}.png"), full_page=True)
    for name in ("live", "room", "inbox", "wallet", "og", "host"):
        for width in WIDTHS:
            shot = results_dir / f"{name}-{width}.png"
            assert shot.stat().st_size > 5000, shot  # a real render, not a blank page
            assert shot.read_bytes()[16:24] == width.to_bytes(4, "big") + shot.read_bytes()[20:24]


def test_two_viewers_see_each_others_chat_and_gifts(console, api, results_dir):
    host = api.user("host")
    sid = api.live_stream(host, 'Title <img src=x id="pwned">')
    alice, bob = api.user("alice", coins=5000), api.user("bob", coins=100)
    a, b = console(1280), console(375, 800)
    a.login(alice["email"], alice["password"], then=f"/room/{sid}")
    b.login(bob["email"], bob["password"], then=f"/room/{sid}")
    for c in (a, b):
        c.page.wait_for_selector("#gift-rose")
    b.page.wait_for_function("() => document.querySelector('#viewer-count').textContent.startsWith('2')")
    # chat from A appears at B, as text (never as markup)
    text = 'Namaste <img src=x id="pwned2"> 🙏'
    a.page.fill("#chat-input", text)
    a.page.keyboard.press("Enter")
    b.page.wait_for_function(
        "t => [...document.querySelectorAll('#chat-log .msg-text')].some(e => e.textContent === t)", arg=text
    )
    assert b.page.locator(f"#chat-log .msg-user >> text={alice['username']}").count() == 1
    assert b.page.locator("#pwned, #pwned2").count() == 0 and a.page.locator("#pwned, #pwned2").count() == 0
    assert b.page.locator("#room-title").text_content() == 'Title <img src=x id="pwned">'
    # a gift from A: B sees the animation, the chat line and the throne; A's balance drops
    a.page.select_option("#gift-qty", "5")
    a.page.click("#gift-heart")
    b.page.wait_for_selector("#gift-layer .gift-fx")
    b.page.wait_for_function("n => document.querySelector('#throne').textContent.includes(n)", arg=alice["username"])
    assert b.page.locator("#chat-log .gift-line").first.text_content() == f"{alice['username']} sent Heart ×5"
    b.page.screenshot(path=str(results_dir / "room-gift-375.png"))
    a.page.wait_for_function("() => document.querySelector('#gift-balance').textContent.startsWith('4,975')")
    # a combo: the same gift again within the window
    a.page.click("#gift-heart")
    b.page.wait_for_selector("#combo.pop")
    assert "×10" in b.page.locator("#combo").text_content()
    # B's chat reaches A too
    b.page.fill("#chat-input", "dhanyabad!")
    b.page.click("#chat-send")
    a.page.wait_for_selector("#chat-log .msg-text >> text=dhanyabad!")
    # B cannot afford Himalaya (999): a clear message, nothing sent
    b.page.click("#gift-himalaya")
    b.page.wait_for_selector(".toast-error")
    a.page.screenshot(path=str(results_dir / "room-gift-1280.png"))


def test_session_survives_reload_and_refreshes_on_401(console, api):
    u = api.user("sess")
    c = console()
    c.login(u["email"], u["password"])
    c.page.reload()
    c.page.wait_for_selector("#logout")
    assert c.page.locator("#who").text_content().endswith(u["username"])
    me = c.page.evaluate("""async () => {
        const m = await import('/assets/console/js/api.js');
        m.session.access = 'expired.token.value';   // the next call gets 401, refreshes, retries
        return (await m.api('GET', '/me')).username;
    }""")
    assert me == u["username"]
    stored = c.page.evaluate("localStorage.getItem('hb.refresh')")
    assert stored and stored != u["refreshToken"]
    c.page.click("#logout")
    c.page.wait_for_selector("#login-form")
    assert c.page.evaluate("localStorage.getItem('hb.refresh')") is None


def test_nepali_strings_keyboard_and_labels(console, api):
    c = console()
    page = c.page
    c.goto("/login")
    page.wait_for_selector("#login-form")
    tables = page.evaluate("""async () => {
        const m = await import('/assets/console/js/strings.js');
        return [Object.keys(m.EN).sort(), Object.keys(m.NE).sort()];
    }""")
    assert tables[0] == tables[1]
    page.select_option("#lang", "ne")
    page.wait_for_function("() => document.documentElement.lang === 'ne'")
    assert page.locator("#nav-live").text_content() == "लाइभ"
    assert page.locator("#login-form h1").text_content() == "HaloBuzz मा साइन इन गर्नुहोस्"
    page.reload()
    page.wait_for_selector("#login-form")
    assert page.locator("#nav-live").text_content() == "लाइभ"
    page.select_option("#lang", "en")
    # keyboard: on a fresh load the first Tab reaches the skip link, which moves focus to <main>
    c.goto("/live")
    page.reload()
    page.wait_for_selector("#live-list[aria-busy=false]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'main' || document.activeElement.closest('#main')")
    # sign in with the keyboard only
    u = api.user("keys", coins=100)
    c.goto("/login")
    page.wait_for_selector("#login-form")
    page.focus("#auth-email")
    page.keyboard.type(u["email"])
    page.keyboard.press("Tab")
    page.keyboard.type(u["password"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#logout")
    # every control in the room has an accessible name
    host = api.user("host")
    sid = api.live_stream(host)
    c.goto(f"/room/{sid}")
    page.wait_for_selector("#gift-rose")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea')].filter(el => {
        if (el.type === 'hidden') return false;
        const label = el.getAttribute('aria-label') || (el.labels && [...el.labels].map(l => l.textContent).join('').trim())
            || el.textContent.trim() || el.getAttribute('title');
        return !label;
    }).map(el => el.outerHTML.slice(0, 80))""")
    assert unnamed == []
    assert page.get_attribute("#chat-log", "role") == "log"
    assert "Rose" in page.get_attribute("#gift-rose", "aria-label")
    # gift by keyboard
    page.focus("#gift-rose")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-log .gift-line")


def test_host_studio_controls_and_viewer_effects(console, api, results_dir):
    host = api.user("studio", role="host")
    viewer = api.user("fan", coins=200)
    h, v = console(1280), console(768)
    h.login(host["email"], host["password"], then="/host")
    page = h.page
    page.fill("#stream-title", "Dashain special")
    page.click("#create-stream")
    page.click("#go-live")
    page.wait_for_selector("#media-token")
    assert "none" in page.locator("#media-token").text_content()
    sid = page.locator("#open-room").get_attribute("href").rsplit("/", 1)[1]
    v.login(viewer["email"], viewer["password"], then=f"/room/{sid}")
    v.page.wait_for_selector("#gift-rose")
    v.page.fill("#chat-input", "first!")
    v.page.keyboard.press("Enter")
    v.page.wait_for_selector("#chat-log .msg-text >> text=first!")
    # slow mode from the studio reaches the viewer
    page.select_option("#slow-mode", "10")
    v.page.wait_for_function("() => document.querySelector('#chat-status').textContent.includes('10')")
    # the host mutes the viewer from the recent-chat table
    page.click("#recent-chat + button")
    row = page.locator(f'#recent-chat tr[data-user="{viewer["username"]}"]').first
    row.locator(".act-mute").click()
    v.page.wait_for_function("() => document.querySelector('#chat-status').textContent.includes('muted')")
    page.screenshot(path=str(results_dir / "host-studio-1280.png"), full_page=True)
    # pin from the viewer's own message is host-only; the host pins it
    row.locator("button >> text=Pin").click()
    v.page.wait_for_selector("#pinned:not([hidden])")
    assert "first!" in v.page.locator("#pinned").text_content()
    # end: the viewer sees it
    page.once("dialog", lambda d: d.accept())
    page.click("#end-stream")
    v.page.wait_for_selector("#stream-ended:not([hidden])")
    page.wait_for_selector("#create-stream-form")


def test_admin_users_ban_audit_gifts_metrics(console, api, results_dir):
    target = api.user("naughty")
    c = console(1280)
    c.login("admin@demo.halobuzz", then="/admin/users")
    page = c.page
    page.fill("#user-q", target["username"])
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#user-results td >> text={target['username']}")
    page.once("dialog", lambda d: d.accept("spam"))
    page.click(f'button[aria-label="Ban {target["username"]}"]')
    page.wait_for_selector(f'button[aria-label="Lift ban {target["username"]}"]')
    assert (
        api.http.post("/api/v1/auth/login", json={"email": target["email"], "password": target["password"]}).status_code
        == 403
    )
    page.screenshot(path=str(results_dir / "admin-users-1280.png"), full_page=True)
    # role change
    sel = page.locator(f'select[aria-label="Role of {target["username"]}"]')
    sel.select_option("host")
    page.wait_for_selector(".toast >> text=is now host")
    # audit log shows both
    c.goto("/admin/audit")
    page.wait_for_selector("#audit-log")
    log = page.locator("#audit-log").text_content()
    assert "user.banned" in log and "user.set_role" in log
    # keyboard between tabs
    page.focus("#tab-audit")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#metrics-overview")
    assert page.evaluate("document.activeElement.id") == "tab-metrics"
    assert page.locator("#readiness").text_content().count("ok") >= 2
    page.screenshot(path=str(results_dir / "admin-metrics-1280.png"), full_page=True)
    c.goto("/admin/gifts")
    page.wait_for_selector('input[aria-label="Price of Rose"]')
    c.goto("/admin/payouts")
    page.wait_for_selector("#admin-panel >> text=No pending payouts.")
    # a plain user does not get the admin pages
    u = api.user("plain")
    p = console(375)
    p.login(u["email"], u["password"])
    assert p.page.locator("#nav-admin").count() == 0
    p.goto("/admin")
    p.page.wait_for_selector("text=Not allowed")
    p.no_overflow()


def test_og_tier_purchase(console, api):
    u = api.user("og", coins=10_000)
    c = console(768)
    c.login(u["email"], u["password"], then="/og")
    c.page.wait_for_selector("#og-buy-1")
    c.page.once("dialog", lambda d: d.accept())
    c.page.click("#og-buy-1")
    c.page.wait_for_selector("#og-current >> text=You are OG 1")
    assert api.http.get("/api/v1/me", headers=u["auth"]).json()["ogLevel"] == 1


def test_moderator_resolves_a_report(console, api, results_dir):
    reporter, bad = api.user("rep"), api.user("bad")
    mod = api.user("mod", role="moderator")
    r = api.http.post(
        "/api/v1/reports",
        headers=reporter["auth"],
        json={"type": "user", "targetId": bad["user"]["id"], "reason": "spam <script>x</script>"},
    )
    assert r.status_code == 201, r.text
    flag = r.json()["id"]
    c = console(1280)
    c.login(mod["email"], mod["password"], then="/moderation")
    page = c.page
    item = page.locator(f'#review-queue li[data-id="{flag}"]')
    item.wait_for()
    assert "spam <script>x</script>" in item.text_content()
    page.screenshot(path=str(results_dir / "moderation-queue-1280.png"), full_page=True)
    # a reported DM: the reviewer reads the message itself, who wrote it and to whom
    dm = api.http.post(
        "/api/v1/dms",
        headers=bad["auth"],
        json={"to": reporter["user"]["username"], "text": "nobody asked you, muppet"},
    )
    assert dm.status_code == 201, dm.text
    r2 = api.http.post(
        "/api/v1/reports",
        headers=reporter["auth"],
        json={"type": "message", "targetId": dm.json()["message"]["id"], "reason": "rude DM"},
    )
    assert r2.status_code == 201, r2.text
    page.reload()
    dm_item = page.locator(f'#review-queue li[data-id="{r2.json()["id"]}"]')
    dm_item.wait_for()
    assert "nobody asked you, muppet" in dm_item.locator(".subject-text").text_content()
    assert f"@{reporter['user']['username']}" in dm_item.text_content()
    item.locator(".resolve-warn").click()
    page.wait_for_selector(".toast >> text=Report resolved.")
    page.wait_for_selector(f'#review-queue li[data-id="{flag}"]', state="detached")
    got = api.http.get(f"/api/v1/moderation/flags/{flag}", headers=mod["auth"]).json()
    assert got["status"] != "pending"
    # a plain admin sees the same queue under Admin → Reports
    a = console(768)
    a.login("admin@demo.halobuzz", then="/admin/reports")
    a.page.wait_for_selector("#review-queue, #no-review")
    a.no_overflow()
