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
from dataclasses import MISSING, dataclass, field, fields, replace
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


def setting(default: Any, help: str) -> Any:
    """A Settings field: its default and the help text `serve --help-settings` prints."""
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting, its type, default and help text, declared once (SETTINGS derives from it)."""

    data_dir: Path
    host: str = setting("127.0.0.1", "Address to listen on")
    port: int = setting(8080, "TCP port to listen on")
    shard_id: str = setting("local", "Name of this shard (token issuer, shard map key)")
    public_url: str = setting("", "URL users reach this shard at (for redirects and gateway returns)")
    synchronous: str = setting("FULL", "SQLite synchronous mode: FULL (durable) or NORMAL")
    writer_max_batch: int = setting(500, "Most write units the writer commits in one transaction")
    readers: int = setting(3, "Read-only connections in the pool")
    access_token_ttl: int = setting(900, "Access token lifetime, seconds")
    refresh_token_ttl: int = setting(30 * 86400, "Refresh token lifetime, seconds")
    refresh_reuse_leeway: int = setting(
        30, "Seconds a just-rotated refresh token may be retried (lost response) before reuse revokes the session"
    )
    bcrypt_rounds: int = setting(12, "bcrypt cost for password hashes")
    admin_emails: tuple[str, ...] = setting((), "Emails allowed on admin routes (comma separated in env)")
    cors_origins: tuple[str, ...] = setting((), "Origins allowed to call the API from a browser")
    trusted_proxies: tuple[str, ...] = setting((), "Proxy addresses whose X-Forwarded-For is believed")
    rate_limit_default: str = setting("100/15m", "Requests per IP for API routes")
    rate_limit_auth: str = setting("20/15m", "Requests per IP for login/register/refresh")
    rate_limit_user: str = setting("1500/15m", "Requests per signed-in account (instead of per IP) on API routes")
    rate_limits: Mapping[str, str] = setting({}, "Per route-group overrides, e.g. {wallet = '300/15m'}")
    max_body_bytes: int = setting(64 * 1024, "Largest accepted request body (uploads have their own limit)")
    tls: bool = setting(False, "Set when served over TLS (enables HSTS)")
    log_level: str = setting("info", "Log level")
    log_format: str = setting("auto", "Log lines: human, json, or auto (human when stdout is a terminal, else json)")
    access_log: bool = setting(True, "One JSON line per request (method, route, status, ms, ip, requestId)")
    request_timeout: int = setting(30, "Seconds before a request is abandoned")
    graceful_shutdown_timeout: int = setting(10, "Seconds to drain requests on shutdown")
    demo: bool = setting(False, "Seed demo users, streams and coins on first start")
    jwt_key_file: str = setting("", "Ed25519 private key (PEM) for tokens; generated if empty")
    field_keys_file: str = setting("", "JSON {active, keys:{id: base64}} for AES-256-GCM fields")
    min_age: int = setting(13, "Youngest age allowed to register")
    # coins — owner: halobuzz.wallet / gifts / og (see README "Coins, gifts and OG tiers")
    platform_fee_bps: int = setting(3000, "Platform's cut of the paid part of a gift, in basis points (3000 = 30 %)")
    earnings_hold_days: int = setting(7, "Days host earnings stay held before they are withdrawable")
    gift_combo_seconds: int = setting(5, "Same gift again within this many seconds continues a combo")
    spend_limit_adult: int = setting(0, "Default daily spend cap in coins for adults (0 = none)")
    spend_limit_minor: int = setting(2000, "Default (and highest) daily spend cap for under-18 accounts")
    idempotency_days: int = setting(7, "Days a money call's first answer is kept for Idempotency-Key replays")
    og_tiers: Mapping[str, str] = setting({}, 'Override OG tiers: {"1" = "price:days", ...}')
    # live rooms (streams, chat, websocket) — owner: halobuzz.streams / chat / realtime
    media_provider: str = setting(
        "none",
        "Media provider for stream video: hls (built-in RTMP in, HLS out, replays), agora, or none (development)",
    )
    media_ffmpeg: str = setting("", "ffmpeg executable for media_provider = hls (default: imageio-ffmpeg's, then PATH)")
    media_rtmp_bind: str = setting("", "Address the RTMP ingests listen on (default: the `host` setting)")
    media_rtmp_public_host: str = setting("", "Host name put into hosts' ingest URLs (default: public_url's host)")
    media_rtmp_port: int = setting(
        1935, "First RTMP port; each live stream gets one of media_max_ingests ports from here"
    )
    media_max_ingests: int = setting(16, "Most streams ingesting at once (one ffmpeg child and one port each)")
    media_segment_seconds: float = setting(
        1.0, "HLS segment length, seconds (publishers should send a keyframe this often)"
    )
    media_replay_days: int = setting(30, "Days a replay is kept after its stream ended; 0 = no recordings")
    media_transcode: bool = setting(
        False,
        "Re-encode ingests to H.264/AAC with keyframes every segment (costs "
        "CPU); default copies what the publisher sends",
    )
    media_sample_seconds: float = setting(30.0, "Seconds between NSFW-scored frames of each live ingest; 0 = off")
    agora_app_id: str = setting("", "Agora app id (32 hex) when media_provider = agora")
    agora_app_certificate: str = setting("", "Agora app certificate (32 hex) when media_provider = agora")
    agora_token_ttl: int = setting(3600, "Seconds an Agora RTC token stays valid")
    stream_heartbeat_timeout: int = setting(
        60, "A live stream whose host sent no heartbeat for this many seconds is ended"
    )
    metrics_interval: float = setting(5.0, "Seconds between metrics:update events per room")
    chat_rate_user: str = setting("5/5s", "Chat messages one user may send per window (per room)")
    chat_rate_room: str = setting("100/1s", "Chat messages one room accepts per window")
    chat_max_length: int = setting(200, "Longest chat message; OG members get chat_max_length_og")
    chat_max_length_og: int = setting(500, "Longest chat message for OG members")
    chat_backlog: int = setting(50, "Recent chat messages a late joiner receives")
    battle_min_seconds: int = setting(30, "Shortest PK battle")
    battle_boost_seconds: int = setting(30, "Last seconds of a PK battle in which gifts count double (battle:boost)")
    battle_invite_ttl: int = setting(120, "Seconds a PK battle invitation stays open before it expires")
    ws_tick_ms: int = setting(
        10, "Websocket coalescing tick: messages for one connection within a tick go in one write"
    )
    ws_send_queue_bytes: int = setting(512 * 1024, "Per-connection send backlog before shedding / disconnecting")
    ws_stall_seconds: float = setting(10.0, "A connection whose backlog made no progress this long is dropped (4002)")
    ws_max_per_user: int = setting(10, "Open websocket connections allowed per user")
    ws_max_per_ip: int = setting(500, "Open websocket connections allowed per client IP")
    ws_ping_interval: float = setting(20.0, "Seconds between server pings on each websocket")
    ws_ping_timeout: float = setting(20.0, "Seconds a client has to answer a ping before it is dropped")
    ws_auth_timeout: float = setting(10.0, "Seconds a new websocket has to authenticate")
    replica_url: str = setting(
        "", "Litestream replica: a directory path, file:///DIR, or s3://BUCKET/PATH (empty = off)"
    )
    replica_endpoint: str = setting("", "S3-compatible endpoint URL (MinIO, R2, B2 ...); empty for AWS")
    replica_region: str = setting("us-east-1", "S3 region of the replica bucket")
    replica_access_key_id: str = setting("", "S3 access key id (or set AWS_ACCESS_KEY_ID)")
    replica_secret_access_key: str = setting("", "S3 secret access key (or set AWS_SECRET_ACCESS_KEY)")
    replica_sync_interval: str = setting(
        "100ms", "How often Litestream ships new WAL to the replica (RPO; cost on object storage)"
    )
    replica_monitor_interval: str = setting("100ms", "How often Litestream checks the WAL for new commits")
    litestream_bin: str = setting("", "Path of the litestream binary (default: the bundled one)")
    backups_dir: str = setting("", "Where `halobuzz backup` and pre-upgrade snapshots go (default <data>/backups)")
    resources_dir: str = setting("", "Directory overriding bundled assets/ and models/ (same layout)")
    # payments — owner: halobuzz.payments (see docs/payments.md)
    payments_mode: str = setting(
        "test", "test (sandboxes, simulators, published test keys allowed) or live (refuses them)"
    )
    payment_packs: str = setting("", "JSON list of coin packs replacing the defaults (see halobuzz/payments/packs.py)")
    payment_order_ttl: int = setting(86400, "Seconds an order can be paid and auto-credited from a browser return")
    payment_recheck_after: int = setting(300, "Seconds before the reconciliation job first re-checks a pending order")
    payment_reconcile_interval: int = setting(300, "Seconds between reconciliation job runs")
    payment_refund_watch_days: int = setting(60, "Days completed eSewa/Khalti orders are re-checked for refunds")
    payment_refund_check_interval: int = setting(86400, "Seconds between refund re-checks of one completed order")
    esewa_product_code: str = setting("EPAYTEST", "eSewa merchant (product) code")
    esewa_secret_key: str = setting("8gBm/:&EnhH.1/q", "eSewa ePay v2 HMAC secret (default: the published UAT key)")
    esewa_form_url: str = setting("https://rc-epay.esewa.com.np/api/epay/main/v2/form", "eSewa payment form URL")
    esewa_status_url: str = setting("https://rc.esewa.com.np/api/epay/transaction/status/", "eSewa status-check URL")
    khalti_api_base: str = setting("https://dev.khalti.com/api/v2/", "Khalti KPG-2 API base (ends with /api/v2/)")
    khalti_secret_key: str = setting("", "Khalti secret key (empty = Khalti off)")
    stripe_api_base: str = setting("https://api.stripe.com", "Stripe API base URL")
    stripe_secret_key: str = setting("", "Stripe secret API key (empty = Stripe off)")
    stripe_webhook_secret: str = setting("", "Stripe webhook endpoint secret (whsec_...)")
    stripe_webhook_tolerance: int = setting(300, "Seconds a Stripe-Signature timestamp may be old (or ahead)")
    # moderation — owner: halobuzz.moderation (see halobuzz/moderation/service.py)
    moderation_warn: float = setting(
        0.6, "Chat text score at which a message is delivered with ai:warning to the sender"
    )
    moderation_block: float = setting(
        0.9, "Chat text score at which a message is blocked and a temporary chat ban starts"
    )
    moderation_image_warn: float = setting(0.5, "NSFW image score at which an image is queued for human review")
    moderation_image_block: float = setting(0.7, "NSFW image score at which an image is served blurred (and queued)")
    moderation_age_review: float = setting(0.5, "P(age<18) from a verification selfie at which a review item is queued")
    moderation_ban_ladder: str = setting("600,3600,86400", "Chat ban seconds for the 1st, 2nd, 3rd+ automated block")
    moderation_ban_window: int = setting(7 * 86400, "Seconds over which repeated automated blocks escalate the ban")
    moderation_image_max_bytes: int = setting(5 * 1024 * 1024, "Largest accepted image upload, bytes")
    moderation_image_max_pixels: int = setting(25_000_000, "Largest accepted image upload, width x height")
    moderation_keep_days: int = setting(30, "Days automated 'allow' decisions are kept (warn/block ones are kept)")
    # festivals, trust, AI features — owner: halobuzz.festivals / trust / ai
    festival_check_seconds: float = setting(
        60.0, "Seconds between festival start/end checks (a timer also fires at each boundary)"
    )
    festival_bonus_seconds: float = setting(10.0, "Seconds between festival bonus runs over new ledger transactions")
    trust_min_dm_strangers: int = setting(
        30, "Trust score needed to message someone you have no conversation with (0 = off)"
    )
    trust_min_go_live: int = setting(20, "Trust score needed to go live (0 = off)")
    trust_min_payouts: int = setting(40, "Trust score needed to request a payout (0 = off)")
    trust_min_tournament_entry: int = setting(30, "Trust score needed to enter a tournament (0 = off)")
    trust_sync_seconds: float = setting(600.0, "Seconds between runs storing computed trust scores on user rows")
    boredom_interval: float = setting(15.0, "Seconds between engagement samples of each live stream")
    boredom_window: float = setting(180.0, "Seconds of signals an engagement score looks back over")
    boredom_threshold: float = setting(30.0, "Engagement score (0-100) under which the host is nudged")
    boredom_cooldown: float = setting(300.0, "Seconds between two nudges to the same stream's host")
    cohost_cooldown: float = setting(
        3600.0, "Seconds a declined invitation keeps two hosts out of each other's cohost list"
    )
    # games — owner: halobuzz.games (see README "Games")
    games_ai_win_rate: float = setting(0.45, "Published AI win probability p of games against the house (0.35-0.55)")
    games_ai_win_rates: Mapping[str, str] = setting(
        {}, 'Per-game p overrides, e.g. {challenge = "0.40"} (each 0.35-0.55)'
    )
    games_house_bps: int = setting(1000, "House share of each game's pot, in basis points (1000 = 10 %)")
    games_compliance: Mapping[str, str] = setting(
        {}, 'Compliance pack overrides per country, e.g. {NP = "games_of_chance=true"} (audited at start)'
    )
    games_rate: str = setting("20/10s", "Game moves (rounds opened, joins, answers) one user may send per window")
    games_min_reaction_ms: int = setting(250, "Answers faster than this are flagged for review (human reaction time)")
    games_lottery_every: int = setting(3600, "Seconds between house lottery draws (0 = no house lottery)")
    games_lottery_price: int = setting(10, "Coins per house lottery ticket")
    # country shards — owner: halobuzz.shards (see README "Run several shards")
    shard_map: str = setting("", "Signed shard map (JSON) of a sharded deployment; empty = one unsharded appliance")
    shard_operator_key: str = setting(
        "", "Operator public key (base64, or a PEM file) the shard map must be signed with"
    )
    nats_url: str = setting(
        "nats://127.0.0.1:4222", "NATS server(s) with JetStream for cross-shard gifts (comma separated for a cluster)"
    )
    shard_gift_timeout: int = setting(
        60, "Seconds before an unanswered cross-shard gift is cancelled (refunded once the other shard agrees)"
    )
    shard_stream_replicas: int = setting(1, "Replicas of the JetStream stream of shard messages (3 on a cluster)")
    shard_trending_interval: float = setting(5.0, "Seconds between this shard's trending broadcasts to its peers")
    shard_edges: bool = setting(
        False, "Serve edge processes (`serve --edge`): relay room frames and take their writes over NATS"
    )

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


def _declared() -> tuple[Setting, ...]:
    out = []
    for f in fields(Settings):
        if "help" not in f.metadata:
            continue
        default = f.default_factory() if f.default is MISSING else f.default
        out.append(Setting(f.name, default, f.metadata["help"]))
    return tuple(out)


SETTINGS: tuple[Setting, ...] = _declared()
_BY_NAME = {s.name: s for s in SETTINGS}


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


def load(data_dir: str | Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
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
    if s.log_format not in ("auto", "human", "json"):
        raise ConfigError("setting 'log_format' must be auto, human or json")
    if not 4 <= s.bcrypt_rounds <= 16:
        raise ConfigError("setting 'bcrypt_rounds' must be between 4 and 16")
    if s.shard_map and not s.shard_operator_key:
        raise ConfigError("setting 'shard_operator_key' is required with 'shard_map' (the map must be verified)")
    if s.shard_gift_timeout < 5:
        raise ConfigError("setting 'shard_gift_timeout' must be at least 5 seconds")
    if not 1 <= s.shard_stream_replicas <= 5:
        raise ConfigError("setting 'shard_stream_replicas' must be between 1 and 5")
    if s.shard_trending_interval <= 0:
        raise ConfigError("setting 'shard_trending_interval' must be positive")
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
    if s.media_provider not in ("none", "agora", "hls"):
        raise ConfigError("setting 'media_provider' must be hls, agora or none")
    if s.media_provider == "agora" and not all(
        len(v) == 32 and all(c in "0123456789abcdefABCDEF" for c in v)
        for v in (s.agora_app_id, s.agora_app_certificate)
    ):
        raise ConfigError(
            "media_provider=agora needs agora_app_id and agora_app_certificate "
            "(32 hex characters each, from the Agora console)"
        )
    for name in ("trust_min_dm_strangers", "trust_min_go_live", "trust_min_payouts", "trust_min_tournament_entry"):
        if not 0 <= getattr(s, name) <= 100:
            raise ConfigError(f"setting {name!r} must be a trust score between 0 and 100")
    for name in (
        "festival_check_seconds",
        "festival_bonus_seconds",
        "trust_sync_seconds",
        "boredom_interval",
        "boredom_window",
    ):
        if getattr(s, name) <= 0:
            raise ConfigError(f"setting {name!r} must be more than 0 seconds")
    if not 0 <= s.boredom_threshold <= 100:
        raise ConfigError("setting 'boredom_threshold' must be between 0 and 100")
    _validate_games(s)
    if not (1 <= s.media_rtmp_port and s.media_rtmp_port + s.media_max_ingests <= 65536 and s.media_max_ingests >= 1):
        raise ConfigError("settings 'media_rtmp_port' + 'media_max_ingests' must stay within 1..65535")
    if not 0.5 <= s.media_segment_seconds <= 10:
        raise ConfigError("setting 'media_segment_seconds' must be between 0.5 and 10")
    if s.media_replay_days < 0 or s.media_sample_seconds < 0:
        raise ConfigError("settings 'media_replay_days' and 'media_sample_seconds' must not be negative")
    from .db.replication import ReplicationError, replica_spec

    try:
        replica_spec(s)
    except ReplicationError as exc:
        raise ConfigError(str(exc)) from None


def _validate_games(s: Settings) -> None:
    from .errors import Invalid
    from .games.rates import HOUSE_GAMES, to_bps
    from .infra.ratelimit import Rule

    for name, value in (
        ("games_ai_win_rate", s.games_ai_win_rate),
        *((f"games_ai_win_rates.{g}", v) for g, v in s.games_ai_win_rates.items()),
    ):
        try:
            to_bps(value, name)
        except Invalid as exc:
            raise ConfigError(f"setting {exc.message}") from None
    for game in s.games_ai_win_rates:
        if game not in HOUSE_GAMES:
            raise ConfigError(
                f"setting 'games_ai_win_rates': {game!r} is not a game against the house ({', '.join(HOUSE_GAMES)})"
            )
    if not 0 <= s.games_house_bps <= 5000:
        raise ConfigError("setting 'games_house_bps' must be between 0 and 5000")
    try:
        Rule.parse(s.games_rate)
    except ValueError as exc:
        raise ConfigError(f"setting 'games_rate': {exc}") from None
    if s.games_lottery_every < 0 or s.games_lottery_price < 1:
        raise ConfigError("settings 'games_lottery_every' must be >= 0 and 'games_lottery_price' >= 1")


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
        _write_secret(
            path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
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


def secret_files(s: Settings) -> dict[str, Path]:
    """Every secret a backup must carry, by its name inside the archive -> where it lives."""
    return {
        "jwt-ed25519.pem": Path(s.jwt_key_file) if s.jwt_key_file else s.secrets_dir / "jwt-ed25519.pem",
        "field-keys.json": Path(s.field_keys_file) if s.field_keys_file else s.secrets_dir / "field-keys.json",
    }


def ensure_secrets(s: Settings) -> None:
    secure_data_dir(s)
    signing_key(s)
    field_keys(s)


def secure_data_dir(s: Settings) -> None:
    """The data directory holds the database and its secrets: 0700 whatever the umask (and an
    existing one left open to others is tightened)."""
    s.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = s.data_dir.stat().st_mode & 0o777
    if mode & 0o077 and s.data_dir.stat().st_uid == os.getuid():
        os.chmod(s.data_dir, mode & 0o700)


def describe() -> list[tuple[str, Any, str]]:
    return [(s.name, s.default, s.help) for s in SETTINGS]


def settings_fields() -> list[str]:
    return [f.name for f in fields(Settings)]
