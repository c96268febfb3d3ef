"""Demo data for a first look: an admin, a host and two viewers (password `halobuzz-demo`).

SEEDERS lists every seeder after the users (coins ...): a new package adds its line there.
Seeding is idempotent: it only creates what is missing.
"""

from __future__ import annotations

from typing import Callable

from .accounts import users
from .config import Settings
from .db.writer import Writer
from .festivals.checks import seed_demo_festival
from .infra.clock import Clock
from .infra.crypto import hash_password
from .infra.ids import IdFactory, SystemRandom
from .wallet import ledger, wallet

DEMO_PASSWORD = "halobuzz-demo"
DEMO_ADMIN_EMAIL = "admin@demo.halobuzz"
DEMO_USERS = (
    ("admin@demo.halobuzz", "demo_admin", "admin"),
    ("host@demo.halobuzz", "demo_host", "host"),
    ("viewer@demo.halobuzz", "demo_viewer", "user"),
    ("viewer2@demo.halobuzz", "demo_viewer2", "user"),
)
Seeder = Callable[[Writer, Settings, Clock, IdFactory], None]


def seed_demo(writer: Writer, settings: Settings) -> None:
    clock = Clock()
    ids = IdFactory(clock, SystemRandom())
    pw = hash_password(DEMO_PASSWORD, settings.bcrypt_rounds)

    def unit(conn):
        now = clock.now()
        for email, username, role in DEMO_USERS:
            if conn.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                continue
            users.insert_user(
                conn, ids.new(), users.NewUser(email, username, DEMO_PASSWORD, "NP", "1995-05-05"), pw, now, role
            )

    writer.write_sync(unit)
    for seeder in SEEDERS:
        seeder(writer, settings, clock, ids)


def seed_demo_coins(writer: Writer, settings: Settings, clock: Clock, ids: IdFactory) -> None:
    """Give demo accounts coins to gift with (a ledger grant, once per account)."""

    def unit(conn):
        for row in conn.execute("SELECT id, username FROM users WHERE email LIKE '%@demo.halobuzz'").fetchall():
            key = f"demo-grant:{row['id']}"
            if not ledger.tx_exists(conn, key):
                wallet.adjust(conn, key, row["id"], 50_000, "paid", "demo coins", clock.now())

    writer.write_sync(unit)


DEMO_STREAM_TITLE = "Demo: evening songs from Kathmandu"
DEMO_CHAT = (
    ("demo_viewer", "Namaste from Pokhara!"),
    ("demo_viewer2", "This song again please"),
    ("demo_host", "Welcome everyone, requests in the chat"),
    ("demo_viewer", "Sending a rose for this one"),
)


def seed_demo_stream(writer: Writer, settings: Settings, clock: Clock, ids: IdFactory) -> None:
    """A live stream by demo_host with a little chat, so a newcomer sees a room at once. While
    `serve --demo` runs, demo_host's streams are kept live (see demo_hosts)."""
    from .infra.clock import iso

    def unit(conn):
        host = conn.execute("SELECT id FROM users WHERE username = 'demo_host'").fetchone()
        if (
            host is None
            or conn.execute("SELECT 1 FROM streams WHERE host_id = ? AND status = 'live'", (host["id"],)).fetchone()
        ):
            return
        now = iso(clock.now())
        sid = ids.new()
        conn.execute(
            "INSERT INTO streams(id, host_id, title, category, country, status, created_at, started_at, "
            "last_heartbeat_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (sid, host["id"], DEMO_STREAM_TITLE, "music", "NP", "live", now, now, now),
        )
        for username, text in DEMO_CHAT:
            who = conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
            if who is not None:
                conn.execute(
                    "INSERT INTO chat_messages(id, stream_id, user_id, text, created_at, moderation_action) "
                    "VALUES (?,?,?,?,?, 'allow')",
                    (ids.new(), sid, who["id"], text, now),
                )

    writer.write_sync(unit)


def demo_hosts(read_one) -> set[str]:
    """Host ids whose streams `serve --demo` keeps live without heartbeats (read_one(sql, params))."""
    row = read_one("SELECT id FROM users WHERE username = 'demo_host' AND email = ?", ("host@demo.halobuzz",))
    return {row["id"]} if row is not None else set()


def seed_demo_games(writer: Writer, settings: Settings, clock: Clock, ids: IdFactory) -> None:
    """A demo tournament to register for (once): single elimination, 50 coins, starting in 30 minutes."""
    from datetime import timedelta

    from .games import tournaments
    from .games.service import rules_from

    rules = rules_from(settings, new_id=ids.new)

    def unit(conn):
        if conn.execute("SELECT 1 FROM tournaments WHERE name = 'Demo Cup'").fetchone():
            return
        now = clock.now()
        tournaments.create(
            conn,
            rules,
            name="Demo Cup",
            format="single",
            entry_fee=50,
            max_players=16,
            starts_at=now + timedelta(minutes=30),
            now=now,
            created_by=None,
            events=[],
        )

    writer.write_sync(unit)


SEEDERS: tuple[Seeder, ...] = (seed_demo_coins, seed_demo_stream, seed_demo_festival, seed_demo_games)
