"""Settings: one typed, frozen object built once and passed down.

Precedence: HALOBUZZ_<NAME> environment variables > halobuzz.toml in the data
directory > defaults below. `halobuzz serve --help-settings` prints this table.
Secrets that are not configured are generated once and kept in <data>/secrets
(mode 0600), so a restart keeps sessions and encrypted fields readable.
"""
from __future__ import annotations

import base64
import json
import os
import secrets as pysecrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Address to listen on"),
    Setting("port", 8080, "TCP port to listen on"),
    Setting("shard_id", "local", "Name of this shard (token issuer, shard map key)"),
    Setting("public_url", "", "URL users reach this shard at (for redirects and gateway returns)"),
    Setting("synchronous", "FULL", "SQLite synchronous mode: FULL (durable) or NORMAL"),
    Setting("writer_max_batch", 500, "Most write units the writer commits in one transaction"),
    Setting("readers", 3, "Read-only connections in the pool"),
    Setting("access_token_ttl", 900, "Access token lifetime, seconds"),
    Setting("refresh_token_ttl", 30 * 86400, "Refresh token lifetime, seconds"),
    Setting("refresh_reuse_leeway", 30, "Seconds a just-rotated refresh token may be retried (lost response) "
            "before reuse revokes the session"),
    Setting("bcrypt_rounds", 12, "bcrypt cost for password hashes"),
    Setting("admin_emails", (), "Emails allowed on admin routes (comma separated in env)"),
    Setting("cors_origins", (), "Origins allowed to call the API from a browser"),
    Setting("trusted_proxies", (), "Proxy addresses whose X-Forwarded-For is believed"),
    Setting("rate_limit_default", "100/15m", "Requests per IP for API routes"),
    Setting("rate_limit_auth", "20/15m", "Requests per IP for login/register/refresh"),
    Setting("rate_limit_user", "1500/15m", "Requests per signed-in account (instead of per IP) on API routes"),
    Setting("rate_limits", {}, "Per route-group overrides, e.g. {wallet = '300/15m'}"),
    Setting("max_body_bytes", 64 * 1024, "Largest accepted request body (uploads have their own limit)"),
    Setting("tls", False, "Set when served over TLS (enables HSTS)"),
    Setting("log_level", "info", "Log level"),
    Setting("access_log", True, "One JSON line per request (method, route, status, ms, ip, requestId)"),
    Setting("request_timeout", 30, "Seconds before a request is abandoned"),
    Setting("graceful_shutdown_timeout", 10, "Seconds to drain requests on shutdown"),
    Setting("demo", False, "Seed demo users, streams and coins on first start"),
    Setting("jwt_key_file", "", "Ed25519 private key (PEM) for tokens; generated if empty"),
    Setting("field_keys_file", "", "JSON {active, keys:{id: base64}} for AES-256-GCM fields"),
    Setting("min_age", 13, "Youngest age allowed to register"),
    # coins — owner: halobuzz.wallet / gifts / og (see README "Coins, gifts and OG tiers")
    Setting("platform_fee_bps", 3000, "Platform's cut of the paid part of a gift, in basis points (3000 = 30 %)"),
    Setting("earnings_hold_days", 7, "Days host earnings stay held before they are withdrawable"),
    Setting("gift_combo_seconds", 5, "Same gift again within this many seconds continues a combo"),
    Setting("spend_limit_adult", 0, "Default daily spend cap in coins for adults (0 = none)"),
    Setting("spend_limit_minor", 2000, "Default (and highest) daily spend cap for under-18 accounts"),
    Setting("idempotency_days", 7, "Days a money call's first answer is kept for Idempotency-Key replays"),
    Setting("og_tiers", {}, "Override OG tiers: {\"1\" = \"price:days\", ...}"),
    # live rooms (streams, chat, websocket) — owner: halobuzz.streams / chat / realtime
    Setting("media_provider", "none", "Media provider for stream video: agora or none (development)"),
    Setting("agora_app_id", "", "Agora app id (32 hex) when media_provider = agora"),
    Setting("agora_app_certificate", "", "Agora app certificate (32 hex) when media_provider = agora"),
    Setting("agora_token_ttl", 3600, "Seconds an Agora RTC token stays valid"),
    Setting("stream_heartbeat_timeout", 60, "A live stream whose host sent no heartbeat for this many seconds is ended"),
    Setting("metrics_interval", 5.0, "Seconds between metrics:update events per room"),
    Setting("chat_rate_user", "5/5s", "Chat messages one user may send per window (per room)"),
    Setting("chat_rate_room", "100/1s", "Chat messages one room accepts per window"),
    Setting("chat_max_length", 200, "Longest chat message; OG members get chat_max_length_og"),
    Setting("chat_max_length_og", 500, "Longest chat message for OG members"),
    Setting("chat_backlog", 50, "Recent chat messages a late joiner receives"),
    Setting("battle_min_seconds", 30, "Shortest PK battle"),
    Setting("battle_boost_seconds", 30, "Last seconds of a PK battle in which gifts count double (battle:boost)"),
    Setting("ws_tick_ms", 10, "Websocket coalescing tick: messages for one connection within a tick go in one write"),
    Setting("ws_send_queue_bytes", 512 * 1024, "Per-connection send backlog before shedding / disconnecting"),
    Setting("ws_stall_seconds", 10.0, "A connection whose backlog made no progress this long is dropped (4002)"),
    Setting("ws_max_per_user", 10, "Open websocket connections allowed per user"),
    Setting("ws_max_per_ip", 500, "Open websocket connections allowed per client IP"),
    Setting("ws_ping_interval", 20.0, "Seconds between server pings on each websocket"),
    Setting("ws_ping_timeout", 20.0, "Seconds a client has to answer a ping before it is dropped"),
    Setting("ws_auth_timeout", 10.0, "Seconds a new websocket has to authenticate"),
    Setting("replica_url", "", "Litestream replica: a directory path, file:///DIR, or s3://BUCKET/PATH (empty = off)"),
    Setting("replica_endpoint", "", "S3-compatible endpoint URL (MinIO, R2, B2 ...); empty for AWS"),
    Setting("replica_region", "us-east-1", "S3 region of the replica bucket"),
    Setting("replica_access_key_id", "", "S3 access key id (or set AWS_ACCESS_KEY_ID)"),
    Setting("replica_secret_access_key", "", "S3 secret access key (or set AWS_SECRET_ACCESS_KEY)"),
    Setting("replica_sync_interval", "100ms", "How often Litestream ships new WAL to the replica (RPO; cost on object storage)"),
    Setting("replica_monitor_interval", "100ms", "How often Litestream checks the WAL for new commits"),
    Setting("litestream_bin", "", "Path of the litestream binary (default: the bundled one)"),
    Setting("backups_dir", "", "Where `halobuzz backup` and pre-upgrade snapshots go (default <data>/backups)"),
    Setting("resources_dir", "", "Directory overriding bundled assets/ and models/ (same layout)"),
    # payments — owner: halobuzz.payments (see docs/payments.md)
    Setting("payments_mode", "test", "test (sandboxes, simulators, published test keys allowed) or live (refuses them)"),
    Setting("payment_packs", "", "JSON list of coin packs replacing the defaults (see halobuzz/payments/packs.py)"),
    Setting("payment_order_ttl", 86400, "Seconds an order can be paid and auto-credited from a browser return"),
    Setting("payment_recheck_after", 300, "Seconds before the reconciliation job first re-checks a pending order"),
    Setting("payment_reconcile_interval", 300, "Seconds between reconciliation job runs"),
    Setting("payment_refund_watch_days", 60, "Days completed eSewa/Khalti orders are re-checked for refunds"),
    Setting("payment_refund_check_interval", 86400, "Seconds between refund re-checks of one completed order"),
    Setting("esewa_product_code", "EPAYTEST", "eSewa merchant (product) code"),
    Setting("esewa_secret_key", "8gBm/:&EnhH.1/q", "eSewa ePay v2 HMAC secret (default: the published UAT key)"),
    Setting("esewa_form_url", "https://rc-epay.esewa.com.np/api/epay/main/v2/form", "eSewa payment form URL"),
    Setting("esewa_status_url", "https://rc.esewa.com.np/api/epay/transaction/status/", "eSewa status-check URL"),
    Setting("khalti_api_base", "https://dev.khalti.com/api/v2/", "Khalti KPG-2 API base (ends with /api/v2/)"),
    Setting("khalti_secret_key", "", "Khalti secret key (empty = Khalti off)"),
    Setting("stripe_api_base", "https://api.stripe.com", "Stripe API base URL"),
    Setting("stripe_secret_key", "", "Stripe secret API key (empty = Stripe off)"),
    Setting("stripe_webhook_secret", "", "Stripe webhook endpoint secret (whsec_...)"),
    Setting("stripe_webhook_tolerance", 300, "Seconds a Stripe-Signature timestamp may be old (or ahead)"),
    # moderation — owner: halobuzz.moderation (see halobuzz/moderation/service.py)
    Setting("moderation_warn", 0.6, "Chat text score at which a message is delivered with ai:warning to the sender"),
    Setting("moderation_block", 0.9, "Chat text score at which a message is blocked and a temporary chat ban starts"),
    Setting("moderation_image_warn", 0.5, "NSFW image score at which an image is queued for human review"),
    Setting("moderation_image_block", 0.7, "NSFW image score at which an image is served blurred (and queued)"),
    Setting("moderation_age_review", 0.5, "P(age<18) from a verification selfie at which a review item is queued"),
    Setting("moderation_ban_ladder", "600,3600,86400", "Chat ban seconds for the 1st, 2nd, 3rd+ automated block"),
    Setting("moderation_ban_window", 7 * 86400, "Seconds over which repeated automated blocks escalate the ban"),
    Setting("moderation_image_max_bytes", 5 * 1024 * 1024, "Largest accepted image upload, bytes"),
    Setting("moderation_image_max_pixels", 25_000_000, "Largest accepted image upload, width x height"),
    Setting("moderation_keep_days", 30, "Days automated 'allow' decisions are kept (warn/block ones are kept)"),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    shard_id: str = "local"
    public_url: str = ""
    synchronous: str = "FULL"
    writer_max_batch: int = 500
    readers: int = 3
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 86400
    refresh_reuse_leeway: int = 30
    bcrypt_rounds: int = 12
    admin_emails: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    rate_limit_default: str = "100/15m"
    rate_limit_auth: str = "20/15m"
    rate_limit_user: str = "1500/15m"
    rate_limits: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 64 * 1024
    tls: bool = False
    log_level: str = "info"
    access_log: bool = True
    request_timeout: int = 30
    graceful_shutdown_timeout: int = 10
    demo: bool = False
    jwt_key_file: str = ""
    field_keys_file: str = ""
    min_age: int = 13
    media_provider: str = "none"
    agora_app_id: str = ""
    agora_app_certificate: str = ""
    agora_token_ttl: int = 3600
    stream_heartbeat_timeout: int = 60
    metrics_interval: float = 5.0
    chat_rate_user: str = "5/5s"
    chat_rate_room: str = "100/1s"
    chat_max_length: int = 200
    chat_max_length_og: int = 500
    chat_backlog: int = 50
    battle_min_seconds: int = 30
    battle_boost_seconds: int = 30
    ws_tick_ms: int = 10
    ws_send_queue_bytes: int = 512 * 1024
    ws_stall_seconds: float = 10.0
    ws_max_per_user: int = 10
    ws_max_per_ip: int = 500
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    ws_auth_timeout: float = 10.0
    platform_fee_bps: int = 3000
    earnings_hold_days: int = 7
    gift_combo_seconds: int = 5
    spend_limit_adult: int = 0
    spend_limit_minor: int = 2000
    idempotency_days: int = 7
    og_tiers: Mapping[str, str] = field(default_factory=dict)
    replica_url: str = ""
    replica_endpoint: str = ""
    replica_region: str = "us-east-1"
    replica_access_key_id: str = ""
    replica_secret_access_key: str = ""
    replica_sync_interval: str = "100ms"
    replica_monitor_interval: str = "100ms"
    litestream_bin: str = ""
    backups_dir: str = ""
    resources_dir: str = ""
    payments_mode: str = "test"
    payment_packs: str = ""
    payment_order_ttl: int = 86400
    payment_recheck_after: int = 300
    payment_reconcile_interval: int = 300
    payment_refund_watch_days: int = 60
    payment_refund_check_interval: int = 86400
    esewa_product_code: str = "EPAYTEST"
    esewa_secret_key: str = "8gBm/:&EnhH.1/q"
    esewa_form_url: str = "https://rc-epay.esewa.com.np/api/epay/main/v2/form"
    esewa_status_url: str = "https://rc.esewa.com.np/api/epay/transaction/status/"
    khalti_api_base: str = "https://dev.khalti.com/api/v2/"
    khalti_secret_key: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_webhook_tolerance: int = 300
    moderation_warn: float = 0.6
    moderation_block: float = 0.9
    moderation_image_warn: float = 0.5
    moderation_image_block: float = 0.7
    moderation_age_review: float = 0.5
    moderation_ban_ladder: str = "600,3600,86400"
    moderation_ban_window: int = 7 * 86400
    moderation_image_max_bytes: int = 5 * 1024 * 1024
    moderation_image_max_pixels: int = 25_000_000
    moderation_keep_days: int = 30

    @property
    def db_path(self) -> Path:
        return self.data_dir / "halobuzz.db"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def backups_path(self) -> Path:
        return Path(self.backups_dir) if self.backups_dir else self.data_dir / "backups"

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            if isinstance(raw, str):
                return tuple(p.strip() for p in raw.split(",") if p.strip())
            return tuple(str(p) for p in raw)
        if isinstance(default, dict):
            if isinstance(raw, str):
                return dict(json.loads(raw)) if raw.strip() else {}
            return {str(k): str(v) for k, v in dict(raw).items()}
        return str(raw)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ConfigError(f"setting {name!r}: cannot use {raw!r} (expected {type(default).__name__})") from None


