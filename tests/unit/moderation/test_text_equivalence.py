"""The cached, word-by-word text scorer must give exactly the verdicts of the original
whole-message implementation.

``data/text_dev_golden.jsonl`` holds, for every message of tests/data/moderation_dev.jsonl, the
uncached verdict (score, English-model, lexicon and char-model scores, reasons, action of
``score()``, and the same of one ``score_batch()`` over the whole file); see
data/regenerate_golden.py for how and when it is rewritten.  Equality is exact.
"""

import importlib
import json
import random
from pathlib import Path

import pytest

from halobuzz.moderation import decide
from halobuzz.moderation.text import TextScorer

normalize_module = importlib.import_module("halobuzz.moderation.normalize")  # the package re-exports a function
text_module = importlib.import_module("halobuzz.moderation.text")

GOLDEN = Path(__file__).resolve().parent / "data" / "text_dev_golden.jsonl"
ROWS = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]


def _check_single(scorer, rows):
    for row in rows:
        v = scorer.score(row["text"])
        got = (v.score, v.model_score, v.lexicon_score, v.char_score, v.reasons, decide(v.score).action.value)
        assert got == (row["score"], row["model"], row["lexicon"], row["char"], row["reasons"], row["action"]), row[
            "text"
        ]


def test_dev_set_single_verdicts_identical_cold_and_warm():
    scorer = TextScorer()  # fresh caches: the first pass misses, the second hits
    _check_single(scorer, ROWS)
    _check_single(scorer, ROWS)


def test_dev_set_batch_verdicts_identical(scorer):
    batch = scorer.score_batch([r["text"] for r in ROWS])
    for row, v in zip(ROWS, batch, strict=True):
        assert (v.score, v.model_score, v.reasons) == (row["batch_score"], row["batch_model"], row["batch_reasons"]), (
            row["text"]
        )


def test_tiny_caches_still_identical(monkeypatch):
    """Caches overflowing (and clearing) all the time change nothing."""
    monkeypatch.setattr(text_module, "_WORD_CACHE_MAX", 3)
    monkeypatch.setattr(text_module, "_ROW_CACHE_MAX", 2)
    monkeypatch.setattr(normalize_module, "_WORD_CACHE_MAX", 3)
    normalize_module._words.clear()
    normalize_module._uwords.clear()
    scorer = TextScorer()
    _check_single(scorer, ROWS[::3])
    assert len(scorer._words) <= 3 and len(scorer._raw) <= 3 and len(scorer._row_scores) <= 2
    assert len(normalize_module._words) <= 3 and len(normalize_module._uwords) <= 3


_ALPHABET = list("abcdefghijklmnopqrstuvwxyzAEIOU013457$@!|+*.'-  ") + list(
    "ＦＵＣＫаеосрхіѕαοντßøł€©µ🖕💩\U0001f1eb\U0001f1fa\u200b\u200d\u00ad\ufeff\u0301\u0300\u0323"
    "\u0308ạéèñüÅ¨´ά\u00a0\u3000\u2028\x85\x81ﬁ①Ⓕ\U0001f130मुजीरण्डी\u093c\u094d\u0901\ufe0f\u20e3ǅİΣς"
    "\t\n\x01\x7f"
)


@pytest.mark.parametrize("seed", range(4))
def test_word_by_word_normalize_equals_whole_message(seed):
    """``normalize`` works word by word from caches; ``_normalize_unicode`` is the original
    whole-message algorithm.  Random strings full of the awkward cases (marks, look-alikes,
    controls, odd whitespace, leet, stretches) must agree."""
    rng = random.Random(seed)
    for _ in range(5000):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 16)))
        assert normalize_module.normalize(text) == normalize_module._normalize_unicode(text), repr(text)


def test_mutated_dev_messages_cold_equals_warm_equals_batch():
    rng = random.Random(1)
    texts = []
    for row in ROWS:
        chars = list(row["text"])
        for i, c in enumerate(chars):
            r = rng.random()
            if r < 0.06:
                chars[i] = rng.choice(_ALPHABET)
            elif r < 0.09:
                chars[i] = c * 4
        texts.append("".join(chars))
    cold = TextScorer()
    first = [cold.score(t) for t in texts]
    second = [cold.score(t) for t in texts]
    assert first == second
    singles = [cold.score_batch([t])[0] for t in texts]
    assert singles == first
