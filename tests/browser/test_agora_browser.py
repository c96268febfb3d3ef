"""media_provider = agora in a real Chromium, with every request off this machine refused by the
browser (no Agora account or network here): the vendored Web SDK loads under the console's CSP,
the host goes live from the browser with a (fake) camera and microphone and sees the preview
play, and a viewer's room starts the SDK with the subscriber token. Joining Agora's network is
not tested here."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, Api, Console
from tests.conftest import Server

pytestmark = pytest.mark.browser
APP_ID, APP_CERT = "970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"
_OFFLINE = re.compile(r"net::ERR_FAILED|net::ERR_NAME_NOT_RESOLVED|net::ERR_INTERNET_DISCONNECTED")


@pytest.fixture(scope="module")
def agora_server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("browseragora") / "data",
        env={
            "HALOBUZZ_DEMO": "1",
            "HALOBUZZ_STREAM_HEARTBEAT_TIMEOUT": "3600",
            "HALOBUZZ_MEDIA_PROVIDER": "agora",
            "HALOBUZZ_AGORA_APP_ID": APP_ID,
            "HALOBUZZ_AGORA_APP_CERTIFICATE": APP_CERT,
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def camera_browser(browser):
    """A second Chromium from the session's Playwright, with a fake camera and microphone."""
    b = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    )
    yield b
    b.close()


class OfflineConsole(Console):
    """Requests to anything but the appliance are aborted; the SDK's failed attempts are not defects."""

    def __init__(self, browser, server) -> None:
        super().__init__(browser, server)
        self.context.grant_permissions(["camera", "microphone"])
        self.context.route(
            "**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort()
        )

    def _console(self, msg) -> None:
        if not _OFFLINE.search(msg.text):
            super()._console(msg)


def test_host_goes_live_from_browser_camera_and_viewer_starts_agora(camera_browser, agora_server, results_dir):
    api = Api(agora_server)
    host, viewer = api.login("host@demo.halobuzz"), api.user("aview")
    for item in api.http.get("/api/v1/streams").json()["items"]:
        api.http.post(f"/api/v1/streams/{item['id']}/end", headers=host["auth"])
    sid = api.live_stream(host, "Camera in the browser")
    h = OfflineConsole(camera_browser, agora_server)
    h.login("host@demo.halobuzz", then="/host")
    page = h.page
    page.click("#camera-live")
    page.wait_for_selector("#camera-preview video", timeout=20000)
    page.wait_for_function("() => document.querySelector('#camera-preview video').currentTime > 1", timeout=20000)
    assert page.evaluate("() => window.AgoraRTC.VERSION") == "4.24.8"
    page.screenshot(path=str(results_dir / "agora-host-camera-1280.png"))

    v = OfflineConsole(camera_browser, agora_server)
    v.login(viewer["email"], viewer["password"], then=f"/room/{sid}")
    v.page.wait_for_selector("#agora-video")
    v.page.wait_for_function("() => !!window.AgoraRTC")
    v.close()
    h.close()
    api.http.close()
