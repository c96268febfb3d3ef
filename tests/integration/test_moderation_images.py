"""NSFW and age paths over a real server whose thresholds flag everything (no NSFW or
under-18 test images exist offline, so the plumbing is what is tested): blurred derivative
served, original for moderators only, review queue, dismiss un-blurs, a flagged frame ends
the stream, the age selfie only queues a review. Also: a model missing or corrupt at start."""

import io
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import Server, cli, free_port, register
from tests.integration.rooms_client import live_stream


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("modimg") / "data",
        env={
            "HALOBUZZ_MODERATION_IMAGE_WARN": "0",
            "HALOBUZZ_MODERATION_IMAGE_BLOCK": "0",
            "HALOBUZZ_MODERATION_AGE_REVIEW": "0",
        },
    ).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def mod(server):
    with server.client() as c:
        m = register(c, username="imgmoderator")
    assert cli(server.data_dir, "user", "set-role", "imgmoderator", "moderator").returncode == 0
    return m


def photo(fmt="JPEG") -> bytes:
    from PIL import Image

    yy, xx = np.mgrid[0:240, 0:320]
    img = np.zeros((240, 320, 3), np.float32)
    img[..., 0] = xx / 319 * 255
    img[..., 1] = yy / 239 * 255
    img[..., 2] = ((xx // 8 + yy // 8) % 2) * 255
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def test_flagged_avatar_is_served_blurred_and_queued(server, client, mod):
    from PIL import Image

    u = register(client)
    data = photo()
    r = client.post("/api/v1/me/avatar", content=data, headers={**u["auth"], "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (
        body["moderation"]["action"] == "block" and body["moderation"]["blurred"] and body["moderation"]["reviewQueued"]
    )
    served = client.get(f"/api/v1/users/{u['user']['id']}/avatar")
    assert served.status_code == 200 and served.headers["x-moderation-status"] == "blurred"
    assert served.content != data
    blurred = np.asarray(Image.open(io.BytesIO(served.content)).convert("RGB"), np.float32)
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)
    assert (
        blurred.shape == original.shape
        and np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(original, axis=1)).mean() / 4
    )
    image_url = body["image"]["url"]
    assert client.get(image_url + "?original=true").status_code == 401
    assert client.get(image_url + "?original=true", headers=u["auth"]).status_code == 403
    orig = client.get(image_url + "?original=true", headers=mod["auth"])
    assert orig.status_code == 200 and orig.content == data
    # content files are content-addressed on disk
    assert len(list((server.data_dir / "media").glob("*/*"))) >= 2
    q = client.get("/api/v1/moderation/queue?type=content&limit=200", headers=mod["auth"]).json()["items"]
    f = next(x for x in q if x["targetId"] == body["image"]["id"])
    assert f["action"] == "blur" and f["automated"] and f["decision"]["modelId"] == "nsfw-mobilenetv2-v1"
    # a moderator dismisses (false positive): the original is served again
    d = client.post(f"/api/v1/moderation/flags/{f['id']}/review", json={"decision": "dismiss"}, headers=mod["auth"])
    assert d.status_code == 200 and "image un-blurred" in d.json()["effects"]
    again = client.get(image_url)
    assert again.content == data and again.headers["x-moderation-status"] == "ok"
    # ... and can blur it again by confirming a report
    rep = client.post(
        "/api/v1/reports",
        json={"type": "content", "targetId": body["image"]["id"], "reason": "nsfw"},
        headers=register(client)["auth"],
    ).json()
    c = client.post(
        f"/api/v1/moderation/flags/{rep['id']}/review",
        json={"decision": "confirm", "action": "blur"},
        headers=mod["auth"],
    )
    assert c.status_code == 200, c.text
    assert client.get(image_url).headers["x-moderation-status"] == "blurred"


def test_flagged_frame_is_kept_and_moderator_ends_stream(server, client, mod):
    host = register(client)
    sid = live_stream(client, host)["id"]
    r = client.post(
        f"/api/v1/streams/{sid}/frames", content=photo("PNG"), headers={**host["auth"], "Content-Type": "image/png"}
    )
    assert r.status_code == 200 and r.json()["moderation"]["action"] == "block"
    image_id = r.json()["image"]["id"]
    q = client.get("/api/v1/moderation/queue?type=content&limit=200", headers=mod["auth"]).json()["items"]
    f = next(x for x in q if x["targetId"] == image_id)
    assert f["streamId"] == sid
    done = client.post(
        f"/api/v1/moderation/flags/{f['id']}/review",
        json={"decision": "confirm", "action": "delete", "endStream": True},
        headers=mod["auth"],
    )
    assert done.status_code == 200, done.text
    assert done.json()["streamEnded"] is True
    assert client.get(f"/api/v1/streams/{sid}").json()["status"] == "ended"
    assert client.get(f"/api/v1/images/{image_id}").status_code == 404
    late = client.post(
        f"/api/v1/streams/{sid}/frames", content=photo(), headers={**host["auth"], "Content-Type": "image/jpeg"}
    )
    assert late.status_code == 409


def test_age_selfie_only_queues_a_review(server, client, mod):
    u = register(client)
    r = client.post(
        "/api/v1/me/age-verification", files={"selfie": ("me.jpg", photo(), "image/jpeg")}, headers=u["auth"]
    )
    assert r.status_code == 202, r.text
    assert r.json()["reviewQueued"] is True
    # the model alone never restricts
    assert client.get("/api/v1/me/restrictions", headers=u["auth"]).json()["restrictedMinor"] is False
    q = client.get("/api/v1/moderation/queue?type=user&limit=200", headers=mod["auth"]).json()["items"]
    f = next(x for x in q if x["targetUserId"] == u["user"]["id"])
    assert f["decision"]["modelId"] == "age-v1" and f["decision"]["kind"] == "age" and f["action"] == "none"
    bad = client.post("/api/v1/me/age-verification", content=b"GIF89a" + b"\x00" * 10, headers=u["auth"])
    assert bad.status_code == 422 and "selfie" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_model_missing_or_corrupt_at_start(tmp_path, damage):
    from halobuzz.moderation.models import models_dir

    models = tmp_path / "models"
    shutil.copytree(models_dir(), models)
    victim = models / "nsfw-mobilenetv2-v1.onnx"
    if damage == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:1000])
    env = {"HALOBUZZ_MODELS_DIR": str(models), "HALOBUZZ_BCRYPT_ROUNDS": "4"}
    out = subprocess.run(
        [sys.executable, "-m", "halobuzz", "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, **env},
    )
    assert out.returncode != 0
    assert "nsfw-mobilenetv2-v1.onnx" in out.stderr and damage in out.stderr and "Traceback" not in out.stderr
    assert cli(tmp_path / "data", "init", env=env).returncode == 0
    doc = cli(tmp_path / "data", "doctor", env=env)
    assert doc.returncode != 0 and "moderation models" in doc.stdout and "nsfw-mobilenetv2-v1.onnx" in doc.stdout
