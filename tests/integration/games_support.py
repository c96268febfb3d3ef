"""A real server with the games, and helpers for the games tests."""
from __future__ import annotations

import itertools
import subprocess
import sys
import time

import httpx

from tests.conftest import Server, cli, register

_keys = itertools.count(1)


class GamesServer(Server):
    def start(self, timeout: float = 60.0) -> "GamesServer":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.games_launch", "serve", "--port", str(self.port),
             "--data-dir", str(self.data_dir)], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy: " + self.log_path.read_text()[-3000:])


GAMES_ENV = {"HALOBUZZ_GAMES_COMPLIANCE": '{"NP": "games_of_chance=true"}', "HALOBUZZ_GAMES_RATE": "1000/1s",
             "HALOBUZZ_GAMES_LOTTERY_EVERY": "0"}


def key() -> str:
    return f"games-key-{time.time_ns()}-{next(_keys)}"


def player(server, client, name=None, coins=5000, **fields):
    u = register(client, name, **fields)
    if coins:
        out = cli(server.data_dir, "coins", "grant", "--user", u["user"]["username"], "--amount", str(coins),
                  "--reason", "games test")
        assert out.returncode == 0, out.stderr
    return u


def live_room(client, host) -> str:
    sid = client.post("/api/v1/streams", json={"title": "games"}, headers=host["auth"]).json()["id"]
    assert client.post(f"/api/v1/streams/{sid}/start", headers=host["auth"]).status_code == 200
    return sid
