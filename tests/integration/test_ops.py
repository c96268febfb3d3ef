"""Health, readiness, metrics, OpenAPI, CLI commands on a real data dir."""

import sqlite3

from tests.conftest import cli, register


def test_health_ready_metrics_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["database"] == "ok"
    register(client)
    text = client.get("/metrics").text
    assert 'halobuzz_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}' in text
    assert "halobuzz_db_commit_batch_size_bucket" in text
    assert "halobuzz_db_write_queue_depth" in text
    spec = client.get("/docs/openapi.json").json()
    assert "/api/v1/auth/register" in spec["paths"]


def test_cli_user_create_list_doctor(tmp_path):
    d = tmp_path / "data"
    assert cli(d, "init").returncode == 0
    out = cli(
        d,
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--username",
        "ops",
        "--role",
        "admin",
        "--password",
        "a-good-password",
    )
    assert out.returncode == 0, out.stderr
    listed = cli(d, "user", "list", "--json")
    assert '"username": "ops"' in listed.stdout and '"role": "admin"' in listed.stdout
    bad = cli(d, "user", "create", "--email", "nope", "--username", "x", "--password", "a-good-password")
    assert bad.returncode != 0 and bad.stderr.startswith("error: ") and "email" in bad.stderr
    missing = cli(d, "user", "set-role", "ghost", "admin")
    assert missing.returncode == 1 and "no user 'ghost'" in missing.stderr
    doc = cli(d, "doctor")
    assert doc.returncode == 0, doc.stdout
    assert "integrity        ok" in doc.stdout


def test_serve_refuses_newer_database(tmp_path):
    d = tmp_path / "data"
    assert cli(d, "migrate").returncode == 0
    conn = sqlite3.connect(d / "halobuzz.db")
    conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x', '2030-01-01')")
    conn.commit()
    conn.close()
    out = cli(d, "migrate")
    assert out.returncode == 1 and "newer than this build" in out.stderr
    served = cli(d, "serve", "--port", "1")
    assert served.returncode == 1 and served.stderr.strip().splitlines()[-1].startswith("error: cannot open")
    assert cli(d, "doctor").returncode == 1


def test_json_access_log_carries_request_id(tmp_path):
    import json as _json

    from tests.conftest import Server

    srv = Server(tmp_path / "d", env={"HALOBUZZ_LOG_LEVEL": "info"}).start()
    try:
        with srv.client() as c:
            c.get("/healthz", headers={"X-Request-Id": "trace-me-42"})
    finally:
        srv.stop()
    lines = [_json.loads(ln) for ln in srv.log_path.read_text().splitlines() if ln.startswith("{")]
    hits = [ln for ln in lines if ln.get("requestId") == "trace-me-42"]
    assert hits and hits[0]["logger"] == "halobuzz.access" and hits[0]["status"] == 200
    assert hits[0]["route"] == "/healthz" and hits[0]["ms"] >= 0


def test_cli_never_migrates_under_a_running_server(server):
    db = sqlite3.connect(server.data_dir / "halobuzz.db")
    row = db.execute("SELECT * FROM schema_migrations ORDER BY version DESC LIMIT 1").fetchone()
    db.execute("DELETE FROM schema_migrations WHERE version = ?", (row[0],))  # as if this build were newer
    db.commit()
    try:
        out = cli(server.data_dir, "coins", "grant", "--user", "nobody", "--amount", "1", "--reason", "x")
        assert out.returncode == 1 and "pending while a server runs" in out.stderr
        out = cli(server.data_dir, "migrate")
        assert out.returncode == 1 and "a server is running" in out.stderr
        out = cli(server.data_dir, "user", "list")
        assert out.returncode == 1 and "pending" in out.stderr
    finally:
        db.execute("INSERT INTO schema_migrations VALUES (?,?,?,?)", tuple(row))
        db.commit()
        db.close()


def test_healthcheck_finds_the_port_serve_was_started_with(tmp_path):
    from tests.conftest import Server

    srv = Server(tmp_path / "d").start()  # a random port; the settings still say 8080
    recorded = srv.data_dir / "serve.port"
    try:
        assert recorded.stat().st_mode & 0o777 == 0o600
        assert f"port={srv.port}\n" in recorded.read_text()
        out = cli(srv.data_dir, "healthcheck")
        assert out.returncode == 0 and '"ok"' in out.stdout, out.stderr
        ready = cli(srv.data_dir, "healthcheck", "--ready")
        assert ready.returncode == 0 and '"ready"' in ready.stdout, ready.stderr
    finally:
        assert srv.stop() == 0
    assert not recorded.exists()  # a clean stop removes it
    gone = cli(srv.data_dir, "healthcheck", env={"HALOBUZZ_PORT": str(srv.port)})
    assert gone.returncode == 1 and gone.stderr.startswith("error: ") and "unreachable" in gone.stderr
    assert len(gone.stderr.strip().splitlines()) == 1


def test_human_log_format_on_request(tmp_path):
    from tests.conftest import Server

    srv = Server(tmp_path / "d", env={"HALOBUZZ_LOG_LEVEL": "info", "HALOBUZZ_LOG_FORMAT": "human"}).start()
    try:
        with srv.client() as c:
            c.get("/healthz", headers={"X-Request-Id": "trace-me-43"})
    finally:
        srv.stop()
    hits = [ln for ln in srv.log_path.read_text().splitlines() if "requestId=trace-me-43" in ln]
    assert hits and not hits[0].startswith("{") and " halobuzz.access " in hits[0] and "status=200" in hits[0]
    bad = cli(tmp_path / "d", "serve", "--log-format", "xml")
    assert bad.returncode == 2 and "xml" in bad.stderr
    bad = cli(tmp_path / "d", "serve", env={"HALOBUZZ_LOG_FORMAT": "xml"})
    assert bad.returncode == 1 and bad.stderr.startswith("error: setting 'log_format'")
