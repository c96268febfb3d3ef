"""Issue 15 item 7: a backup restores a working server on its own (database + secrets +
settings, optionally encrypted); the replica/.db path needs the secrets; doctor checks that
stored gateway payloads decrypt."""

import re
import stat
from pathlib import Path

from tests.conftest import Server, cli, register

PASS = {"HALOBUZZ_BACKUP_PASSPHRASE": "correct horse battery staple"}


def stored_payload(client) -> None:
    """A rejected eSewa return is logged with its payload encrypted under the field keys."""
    r = client.get("/api/v1/payments/esewa/return", params={"data": "%%%not-base64"})
    assert r.status_code == 400


def test_encrypted_backup_restores_a_working_server_elsewhere(tmp_path):
    old = tmp_path / "old"
    srv = Server(old)
    (old).mkdir(parents=True)
    (old / "halobuzz.toml").write_text("metrics_interval = 2.0\n")
    srv.start()
    try:
        with srv.client() as c:
            user = register(c)
            stored_payload(c)
        made = cli(old, "backup", "--encrypt", "--to", str(tmp_path / "usb"), env=PASS)  # while serving
        assert made.returncode == 0, made.stderr
    finally:
        srv.stop()
    archive = Path(made.stdout.split()[1])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert "2 secret(s)" in made.stdout and "halobuzz.toml" in made.stdout and "encrypted" in made.stdout
    assert b"SQLite format 3" not in archive.read_bytes()

    new = tmp_path / "new"
    wrong = cli(new, "restore", "--from", str(archive), env={"HALOBUZZ_BACKUP_PASSPHRASE": "not the one at all"})
    assert wrong.returncode == 1 and "wrong passphrase" in wrong.stderr
    assert not (new / "halobuzz.db").exists()
    done = cli(new, "restore", "--from", str(archive), env=PASS)
    assert done.returncode == 0, done.stderr
    m = re.search(r"\((\d+) bytes written: database, secret", done.stdout)
    assert m and int(m.group(1)) > (new / "halobuzz.db").stat().st_size, done.stdout
    assert (new / "halobuzz.toml").read_text() == "metrics_interval = 2.0\n"
    assert (old / "secrets" / "field-keys.json").read_bytes() == (new / "secrets" / "field-keys.json").read_bytes()

    doctor = cli(new, "doctor")
    assert doctor.returncode == 0 and "stored payloads" in doctor.stdout, doctor.stdout
    srv2 = Server(new).start()
    try:
        with srv2.client() as c:
            assert c.get("/api/v1/me", headers=user["auth"]).status_code == 200  # old access token
            r = c.post("/api/v1/auth/refresh", json={"refreshToken": user["refreshToken"]})
            assert r.status_code == 200  # old refresh token
    finally:
        srv2.stop()


def test_database_only_restore_needs_the_secrets(tmp_path):
    old = tmp_path / "old"
    srv = Server(old).start()
    try:
        with srv.client() as c:
            stored_payload(c)
    finally:
        srv.stop()
    exported = cli(old, "secrets", "export", "--to", str(tmp_path / "keys"))
    assert exported.returncode == 0, exported.stderr
    secrets_file = exported.stdout.split()[1]
    snap = tmp_path / "snap.db"
    import sqlite3

    src, dst = sqlite3.connect(old / "halobuzz.db"), sqlite3.connect(snap)
    src.backup(dst)
    src.close(), dst.close()

    refused = cli(tmp_path / "a", "restore", "--from", str(snap))
    assert refused.returncode == 1 and "--secrets" in refused.stderr and "no secrets" in refused.stderr
    assert not (tmp_path / "a" / "halobuzz.db").exists()
    ok = cli(tmp_path / "a", "restore", "--from", str(snap), "--secrets", secrets_file)
    assert ok.returncode == 0, ok.stderr
    assert cli(tmp_path / "a", "doctor").returncode == 0

    # forced without secrets: doctor says the payloads cannot be read
    forced = cli(tmp_path / "b", "restore", "--from", str(snap), "--no-secrets")
    assert forced.returncode == 0 and "without secrets" in forced.stderr
    assert cli(tmp_path / "b", "init").returncode == 0  # new keys, not the ones the payloads need
    doctor = cli(tmp_path / "b", "doctor")
    assert doctor.returncode == 1 and "do not decrypt" in doctor.stdout, doctor.stdout