def load(data_dir: str | Path | None = None, env: Mapping[str, str] | None = None,
         **overrides: Any) -> Settings:
    """Build Settings from defaults < halobuzz.toml < environment < explicit overrides."""
    env = os.environ if env is None else env
    data = Path(data_dir or env.get("HALOBUZZ_DATA_DIR") or "./data").resolve()
    values: dict[str, Any] = {}
    toml_path = data / "halobuzz.toml"
    if toml_path.exists():
        try:
            from_file = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: {exc}") from None
        for key, raw in from_file.items():
            if key not in _BY_NAME:
                raise ConfigError(f"{toml_path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, _BY_NAME[key].default)
    for s in SETTINGS:
        raw = env.get(f"HALOBUZZ_{s.name.upper()}")
        if raw is not None:
            values[s.name] = _coerce(s.name, raw, s.default)
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = _coerce(key, raw, _BY_NAME[key].default)
    settings = Settings(data_dir=data, **values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    from .infra.ratelimit import Rule
    if s.synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError("setting 'synchronous' must be FULL, NORMAL or EXTRA")
    if not 4 <= s.bcrypt_rounds <= 16:
        raise ConfigError("setting 'bcrypt_rounds' must be between 4 and 16")
    for name in ("rate_limit_default", "rate_limit_auth", "rate_limit_user"):
        try:
            Rule.parse(getattr(s, name))
        except ValueError as exc:
            raise ConfigError(f"setting {name!r}: {exc}") from None
    if not 0 <= s.platform_fee_bps <= 10000:
        raise ConfigError("setting 'platform_fee_bps' must be between 0 and 10000")
    for group, text in s.rate_limits.items():
        try:
            Rule.parse(text)
        except ValueError as exc:
            raise ConfigError(f"setting 'rate_limits.{group}': {exc}") from None
    from .db.replication import ReplicationError, replica_spec
    try:
        replica_spec(s)
    except ReplicationError as exc:
        raise ConfigError(str(exc)) from None


# -- secrets kept in the data directory -------------------------------------------

def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def signing_key(s: Settings) -> Ed25519PrivateKey:
    path = Path(s.jwt_key_file) if s.jwt_key_file else s.secrets_dir / "jwt-ed25519.pem"
    if not path.exists():
        if s.jwt_key_file:
            raise ConfigError(f"jwt_key_file {path} does not exist")
        key = Ed25519PrivateKey.generate()
        _write_secret(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def field_keys(s: Settings) -> tuple[dict[str, bytes], str]:
    path = Path(s.field_keys_file) if s.field_keys_file else s.secrets_dir / "field-keys.json"
    if not path.exists():
        if s.field_keys_file:
            raise ConfigError(f"field_keys_file {path} does not exist")
        kid = "k1"
        doc = {"active": kid, "keys": {kid: base64.b64encode(pysecrets.token_bytes(32)).decode()}}
        _write_secret(path, json.dumps(doc, indent=2).encode())
    try:
        doc = json.loads(path.read_text())
        keys = {kid: base64.b64decode(v) for kid, v in doc["keys"].items()}
        return keys, doc["active"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a valid field key file ({exc})") from None


def ensure_secrets(s: Settings) -> None:
    signing_key(s)
    field_keys(s)


def describe() -> list[tuple[str, Any, str]]:
    return [(s.name, s.default, s.help) for s in SETTINGS]


def settings_fields() -> list[str]:
    return [f.name for f in fields(Settings)]
