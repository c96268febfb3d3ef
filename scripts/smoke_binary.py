#!/usr/bin/env python3
"""Smoke-test the one-file binary as an operator would: start it on a temporary data dir,
walk a few API steps, run CLI commands with the same binary, stop it, report timings.

Usage: python scripts/smoke_binary.py [dist/halobuzz] [--json OUT]

Only the standard library is used, so it also runs on a machine without the dev extras.
To extend it, add a function `def step_<name>(s: Smoke) -> str | None` to STEPS: return a
short note, raise `Skip("why")` when the feature is not in this build (checked against
the OpenAPI paths), or raise anything else to fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

COLD_START_TARGET = 3.0  # seconds to first 200 on /healthz
SIZE_TARGET = 100 * 1024 * 1024


class Skip(Exception):
    pass


class Smoke:
    def __init__(self, binary: Path, data_dir: Path) -> None:
        self.binary, self.data_dir = binary, data_dir
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.token = ""
        self.user: dict = {}
        self.paths: set[str] = set()
        self.env = {
            **os.environ,
            "HALOBUZZ_BCRYPT_ROUNDS": "4",
            "HALOBUZZ_LOG_LEVEL": "warning",
            "HALOBUZZ_ADMIN_EMAILS": "smoke-admin@example.com",
        }
        self.log_path = data_dir.parent / "server.log"

    # plumbing
    def call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict | None = None,
        expect: int | tuple[int, ...] = 200,
    ) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json", **(headers or {})}
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        expected = expect if isinstance(expect, tuple) else (expect,)
        if status not in expected:
            raise AssertionError(f"{method} {path} -> {status} (expected {expected}): {raw[:300]!r}")
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {"_text": raw.decode("utf-8", "replace")}

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [str(self.binary), *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"halobuzz {' '.join(args)} -> {out.returncode}: {out.stderr[-500:]}")
        return out

    def need(self, method: str, path: str) -> None:
        if path not in self.paths:
            raise Skip(f"{method} {path} not in this build")

    def start(self) -> float:
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            env=self.env,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.monotonic() - t0 < 60:
            if self.proc.poll() is not None:
                raise AssertionError(f"binary exited {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=0.5) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise AssertionError("no 200 on /healthz within 60 s")

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the one-file bootloader and its child
            self.proc.wait()
            raise AssertionError("binary did not stop within 40 s of SIGTERM")


# -- steps ---------------------------------------------------------------------------------


def step_ready(s: Smoke):
    # The moderation models load after the first /healthz 200: /readyz says "loading" until then.
    t0 = time.monotonic()
    while True:
        ready = s.call("GET", "/readyz", expect=(200, 503))
        if ready["status"] == "ready" or ready["checks"].get("moderation") != "loading" or time.monotonic() - t0 > 60:
            break
        time.sleep(0.05)
    assert ready["status"] == "ready", ready
    s.paths = set(s.call("GET", "/docs/openapi.json").get("paths", {}))
    return f"{len(s.paths)} API paths"


def step_register(s: Smoke):
    name = "smoke" + uuid.uuid4().hex[:8]
    body = {
        "email": f"{name}@example.com",
        "password": "correct horse battery",
        "username": name,
        "country": "NP",
        "birthDate": "1998-02-03",
    }
    s.user = s.call("POST", "/api/v1/auth/register", body, expect=201)
    s.token = s.user["accessToken"]
    return name


def step_me(s: Smoke):
    me = s.call("GET", "/api/v1/me")
    assert me.get("username") or me.get("user", {}).get("username"), me
    return "ok"


def step_wallet(s: Smoke):
    s.need("GET", "/api/v1/wallet")
    username = s.user.get("user", {}).get("username") or s.user.get("username")
    s.cli("coins", "grant", "--user", username, "--amount", "500", "--reason", "smoke test")
    wallet = s.call("GET", "/api/v1/wallet")
    assert wallet["balance"] >= 500, wallet
    return f"balance {wallet['balance']}"


def step_gift(s: Smoke):
    # A second user hosts a live stream; the smoke user (coins from step_wallet) sends a gift.
    s.need("POST", "/api/v1/streams")
    s.need("POST", "/api/v1/streams/{stream_id}/gifts")
    viewer_token = s.token
    s.token = ""
    host_name = "host" + uuid.uuid4().hex[:8]
    host = s.call(
        "POST",
        "/api/v1/auth/register",
        {
            "email": f"{host_name}@example.com",
            "password": "correct horse battery",
            "username": host_name,
            "country": "NP",
            "birthDate": "1995-02-03",
        },
        expect=201,
    )
    s.token = host["accessToken"]
    stream = s.call("POST", "/api/v1/streams", {"title": "smoke stream"}, expect=201)
    sid = stream.get("id") or stream.get("streamId")
    s.call("POST", f"/api/v1/streams/{sid}/start", {}, expect=(200, 201))
    s.token = viewer_token
    before = s.call("GET", "/api/v1/wallet")["balance"]
    gifts = s.call("GET", "/api/v1/gifts")["items"]
    price = lambda g: g.get("price", g.get("coins", g.get("cost", 10**9)))
    gift = min(gifts, key=price)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = s.call(
        "POST", f"/api/v1/streams/{sid}/gifts", {"giftId": gift["id"], "quantity": 1}, key, expect=(200, 201)
    )
    again = s.call(
        "POST", f"/api/v1/streams/{sid}/gifts", {"giftId": gift["id"], "quantity": 1}, key, expect=(200, 201)
    )
    assert again == first, "a retried gift must return the first result"
    after = s.call("GET", "/api/v1/wallet")["balance"]
    assert after == before - price(gift), (before, after, gift)
    return f"{gift['id']} ({price(gift)} coins), balance {before} -> {after}"


def step_metrics(s: Smoke):
    text = s.call("GET", "/metrics")["_text"]
    assert "halobuzz_http_requests_total" in text
    return "ok"


def step_cli_while_serving(s: Smoke):
    out = s.cli("user", "list", "--json")
    assert "smoke" in out.stdout
    snap = s.cli("backup").stdout.split()[1]
    assert Path(snap).is_file()
    return "user list, backup"


STEPS = [step_ready, step_register, step_me, step_wallet, step_gift, step_metrics, step_cli_while_serving]


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--json")]
    out_json = None
    if "--json" in argv:
        out_json = argv[argv.index("--json") + 1]
        args = [a for a in args if a != out_json]
    binary = Path(args[0] if args else "dist/halobuzz").resolve()
    if not binary.is_file():
        print(f"smoke: no binary at {binary} (build it: scripts/build-binary.sh)", file=sys.stderr)
        return 2
    report: dict = {"binary": str(binary), "size_bytes": binary.stat().st_size, "steps": {}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="halobuzz-smoke-") as tmp:
        s = Smoke(binary, Path(tmp) / "data")
        version = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=60)
        report["version"] = version.stdout.splitlines()[:1]
        if version.returncode != 0:
            print(version.stderr, file=sys.stderr)
            return 1
        try:
            # A one-file binary unpacks itself at every launch, so every start is cold. The first
            # start also creates the database; gate on the median of three starts.
            starts = []
            for _ in range(2):
                starts.append(round(s.start(), 3))
                s.stop()
            starts.append(round(s.start(), 3))
            report["cold_starts_s"] = starts
            report["cold_start_s"] = sorted(starts)[1]
            for step in STEPS:
                name = step.__name__[5:]
                try:
                    report["steps"][name] = f"ok: {step(s) or ''}".rstrip(": ")
                except Skip as why:
                    report["steps"][name] = f"skipped: {why}"
                except Exception as exc:
                    report["steps"][name] = f"FAILED: {exc}"
                    failed = True
                    break
        finally:
            report["stop_status"] = s.stop()
            if failed:
                print(s.log_path.read_text()[-3000:], file=sys.stderr)
    size_mb = report["size_bytes"] / 1024 / 1024
    print(f"binary  {binary} {size_mb:.1f} MB (target <= {SIZE_TARGET // 1024 // 1024} MB)")
    print(f"version {report['version'][0] if report['version'] else '?'}")
    print(
        f"cold start to first 200 on /healthz: median {report.get('cold_start_s', '?')} s of "
        f"{report.get('cold_starts_s')} (target <= {COLD_START_TARGET} s)"
    )
    for name, result in report["steps"].items():
        print(f"  {name:<18} {result}")
    print(f"stopped with status {report['stop_status']}")
    if out_json:
        Path(out_json).write_text(json.dumps(report, indent=2))
    if report["size_bytes"] > SIZE_TARGET:
        print("smoke: binary is over the size target", file=sys.stderr)
        failed = True
    if report.get("cold_start_s", 99) > COLD_START_TARGET:
        # Reported, not a failure: wall time on a shared machine measures the neighbours too.
        # The cold-start figure that counts is bench/cold_start.py's CPU ratio against a baseline.
        print("smoke: warning: cold start over target", file=sys.stderr)
    if report["stop_status"] not in (0, -signal.SIGTERM):
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
