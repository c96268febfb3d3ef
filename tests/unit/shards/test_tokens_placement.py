from datetime import datetime, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from halobuzz.accounts.tokens import AUDIENCE, AccessTokens
from halobuzz.errors import Unauthorized
from halobuzz.shards import placement, shardmap
from halobuzz.shards.shardmap import ShardMapError

NOW = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


@pytest.fixture()
def world(tmp_path):
    op = Ed25519PrivateKey.generate()
    keys = {"np": Ed25519PrivateKey.generate(), "in": Ed25519PrivateKey.generate()}
    m = shardmap.new_map(op.public_key())
    for name, countries in (("np", ["NP", "BD"]), ("in", ["IN"])):
        m = m.with_shard(
            shardmap.new_shard(name, countries, f"https://{name}.example", shardmap.public_b64(keys[name].public_key()))
        )
    path = tmp_path / "shards.json"
    shardmap.write(path, m.signed(op))
    return path, shardmap.public_b64(op.public_key()), keys


def _tokens(world, shard):
    path, op, keys = world
    m, place, peers = placement.load(str(path), op, shard, keys[shard])
    return AccessTokens(keys[shard], shard, 900, peer_keys=peers, kid=shard), place


def test_every_shard_verifies_its_peers_tokens(world):
    np_tokens, _ = _tokens(world, "np")
    in_tokens, _ = _tokens(world, "in")
    token = np_tokens.issue("U1", "S1", NOW)
    assert jwt.get_unverified_header(token)["kid"] == "np"
    claims = in_tokens.verify(token, NOW.timestamp())
    assert (claims.user_id, claims.issuer) == ("U1", "np")


def test_a_peer_cannot_vouch_for_another_shards_users(world):
    _, _, keys = world
    in_tokens, _ = _tokens(world, "in")
    np_tokens, _ = _tokens(world, "np")
    t = NOW.timestamp()
    # signed by np's key but claiming to be issued by "in"
    lie = jwt.encode(
        {"sub": "U1", "sid": "S", "iss": "in", "aud": AUDIENCE, "iat": int(t), "exp": int(t) + 60},
        keys["np"],
        algorithm="EdDSA",
        headers={"kid": "np"},
    )
    with pytest.raises(Unauthorized, match="issuer"):
        in_tokens.verify(lie, t)
    # kid says np but signed by a stranger
    forged = jwt.encode(
        {"sub": "U1", "sid": "S", "iss": "np", "aud": AUDIENCE, "iat": int(t), "exp": int(t) + 60},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "np"},
    )
    with pytest.raises(Unauthorized):
        in_tokens.verify(forged, t)
    with pytest.raises(Unauthorized):
        np_tokens.verify(forged, t)


def test_a_shard_whose_key_is_not_in_the_map_refuses_to_start(world):
    path, op, keys = world
    with pytest.raises(ShardMapError, match="not this shard's key"):
        placement.load(str(path), op, "np", Ed25519PrivateKey.generate())
    with pytest.raises(ShardMapError, match="operator"):
        placement.load(str(path), "", "np", keys["np"])
    with pytest.raises(ShardMapError, match="different operator"):
        placement.load(str(path), shardmap.public_b64(Ed25519PrivateKey.generate().public_key()), "np", keys["np"])


def test_placement_sends_people_home(world):
    _, place = _tokens(world, "np")
    assert place.for_registration("bd") is None
    where = place.for_registration("IN")
    assert where.shard == "in" and where.location("/api/v1/auth/register") == "https://in.example/api/v1/auth/register"
    assert place.for_registration("US").reason == "no shard serves country US"
    assert (
        place.for_caller("in", "/api/v1/wallet/transactions").location("/api/v1/wallet/transactions", "limit=5")
        == "https://in.example/api/v1/wallet/transactions?limit=5"
    )
    assert place.for_caller("in", "/api/v1/streams/S1") is None  # watching here is fine
    assert place.for_caller("np", "/api/v1/wallet") is None
    assert place.is_peer_user("in") and not place.is_peer_user("np") and not place.is_peer_user("zz")
