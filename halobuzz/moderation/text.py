"""Chat text scoring: the English ONNX model plus the multilingual lexicon.

``score = max(model, lexicon)``, both in [0, 1].  The model is
alt-profanity-check 1.9.1 re-expressed as an embedding bag (see
models/build/build_text_model.py): Python turns the normalised message into
vocabulary ids and counts, onnxruntime does Gather → weighted sum → L2 norm →
calibrated sigmoid.  The model is English-only and very peaky, so a flag that
rests on the model alone must survive ``TextScorer._why_not`` (the message is
English; the evidence is not only stream-chat words like "hell of a game" or
"insane clutch"; and not one lone word unless the message addresses someone),
else it is held below the warn threshold; and the model alone never reaches
block.  Everything is explainable through ``TextVerdict.reasons``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import sqrt
from pathlib import Path

import numpy as np

from .chargram import CharGramModel
from .lexicon import _DEVANAGARI, Lexicon, default_lexicon, deva_canon
from .models import LoadedModel, ModelError, load_manifest, load_model
from .normalize import ascii_word_forms, ascii_words, normalized_words

TEXT_MODEL_ID = "text-profanity-en-v1"
CHAR_MODEL_ID = "text-chargram-v1"
COMBINED_MODEL_ID = f"{TEXT_MODEL_ID}+{CHAR_MODEL_ID}"
_CHAR_FLAG = 0.9  # the char model alone counts from here up (chosen on the dev split: lower let 1-3 % clean through)
# Below this the char model overrules the weak evidence (an English-model-only flag, or a
# moderate / aimed-context lexicon word such as "kutte ko khana do", "shoot your shot"); never
# severe words, threats or sexual phrases.  Chosen on the dev split.
_CHAR_VETO = 0.05
_SKLEARN_TOKEN = re.compile(r"(?u)\b\w\w+\b")
MAX_CHARS = 2000  # longer messages are scored on their first MAX_CHARS characters

# Words the English model over-weights in live-stream chat; a message whose only
# model evidence is among these is not flagged by the model alone.
_BENIGN_DRIVERS = frozenset(
    "hell damn damned insane crazy sick kill killed killing kills killer die died dead deadly shoot shot "
    "shooting destroy destroyed murder murdered beast savage nuts mad bloody god gosh omg lmao lol wtf "
    "dick dyke cock hoe suck sucks sucked hate hated stupidly dumb crap screw screwed bitching "
    "pissed fat ugly weird weirdo freak nerd geek loser noob trash garbage rip".split()
)
_GATE = 0.55  # a model-only score that fails _why_not is held here, below warn
_MODEL_ONLY_MAX = 0.89  # the model alone can warn, never block
_ENGLISH_SHARE = 2 / 3
_SECOND_PERSON = frozenset("you u ur youre ya yall yourself urself".split())
_ROW_CACHE_MAX = 65_536  # feature rows whose single-message model score is remembered (~15 MB at most)
_MISS = object()
_WORD_CACHE_MAX = 65_536  # distinct normalised words remembered by TextScorer (~30 MB at most)


@dataclass(frozen=True, slots=True)
class TextVerdict:
    score: float
    reasons: list[str] = field(default_factory=list)
    model_id: str = TEXT_MODEL_ID
    model_score: float = 0.0
    lexicon_score: float = 0.0
    char_score: float = 0.0
    lang: str = "none"  # english | romanized (Hinglish / Nepali in Latin letters) | devanagari | none


class TextScorer:
    """Thread-compatible (the onnxruntime session is); build once and share."""

    def __init__(self, models_directory: Path | None = None, lexicon: Lexicon | None = None) -> None:
        self.model: LoadedModel = load_model(TEXT_MODEL_ID, models_directory)
        meta = self.model.metadata
        try:
            terms = json.loads(meta["vocabulary"])
            self.pad = int(meta["pad_id"])
            idf = json.loads(meta["idf"])
        except (KeyError, ValueError) as exc:
            raise ModelError(f"text model metadata unreadable ({exc})", self.model.spec.file) from None
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(terms)}
        self.lookup: dict[str, tuple[int, float]] = {t: (i, idf[i]) for i, t in enumerate(terms)}
        self._empty = (np.array([[self.pad]], dtype=np.int64), np.zeros((1, 1), dtype=np.float32))
        self._outputs = ["score"]
        self.benign_ids = frozenset(self.vocab[w] for w in _BENIGN_DRIVERS if w in self.vocab)
        self.stop_words = frozenset(meta.get("english_stop_words", "").split())
        self.lexicon = lexicon or default_lexicon()
        self.session = self.model.session
        self._words: dict[str, tuple] = {}  # normalised word -> _word entry
        self._raw: dict[str, tuple] = {}  # lower-cased ASCII word as typed -> _raw_word
        self._row_scores: dict[tuple, float] = {}
        self._why_cache: dict[tuple, str | None] = {}
        # The compiled session's run without the Python wrapper's per-call input checks (~2 us);
        # our inputs are built here, always named and typed right.  Same kernel, same output.
        inner = getattr(self.session, "_sess", None)
        self._run = (
            inner.run
            if inner is not None and hasattr(inner, "run")
            else (lambda names, feed, _opts: self.session.run(names, feed))
        )
        self.model_id = self.model.spec.id
        # The multilingual char n-gram model, where the manifest ships it (older model directories
        # without it score as before, under the English model's id).
        self.char: CharGramModel | None = None
        if CHAR_MODEL_ID in load_manifest(models_directory):
            self.char = CharGramModel(load_model(CHAR_MODEL_ID, models_directory))
            self.model_id = COMBINED_MODEL_ID

    # -- model ---------------------------------------------------------------------------------
    def features(self, normalized: str) -> dict[int, float]:
        """Vocabulary id -> L2-normalised tf-idf weight, as sklearn's TfidfVectorizer computes it."""
        lookup = self.lookup
        weights: dict[int, float] = {}
        for tok in _SKLEARN_TOKEN.findall(normalized):
            hit = lookup.get(tok)
            if hit is not None:
                i, idf = hit
                weights[i] = weights.get(i, 0.0) + idf
        if weights:
            norm = sqrt(sum(v * v for v in weights.values()))
            for i in weights:
                weights[i] /= norm
        return weights

    def _arrays(self, rows: Sequence[dict[int, float]]) -> tuple[np.ndarray, np.ndarray]:
        if len(rows) == 1:  # the hot single-message path
            row = rows[0]
            if not row:
                return self._empty
            return np.array([tuple(row)], dtype=np.int64), np.array([tuple(row.values())], dtype=np.float32)
        width = max(1, max(map(len, rows)))
        pad_ids = [self.pad] * width
        pad_w = [0.0] * width
        ids: list[int] = []
        w: list[float] = []
        for row in rows:
            n = len(row)
            ids += row
            ids += pad_ids[n:]
            w += row.values()
            w += pad_w[n:]
        shape = (len(rows), width)
        return np.array(ids, dtype=np.int64).reshape(shape), np.array(w, dtype=np.float32).reshape(shape)

    def _single_score(self, row: dict[int, float]) -> float:
        """The model's score for one message, remembered per feature row (bounded): the same
        (1, n) input always gives the same output, and chat repeats itself ("gg", "lol", a
        message plus an emoji or a "#123")."""
        key = tuple(row.items())
        p = self._row_scores.get(key)
        if p is None:
            p = self.model_scores([row]).tolist()[0]
            if len(self._row_scores) >= _ROW_CACHE_MAX:
                self._row_scores.clear()
            self._row_scores[key] = p
        return p

    def model_scores(self, rows: Sequence[dict[int, float]]) -> np.ndarray:
        ids, w = self._arrays(rows)
        return self._run(self._outputs, {"ids": ids, "weights": w}, None)[0]

    # -- public ----------------------------------------------------------------------------------
    def score(self, text: str) -> TextVerdict:
        return self.score_batch([text])[0]

    def _word(self, word: str) -> tuple:
        """Everything the scorer needs from one normalised word, computed once and remembered:
        (lexicon tokens, their classifications, their canonical forms, (vocab id, idf) of its
        model tokens, number of model tokens, how many are English, is it a second-person word,
        is it ASCII).  Lexicon and model tokenisers never cross whitespace, so a message is the
        concatenation of its words' entries."""
        lex = self.lexicon
        toks = tuple(lex._tokens(word))
        founds = tuple(map(lex.classify, toks))
        canon = tuple(deva_canon(t) if _DEVANAGARI.search(t) else t for t in toks)
        model_toks = _SKLEARN_TOKEN.findall(word)
        lookup = self.lookup
        vocab = tuple(lookup[t] for t in model_toks if t in lookup)
        known = sum(1 for t in model_toks if t in self.vocab or t in self.stop_words)
        entry = (
            toks,
            founds,
            canon,
            vocab,
            len(model_toks),
            known,
            word.replace("'", "") in _SECOND_PERSON,
            lex.may_match(word, canon, founds),
            word,
            _DEVANAGARI.search(word) is None,
        )
        words = self._words
        if len(words) >= _WORD_CACHE_MAX:
            words.clear()
        words[word] = entry
        return entry

    def _raw_word(self, raw: str) -> tuple:
        """A lower-cased ASCII word as typed -> (it triggers leet, ``_word`` of its normal form
        without / with the message-wide leet pass); see normalize.ascii_word_forms."""
        leet, plain, leeted = ascii_word_forms(raw)
        get = self._words.get
        form = (leet, get(plain) or self._word(plain), get(leeted) or self._word(leeted))
        if len(self._raw) >= _WORD_CACHE_MAX:
            self._raw.clear()
        self._raw[raw] = form
        return form

    def _prepare(self, text: str) -> tuple:
        """normalise + featurise one message, word by word from caches.

        Returns (its normalised words' entries (``_word``), L2-normalised tf-idf row); the
        normalised text and lexicon tokens are assembled only when a word can match."""
        text = text[:MAX_CHARS]
        if text.isascii():
            get = self._raw.get
            forms = [get(w) or self._raw_word(w) for w in ascii_words(text)]
            k = 1
            for f in forms:
                if f[0]:
                    k = 2
                    break
            entries = [f[k] for f in forms]
        else:
            words = normalized_words(text)
            get = self._words.get
            entries = [get(w) or self._word(w) for w in words]
        flat = [x for e in entries for x in e[3]]
        if not flat:
            return entries, {}
        weights = dict(flat)
        if len(weights) < len(flat):  # a repeated word: its tf-idf weights add up, in order
            weights = {}
            for i, idf in flat:
                weights[i] = weights.get(i, 0.0) + idf
        norm = sqrt(sum([v * v for v in weights.values()]))
        return entries, {i: v / norm for i, v in weights.items()}

    def score_batch(self, texts: Sequence[str]) -> list[TextVerdict]:
        if not texts:
            return []
        prepared = [self._prepare(t) for t in texts]
        if len(prepared) == 1:
            probs = [self._single_score(prepared[0][1])]
        else:
            probs = self.model_scores([p[1] for p in prepared]).tolist()
        char = self.char
        if char is not None:
            qs = char.scores([char.row([e[8] for e in entries]) for entries, _ in prepared])
        else:
            qs = [0.0] * len(prepared)
        match = self.lexicon.match_tokens
        model_id = self.model_id
        out = []
        for (entries, counts), p, q in zip(prepared, probs, qs):
            if any([e[7] for e in entries]):
                norm = " ".join([e[8] for e in entries])
                toks = [t for e in entries for t in e[0]]
                founds = [f for e in entries for f in e[1]]
                if norm.isascii():
                    hits = match(norm, toks, founds, toks, True)
                else:
                    hits = match(norm, toks, founds, [c for e in entries for c in e[2]], False)
            else:
                hits = None
            if hits:
                lex = max([h.score for h in hits])
                reasons = list(dict.fromkeys([h.reason for h in hits]))
            elif p < 0.5 and q < _CHAR_FLAG:  # the common case: nothing to explain, the score is the model's
                r = round(p, 6)
                out.append(TextVerdict(r, [], model_id, r, 0.0, round(q, 6), _lang(entries)))
                continue
            else:
                lex = 0.0
                reasons = []
            model = p
            vetoed = char is not None and q < _CHAR_VETO
            if vetoed and _GATE < lex < 0.9 and all(_overrulable(h) for h in hits):
                lex = _GATE
                reasons.append(f"lexicon:overruled:{CHAR_MODEL_ID}:{q:.3f}")
            if p >= _GATE and lex < 0.6 and vetoed:
                model = _GATE
                reasons.append(f"model:{p:.3f}:capped:{CHAR_MODEL_ID}:{q:.3f}")
            elif p >= _GATE and lex < 0.6:
                why = self._why_not(counts, entries)
                if why:
                    model = _GATE
                    reasons.append(f"model:{p:.3f}:capped:{why}")
            if model == p and p >= 0.5:
                reasons.append(f"model:{p:.3f}")
            if model > _MODEL_ONLY_MAX and lex < 0.9:
                # The model alone warns but never blocks: a block (and its temporary ban) needs
                # severe evidence we can name (slur, threat, sexual harassment).
                model = _MODEL_ONLY_MAX
            score = max(model, lex)
            if q >= _CHAR_FLAG and score < min(q, _MODEL_ONLY_MAX):
                # The multilingual model where the lexicon and the English model stop; like any
                # model alone it warns, never blocks.
                score = min(q, _MODEL_ONLY_MAX)
                reasons.append(f"model:{CHAR_MODEL_ID}:{q:.3f}")
            out.append(TextVerdict(round(score, 6), reasons, model_id, round(p, 6), lex, round(q, 6), _lang(entries)))
        return out

    def _why_not(self, counts: dict[int, float], entries: list[tuple]) -> str | None:
        """Why a model-only flag should not stand (None: it stands).

        * not-english: under 2/3 of the words are English (vocabulary or stop words); the model
          knows only English, and romanized Nepali/Hindi words collide with English slang
          ("ho", "sala").
        * benign-context: the evidence is only words that are ordinary in stream chat.
        * single-word: one non-lexicon word carries the whole score ("shut the door",
          "rat race") and the message is not addressed to anyone.
        """
        n_words = sum(e[4] for e in entries)
        if n_words and sum(e[5] for e in entries) / n_words < _ENGLISH_SHARE:
            return "not-english"
        if not counts:
            return None
        addressed = any(e[6] for e in entries)
        key = (tuple(counts.items()), addressed)
        why = self._why_cache.get(key, _MISS)
        if why is _MISS:
            why = self._model_check(counts, addressed)
            if len(self._why_cache) >= _ROW_CACHE_MAX:
                self._why_cache.clear()
            self._why_cache[key] = why
        return why

    def _model_check(self, counts: dict[int, float], addressed: bool) -> str | None:
        """The part of ``_why_not`` that asks the model again; a function of the feature row and
        of whether the message addresses someone, so it is remembered per (row, addressed)."""
        # One onnxruntime call answers both questions: row 0 without the stream-chat words,
        # rows 1.. with one word left out each (only if the message addresses no one).
        rest = _renorm({i: c for i, c in counts.items() if i not in self.benign_ids})
        has_benign = len(rest) < len(counts)
        if has_benign and not rest:
            return "benign-context"
        keys = list(counts) if not addressed and len(counts) > 1 else []
        rows = [rest] if has_benign else []
        rows += [_renorm({k: counts[k] for k in keys if k != drop}) for drop in keys]
        if not addressed and len(counts) == 1:
            return "single-word"
        if not rows:
            return None
        scores = self.model_scores(rows).tolist()
        if has_benign and scores[0] < 0.5:
            return "benign-context"
        if keys and min(scores[1 if has_benign else 0 :]) < 0.5:
            return "single-word"
        return None


def _lang(entries: list[tuple]) -> str:
    """The message's language family for metrics: Devanagari script, else English when 2/3 of
    its words are English (the same test as ``_why_not``), else romanized Hindi/Nepali."""
    if not entries:
        return "none"
    n = known = 0
    for e in entries:
        if not e[9]:
            return "devanagari"
        n += e[4]
        known += e[5]
    if not n:
        return "none"
    return "english" if known / n >= _ENGLISH_SHARE else "romanized"


def _overrulable(hit) -> bool:
    """Lexicon evidence the char model may overrule: a word that is only an insult when aimed at
    someone, or a moderate Hinglish/Nepali word with an everyday sense ("kutte ko khana do").
    English moderate words ("bullshit") and anything severe are never overruled."""
    return hit.tier in ("targeted_context", "targeted_moderate") or (hit.tier == "moderate" and hit.lang != "english")


def _renorm(weights: dict[int, float]) -> dict[int, float]:
    norm = sqrt(sum(v * v for v in weights.values()))
    return {i: v / norm for i, v in weights.items()} if norm else {}
