import os
import stat

import pytest
from cryptography.exceptions import InvalidTag

from halobuzz import config
from halobuzz.infra.crypto import FieldCipher
from halobuzz.infra.ratelimit import RateLimiter, Rule
from halobuzz.infra.text import clean


def test_rate_limit_allows_limit_then_refuses_with_wait():
    rl, rule = RateLimiter(), Rule.parse("5/1m")
    assert all(rl.hit("api", "1.2.3.4", rule, 1000.0) == 0 for _ in range(5))
    wait = rl.hit("api", "1.2.3.4", rule, 1000.0)
    assert 11 < wait <= 12.01  # one slot refills every 12 s
    assert rl.hit("api", "5.6.7.8", rule, 1000.0) == 0, "other IPs are not affected"
    assert rl.hit("api", "1.2.3.4", rule, 1012.1) == 0


def test_rate_rule_parse_errors():
    assert Rule.parse("100/15m") == Rule(100, 900)
    for bad in ("abc", "0/1m", "10/1x", "10"):
        with pytest.raises(ValueError):
            Rule.parse(bad)


def test_field_cipher_roundtrip_rotation_and_tamper():
    old = FieldCipher({"k1": b"a" * 32}, "k1")
    token = old.encrypt_text("esewa payload", "order:1")
    rotated = FieldCipher({"k1": b"a" * 32, "k2": b"b" * 32}, "k2")
    assert rotated.decrypt_text(token, "order:1") == "esewa payload"
    assert rotated.encrypt_text("x").startswith("v1:k2:")
    with pytest.raises(InvalidTag):
        rotated.decrypt_text(token, "order:2")  # bound to its row
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):
        rotated.decrypt_text(tampered, "order:1")


def test_clean_strips_controls_and_bidi_but_keeps_text():
    assert clean("  hi\x00\x07 there\u202e ") == "hi there"
    assert clean("line1\nline2\t", multiline=True) == "line1\nline2"
    assert clean("<script>") == "<script>", "stored as given; escaping is the renderer's job"


def test_settings_precedence_env_over_toml_over_default(tmp_path):
    (tmp_path / "halobuzz.toml").write_text('port = 9000\nshard_id = "np-1"\n')
    s = config.load(tmp_path, env={"HALOBUZZ_PORT": "9100", "HALOBUZZ_ADMIN_EMAILS": "a@x.io, b@x.io"})
    assert s.port == 9100 and s.shard_id == "np-1" and s.admin_emails == ("a@x.io", "b@x.io")
    assert s.bcrypt_rounds == 12 and s.rate_limit_default == "100/15m"


def test_settings_errors_name_the_key(tmp_path):
    with pytest.raises(config.ConfigError, match="port"):
        config.load(tmp_path, env={"HALOBUZZ_PORT": "eighty"})
    (tmp_path / "halobuzz.toml").write_text("colour = 'red'\n")
    with pytest.raises(config.ConfigError, match="colour"):
        config.load(tmp_path, env={})


def test_secrets_generated_once_with_mode_0600(tmp_path):
    s = config.load(tmp_path, env={})
    k1 = config.signing_key(s)
    k2 = config.signing_key(s)
    assert k1.private_bytes_raw() == k2.private_bytes_raw()
    for f in (s.secrets_dir / "jwt-ed25519.pem", s.secrets_dir / "field-keys.json"):
        config.field_keys(s)
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600


def test_every_setting_field_has_a_documented_row():
    """Settings fields and the SETTINGS help table must not drift apart (env/toml read the table)."""
    from dataclasses import fields

    rows = {s.name for s in config.SETTINGS}
    missing = [f.name for f in fields(config.Settings) if f.name != "data_dir" and f.name not in rows]
    assert not missing, f"Settings fields without a SETTINGS row (cannot be configured): {missing}"
    extra = rows - {f.name for f in fields(config.Settings)}
    assert not extra, f"SETTINGS rows without a Settings field: {extra}"


def test_over_long_password_is_refused_after_a_full_hash():
    import time as _t

    from halobuzz.infra.crypto import check_password, hash_password

    hashed = hash_password("right password", rounds=6)
    started = _t.perf_counter()
    assert check_password("x" * 100, hashed) is False
    assert _t.perf_counter() - started > 0.001, "refusing instantly would reveal the account exists"
    assert check_password("right password", hashed) is True
