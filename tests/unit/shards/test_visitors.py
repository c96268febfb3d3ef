"""A user of shard np is a visitor on shard in: their np token works there, through a mirror row."""

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from halobuzz.accounts import users
from halobuzz.accounts.service import Accounts
from halobuzz.accounts.tokens import AccessTokens
from halobuzz.db import Database
from halobuzz.errors import Forbidden, Unauthorized
from halobuzz.gifts import send as gift_send
from halobuzz.infra.clock import Clock
from halobuzz.infra.ids import IdFactory, SystemRandom
from halobuzz.shards import placement, shardmap
from halobuzz.shards.visitors import Visitors


def _shard(tmp_path, name, keys, map_path, op):
    m, place, peers = placement.load(str(map_path), op, name, keys[name])
    db = Database(tmp_path / f"{name}.db", synchronous="NORMAL", readers=1)
    clock = Clock()
    acc = Accounts(
        db,
        clock,
        IdFactory(clock, SystemRandom()),
        AccessTokens(keys[name], name, 900, peer_keys=peers, kid=name),
        bcrypt_rounds=4,
        refresh_ttl=3600,
        min_age=13,
    )
    acc.visitor_of = Visitors(db, clock).principal
    return db, acc


@pytest.fixture()
def shards(tmp_path):
    op = Ed25519PrivateKey.generate()
    keys = {"np": Ed25519PrivateKey.generate(), "in": Ed25519PrivateKey.generate()}
    m = shardmap.new_map(op.public_key())
    for name, c in (("np", "NP"), ("in", "IN")):
        m = m.with_shard(
            shardmap.new_shard(name, [c], f"https://{name}.example", shardmap.public_b64(keys[name].public_key()))
        )
    path = tmp_path / "shards.json"
    shardmap.write(path, m.signed(op))
    return {n: _shard(tmp_path, n, keys, path, shardmap.public_b64(op.public_key())) for n in ("np", "in")}


def test_visitor_authenticates_with_home_token_and_gets_a_mirror(shards):
    (np_db, np_acc), (in_db, in_acc) = shards["np"], shards["in"]

    async def run():
        await np_db.open()
        await in_db.open()
        try:
            home = await np_acc.register(
                users.NewUser("asha@x.io", "asha", "correct horse battery", "NP", "2000-01-01")
            )
            token = home["accessToken"]
            who = in_acc.authenticate(token)
            assert who.user_id == f"{home['user']['id']}@np" and who.username == "asha@np" and who.role == "user"
            again = in_acc.authenticate(token)  # no second write
            assert again.user_id == who.user_id
            # the mirror cannot log in anywhere
            with pytest.raises(Unauthorized):
                await in_acc.login(f"{home['user']['id']}@np.visitor.invalid", "!visitor")
            # a local ban of the mirror keeps the visitor out of this shard
            await in_db.write(lambda c: c.execute("UPDATE users SET status = 'banned' WHERE id = ?", (who.user_id,)))
            with pytest.raises(Forbidden):
                in_acc.authenticate(token)
            # the home shard still knows its own user normally
            assert np_acc.authenticate(token).user_id == home["user"]["id"]
        finally:
            await np_db.close()
            await in_db.close()

    asyncio.run(run())


def test_gift_board_names_a_visiting_gifter(tmp_path):
    from halobuzz.shards import visitors
    from tests.support.world import T0, World

    w = World.open(tmp_path / "w.db")
    conn = w.conn
    host = w.user("host")
    visitors.upsert(conn, "np", "U9", {"name": "asha", "og": 2, "cty": "NP", "adult": True}, T0)
    conn.execute("INSERT INTO stream_gifters(stream_id, user_id, coins, updated_at) VALUES ('S1', 'U9@np', 5, 'x')")
    assert gift_send.leaderboard(conn, "S1")[0]["username"] == "asha@np"
    row = users.get(conn, "U9@np")
    assert row["birth_date"] == "2008-03-01" and row["country"] == "NP" and host
