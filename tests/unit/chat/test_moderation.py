"""The chat moderation call point: thresholds, fail-open, the escalation hook."""

from types import SimpleNamespace

from halobuzz.chat.moderation import (
    AllowAll,
    ChatModerator,
    ModerationVerdict,
    ScorerModerator,
    safe_check,
)


class Scorer:
    def __init__(self, score):
        self.s = score

    def score(self, text):
        return SimpleNamespace(score=self.s, reasons=["insult"], model_id="text-v1")


def test_thresholds_warn_and_block():
    assert ScorerModerator(Scorer(0.59)).check("u", "hi").action == "allow"
    warn = ScorerModerator(Scorer(0.6)).check("u", "hi")
    assert warn.action == "warn" and warn.reasons == ["insult"] and warn.model_id == "text-v1"
    assert ScorerModerator(Scorer(0.95)).check("u", "hi").action == "block"
    assert isinstance(AllowAll(), ChatModerator) and AllowAll().check("u", "x").action == "allow"


def test_failing_moderator_fails_open_and_hook_called():
    class Broken:
        def check(self, user_id, text):
            raise RuntimeError("model missing")

    v = safe_check(Broken(), "u", "hello")
    assert v.action == "allow" and v.model_id == "error"
    seen = []
    m = ScorerModerator(Scorer(0.99), on_blocked=lambda *a: seen.append(a))
    verdict = m.check("u", "bad")
    m.on_blocked("u", "s", verdict)
    assert seen == [("u", "s", verdict)]
    assert ModerationVerdict("warn", 0.61234, ["x"], "m").as_json() == {
        "action": "warn",
        "score": 0.6123,
        "reasons": ["x"],
        "modelId": "m",
    }
