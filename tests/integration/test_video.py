"""The built-in video path over a real server (media_provider = hls): a generated test pattern
pushed to a live stream's ingest URL becomes a playlist with advancing segments; a wrong key
is refused; ending the stream ends the ingest and leaves a replay; HLS files carry the right
types and caching; a sampled frame over the NSFW block threshold ends the stream."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import Server, free_port, register
from tests.integration.rooms_client import live_stream
from tests.support.publisher import push


def video_server(tmp_path_factory, name: str, **env) -> Server:
    srv = Server(
        tmp_path_factory.mktemp(name) / "data",
        env={
            "HALOBUZZ_MEDIA_PROVIDER": "hls",
            "HALOBUZZ_MEDIA_RTMP_PORT": str(free_port()),
            "HALOBUZZ_MEDIA_MAX_INGESTS": "4",
            **env,
        },
    )
    return srv.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = video_server(tmp_path_factory, "video", HALOBUZZ_MEDIA_SAMPLE_SECONDS="0")
    yield srv
    srv.stop()


def newest(playlist: str) -> int:
    first = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", playlist).group(1))
    return first + len(re.findall(r"^#EXTINF:", playlist, re.M)) - 1


def poll(fn, timeout=15.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = fn()
        if out:
            return out
        time.sleep(every)
    raise AssertionError("timed out")


def test_push_plays_as_advancing_hls_wrong_key_refused_end_leaves_replay(client):
    host, viewer = register(client), register(client)
    stream = live_stream(client, host)
    sid, media = stream["id"], stream["media"]
    assert media["provider"] == "hls" and media["ingestUrl"].startswith("rtmp://") and len(media["streamKey"]) >= 32
    seen = client.get(f"/api/v1/streams/{sid}/media", headers=viewer["auth"]).json()
    assert "streamKey" not in seen and "ingestUrl" not in seen
    url = seen["playbackUrl"]
    assert client.get(url).json()["error"]["code"] == "not_publishing"

    publisher = push(media["publishUrl"], 5)
    first = poll(lambda: (r := client.get(url)).status_code == 200 and r)
    assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert first.headers["cache-control"] == "no-cache"
    later = poll(lambda: newest(t := client.get(url).text) > newest(first.text) and t)
    segment = client.get(url.rsplit("/", 1)[0] + "/" + re.findall(r"^(\S+\.ts)$", later, re.M)[-1])
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    assert "immutable" in segment.headers["cache-control"] and segment.content[:1] == b"\x47"  # MPEG-TS sync byte
    forged = url.replace(url.split("/")[4], url.split("/")[4][:-3] + "AAA")
    assert client.get(forged).status_code == 403
    assert publisher.wait(15) == 0

    intruder = push(media["ingestUrl"] + "/not-the-key", 5)
    assert intruder.wait(10) != 0, "a wrong key is refused"

    ended = client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
    assert ended.status_code == 200
    assert client.get(url).status_code == 404, "ending the stream ends the ingest"
    late = push(media["publishUrl"], 2)
    assert late.wait(10) != 0, "nothing listens for an ended stream"
    replay = poll(
        lambda: (
            (r := client.get(f"/api/v1/streams/{sid}/replay", headers=viewer["auth"]).json())["status"] != "processing"
            and r
        )
    )
    assert replay["status"] == "ready" and 3 <= replay["durationSeconds"] <= 7 and replay["expiresAt"]
    vod = client.get(replay["playbackUrl"])
    assert vod.status_code == 200 and "#EXT-X-PLAYLIST-TYPE:VOD" in vod.text and "#EXT-X-ENDLIST" in vod.text
    assert client.get(f"/api/v1/streams/{sid}/replay").status_code == 401


def test_replay_of_unknown_or_live_stream(client):
    host = register(client)
    sid = live_stream(client, host)["id"]
    assert client.get(f"/api/v1/streams/{sid}/replay", headers=host["auth"]).json()["status"] == "live"
    assert client.get("/api/v1/streams/nope/replay", headers=host["auth"]).status_code == 404
    client.post(f"/api/v1/streams/{sid}/end", headers=host["auth"])
    assert client.get(f"/api/v1/streams/{sid}/replay", headers=host["auth"]).json()["status"] == "empty"


@pytest.mark.slow
def test_sampled_frame_over_nsfw_block_threshold_ends_the_stream(tmp_path_factory):
    # No NSFW test footage exists offline: block at 0 makes every frame "block" (the plumbing is tested).
    srv = video_server(
        tmp_path_factory,
        "videomod",
        HALOBUZZ_MEDIA_SAMPLE_SECONDS="1",
        HALOBUZZ_MODERATION_IMAGE_WARN="0",
        HALOBUZZ_MODERATION_IMAGE_BLOCK="0",
    )
    try:
        with srv.client() as c:
            host = register(c)
            stream = live_stream(c, host)
            publisher = push(stream["media"]["publishUrl"], 20)
            try:
                row = poll(
                    lambda: (s := c.get(f"/api/v1/streams/{stream['id']}").json())["status"] == "ended" and s,
                    timeout=20,
                )
                assert row["endedReason"] == "moderation"
                assert publisher.wait(10) != 0, "the ingest was cut"
            finally:
                publisher.kill()
    finally:
        srv.stop()
