"""Helpers for the games tests over a real server."""

from __future__ import annotations

import itertools
import time

from tests.conftest import cli, register

_keys = itertools.count(1)


GAMES_ENV = {
    "HALOBUZZ_GAMES_COMPLIANCE": '{"NP": "games_of_chance=true"}',
    "HALOBUZZ_GAMES_RATE": "1000/1s",
    "HALOBUZZ_GAMES_LOTTERY_EVERY": "0",
}


def key() -> str:
    return f"games-key-{time.time_ns()}-{next(_keys)}"


def player(server, client, name=None, coins=5000, **fields):
    u = register(client, name, **fields)
    if coins:
        out = cli(
            server.data_dir,
            "coins",
            "grant",
            "--user",
            u["user"]["username"],
            "--amount",
            str(coins),
            "--reason",
            "games test",
        )
        assert out.returncode == 0, out.stderr
    return u


def live_room(client, host) -> str:
    sid = client.post("/api/v1/streams", json={"title": "games"}, headers=host["auth"]).json()["id"]
    assert client.post(f"/api/v1/streams/{sid}/start", headers=host["auth"]).status_code == 200
    return sid
