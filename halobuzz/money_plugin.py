"""Wires the money core into the app: Economy, routes, catalog seed, jobs, doctor checks, demo coins."""
from __future__ import annotations

from datetime import timedelta

from . import demo, doctor
from .economy import Economy
from .gifts import catalog
from .infra.clock import iso
from .jobs.scheduler import Jobs
from .resources import assets_dir
from .wallet import idempotency, ledger, wallet


def _ledger_chain(conn):
    return ledger.verify_chain(conn)


doctor.CHECKS.extend([("ledger balances", ledger.verify_balances), ("ledger chain", _ledger_chain)])


def plugin(app, hb) -> None:
    from .api import money
    economy = Economy(hb.db, hb.bus, hb.clock, hb.ids, hb.settings)
    hb.extras["economy"] = economy
    hb.accounts.coins_of = lambda user_id: _coins_block(
        wallet.view_from_row(hb.db.inline.one(wallet.WALLET_VIEW_SQL, (user_id,))))
    jobs: Jobs = hb.extras.setdefault("jobs", Jobs())
    jobs.add("og_daily_bonus", economy.run_daily_bonus, 600)
    jobs.add("og_expiry", economy.run_og_expiry, 60)
    jobs.add("earnings_release", economy.run_hold_release, 600)

    async def prune_idempotency() -> int:
        cutoff = iso(hb.clock.now() - timedelta(days=hb.settings.idempotency_days))
        total = 0
        while True:  # bounded units: the writer is never held long
            n = await hb.db.write(lambda conn: idempotency.prune(conn, cutoff))
            total += n
            if n < 5000:
                return total

    jobs.add("idempotency_prune", prune_idempotency, 3600)
    app.blueprint(money.bp)
    app.blueprint(money.admin_bp)

    @app.listener("before_server_start", priority=900)
    async def seed_catalog(app):
        specs = catalog.load_seed(assets_dir())
        now = hb.clock.now()
        await hb.db.write(lambda conn: catalog.seed(conn, specs, now))


def _coins_block(view: dict) -> dict:
    """The seed's User.coins block."""
    return {k: view[k] for k in ("balance", "bonusBalance", "totalEarned", "totalSpent")}


def jobs_plugin(app, hb) -> None:
    """Starts the shared scheduler after the server is up (last plugin)."""
    jobs: Jobs = hb.extras.setdefault("jobs", Jobs())

    @app.listener("after_server_start")
    async def start_jobs(app):
        jobs.start()

    @app.listener("before_server_stop")
    async def stop_jobs(app):
        jobs.shutdown()


def seed_demo_coins(writer, settings, clock, ids) -> None:
    """Give demo viewers coins to gift with (an audited-style admin grant, once)."""

    def unit(conn):
        for row in conn.execute("SELECT id, username FROM users WHERE email LIKE '%@demo.halobuzz'").fetchall():
            key = f"demo-grant:{row['id']}"
            if not ledger.tx_exists(conn, key):
                wallet.adjust(conn, key, row["id"], 50_000, "paid", "demo coins", clock.now())
    writer.write_sync(unit)


demo.SEEDERS.append(seed_demo_coins)
