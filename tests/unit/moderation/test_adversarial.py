"""Adversarial generator (issue 16): obfuscations of known abusive terms must still be flagged,
and the same tricks applied to innocent look-alikes must not flag them.

The generator here is independent of the corpus generator (models/build/make_text_corpus.py):
its own transformations, frames and seeds.  Terms come from the hand-made lexicon's severe tiers
(data/lexicon.json); look-alikes from its allow-list and a few everyday words that contain or
resemble abusive ones.  Rates are asserted (not every single case), at the warn threshold.
"""

import json
import random
from importlib import resources

import pytest

WARN = 0.6
_DATA = json.loads(resources.files("halobuzz.moderation").joinpath("data/lexicon.json").read_text(encoding="utf-8"))
SEVERE_LATIN = sorted(w for w in _DATA["english"]["severe"] + _DATA["romanized"]["severe"] if len(w) >= 4)
SEVERE_DEVA = sorted(w for w in _DATA["devanagari"]["severe"] if len(w) >= 3)
LOOKALIKES = sorted(
    {a for a in _DATA["allow"] if len(a) >= 5}
    | {
        "cockpit",
        "assessment",
        "classic",
        "passion",
        "grasshopper",
        "scunthorpe",
        "sussex",
        "therapist",
        "peacock",
        "analysis",
        "bhalu",
        "gadha",
        "kukur",
        "button",
        "document",
        "hancock",
        "shitake",
        "cocktail",
        "bassist",
    }
)

CYRILLIC = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "i": "і"}
LEET = {"a": "@4", "e": "3", "i": "1!", "o": "0", "s": "$5", "t": "7"}
FULLWIDTH = {c: chr(ord(c) - 0x61 + 0xFF41) for c in "abcdefghijklmnopqrstuvwxyz"}


ALL_TRICKS = (
    "spaced",
    "dotted",
    "stretched",
    "leet",
    "cyrillic",
    "masked",
    "zero-width",
    "fullwidth",
    "caps",
    "dashed",
)
# What ordinary typing does to ordinary words: letter-by-letter spelling and masks are deliberate
# disguise (a spaced or starred "n*gerian" is not innocent chat), so look-alikes do not get them.
INNOCENT_TRICKS = ("stretched", "cyrillic", "zero-width", "fullwidth", "caps")


def disguise(word: str, rng: random.Random, tricks=ALL_TRICKS) -> str:
    how = rng.choice(tricks)
    if how == "spaced":
        return " ".join(word)
    if how == "dotted":
        return ".".join(word)
    if how == "dashed":
        return "-".join(word)
    if how == "stretched":
        i = rng.randrange(len(word))
        return word[: i + 1] + word[i] * rng.randint(2, 5) + word[i + 1 :]
    if how == "leet":
        return "".join(rng.choice(LEET[c]) if c in LEET and rng.random() < 0.5 else c for c in word)
    if how == "cyrillic":
        return "".join(CYRILLIC.get(c, c) if rng.random() < 0.5 else c for c in word)
    if how == "masked":
        vowels = [i for i, c in enumerate(word) if c in "aeiou"]
        return word if not vowels else "".join("*" if i == vowels[0] else c for i, c in enumerate(word))
    if how == "zero-width":
        i = rng.randrange(1, len(word))
        return word[:i] + "\u200b" + word[i:]
    if how == "fullwidth":
        return "".join(FULLWIDTH.get(c, c) for c in word)
    return "".join(c.upper() if rng.random() < 0.5 else c for c in word)


TOXIC_FRAMES = ["{w}", "you {w}", "{w} streamer", "tu {w} hai", "timi {w} hau", "shut up {w}", "{w} 😂", "ok {w}!!"]
CLEAN_FRAMES = ["{w}", "i love {w}", "{w} is great", "check the {w}", "{w} 😂", "the {w} today", "ok {w}!!"]


def _cases(words, frames, n, seed, tricks=ALL_TRICKS):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        w = rng.choice(words)
        out.append(rng.choice(frames).replace("{w}", disguise(w, rng, tricks) if w.isascii() else w))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_disguised_abuse_is_still_flagged(scorer, seed):
    texts = _cases(SEVERE_LATIN, TOXIC_FRAMES, 300, seed)
    missed = [t for t, v in zip(texts, scorer.score_batch(texts)) if v.score < WARN]
    assert len(missed) / len(texts) <= 0.08, missed[:20]


def test_devanagari_abuse_with_joiners_and_stretches(scorer):
    rng = random.Random(5)
    texts = []
    for _ in range(200):
        w = rng.choice(SEVERE_DEVA)
        i = rng.randrange(1, len(w))
        w = w[:i] + rng.choice(["\u200d", "\u200c", "\u200b", ""]) + w[i:]
        texts.append(rng.choice(["{w}", "तिमी {w} हौ", "तेरो {w}", "{w} 😡"]).replace("{w}", w))
    missed = [t for t, v in zip(texts, scorer.score_batch(texts)) if v.score < WARN]
    assert len(missed) / len(texts) <= 0.05, missed[:20]


@pytest.mark.parametrize("seed", [1, 2])
def test_innocent_lookalikes_stay_clean_even_disguised(scorer, seed):
    texts = _cases(LOOKALIKES, CLEAN_FRAMES, 300, seed, INNOCENT_TRICKS)
    flagged = [(t, v.reasons) for t, v in zip(texts, scorer.score_batch(texts)) if v.score >= WARN]
    assert len(flagged) / len(texts) <= 0.03, flagged[:20]


def test_plain_lookalikes_never_flag(scorer):
    texts = [f.replace("{w}", w) for w in LOOKALIKES for f in CLEAN_FRAMES]
    flagged = [(t, v.reasons) for t, v in zip(texts, scorer.score_batch(texts)) if v.score >= WARN]
    assert len(flagged) / len(texts) <= 0.01, flagged
