"""The one-file binary (slow; CI builds it first: scripts/build-binary.sh).

Uses HALOBUZZ_BINARY or <repo>/dist/halobuzz; skipped when neither exists.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("HALOBUZZ_BINARY") or ROOT / "dist" / "halobuzz").resolve()
needs_binary = pytest.mark.skipif(not BINARY.is_file(), reason=f"no binary at {BINARY} (scripts/build-binary.sh)")
ENV = {**os.environ, "HALOBUZZ_BCRYPT_ROUNDS": "4", "HALOBUZZ_LOG_LEVEL": "warning"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=120, env={**ENV, **(env or {})})


@needs_binary
def test_smoke_script_passes():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "smoke_binary.py"), str(BINARY)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr


@needs_binary
def test_version_names_commit_and_bundled_litestream():
    out = run("version")
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("halobuzz ") and "commit " in first and "one-file binary" in first
    assert "litestream 0.5." in out.stdout and "onnxruntime" in out.stdout


@needs_binary
def test_binary_replicates_with_bundled_litestream_and_restores(tmp_path):
    data, replica = tmp_path / "data", tmp_path / "replica"
    port = free_port()
    env = {**ENV, "HALOBUZZ_REPLICA_URL": str(replica)}
    env.pop("HALOBUZZ_LITESTREAM_BIN", None)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(
        [str(BINARY), "serve", "--port", str(port), "--data-dir", str(data)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(url + "/readyz", timeout=1).json()
                if ready["checks"].get("replication") == "ok" and any(replica.glob("ltx/0/*.ltx")):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert ready and ready["checks"]["replication"] == "ok", ready
        body = {
            "email": "bin@example.com",
            "password": "correct horse battery",
            "username": "binuser",
            "country": "NP",
            "birthDate": "1998-02-03",
        }
        assert httpx.post(url + "/api/v1/auth/register", json=body, timeout=10).status_code == 201
        assert run("backup", "--data-dir", str(data)).returncode == 0
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()
    assert proc.returncode == 0
    out = run("restore", "--from", str(replica), "--no-secrets", "--data-dir", str(tmp_path / "new"))
    assert out.returncode == 0, out.stderr
    users = run("user", "list", "--json", "--data-dir", str(tmp_path / "new"))
    assert "binuser" in users.stdout
    dry = run("upgrade", "--dry-run", "--data-dir", str(tmp_path / "new"))
    assert dry.returncode == 0 and "dry run ok" in dry.stdout, dry.stdout + dry.stderr
