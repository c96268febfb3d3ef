"""backup / restore / upgrade on real data dirs, through the CLI an operator would use."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from halobuzz.db import archive
from halobuzz.db import backup as bk
from halobuzz.db import migrate as migrations
from tests.conftest import Server, cli, register


def _users(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT username FROM users")}
    finally:
        conn.close()


def _make_user(d: Path, name: str) -> None:
    out = cli(
        d, "user", "create", "--email", f"{name}@example.com", "--username", name, "--password", "a-good-password"
    )
    assert out.returncode == 0, out.stderr


def test_backup_then_restore_from_file_refuses_without_force(tmp_path):
    d = tmp_path / "data"
    assert cli(d, "init").returncode == 0
    _make_user(d, "alice")
    out = cli(d, "backup")
    assert out.returncode == 0, out.stderr
    snap = Path(out.stdout.split()[1])
    assert snap.is_file() and stat.S_IMODE(snap.stat().st_mode) == 0o600
    assert archive.is_archive(snap) and not archive.is_sealed(snap)
    _make_user(d, "bob")

    refused = cli(d, "restore", "--from", str(snap))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert _users(d / "halobuzz.db") >= {"alice", "bob"}

    done = cli(d, "restore", "--from", str(snap), "--force")
    assert done.returncode == 0, done.stderr
    assert "alice" in _users(d / "halobuzz.db") and "bob" not in _users(d / "halobuzz.db")
    kept = list((d / "backups").glob("*-pre-restore.db"))
    assert kept and "bob" in _users(kept[0])  # the replaced database was kept


def test_restore_clear_errors(tmp_path):
    d = tmp_path / "data"
    assert cli(d, "init").returncode == 0
    nothing = cli(tmp_path / "empty", "restore")
    assert nothing.returncode == 1 and "nothing to restore from" in nothing.stderr
    wrong = cli(tmp_path / "new", "restore", "--from", str(tmp_path / "no-such-dir"))
    assert wrong.returncode == 1 and "does not exist" in wrong.stderr
    (tmp_path / "not-a-replica").mkdir()
    notrep = cli(tmp_path / "new", "restore", "--from", str(tmp_path / "not-a-replica"))
    assert notrep.returncode == 1 and "not a Litestream replica" in notrep.stderr
    corrupt = tmp_path / "corrupt.db"
    good = d / "halobuzz.db"
    data = bytearray(good.read_bytes())
    data[5000:9000] = os.urandom(4000)
    corrupt.write_bytes(bytes(data))
    bad = cli(tmp_path / "new2", "restore", "--from", str(corrupt))
    assert bad.returncode == 1 and ("corrupt" in bad.stderr or "not an SQLite" in bad.stderr), bad.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    notdb = cli(tmp_path / "new3", "restore", "--from", str(junk))
    assert notdb.returncode == 1 and "not an SQLite database" in notdb.stderr
    assert not (tmp_path / "new3" / "halobuzz.db").exists()
    ts = cli(tmp_path / "new4", "restore", "--from", str(tmp_path / "not-a-replica"), "--timestamp", "yesterday")
    assert ts.returncode == 1 and "timestamp" in ts.stderr.lower()


def test_restore_refuses_live_database_even_with_force(tmp_path):
    srv = Server(tmp_path / "data").start()
    try:
        out = cli(srv.data_dir, "backup")
        assert out.returncode == 0, out.stderr  # backup works while serving
        snap = out.stdout.split()[1]
        live = cli(srv.data_dir, "restore", "--from", snap, "--force")
        assert live.returncode == 1 and "server is running" in live.stderr
    finally:
        srv.stop()
    assert cli(srv.data_dir, "restore", "--from", snap, "--force").returncode == 0


@pytest.mark.slow  # ~10 s of real time between the two points
def test_directory_replica_point_in_time_restore(tmp_path):
    replica = tmp_path / "replica"
    env = {"HALOBUZZ_REPLICA_URL": str(replica)}
    srv = Server(tmp_path / "data", env=env).start()
    try:
        with srv.client() as c:
            register(c, "early")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                ready = c.get("/readyz").json()
                if ready["checks"].get("replication") == "ok" and _metric(c, "halobuzz_replication_replica_txid") > 1:
                    break
                time.sleep(0.2)
            assert ready["checks"]["replication"] == "ok", ready
            time.sleep(1.5)
            mid = time.time()
            time.sleep(1.5)
            register(c, "late")
            time.sleep(1.0)
            assert _metric(c, "halobuzz_replication_up") == 1
    finally:
        srv.stop()
    cfg = tmp_path / "data" / "litestream.yml"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    new = tmp_path / "new-machine"
    latest = cli(new, "restore", "--from", str(replica), "--no-secrets")
    assert latest.returncode == 0, latest.stderr
    assert {"early", "late"} <= _users(new / "halobuzz.db")
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mid))
    older = cli(tmp_path / "older", "restore", "--from", str(replica), "--timestamp", ts, "--no-secrets")
    assert older.returncode == 0, older.stderr
    names = _users(tmp_path / "older" / "halobuzz.db")
    assert "early" in names and "late" not in names
    too_old = cli(
        tmp_path / "ancient", "restore", "--from", str(replica), "--timestamp", "2001-01-01T00:00:00Z", "--no-secrets"
    )
    assert too_old.returncode == 1 and "error:" in too_old.stderr


def _metric(c: httpx.Client, name: str) -> float:
    for line in c.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return -1.0


def test_upgrade_dry_run_and_rollback_on_failed_migration(tmp_path, monkeypatch):
    d = tmp_path / "data"
    assert cli(d, "init").returncode == 0
    _make_user(d, "carol")
    dry = cli(d, "upgrade", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing to apply" in dry.stdout and "dry run ok" in dry.stdout

    # Two new migrations: the first applies, the second fails -> both must be undone.
    db = d / "halobuzz.db"
    real = migrations.available()
    ok = migrations.Migration(8999, "fine", "CREATE TABLE upgrade_probe(x);")
    broken = migrations.Migration(9000, "broken", "INSERT INTO nope VALUES (1);")
    monkeypatch.setattr(migrations, "available", lambda: [*real, ok, broken])
    before = bk.check_file(db), _users(db)
    from halobuzz import doctor

    report = bk.dry_run_upgrade(db, doctor.run_all)
    assert not report["ok"] and "nope" in report["error"] and report["pending"] == ["8999_fine", "9000_broken"]
    try:
        bk.migrate_with_rollback(db, backups_dir=d / "backups")
        raise AssertionError("migration should have failed")
    except migrations.MigrationError as exc:
        assert "rolled back" in str(exc)
    conn = sqlite3.connect(db)
    try:
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name='upgrade_probe'").fetchone()
        assert not {8999, 9000} & {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    finally:
        conn.close()
    assert (bk.check_file(db), _users(db)) == before
    assert list((d / "backups").glob("*-pre-upgrade-*.db"))  # kept


def test_corrupt_replica_gives_clear_error_and_writes_nothing(tmp_path):
    d, replica = tmp_path / "data", tmp_path / "replica"
    env = {"HALOBUZZ_REPLICA_URL": str(replica)}
    assert cli(d, "init").returncode == 0
    pushed = cli(d, "backup", "--replica", env=env)
    assert pushed.returncode == 0 and "replica snapshot pushed" in pushed.stdout, pushed.stderr
    good = cli(tmp_path / "ok", "restore", "--from", str(replica), "--no-secrets")
    assert good.returncode == 0, good.stderr
    for ltx in replica.glob("ltx/*/*.ltx"):
        data = bytearray(ltx.read_bytes())
        for i in range(200, min(len(data), 400)):
            data[i] ^= 0xFF
        ltx.write_bytes(bytes(data))
    bad = cli(tmp_path / "new", "restore", "--from", str(replica), "--no-secrets")
    assert bad.returncode == 1 and "corrupt" in bad.stderr, bad.stderr
    assert not (tmp_path / "new" / "halobuzz.db").exists()
    assert not list((tmp_path / "new").glob(".halobuzz.db.restoring*"))


def test_disk_full_gives_clear_errors_and_leaves_nothing_half_written(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(full)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("needs root and tmpfs mounts to make a full disk")
    try:
        d, replica = tmp_path / "data", tmp_path / "replica"
        assert cli(d, "init").returncode == 0
        assert cli(d, "backup", "--replica", env={"HALOBUZZ_REPLICA_URL": str(replica)}).returncode == 0
        snap = cli(d, "backup", "--to", str(full / "b"))
        assert snap.returncode == 1 and "disk is full" in snap.stderr, snap.stderr
        assert not list((full / "b").iterdir())
        out = cli(full / "new", "restore", "--from", str(replica), "--no-secrets")
        assert out.returncode == 1 and "disk full" in out.stderr, out.stderr
        assert not list((full / "new").glob("*halobuzz.db*"))
    finally:
        subprocess.run(["umount", str(full)], capture_output=True)
