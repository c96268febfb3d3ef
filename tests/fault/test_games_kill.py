"""kill -9 in the middle of game rounds and of a lottery draw.

After each restart every round the dead process left open is resumed or refunded exactly
once (one settle-or-refund ledger transaction per round, escrow back to 0), `halobuzz
ledger verify` passes, and every coin granted is still in a player's wallet or the house:
none lost, none made.
"""

import random
import sqlite3
import time

import pytest

from tests.conftest import ADMIN_EMAIL, Server, cli, register
from tests.integration.games_support import key

pytestmark = pytest.mark.slow
ENV = {
    "HALOBUZZ_GAMES_COMPLIANCE": '{"NP": "games_of_chance=true,max_stake=100000,daily_loss_limit=10000000"}',
    "HALOBUZZ_GAMES_RATE": "100000/1s",
    "HALOBUZZ_GAMES_LOTTERY_EVERY": "0",
}
GRANT = 50_000


def admin_session(c, srv):
    register(c, email=ADMIN_EMAIL, username="kill_root")
    assert cli(srv.data_dir, "user", "set-role", ADMIN_EMAIL, "admin").returncode == 0
    data = c.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": "correct horse battery"}).json()
    return {"Authorization": f"Bearer {data['accessToken']}"}


def grant(c, admin, user):
    r = c.post(
        f"/api/v1/admin/users/{user['user']['id']}/coins", json={"amount": GRANT, "reason": "kill test"}, headers=admin
    )
    assert r.status_code in (200, 201), r.text


def db_facts(data_dir, round_ids):
    conn = sqlite3.connect(f"file:{data_dir}/halobuzz.db?mode=ro", uri=True)
    try:
        rounds = {
            r[0]: r[1]
            for r in conn.execute(
                f"SELECT id, status FROM game_rounds WHERE id IN ({','.join('?' * len(round_ids))})", round_ids
            )
        }
        endings = {
            rid: conn.execute(
                "SELECT COUNT(*) FROM ledger_tx WHERE key IN (?, ?)", (f"game-settle:{rid}", f"game-refund:{rid}")
            ).fetchone()[0]
            for rid in round_ids
        }
        escrow = conn.execute(
            "SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts WHERE id LIKE 'sys:game_escrow:%'"
        ).fetchone()[0]
        users = conn.execute(
            "SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts WHERE owner_id IS NOT NULL"
        ).fetchone()[0]
        house = conn.execute(
            "SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts WHERE id = 'sys:game_pool'"
        ).fetchone()[0]
        granted = -conn.execute(
            "SELECT COALESCE(SUM(balance), 0) FROM ledger_accounts WHERE id = 'sys:admin_adjust'"
        ).fetchone()[0]
        return rounds, endings, escrow, users, house, granted
    finally:
        conn.close()


# -1.5: killed before the draw time (the restart's recovery draws it); 0.05 / 0.3: around the draw.
@pytest.mark.parametrize("offset", [-1.5, 0.05, 0.3])
def test_kill_mid_round_and_mid_draw(tmp_path, offset):
    srv = Server(tmp_path / "data", env=ENV).start()
    try:
        with srv.client() as c:
            admin = admin_session(c, srv)
            host = register(c, "killhost")
            players = [register(c, f"kp{i}") for i in range(8)]
            for p in players:
                grant(c, admin, p)
            sid = c.post("/api/v1/streams", json={"title": "kill"}, headers=host["auth"]).json()["id"]
            assert c.post(f"/api/v1/streams/{sid}/start", headers=host["auth"]).status_code == 200
            quiz = c.post(
                "/api/v1/games/rounds",
                json={"game": "quiz", "stake": 40, "roomId": sid, "questions": 3, "seconds": 20, "lobbySeconds": 600},
                headers=host["auth"],
            ).json()
            for p in players[:3]:
                assert (
                    c.post(
                        f"/api/v1/games/rounds/{quiz['id']}/join",
                        json={},
                        headers={**p["auth"], "Idempotency-Key": key()},
                    ).status_code
                    == 201
                )
            assert c.post(f"/api/v1/games/rounds/{quiz['id']}/start", headers=host["auth"]).status_code == 200
            ch = c.post(
                "/api/v1/games/rounds", json={"game": "challenge", "stake": 30}, headers=players[3]["auth"]
            ).json()
            assert (
                c.post(
                    f"/api/v1/games/rounds/{ch['id']}/join",
                    json={},
                    headers={**players[3]["auth"], "Idempotency-Key": key()},
                ).status_code
                == 201
            )
            draw_at = time.time() + 4
            lot = c.post(
                "/api/v1/games/rounds",
                json={
                    "game": "lottery",
                    "stake": 1,
                    "drawsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(draw_at)),
                },
                headers=admin,
            ).json()
            for p in players:
                for _ in range(3):
                    r = c.post(
                        f"/api/v1/games/rounds/{lot['id']}/join",
                        json={"count": 300},
                        headers={**p["auth"], "Idempotency-Key": key()},
                    )
                    assert r.status_code in (201, 409), r.text  # 409: the draw already closed entries
        # kill -9 during the draw (or just around it) while the quiz and challenge are mid-play
        time.sleep(max(0.0, int(draw_at) + 1 - time.time() + offset + random.random() * 0.2))
        srv.kill()
        ids = [quiz["id"], ch["id"], lot["id"]]
        for attempt in range(2):  # a second restart must change nothing
            srv = Server(tmp_path / "data", env=ENV).start()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                rounds, endings, *_ = db_facts(srv.data_dir, ids)
                if all(s in ("settled", "refunded") for s in rounds.values()):
                    break
                time.sleep(0.2)
            srv.stop()
            rounds, endings, escrow, users, house, granted = db_facts(srv.data_dir, ids)
            assert rounds[quiz["id"]] == "refunded" and rounds[ch["id"]] == "refunded", rounds
            assert rounds[lot["id"]] == "settled", rounds
            assert all(n == 1 for n in endings.values()), endings
            assert escrow == 0
            assert users + house == granted == GRANT * len(players), (users, house, granted)
            out = cli(srv.data_dir, "ledger", "verify")
            assert out.returncode == 0, out.stdout + out.stderr
    finally:
        srv.stop()
