"""The video path's domain service with the real ffmpeg engine and a real SQLite file (no HTTP):
RTMP in with the stream key, a playlist whose segments advance, refusals (wrong key, stream
not live, banned host), the replay left behind, signed playback paths."""

from __future__ import annotations

import asyncio
import os
import re
import time

import pytest

from halobuzz.db.database import Database
from halobuzz.errors import Forbidden, NotFound
from halobuzz.infra.clock import FrozenClock
from halobuzz.infra.crypto import FieldCipher
from halobuzz.media.provider import HlsMedia
from halobuzz.media.service import MediaConfig, MediaService
from halobuzz.streams.media import PUBLISHER, SUBSCRIBER
from tests.conftest import free_port
from tests.support.publisher import push
from tests.support.world import T0, World


def newest(playlist: str) -> int:
    """Media sequence number of the playlist's newest segment."""
    first = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", playlist).group(1))
    return first + len(re.findall(r"^#EXTINF:", playlist, re.M)) - 1


@pytest.fixture()
def env(tmp_path):
    w = World.open(tmp_path / "media.db")
    host = w.user("host")
    live = w.stream(host)
    w.conn.close()
    db = Database(tmp_path / "media.db", synchronous="OFF", readers=1)
    cfg = MediaConfig(root=tmp_path / "video", port_base=free_port(), max_ingests=1, replay_days=7)
    media = MediaService(db, FrozenClock(T0), FieldCipher({"k": os.urandom(32)}, "k"), cfg, signing_key=b"s" * 32)
    return db, media, host, live


async def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def test_ingest_with_key_serves_advancing_playlist_refuses_wrong_key_and_leaves_replay(env):
    db, media, host, live = env

    async def go():
        await db.open()
        await media.load()
        await media.stream_started(live, host)
        creds = HlsMedia(media).credentials(live, 1, PUBLISHER, T0.timestamp()).as_json()
        assert creds["provider"] == "hls" and creds["streamKey"] and creds["publishUrl"].endswith(creds["streamKey"])
        assert creds["ingestUrl"].startswith("rtmp://127.0.0.1:")
        viewer = HlsMedia(media).credentials(live, 2, SUBSCRIBER, T0.timestamp()).as_json()
        assert "streamKey" not in viewer and viewer["playbackUrl"].startswith(f"/media/live/{live}/")
        stored = db.inline.one("SELECT key_enc FROM media_ingests WHERE stream_id = ?", (live,))["key_enc"]
        assert creds["streamKey"] not in stored, "the key is stored encrypted"

        child = media.children[live]
        await wait_for(lambda: child.proc is not None)
        publisher = push(creds["publishUrl"], 5)
        first = (await wait_for(lambda: _playlist(media, live))).read_text()
        await asyncio.sleep(2.2)
        second = media.live_file(live, "live.m3u8").read_text()
        assert newest(second) >= newest(first) + 1, "segments advance"
        segment = re.findall(r"^(r\d+-\d+\.ts)$", second, re.M)[-1]
        assert media.live_file(live, segment).stat().st_size > 0
        with pytest.raises(NotFound):
            media.live_file(live, "../media.db")
        await asyncio.to_thread(publisher.wait, 15)

        # a wrong key: the publisher is dropped at once, nothing it sent is kept or served
        await wait_for(lambda: child.proc is not None and child.proc.returncode is None and not child.publishing)
        before = sorted(p.name for p in child.spec.directory.iterdir())
        intruder = push(creds["ingestUrl"] + "/not-the-key", 5)
        assert await asyncio.to_thread(intruder.wait, 10) != 0
        assert child.status.refused == 1 and len(child.status.verified_runs) == 1
        await wait_for(lambda: sorted(p.name for p in child.spec.directory.iterdir()) == before)

        await db.write(lambda conn: conn.execute("UPDATE streams SET status = 'ended' WHERE id = ?", (live,)))
        await media.stream_ended(live)
        assert live not in media.children and child.proc.returncode is not None, "ending stops the child"
        view = await wait_for(lambda: (v := media.replay_view(live, T0.timestamp()))["status"] != "processing" and v)
        assert view["status"] == "ready" and 3 <= view["durationSeconds"] <= 7 and view["bytes"] > 0
        assert view["expiresAt"].startswith("2026-03-08")
        token = view["playbackUrl"].split("/")[4]
        media.check_token("replay", live, token, T0.timestamp())
        assert "#EXT-X-ENDLIST" in media.replay_file(live, "index.m3u8").read_text()
        await media.stop()
        await db.close()

    asyncio.run(go())


def _playlist(media, stream_id):
    try:
        return media.live_file(stream_id, "live.m3u8")
    except NotFound:
        return None


