"""Wires the games into the app: the Games service, routes, the due-round loop (after recovery),
scheduler jobs (house lottery, win-rate metrics, nonce pruning) and doctor checks."""
from __future__ import annotations

from . import doctor
from .games import service as games_service
from .games.compliance import Packs
from .games.quizbank import Bank
from .jobs.scheduler import Jobs
from .resources import assets_dir


def _escrows_empty(conn):
    """Every ended round's escrow account is back to 0 (no coin stuck in a finished game)."""
    rows = conn.execute("SELECT a.id, a.balance FROM ledger_accounts a JOIN game_rounds r "
                        "ON a.id = 'sys:game_escrow:' || r.id WHERE r.status IN ('settled','refunded') "
                        "AND a.balance <> 0 LIMIT 20").fetchall()
    return [f"{r[0]} holds {r[1]} coins after its round ended" for r in rows]


def _assets(conn):
    problems = []
    try:
        Packs.load(assets_dir() / "compliance")
    except ValueError as exc:
        problems.append(f"compliance packs: {exc}")
    try:
        if len(Bank.load(assets_dir() / "games" / "quiz").questions) < 300:
            problems.append("quiz bank has fewer than 300 questions")
    except (ValueError, OSError) as exc:
        problems.append(f"quiz bank: {exc}")
    return problems


doctor.CHECKS.extend([("game escrows", _escrows_empty), ("game assets", _assets)])


def plugin(app, hb) -> None:
    from .api import games as games_api
    games = games_service.Games(hb.db, hb.bus, hb.clock, hb.ids, hb.settings, hb.metrics, hb.limiter)
    hb.extras["games"] = games
    jobs: Jobs = hb.extras.setdefault("jobs", Jobs())
    jobs.add("games_lottery_schedule", games.run_lottery_schedule, 60)
    jobs.add("games_nonce_prune", games.run_nonce_prune, 3600)

    async def win_rate_metrics() -> int:
        rows = games.update_metrics(hb.db.inline.conn)
        return sum(r["outOfBand"] for r in rows)

    jobs.add("games_win_rate_metrics", win_rate_metrics, 60)
    app.blueprint(games_api.bp)
    app.blueprint(games_api.admin_bp)

    @app.listener("after_server_start")
    async def start_games(app):
        await games.start()

    @app.listener("before_server_stop")
    async def stop_games(app):
        await games.stop()
