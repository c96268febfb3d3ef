"""Issue 15 item 4: the audit log is append-only, hash-chained (checked by doctor and
`halobuzz audit verify`), and refused admin attempts are recorded."""

import sqlite3
import time

import pytest

from tests.conftest import ADMIN_EMAIL, cli, register


def audit_rows(server, action):
    out = cli(server.data_dir, "audit", "list", "--action", action, "--json")
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line.strip()]


def wait_for(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    return fn()


def test_refused_admin_attempts_are_audited(server, client):
    nobody = register(client)
    r = client.get("/api/v1/admin/users", headers=nobody["auth"])
    assert r.status_code == 403
    assert client.post(f"/api/v1/admin/users/{nobody['user']['id']}/ban", json={}).status_code == 401
    rows = wait_for(lambda: audit_rows(server, "admin.refused"))
    text = "\n".join(rows)
    assert nobody["user"]["email"] in text and "/admin/users" in text
    assert "anonymous@" in text


def test_audit_log_is_append_only_and_chain_is_checked(server, client):
    boss = register(client, email=ADMIN_EMAIL, username="chainadmin")
    assert cli(server.data_dir, "user", "set-role", "chainadmin", "admin").returncode == 0
    victim = register(client)
    for days in (1, 2):
        r = client.post(f"/api/v1/admin/users/{victim['user']['id']}/ban", json={"days": days}, headers=boss["auth"])
        assert r.status_code == 200, r.text
    verify = cli(server.data_dir, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    doctor = cli(server.data_dir, "doctor")
    assert doctor.returncode == 0 and "audit chain" in doctor.stdout, doctor.stdout

    db = sqlite3.connect(server.data_dir / "halobuzz.db", timeout=10)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE action = 'user.suspended'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM audit_log")
        # Someone with write access to the file drops the trigger and edits a row: the chain shows it.
        db.execute("DROP TRIGGER audit_log_append_only_update")
        db.execute(
            "UPDATE audit_log SET after_json = '{}' WHERE id = (SELECT MIN(id) FROM audit_log "
            "WHERE action = 'user.suspended')"
        )
        db.commit()
    finally:
        db.close()
    verify = cli(server.data_dir, "audit", "verify")
    assert verify.returncode == 1 and "edited" in verify.stdout
    doctor = cli(server.data_dir, "doctor")
    assert doctor.returncode == 1 and "audit chain" in doctor.stdout
