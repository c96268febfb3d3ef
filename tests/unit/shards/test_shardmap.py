import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from halobuzz.shards import shardmap
from halobuzz.shards.shardmap import ShardMapError


def _key():
    return Ed25519PrivateKey.generate()


def _pub(k):
    return shardmap.public_b64(k.public_key())


@pytest.fixture()
def signed(tmp_path):
    op = _key()
    m = shardmap.new_map(op.public_key())
    m = m.with_shard(shardmap.new_shard("np", ["np", "BD"], "https://np.example/", _pub(_key())))
    m = m.with_shard(shardmap.new_shard("in", ["IN"], "https://in.example", _pub(_key())))
    path = tmp_path / "shards.json"
    shardmap.write(path, m.signed(op))
    return path, op


def test_signed_map_verifies_and_answers_lookups(signed):
    path, op = signed
    m = shardmap.load_verified(path, _pub(op), "np")
    assert m.version == 1
    assert m.shard_for_country("bd").name == "np"
    assert m.shard_for_country("US") is None
    assert m.shard("np").url == "https://np.example"
    assert m.shard("in").subjects == {
        "gifts": "halobuzz.in.gifts",
        "receipts": "halobuzz.in.receipts",
        "rooms": "halobuzz.in.rooms",
    }
    assert set(m.peer_keys()) == {"np", "in"}


def test_canonical_form_ignores_layout_and_order(signed):
    path, op = signed
    doc = json.loads(path.read_text())
    doc["shards"].reverse()
    path.write_text(json.dumps(doc, indent=7, sort_keys=False))
    shardmap.load_verified(path, _pub(op))


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["shards"][0]["countries"].append("US"),
        lambda d: d["shards"][0].update(url="https://evil.example"),
        lambda d: d["shards"][1].update(publicKey=_pub(_key())),
        lambda d: d.update(version=d["version"] + 1),
    ],
)
def test_any_edit_breaks_the_signature(signed, edit):
    path, op = signed
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ShardMapError, match="signature"):
        shardmap.load_verified(path, _pub(op))


def test_unsigned_and_foreign_maps_are_refused(signed, tmp_path):
    path, op = signed
    doc = json.loads(path.read_text())
    del doc["signature"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ShardMapError, match="not signed"):
        shardmap.load_verified(path, _pub(op))
    # a map signed by someone else's operator key, even if self-consistent
    forger = _key()
    forged = shardmap.parse(doc)
    forged = shardmap.ShardMap(forged.version, _pub(forger), forged.shards).signed(forger)
    shardmap.write(path, forged)
    with pytest.raises(ShardMapError, match="different operator"):
        shardmap.load_verified(path, _pub(op))
    # ... and one that keeps our operator's name but signs with the forger's key
    forged2 = shardmap.ShardMap(forged.version, _pub(op), forged.shards, forged.signature)
    shardmap.write(path, forged2)
    with pytest.raises(ShardMapError, match="does not verify"):
        shardmap.load_verified(path, _pub(op))


def test_shard_must_be_in_the_map(signed):
    path, op = signed
    with pytest.raises(ShardMapError, match="not in the shard map"):
        shardmap.load_verified(path, _pub(op), "us")


def test_bad_shards_are_refused():
    op = _key()
    m = shardmap.new_map(op.public_key())
    m = m.with_shard(shardmap.new_shard("np", ["NP"], "https://np.example", _pub(_key())))
    with pytest.raises(ShardMapError, match="already belong"):
        m.with_shard(shardmap.new_shard("xx", ["NP"], "https://x.example", _pub(_key())))
    for args, match in [
        (("NP!", ["NP"], "https://a"), "shard name"),
        (("ok", ["NPL"], "https://a"), "alpha-2"),
        (("ok", [], "https://a"), "no country"),
        (("ok", ["NP"], "ftp://a"), "url"),
    ]:
        with pytest.raises(ShardMapError, match=match):
            shardmap.new_shard(*args, _pub(_key()))
    with pytest.raises(ShardMapError, match="public key"):
        shardmap.new_shard("ok", ["NP"], "https://a", "not a key")
    with pytest.raises(ShardMapError, match="operator key"):
        m.signed(_key())
    assert m.with_shard(shardmap.new_shard("np", ["NP", "BT"], "https://np.example", _pub(_key()))).signature is None


def test_malformed_files(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("{nope")
    with pytest.raises(ShardMapError, match="not JSON"):
        shardmap.read(p)
    p.write_text(json.dumps({"format": 1, "version": 0, "operator": _pub(_key()), "shards": [{"name": "np"}]}))
    with pytest.raises(ShardMapError, match="missing"):
        shardmap.read(p)
    with pytest.raises(ShardMapError, match="no such shard map"):
        shardmap.read(tmp_path / "absent.json")
