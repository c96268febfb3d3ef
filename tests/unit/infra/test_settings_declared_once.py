"""Settings are declared once (the dataclass); the help table and loaders derive from it."""

from __future__ import annotations

from dataclasses import fields

import pytest

from halobuzz import config


def test_every_setting_has_help_and_the_table_matches_the_dataclass(tmp_path):
    declared = [f.name for f in fields(config.Settings) if f.name != "data_dir"]
    assert [s.name for s in config.SETTINGS] == declared
    defaults = config.Settings(data_dir=tmp_path)
    for s in config.SETTINGS:
        assert s.help.strip(), f"{s.name} has no help text"
        assert getattr(defaults, s.name) == s.default, s.name


def test_defaults_are_the_documented_ones(tmp_path):
    s = config.load(tmp_path, env={})
    # the seed's rules and the README's promises
    assert (s.rate_limit_default, s.rate_limit_auth, s.platform_fee_bps, s.earnings_hold_days) == (
        "100/15m",
        "20/15m",
        3000,
        7,
    )
    assert (s.access_token_ttl, s.synchronous, s.spend_limit_minor) == (900, "FULL", 2000)


def test_mutable_defaults_are_not_shared_between_instances(tmp_path):
    a, b = config.Settings(data_dir=tmp_path), config.Settings(data_dir=tmp_path)
    assert a.rate_limits == {} and a.rate_limits is not b.rate_limits


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path):
    (tmp_path / "halobuzz.toml").write_text("port = 9000\nchat_backlog = 10\n")
    s = config.load(tmp_path, env={"HALOBUZZ_PORT": "9100"})
    assert (s.port, s.chat_backlog) == (9100, 10)
    with pytest.raises(config.ConfigError, match="unknown setting"):
        (tmp_path / "halobuzz.toml").write_text("no_such_thing = 1\n")
        config.load(tmp_path, env={})
