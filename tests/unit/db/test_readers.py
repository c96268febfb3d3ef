import asyncio
import time

from halobuzz.db.connection import connect
from halobuzz.db.database import Database


def test_inline_cache_sees_own_commits_at_once_and_others_within_the_bound(tmp_path):
    async def scenario():
        db = Database(tmp_path / "r.db")
        await db.open()
        sql = "SELECT count(*) FROM users WHERE country = ?"
        assert db.inline.one(sql, ("NP",))[0] == 0
        await db.write(
            lambda c: c.execute(
                "INSERT INTO users(id, username, email, password_hash, country, birth_date, created_at, updated_at) "
                "VALUES ('a','a','a@x','h','NP','1990-01-01','t','t')"
            )
        )
        assert db.inline.one(sql, ("NP",))[0] == 1, "read-your-writes after our own commit"
        other = connect(tmp_path / "r.db")  # e.g. the CLI in another process
        other.execute(
            "INSERT INTO users(id, username, email, password_hash, country, birth_date, created_at, "
            "updated_at) VALUES ('b','b','b@x','h','NP','1990-01-01','t','t')"
        )
        time.sleep(0.001)  # past the 0.5 ms re-check bound
        assert db.inline.one(sql, ("NP",))[0] == 2
        other.close()
        await db.close()

    asyncio.run(scenario())


def test_memo_is_dropped_on_any_commit(tmp_path):
    async def scenario():
        db = Database(tmp_path / "m.db")
        await db.open()
        builds = []
        build = lambda: builds.append(1) or len(builds)  # noqa: E731
        assert db.inline.memo(("k",), build) == 1
        assert db.inline.memo(("k",), build) == 1, "served from the cache while nothing changed"
        await db.write(
            lambda c: c.execute(
                "INSERT INTO users(id, username, email, password_hash, country, birth_date, created_at, updated_at) "
                "VALUES ('m','m','m@x','h','NP','1990-01-01','t','t')"
            )
        )
        assert db.inline.memo(("k",), build) == 2, "rebuilt after our own commit"
        await db.close()

    asyncio.run(scenario())