@pytest.mark.parametrize("why", ["not_live", "banned"])
def test_publisher_refused_when_stream_not_live_or_host_banned(env, why):
    db, media, host, live = env

    async def go():
        await db.open()
        await media.load()
        await media.stream_started(live, host)
        if why == "not_live":
            await db.write(lambda conn: conn.execute("UPDATE streams SET status = 'ended' WHERE id = ?", (live,)))
        else:
            await db.write(lambda conn: conn.execute("UPDATE users SET status = 'banned' WHERE id = ?", (host,)))
        child = media.children[live]
        await wait_for(lambda: child.proc is not None)
        creds = media.ingest(live)
        publisher = push(creds["publishUrl"], 3)
        await asyncio.to_thread(publisher.wait, 10)
        assert child.status.refused == 1 and child.status.verified_runs == []
        with pytest.raises(NotFound):
            media.live_file(live, "live.m3u8")
        await media.stop()
        await db.close()

    asyncio.run(go())


def test_playback_tokens_expire_and_cannot_be_moved(tmp_path):
    media = MediaService(None, FrozenClock(T0), None, MediaConfig(root=tmp_path), signing_key=b"k" * 32)
    now = T0.timestamp()
    token = media.sign("live", "S1", now)
    media.check_token("live", "S1", token, now)
    for kind, sid, tok, at in [
        ("live", "S2", token, now),
        ("replay", "S1", token, now),
        ("live", "S1", token, now + 7 * 3600),
        ("live", "S1", token[:-2] + "AA", now),
        ("live", "S1", "garbage", now),
    ]:
        with pytest.raises(Forbidden):
            media.check_token(kind, sid, tok, at)
    with pytest.raises(NotFound):
        media.stream_dir("../etc")


def test_host_banned_mid_broadcast_is_cut_and_stream_ended(tmp_path):
    w = World.open(tmp_path / "media.db")
    host = w.user("host")
    live = w.stream(host)
    w.conn.close()
    db = Database(tmp_path / "media.db", synchronous="OFF", readers=1)
    ended: list[tuple[str, str]] = []

    async def end_stream(sid, reason):
        ended.append((sid, reason))

    cfg = MediaConfig(root=tmp_path / "video", port_base=free_port(), max_ingests=1, sample_seconds=0.3)
    media = MediaService(
        db,
        FrozenClock(T0),
        FieldCipher({"k": os.urandom(32)}, "k"),
        cfg,
        signing_key=b"s" * 32,
        end_stream=end_stream,
        keepalive=lambda sid: None,
    )

    async def go():
        await db.open()
        await media.load()
        await media.stream_started(live, host)
        child = media.children[live]
        publisher = push(media.ingest(live)["publishUrl"], 8)
        await wait_for(lambda: child.publishing)
        await db.write(lambda conn: conn.execute("UPDATE users SET status = 'suspended' WHERE id = ?", (host,)))
        await wait_for(lambda: ended)
        assert ended[0] == (live, "host may no longer stream")
        assert await asyncio.to_thread(publisher.wait, 10) != 0, "the publisher was cut"
        await media.stop()
        await db.close()

    asyncio.run(go())


def test_replays_past_retention_are_deleted(env):
    db, media, host, live = env

    async def go():
        await db.open()
        replay_dir = media.stream_dir(live) / "replay"
        replay_dir.mkdir(parents=True)
        (replay_dir / "index.m3u8").write_text("#EXTM3U\n")
        await db.write(
            lambda conn: conn.execute(
                "INSERT INTO stream_replays(stream_id, status, created_at, expires_at) VALUES (?, 'ready', ?, ?)",
                (live, "2026-02-01T00:00:00Z", "2026-03-01T11:59:59Z"),
            )
        )
        assert await media.expire_replays() == 1
        assert not replay_dir.exists()
        assert media.replay_view(live, T0.timestamp())["status"] == "expired"
        assert await media.expire_replays() == 0
        await db.close()

    asyncio.run(go())


def test_transcode_mode_reencodes_with_a_keyframe_per_segment(tmp_path):
    w = World.open(tmp_path / "media.db")
    host = w.user("host")
    live = w.stream(host)
    w.conn.close()
    db = Database(tmp_path / "media.db", synchronous="OFF", readers=1)
    cfg = MediaConfig(root=tmp_path / "video", port_base=free_port(), max_ingests=1, transcode=True, replay_days=0)
    media = MediaService(db, FrozenClock(T0), FieldCipher({"k": os.urandom(32)}, "k"), cfg, signing_key=b"s" * 32)

    async def go():
        await db.open()
        await media.load()
        await media.stream_started(live, host)
        publisher = push(media.ingest(live)["publishUrl"], 4)
        playlist = await wait_for(lambda: (p := _playlist(media, live)) and "#EXTINF:1.0" in p.read_text() and p)
        assert re.search(r"^r\d+-\d+\.ts$", playlist.read_text(), re.M)
        await asyncio.to_thread(publisher.wait, 15)
        await media.stream_ended(live)
        assert media.replay_view(live, T0.timestamp())["status"] == "empty", "replay_days = 0 keeps nothing"
        assert not media.stream_dir(live).exists()
        await media.stop()
        await db.close()

    asyncio.run(go())
