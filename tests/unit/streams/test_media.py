"""Agora AccessToken2 against Agora's published vectors (AgoraIO/Tools AccessToken2Test)."""

import pytest

from halobuzz.streams import media

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"


def test_rtc_token_matches_agora_vector_with_uid():
    token = media.build_rtc_token(
        APP_ID,
        APP_CERT,
        CHANNEL,
        2882341273,
        issue_ts=1111111,
        expire=600,
        privileges={media.PRIV_JOIN_CHANNEL: 600},
        salt=1,
    )
    assert token == (
        "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
        "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
    )


def test_rtc_token_matches_agora_vector_uid_zero():
    token = media.build_rtc_token(
        APP_ID, APP_CERT, CHANNEL, 0, issue_ts=1111111, expire=600, privileges={media.PRIV_JOIN_CHANNEL: 600}, salt=1
    )
    assert token == (
        "007eJxTYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcw"
        "Mk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMADacImo="
    )


def test_publisher_and_subscriber_privileges_and_expiry():
    p = media.AgoraMedia(APP_ID, APP_CERT, ttl=900)
    pub = p.credentials("stream1", 42, media.PUBLISHER, 1_700_000_000.5)
    sub = p.credentials("stream1", 43, media.SUBSCRIBER, 1_700_000_000.5)
    assert pub.expires_at == 1_700_000_900
    pp, sp = media.parse_token(pub.token), media.parse_token(sub.token)
    assert pp["appId"] == APP_ID and pp["issueTs"] == 1_700_000_000 and pp["expire"] == 900
    assert pp["services"][1]["privileges"] == {1: 900, 2: 900, 3: 900, 4: 900}
    assert sp["services"][1]["privileges"] == {1: 900}
    assert sp["services"][1]["channel"] == "stream1" and sp["services"][1]["uid"] == "43"


def test_none_provider_and_bad_config():
    creds = media.make_provider("none").credentials("c", 7, media.SUBSCRIBER, 0)
    assert creds.token is None and creds.as_json()["provider"] == "none"
    with pytest.raises(ValueError):
        media.make_provider("agora", "short", "short")
    with pytest.raises(ValueError):
        media.make_provider("wowza")
    assert 1 <= media.media_uid("01ABC") <= 0xFFFFFFFF
