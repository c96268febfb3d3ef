"""Issue 15 item 15: clear answers instead of tracebacks, reprs, silent 200s and wrong words."""

import io
import socket
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ADMIN_EMAIL, Server, cli, register


@pytest.fixture(scope="module")
def boss(server):
    with server.client() as c:
        admin = register(c, email=ADMIN_EMAIL, username="answersadmin")
    assert cli(server.data_dir, "user", "set-role", "answersadmin", "admin").returncode == 0
    return admin


def serve(data_dir, *args, env=None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "halobuzz", "serve", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HALOBUZZ_BCRYPT_ROUNDS": "4", **(env or {})},
    )


def test_bad_agora_settings_and_a_taken_port_are_one_line_errors(tmp_path):
    out = serve(
        tmp_path / "a", "--port", "0", env={"HALOBUZZ_MEDIA_PROVIDER": "agora", "HALOBUZZ_AGORA_APP_ID": "nope"}
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "agora_app_id" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = serve(tmp_path / "b", "--port", str(port))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in out.stderr


def test_truncated_image_message_has_no_python_repr(client):
    from PIL import Image

    u = register(client)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "JPEG")
    r = client.post(
        "/api/v1/me/avatar", content=buf.getvalue()[:200], headers={**u["auth"], "Content-Type": "image/jpeg"}
    )
    assert r.status_code == 422, r.text
    assert "object at 0x" not in r.text and "<" not in r.json()["error"]["message"]


def test_minor_cannot_raise_the_spend_cap(client):
    kid = register(client, birthDate="2012-01-01")
    r = client.put("/api/v1/wallet/limits", json={"dailySpendLimit": 100_000}, headers=kid["auth"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "minor_spend_limit", r.text
    assert "under 18" in r.json()["error"]["message"]
    assert client.put("/api/v1/wallet/limits", json={"dailySpendLimit": 100}, headers=kid["auth"]).status_code == 200


def test_admin_gift_accepts_the_art_form_gifts_show(client, boss):
    shown = client.get("/api/v1/gifts").json()
    shown = shown["items"] if isinstance(shown, dict) else shown
    art = shown[0]["art"]
    assert art.startswith("/assets/")
    gid = f"g{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/v1/admin/gifts", json={"id": gid, "name": "Echo", "price": 7, "art": art}, headers=boss["auth"]
    )
    assert r.status_code == 201, r.text
    assert r.json()["art"] == art


def test_duplicate_reports_are_merged(client):
    reporter, target = register(client), register(client)
    body = {"type": "user", "targetId": target["user"]["username"], "reason": "spam"}
    first = client.post("/api/v1/reports", json=body, headers=reporter["auth"])
    again = client.post(
        "/api/v1/reports",
        json={**body, "targetId": target["user"]["id"], "reason": "scam links"},
        headers=reporter["auth"],
    )
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["merged"] is True


def test_ledger_of_an_unknown_user_is_404(client, boss):
    r = client.get("/api/v1/admin/users/nobody-at-all/ledger", headers=boss["auth"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_serve_demo_shows_a_live_room_with_chat(tmp_path):
    srv = Server(tmp_path / "data", env={"HALOBUZZ_DEMO": "true"}).start()
    try:
        with srv.client() as c:
            live = c.get("/api/v1/streams").json()["items"]
            assert len(live) == 1 and live[0]["host"]["username"] == "demo_host"
            chat = c.get(f"/api/v1/streams/{live[0]['id']}/messages").json()["items"]
            assert len(chat) >= 3
    finally:
        srv.stop()
