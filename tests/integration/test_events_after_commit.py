"""Every kind of request whose caller is cancelled right after its COMMIT (the client hung
up) still announces what it committed: the events are the writer's job, not the caller's.

Built on the real composition root (`build_services`) over a real SQLite file. The
writer's on_commit hook runs in the writer thread after COMMIT and before any answer is
queued, so a cancellation scheduled there reaches the awaiting task first — the exact
interleaving that used to drop events.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from halobuzz import config
from halobuzz import events as ev
from halobuzz.accounts import audit, users
from halobuzz.app import build_services
from halobuzz.gifts import catalog
from halobuzz.resources import assets_dir


async def _cancelled_after_commit(sv, call) -> None:
    """Run `call()` and cancel it right after the COMMIT of its first write unit."""
    loop = asyncio.get_running_loop()
    writer, db = sv.db.writer, sv.db
    keep_hook, real_write = writer.on_commit, db.write
    ours_ran = threading.Event()  # set inside the writer thread, before COMMIT

    async def first_write_marked(fn, after=None):
        if asyncio.current_task() is not task:  # a background flush, not the request
            return await real_write(fn, after)
        db.write = real_write

        def marked(conn):
            out = fn(conn)
            ours_ran.set()
            return out

        return await real_write(marked, after)

    def cancel_after_our_commit() -> None:
        keep_hook()
        if ours_ran.is_set():  # other units (background flushes) may commit first
            writer.on_commit = keep_hook
            loop.call_soon_threadsafe(task.cancel)

    db.write = first_write_marked
    writer.on_commit = cancel_after_our_commit
    task = loop.create_task(call())
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture()
def world(tmp_path):
    settings = config.load(tmp_path / "data", env={}, bcrypt_rounds=4)
    return settings


def test_each_kind_of_request_announces_its_commit_when_the_caller_is_gone(world):
    async def scenario():
        sv = build_services(world)
        seen: list[ev.Event] = []
        arrived = asyncio.Event()

        def collect(event: ev.Event) -> None:
            seen.append(event)
            arrived.set()

        sv.bus.subscribe(None, collect)
        await sv.db.open()
        try:
            now = sv.clock.now()
            await sv.db.write(lambda conn: catalog.seed(conn, catalog.load_seed(assets_dir()), now))
            people = {}
            for name in ("host", "host2", "viewer", "mod"):
                out = await sv.accounts.register(users.NewUser(f"{name}@x.io", name, "password-1", "NP", "1990-01-01"))
                people[name] = out["user"]["id"]
            admin = audit.Actor("ops@x.io", "api", people["mod"])
            await sv.economy.adjust(people["viewer"], 10_000, "paid", "test coins", admin)
            s1 = (await sv.streams.create(people["host"], "room one", None, None))["id"]
            s2 = (await sv.streams.create(people["host2"], "room two", None, None))["id"]

            async def expect(name: str, call) -> ev.Event:
                seen.clear()
                await _cancelled_after_commit(sv, call)
                # The writer thread queues the delivery; the cancelled caller may finish first.
                while not any(e.name == name for e in seen):
                    arrived.clear()
                    try:
                        await asyncio.wait_for(arrived.wait(), 5)
                    except TimeoutError:
                        raise AssertionError(
                            f"{name} was not announced after its commit (saw {[e.name for e in seen]})"
                        ) from None
                return next(e for e in seen if e.name == name)

            await expect(ev.STREAM_STARTED, lambda: sv.streams.start(s1, people["host"]))
            assert sv.streams.live.get(s1) is not None, "the live registry follows the commit too"
            await sv.streams.start(s2, people["host2"])
            chat = await expect(ev.CHAT_NEW, lambda: sv.chat.send(people["viewer"], s1, "hello room"))
            assert chat.room == s1 and [m["text"] for m in sv.chat.recent(s1)] == ["hello room"]
            mid = chat.data["id"]
            await expect(ev.CHAT_PINNED, lambda: sv.chat.pin(people["host"], s1, mid))
            await expect(
                ev.ROOM_SETTINGS,
                lambda: sv.chat.set_room_settings(people["host"], s1, slow_mode_seconds=5, chat_enabled=True),
            )
            await expect(ev.CHAT_DELETED, lambda: sv.chat.delete(people["host"], s1, mid))
            assert sv.chat.recent(s1) == []
            gift = await expect(
                ev.GIFT_SENT, lambda: sv.economy.send_gift(people["viewer"], s1, "rose", 1, "gift-key-0001")
            )
            assert gift.room == s1
            sanction = await expect(
                ev.ROOM_SANCTION, lambda: sv.chat.sanction(people["host"], s1, people["mod"], "mute", 60, "calm down")
            )
            assert sanction.users == (people["mod"],)
            dm = await expect(ev.DM_NEW, lambda: sv.dms.send(people["viewer"], "host", "hi there"))
            assert set(dm.users) == {people["viewer"], people["host"]}
            await expect(ev.DM_READ, lambda: sv.dms.mark_read(people["host"], dm.data["conversationId"]))
            invite = await expect(ev.BATTLE_INVITE, lambda: sv.battles.invite(people["host"], s1, s2, 60))
            await expect(ev.BATTLE_START, lambda: sv.battles.accept(people["host2"], invite.data["id"]))
            await expect(ev.STREAM_ENDED, lambda: sv.streams.end(s2, "host", host_id=people["host2"]))
            assert sv.streams.live.get(s2) is None
        finally:
            await sv.battles.stop()
            sv.moderation.close()
            await sv.db.close()
            await sv.http.aclose()

    asyncio.run(scenario())
