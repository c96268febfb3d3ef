#!/usr/bin/env python3
"""Cold start of one-file binaries: CPU and wall to the first /healthz 200 (and to /readyz 200).

Usage: python bench/cold_start.py BINARY_A BINARY_B [--runs 5]

Each run copies a freshly `init`-ed data dir, starts `BINARY serve --port P` in a new session,
polls /healthz every 10 ms and, at the first 200, reads the CPU (utime+stime, in /proc/<pid>/stat)
of every process in the session (the PyInstaller bootloader and its Python child). It then
keeps polling /readyz until 200 (the ONNX models loaded) and stops the server with SIGTERM.
The binaries alternate run by run, so a change in the machine's load hits both alike; the
medians are printed with the ratio B/A. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_cpu(sid: int) -> float:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[3]) == sid:  # field 6, session id (fields here start at field 3)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def one_run(binary: str, template: Path, work: Path) -> dict[str, float]:
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    port = _free_port()
    env = {**os.environ, "HALOBUZZ_LOG_LEVEL": "warning"}
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--data-dir", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "server.log", "wb"),
        start_new_session=True,
    )
    out: dict[str, float] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() - t0 < 120:
            if _status(base + "/healthz") == 200:
                out["cpu_healthz"] = _group_cpu(proc.pid)
                out["wall_healthz"] = time.monotonic() - t0
                break
            time.sleep(0.01)
        else:
            raise RuntimeError(f"{binary}: no /healthz 200 in 120 s")
        while time.monotonic() - t0 < 180:
            if _status(base + "/readyz") == 200:
                out["cpu_readyz"] = _group_cpu(proc.pid)
                out["wall_readyz"] = time.monotonic() - t0
                break
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template"
        subprocess.run([args.a, "init", "--data-dir", str(template)], check=True, stdout=subprocess.DEVNULL)
        results: dict[str, list[dict[str, float]]] = {args.a: [], args.b: []}
        for i in range(args.runs):
            for binary in (args.a, args.b) if i % 2 == 0 else (args.b, args.a):
                r = one_run(binary, template, work)
                results[binary].append(r)
                print(f"run {i} {binary}: " + " ".join(f"{k}={v:.2f}" for k, v in r.items()), flush=True)
        med = {b: {k: statistics.median(r[k] for r in rs if k in r) for k in rs[0]} for b, rs in results.items()}
        for key in med[args.a]:
            a, b = med[args.a][key], med[args.b][key]
            print(f"median {key:12} A {a:6.2f}  B {b:6.2f}  B/A {b / a:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
