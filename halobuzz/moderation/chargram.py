"""Features of the multilingual character n-gram model (``text-chargram-v1``).

One definition for training (models/build/build_text_char_model.py) and run time
(text.TextScorer), so both see exactly the same features.  Input is the moderation
normal form (normalize.normalized_words: NFKC, look-alikes, leet, stretches); each word is
then reduced to a *key*:

* Latin: only letters, digits and ``*`` kept (``f.u.c.k`` -> ``fuck``), repeated letters
  collapsed (``fuuck`` -> ``fuck``);
* Devanagari: the lexicon's canonical form (nukta, long/short vowels, half nasals ... forgotten);
* a run of three or more one-letter words is one word (``f u c k``);
* words on the lexicon's allow-list (names and words known to be innocent) are dropped.

Features of a message: for every word key, ``<key>`` char n-grams (n = 2..4) and the word
itself; for every adjacent pair, the word bigram (it carries "you X" / "X hai" context).
Values are counts divided by sqrt(total count of known features) -- the same as L2 when no
feature repeats, and computable without merging counts, so the run time passes the ids with
repeats and one scale per message; the model is logistic regression on them.
Features are looked up in the model's vocabulary; unknown ones are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .lexicon import _DEVANAGARI, default_lexicon, deva_canon
from .normalize import collapse

FEATURE_VERSION = "chargram-v1: count/sqrt(n); keys(allow-list dropped; latin alnum* collapsed | deva_canon), char 2-4 of <key>, W:key, B:key key"
NGRAMS = (2, 3, 4)
_KEEP_LATIN = re.compile(r"[^a-z0-9*\u00c0-\u024f]+")
_KEEP_DEVA = re.compile(r"[^\u0900-\u097f]+")


def word_key(word: str) -> str:
    """ "" for a word the lexicon's allow-list names as innocent (Scunthorpe, Randip, Bhosale)."""
    if word in default_lexicon().allow:
        return ""
    if _DEVANAGARI.search(word):
        return deva_canon(_KEEP_DEVA.sub("", word))
    return collapse(_KEEP_LATIN.sub("", word))


def keys(words: Iterable[str]) -> list[str]:
    """Word keys of a normalised message, single-letter runs joined ("f u c k" -> "fuck")."""
    return join_runs([word_key(w) for w in words])


def join_runs(ks: list[str]) -> list[str]:
    """Drop empty keys; a run of three or more one-letter keys becomes one key."""
    out: list[str] = []
    run: list[str] = []
    for k in ks:
        if not k:
            continue
        if len(k) == 1 and k.isascii():
            run.append(k)
            continue
        if run:
            _end_run(run, out)
            run = []
        out.append(k)
    if run:
        _end_run(run, out)
    return out


def _end_run(run: list[str], out: list[str]) -> None:
    if len(run) >= 3:
        out.append(collapse("".join(run)))
    else:
        out.extend(run)


def word_features(key: str) -> list[str]:
    """The features one word key contributes by itself (char n-grams and the word)."""
    padded = f"<{key}>"
    feats = [padded[i : i + n] for n in NGRAMS for i in range(len(padded) - n + 1)]
    feats.append("W:" + key)
    return feats


def pair_feature(a: str, b: str) -> str:
    return f"B:{a} {b}"


def message_features(words: Iterable[str]) -> list[str]:
    """All features of a normalised message, with repeats (counts)."""
    ks = keys(words)
    feats: list[str] = []
    for k in ks:
        feats += word_features(k)
    feats += [pair_feature(a, b) for a, b in zip(ks, ks[1:])]
    return feats


class CharGramModel:
    """The shipped ``text-chargram-v1`` ONNX model with its vocabulary, and bounded caches
    (word -> key, key -> its feature ids, feature row -> single-message score)."""

    def __init__(self, loaded, *, cache_max: int = 65_536) -> None:
        import json

        import numpy as np

        self.model = loaded
        self.model_id = loaded.spec.id
        meta = loaded.metadata
        if meta.get("feature_version") != FEATURE_VERSION:
            from .models import ModelError

            raise ModelError(
                f"text model {self.model_id} was built for features {meta.get('feature_version')!r}, "
                f"this code computes {FEATURE_VERSION!r}",
                loaded.spec.file,
            )
        self.index: dict[str, int] = {f: i for i, f in enumerate(json.loads(meta["vocabulary"]))}
        self.pad = int(meta["pad_id"])
        self._np = np
        self._keys: dict[str, str] = {}
        self._ids: dict[str, tuple[int, ...]] = {}
        self._scores: dict[tuple, float] = {}
        self._max = cache_max
        inner = getattr(loaded.session, "_sess", None)
        self._run = (
            inner.run
            if inner is not None and hasattr(inner, "run")
            else (lambda names, feed, _opts: loaded.session.run(names, feed))
        )

    def _key(self, word: str) -> str:
        if len(self._keys) >= self._max:
            self._keys.clear()
        k = self._keys[word] = word_key(word)
        return k

    def _key_ids(self, key: str) -> tuple[int, ...]:
        ids = self._ids.get(key)
        if ids is None:
            index = self.index
            ids = tuple(index[f] for f in word_features(key) if f in index)
            if len(self._ids) >= self._max:
                self._ids.clear()
            self._ids[key] = ids
        return ids

    def row(self, words: list[str]) -> tuple[int, ...]:
        """The vocabulary ids of one normalised message's features, repeats kept (the graph sums
        them, so a repeat counts twice); the graph scales the sum by 1/sqrt(len)."""
        get = self._keys.get
        ks = [get(w) for w in words]
        if None in ks:
            ks = [self._key(w) if k is None else k for w, k in zip(words, ks)]
        for k in ks:
            if len(k) <= 1:
                ks = join_runs(ks)
                break
        ids_of = self._ids.get
        flat: list[int] = []
        for k in ks:
            ids = ids_of(k)
            flat += self._key_ids(k) if ids is None else ids
        if len(ks) > 1:
            index = self.index
            for a, b in zip(ks, ks[1:]):
                i = index.get(f"B:{a} {b}")
                if i is not None:
                    flat.append(i)
        return tuple(flat)

    def scores(self, rows: list[tuple[int, ...]]) -> list[float]:
        np = self._np
        if len(rows) == 1:
            row = rows[0]
            p = self._scores.get(row)
            if p is None:
                feed = {
                    "ids": np.array([row or (self.pad,)], dtype=np.int64),
                    "scale": np.array([len(row) ** -0.5 if row else 0.0], dtype=np.float32),
                }
                p = self._run(["score"], feed, None)[0].tolist()[0]
                if len(self._scores) >= self._max:
                    self._scores.clear()
                self._scores[row] = p
            return [p]
        width = max(1, max(map(len, rows)))
        pad = (self.pad,) * width
        flat: list[int] = []
        for row in rows:
            flat += row
            flat += pad[len(row) :]
        feed = {
            "ids": np.array(flat, dtype=np.int64).reshape(len(rows), width),
            "scale": np.array([len(r) ** -0.5 if r else 0.0 for r in rows], dtype=np.float32),
        }
        return self._run(["score"], feed, None)[0].tolist()
