"""The ONNX scorers load after start (moderation/loading.py): /readyz says "loading" until they
are up, and a chat message or DM sent meanwhile waits for them and is moderated, never waved
through. Built on the real composition root over a real SQLite file; the load is held on a
gate (a threading.Event) so "still loading" is a state the test controls, not a race."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import msgspec
import pytest

from halobuzz import config
from halobuzz.accounts import users
from halobuzz.api.health import readyz
from halobuzz.app import build_services
from halobuzz.chat.moderation import safe_check
from halobuzz.dms.service import MessageBlocked
from halobuzz.moderation import loading, setup
from halobuzz.moderation.loading import ModelLoader, ModelsUnavailable, Scorers

TOXIC = "you fucking idiot, randi ko chora"


@pytest.fixture()
def gate(monkeypatch):
    """Holds the background load until set; `entered` says the loader thread is in it."""
    release, entered = threading.Event(), threading.Event()
    real = setup.load_scorers

    def held(directory, cfg):
        entered.set()
        assert release.wait(30), "the test never released the load"
        return real(directory, cfg)

    monkeypatch.setattr(setup, "load_scorers", held)
    yield SimpleNamespace(release=release, entered=entered)
    release.set()  # never leave a loader thread parked


async def _ready(sv) -> tuple[int, dict]:
    response = await readyz(SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace(services=sv))))
    return response.status, msgspec.json.decode(response.body)


async def _people(sv) -> dict[str, str]:
    out = {}
    for name in ("host", "viewer", "friend"):
        reg = await sv.accounts.register(users.NewUser(f"{name}@x.io", name, "password-1", "NP", "1990-01-01"))
        out[name] = reg["user"]["id"]
    return out


async def _until(condition, what: str) -> None:
    """Let the loop run until `condition()` holds (bounded); the gate keeps the load parked."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def test_readyz_says_loading_and_early_messages_wait_for_the_models(tmp_path, gate):
    async def scenario():
        sv = build_services(config.load(tmp_path / "data", env={}, bcrypt_rounds=4))
        await sv.db.open()
        try:
            loader = sv.moderation.models
            assert not loader.ready, "create_app must not load the ONNX sessions"
            status, body = await _ready(sv)
            assert status == 503 and body["checks"]["moderation"] == "loading"

            people = await _people(sv)
            sid = (await sv.streams.create(people["host"], "room", None, None))["id"]
            await sv.streams.start(sid, people["host"])
            loader.start()  # what after_server_start does
            assert gate.entered.wait(30)
            chat = asyncio.create_task(sv.chat.send(people["viewer"], sid, TOXIC))
            dm = asyncio.create_task(sv.dms.send(people["viewer"], "friend", TOXIC))
            await _until(lambda: len(loader._waiters) == 2, "both messages wait for the models")
            assert not chat.done() and not dm.done()
            assert (await _ready(sv))[1]["checks"]["moderation"] == "loading"

            gate.release.set()
            outcome = await asyncio.wait_for(chat, 60)
            assert outcome.verdict.action == "block" and outcome.message is None
            with pytest.raises(MessageBlocked):
                await asyncio.wait_for(dm, 60)
            stored = sv.db.inline.one("SELECT status FROM chat_messages WHERE id = ?", (outcome.message_id,))
            assert stored["status"] == "blocked"

            status, body = await _ready(sv)
            assert body["checks"]["moderation"] == "ok"
            assert status == 200, body
        finally:
            sv.moderation.close()
            await sv.db.close()

    asyncio.run(scenario())


def test_a_message_past_the_wait_is_refused_not_allowed(tmp_path, gate):
    async def scenario():
        sv = build_services(config.load(tmp_path / "data", env={}, bcrypt_rounds=4))
        await sv.db.open()
        try:
            sv.moderation.models.wait_seconds = 0.05
            people = await _people(sv)
            sid = (await sv.streams.create(people["host"], "room", None, None))["id"]
            await sv.streams.start(sid, people["host"])
            with pytest.raises(ModelsUnavailable) as refused:
                await sv.chat.send(people["viewer"], sid, "hello")
            assert refused.value.status == 503 and refused.value.code == "moderation_unavailable"
            assert sv.db.inline.one("SELECT COUNT(*) AS n FROM chat_messages")["n"] == 0
            # a caller that skips ready() still cannot get a message through unmoderated
            with pytest.raises(ModelsUnavailable):
                safe_check(sv.moderation, people["viewer"], "hello", subject_id="M1")
        finally:
            gate.release.set()
            sv.moderation.close()
            await sv.db.close()

    asyncio.run(scenario())


def test_a_failed_load_is_reported_and_refuses():
    def broken() -> Scorers:
        raise RuntimeError("session says no")

    loader = ModelLoader(broken)
    assert loader.problem() == loading.LOADING
    with pytest.raises(ModelsUnavailable, match="session says no"):
        loader.get()
    assert loader.problem() == "failed to load: session says no"
    with pytest.raises(ModelsUnavailable, match="session says no"):
        asyncio.run(loader.wait())


def test_the_load_runs_once_for_many_waiters():
    calls, release = [], threading.Event()

    def build() -> Scorers:
        calls.append(1)
        release.wait(30)
        return Scorers("text", "nsfw", "age")

    loader = ModelLoader(build)

    async def scenario():
        waiting = [asyncio.create_task(loader.wait()) for _ in range(5)]
        await _until(lambda: len(loader._waiters) == 5, "five waiters")
        release.set()
        return await asyncio.gather(*waiting)

    results = asyncio.run(scenario())
    assert calls == [1] and all(r.text == "text" for r in results) and loader.problem() is None
    assert loader.get().age == "age"
