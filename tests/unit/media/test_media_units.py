"""The video path's small parts: settings, where ingest URLs point, the ffmpeg command line,
the engine check, the doctor check for replays."""

from __future__ import annotations

import pytest

from halobuzz import config
from halobuzz.media import checks, engine
from halobuzz.media.ingest import IngestSpec, ffmpeg_args, is_listening
from halobuzz.media.service import MediaConfig
from tests.support.world import World


def settings(tmp_path, **env):
    return config.load(tmp_path, env={f"HALOBUZZ_{k.upper()}": str(v) for k, v in env.items()})


@pytest.mark.parametrize(
    "bad",
    [
        {"media_provider": "rtmp"},
        {"media_rtmp_port": 65530, "media_max_ingests": 16},
        {"media_segment_seconds": 0.1},
        {"media_replay_days": -1},
    ],
)
def test_bad_media_settings_are_refused_by_name(tmp_path, bad):
    with pytest.raises(config.ConfigError) as err:
        settings(tmp_path, **bad)
    assert any(name in str(err.value) for name in bad)


def test_ingest_urls_name_the_public_host_not_a_wildcard_bind(tmp_path):
    cfg = MediaConfig.from_settings(settings(tmp_path, media_provider="hls", host="0.0.0.0"))
    assert cfg.bind == "0.0.0.0" and cfg.public_host == "127.0.0.1" and cfg.root == tmp_path.resolve() / "video"
    cfg = MediaConfig.from_settings(settings(tmp_path, host="0.0.0.0", public_url="https://live.example.np"))
    assert cfg.public_host == "live.example.np"
    cfg = MediaConfig.from_settings(
        settings(tmp_path, media_rtmp_public_host="rtmp.example.np", media_rtmp_bind="10.0.0.2")
    )
    assert (cfg.public_host, cfg.bind) == ("rtmp.example.np", "10.0.0.2")


def test_ffmpeg_command_line(tmp_path):
    spec = IngestSpec("S1", "secret", 1935, "127.0.0.1", tmp_path, keep_segments=False)
    args = ffmpeg_args("ffmpeg", spec, 3)
    assert args[args.index("-i") + 1] == "rtmp://127.0.0.1:1935/live/secret" and "-listen" in args
    assert "delete_segments" in args[args.index("-hls_flags") + 1] and args[-1].endswith("r3.m3u8")
    assert args[args.index("-c") + 1] == "copy"
    kept = ffmpeg_args("ffmpeg", IngestSpec("S1", "k", 1, "h", tmp_path, transcode=True), 1)
    assert "delete_segments" not in kept[kept.index("-hls_flags") + 1] and "libx264" in kept
    assert kept[kept.index("-g") + 1] == "30"


def test_engine_has_what_the_video_path_needs():
    info = engine.describe(engine.ffmpeg_binary())
    assert info.ok, info.missing
    with pytest.raises(engine.EngineError):
        engine.ffmpeg_binary("/nonexistent/ffmpeg")


def test_listening_socket_detected():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert not is_listening(port)
        s.listen()
        assert is_listening(port)


def test_doctor_finds_a_ready_replay_without_files(tmp_path):
    w = World.open(tmp_path / "halobuzz.db")
    sid = w.stream(w.user(), status="ended")
    w.conn.execute("INSERT INTO stream_replays(stream_id, status, created_at) VALUES (?, 'ready', 'x')", (sid,))
    assert checks.replays_on_disk(w.conn) == [
        f"replay of stream {sid} is marked ready but replay/index.m3u8 is missing"
    ]
    (tmp_path / "video" / sid / "replay").mkdir(parents=True)
    (tmp_path / "video" / sid / "replay" / "index.m3u8").write_text("#EXTM3U\n")
    assert checks.replays_on_disk(w.conn) == []
