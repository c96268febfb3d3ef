"""The built-in video path in a real Chromium: a test pattern pushed over RTMP plays in the live
room (the video element's time advances, under the console's CSP), the host studio shows the
ingest server and key, and the ended stream's replay plays on the replay page."""

from __future__ import annotations

import subprocess

import pytest

from tests.browser.conftest import Api, Console
from tests.conftest import Server, free_port
from tests.support.publisher import push as push_test_pattern

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def video_server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("browservideo") / "data",
        env={
            "HALOBUZZ_DEMO": "1",
            "HALOBUZZ_STREAM_HEARTBEAT_TIMEOUT": "3600",
            "HALOBUZZ_MEDIA_PROVIDER": "hls",
            "HALOBUZZ_MEDIA_RTMP_PORT": str(free_port()),
            "HALOBUZZ_MEDIA_SAMPLE_SECONDS": "0",
        },
    )
    srv.start()
    yield srv
    srv.stop()


def push(url: str, seconds: float) -> subprocess.Popen:
    return push_test_pattern(url, seconds, size="640x360")


def video_time(page, selector: str) -> float:
    return page.evaluate(f"() => document.querySelector('{selector}').currentTime")


def test_live_room_plays_pushed_video_and_replay_page_plays_recording(browser, video_server, results_dir):
    api = Api(video_server)
    host = api.user("vhost")
    viewer = api.user("vview")
    sid = api.live_stream(host, "Video from OBS")
    media = api.http.get(f"/api/v1/streams/{sid}/media", headers=host["auth"]).json()
    publisher = push(media["publishUrl"], 30)
    try:
        c = Console(browser, video_server)
        c.login(viewer["email"], viewer["password"], then=f"/room/{sid}")
        page = c.page
        page.wait_for_selector("#stream-video")
        page.wait_for_function("() => document.querySelector('#stream-video').currentTime > 0.5", timeout=20000)
        t0 = video_time(page, "#stream-video")
        page.wait_for_function(f"() => document.querySelector('#stream-video').currentTime > {t0 + 2}", timeout=10000)
        page.wait_for_function(
            "() => Number(document.querySelector('#stream-video').dataset.latencyMs) > 0", timeout=10000
        )
        page.screenshot(path=str(results_dir / "video-room-1280.png"))

        # the host studio shows where OBS sends video (key hidden until asked)
        h = Console(browser, video_server)
        h.login(host["email"], host["password"], then="/host")
        h.page.wait_for_selector("#ingest-key")
        assert h.page.locator("#media-token").inner_text().count("rtmp://") == 1
        assert h.page.locator("#ingest-key").inner_text() == media["streamKey"]
        h.close()

        r = api.http.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
        assert r.status_code == 200, r.text
        page.wait_for_selector("#replay-link")
        page.click("#replay-link")
        page.wait_for_selector("#replay-video", timeout=20000)
        page.evaluate("() => { const v = document.querySelector('#replay-video'); v.muted = true; v.play(); }")
        page.wait_for_function("() => document.querySelector('#replay-video').currentTime > 1", timeout=15000)
        page.screenshot(path=str(results_dir / "video-replay-1280.png"))
        c.close()
    finally:
        publisher.kill()
        api.http.close()
