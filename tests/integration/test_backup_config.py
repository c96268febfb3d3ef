"""Replication settings -> litestream.yml, without running Litestream (fast)."""

from __future__ import annotations

import stat

import pytest
import yaml

from halobuzz import config
from halobuzz.db import replication as rep


def test_directory_and_s3_replica_configs(tmp_path):
    s = config.load(tmp_path, env={}, replica_url="replica")  # relative: inside the data dir
    doc = yaml.safe_load(rep.render_config(s, metrics_addr="127.0.0.1:9999"))
    db = doc["dbs"][0]
    assert db["path"] == str(tmp_path.resolve() / "halobuzz.db") and db["monitor-interval"] == "100ms"
    assert db["replicas"] == [{"type": "file", "path": str(tmp_path.resolve() / "replica"), "sync-interval": "100ms"}]
    assert doc["addr"] == "127.0.0.1:9999"

    s3 = config.load(
        tmp_path,
        env={
            "HALOBUZZ_REPLICA_URL": "s3://halobuzz/shard-np",
            "HALOBUZZ_REPLICA_ENDPOINT": "http://127.0.0.1:9000",
            "HALOBUZZ_REPLICA_ACCESS_KEY_ID": "AK",
            "HALOBUZZ_REPLICA_SECRET_ACCESS_KEY": 'S"K:x',
            "HALOBUZZ_REPLICA_SYNC_INTERVAL": "1s",
        },
    )
    r = yaml.safe_load(rep.render_config(s3))["dbs"][0]["replicas"][0]
    assert r == {
        "type": "s3",
        "bucket": "halobuzz",
        "path": "shard-np",
        "region": "us-east-1",
        "sync-interval": "1s",
        "endpoint": "http://127.0.0.1:9000",
        "force-path-style": True,
        "access-key-id": "AK",
        "secret-access-key": 'S"K:x',
    }
    written = rep.write_private(tmp_path / "litestream.yml", rep.render_config(s3))
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "env, message",
    [
        ({"HALOBUZZ_REPLICA_URL": "ftp://host/x"}, "use a directory path"),
        ({"HALOBUZZ_REPLICA_URL": "s3://ab/x"}, "at least 3 characters"),
        ({"HALOBUZZ_REPLICA_URL": "/r", "HALOBUZZ_REPLICA_SYNC_INTERVAL": "soon"}, "replica_sync_interval"),
        ({"HALOBUZZ_REPLICA_URL": "/r", "HALOBUZZ_REPLICA_MONITOR_INTERVAL": "1 day"}, "replica_monitor_interval"),
    ],
)
def test_bad_replica_settings_are_refused_at_load(tmp_path, env, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(tmp_path, env=env)


def test_durations_and_child_env(monkeypatch):
    assert rep.parse_duration("100ms") == pytest.approx(0.1) and rep.parse_duration("2m") == 120
    monkeypatch.setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
    assert "AWS_CA_BUNDLE" not in rep.child_env()
    assert rep.litestream_version().startswith("0.5.")
