"""Word and phrase lexicon for English, romanized Nepali/Hindi (Hinglish) and Devanagari.

The word data is ``data/lexicon.json`` (Nepali parts derived from the MIT
``no-nepali-profanity`` package, re-tiered; see the file's ``about``).
Matching is by whole token, never by substring, which is what keeps
Scunthorpe, assessment, cockpit and Sussex clean; the only substring rules
are a handful of English roots no ordinary word contains (``fuck``,
``cunt`` …) guarded by an allow-list.

Spelling variation is handled per script instead of by listing every form:

* English: the token, and the token with repeated letters collapsed
  (``fuuck``, ``biiitch``); masks like ``f*ck``/``sh**`` match severe words
  of the same shape; ``f u c k`` is joined; two short halves (``fu ck``) are
  joined when one half is not an English word.
* Romanized Nepali/Hindi: a phonetic skeleton (``oo``→u, ``ee``→i, ``ph``→f,
  ``z``→j, ``w``→v, ``q``→k, doubled letters collapsed, ``-ey``→e,
  ``iya``→ia), Nepali postpositions stripped (``mujiko``, ``randiharu``,
  ``kuttelai``) and stems (``machikn…``, ``bhosd…``).
* Devanagari: a canonical form that forgets the spelling choices people
  make inconsistently (nukta, chandrabindu vs anusvara, long vs short
  i/u, ण/न, half-nasal vs anusvara, श/ष/स, व/ब), postpositions stripped.

``context`` words (dog, dick, hell, pagal …) only count when aimed at
someone: a second-person word right before them (``you dog``,
``tu kutta hai``, ``timi pagal``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .normalize import collapse, spaced_runs

_TOKEN = re.compile(r"[\w\u0900-\u0963\u0966-\u097f*]+")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_DIGIT_LEET = str.maketrans("013457", "oieast")
_DIGIT = re.compile(r"[a-z][0-9]|[0-9][a-z]")
_MISS = object()
_CACHE_MAX = 200_000  # distinct tokens remembered by Lexicon.match (~20 MB at most)
_DOUBLE_CHAR = re.compile(r"(\w)\1")
_FILLERS = frozenset("are r re a an such so the big total complete absolute little real fucking fkn stupid "
                     "dirty is hai ho hau hos chas chau chhau ek ekdam sabse bada thulo pakka kasto kati".split())


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    lang: str   # english | romanized | devanagari | phrase
    tier: str   # severe | moderate | context | threat | sexual
    score: float

    @property
    def reason(self) -> str:
        return f"lexicon:{self.lang}:{self.tier}:{self.term}"


def roman_skeleton(text: str) -> str:
    # "chh" (छ) must survive the double-letter collapse: chhod (leave) is not chod.
    s = text.replace("chh", "C") if "chh" in text else text
    for a, b in (("oo", "u"), ("ee", "i"), ("ph", "f"), ("z", "j"), ("w", "v"), ("q", "k"), ("ck", "k")):
        if a in s:
            s = s.replace(a, b)
    s = collapse(s)
    if "ey" in s:
        s = re.sub(r"ey\b", "e", s)
    return s.replace("iya", "ia") if "iya" in s else s


_DEVA_MAP = str.maketrans({
    "\u093c": None,          # nukta
    "\u0901": "\u0902",      # chandrabindu -> anusvara
    "\u0940": "\u093f",      # ी -> ि
    "\u0942": "\u0941",      # ू -> ु
    "\u0908": "\u0907",      # ई -> इ
    "\u090a": "\u0909",      # ऊ -> उ
    "\u0923": "\u0928",      # ण -> न
    "\u0919": "\u0928",      # ङ -> न
    "\u091e": "\u0928",      # ञ -> न
    "\u0936": "\u0938",      # श -> स
    "\u0937": "\u0938",      # ष -> स
    "\u0935": "\u092c",      # व -> ब
    "\u200c": None, "\u200d": None,
})
_HALF_NASAL = re.compile("[\u0928\u092e]\u094d(?=[\u0915-\u0939])")  # न्/म् before a consonant -> ं


def deva_canon(token: str) -> str:
    return _HALF_NASAL.sub("\u0902", token.translate(_DEVA_MAP))


class Lexicon:
    def __init__(self, data: dict) -> None:
        self.scores: dict[str, float] = data["scores"]
        self.words: dict[str, dict[str, str]] = {"english": {}, "romanized": {}, "devanagari": {}}
        for lang, key in (("english", str), ("romanized", roman_skeleton), ("devanagari", deva_canon)):
            for tier in ("context", "moderate", "severe"):  # later tiers win on collisions
                for word in data[lang][tier]:
                    self.words[lang][key(word)] = tier
        self.english = self.words["english"]
        self.roman = self.words["romanized"]
        self.deva = self.words["devanagari"]
        self.allow = frozenset(data["allow"])
        self.second = frozenset(roman_skeleton(w) if w.isascii() else deva_canon(w) for w in data["second_person"])
        self.second_raw = frozenset(data["second_person"])
        self.suffix_latin = tuple(sorted(set(data["suffixes_latin"]), key=len, reverse=True))
        self.suffix_deva = tuple(sorted({deva_canon(s) for s in data["suffixes_devanagari"]}, key=len, reverse=True))
        self.maskable = tuple(w for w, t in self.english.items() if t in ("severe", "moderate"))
        stems = "|".join(sorted({re.escape(roman_skeleton(s)) for s in data["romanized"]["stems"]}, key=len, reverse=True))
        self.roman_stems = re.compile(rf"\b(?:{stems})\w*")
        deva_stems = sorted({deva_canon(s) for s in data["devanagari"]["stems"]}, key=len, reverse=True)
        self.deva_stems = tuple(deva_stems)
        roots = sorted(set(data["english"]["stems"]) | set(data["english"]["infixes"]), key=len, reverse=True)
        self._roots = re.compile("|".join(map(re.escape, roots)))
        self._long_allow = tuple(a for a in self.allow if len(a) > 5)
        self._stem_hint = re.compile("|".join(sorted({re.escape(roman_skeleton(s)[:4]) for s in data["romanized"]["stems"]})))
        suffixes = "|".join(map(re.escape, self.suffix_latin))
        self._suffixed = re.compile(rf"\b(\w{{3,}}?)(?:{suffixes})\b")
        self._first_halves = frozenset(w[:i] for w, t in self.english.items() if t == "severe"
                                       for i in range(1, min(5, len(w)))) - _COMMON
        self.copula_2p = frozenset(data["copula_2p"])
        self.of_particles = frozenset(data["of_particles"])
        self.offspring = frozenset(data["offspring"])
        self.postpositions = frozenset(data["suffixes_latin"]) | frozenset(map(deva_canon, data["suffixes_devanagari"]))
        self.phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
        for tier, items in data["phrases"].items():
            for phrase in items:
                toks = [deva_canon(t) if _DEVANAGARI.search(t) else t for t in self._tokens(phrase)]
                canon = tuple(self._glue(toks))
                self.phrases.setdefault(canon[0], []).append((canon, tier, phrase))
        self.phrase_first = frozenset(self.phrases)
        # first token -> ({second token: the phrases that can still match, in order}, one-word phrases)
        self._phrase_next: dict[str, tuple[dict[str, list], list]] = {}
        for first, items in self.phrases.items():
            singles = [it for it in items if len(it[0]) == 1]
            by_next = {w[1]: [it for it in items if len(it[0]) == 1 or it[0][1] == w[1]]
                       for w, _, _ in items if len(w) > 1}
            self._phrase_next[first] = (by_next, singles)
        self._cache: dict[str, tuple[str, str] | None] = {}
        self._no_digits = not any(c.isdigit() for w in _strings(data) for c in w)

    @staticmethod
    def _tokens(normalized: str) -> list[str]:
        return _TOKEN.findall(normalized.replace("'", "").replace("\u2019", ""))

    def _score(self, tier: str) -> float:
        return self.scores[tier]

    def match(self, normalized: str) -> list[Hit]:
        """All lexicon hits in an already-normalised message (see normalize.normalize).

        Each distinct token is classified once (``_classify``: lookups, skeletons, suffixes,
        stems, roots) and remembered; chat vocabulary is Zipfian, so even a stream of distinct
        messages is mostly cache hits.  Only the rules that span tokens run per message.
        """
        tokens = self._tokens(normalized)
        if not tokens:
            return []
        classify = self.classify
        founds = [classify(tok) for tok in tokens]
        ascii_only = normalized.isascii()
        canon = tokens if ascii_only else [deva_canon(t) if _DEVANAGARI.search(t) else t for t in tokens]
        return self.match_tokens(normalized, tokens, founds, canon, ascii_only)

    def classify(self, tok: str) -> tuple[str, str] | None:
        """``_classify`` remembered in a bounded dict."""
        found = self._cache.get(tok, _MISS)
        if found is _MISS:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            found = self._cache[tok] = self._classify(tok)
        return found

    def may_match(self, word: str, canon: tuple[str, ...], founds: tuple) -> bool:
        """False when no rule of ``match_tokens`` can fire on a message made only of words for
        which this is False: no token is classified, and none can start a spaced, masked,
        split or glued/phrase match (``canon``: the word's canonical lexicon tokens)."""
        if any(founds) or "*" in word:
            return True
        for tok in canon:
            if (len(tok) == 1 and tok.isascii()) or tok in self._first_halves or tok in self.phrase_first \
                    or tok in self.postpositions:
                return True
        return False

    def match_tokens(self, normalized: str, tokens: list[str], founds: list, canon: list[str],
                     ascii_only: bool) -> list[Hit]:
        """``match`` for a message already split into tokens (``_tokens``), each classified
        (``classify``) and Devanagari tokens canonicalised (``deva_canon``; ``canon is tokens``
        when the message is ASCII).  Only the rules that span tokens run here."""
        hits: list[Hit] = []
        tiers: dict[int, str] = {}
        scores = self.scores
        if any(founds):
            for pos, found in enumerate(founds):
                if found is not None:
                    lang, tier = found
                    tiers[pos] = tier
                    if tier != "context":
                        hits.append(Hit(tokens[pos], lang, tier, scores[tier]))
        tokens = canon
        latin = tokens if ascii_only else [t for t in tokens if t.isascii()]
        if len(latin) > 2 and list(map(len, latin)).count(1) >= 3:  # "f u c k", "f.u.c.k"
            for joined in spaced_runs(normalized):
                found = self._classify(joined)
                if found is not None and found[1] in ("severe", "moderate"):
                    hits.append(Hit(joined, found[0], found[1], scores[found[1]]))
        if "*" in normalized:
            hits.extend(self._masked(latin))
        if len(latin) > 1 and not self._first_halves.isdisjoint(latin):
            hits.extend(self._split_words(latin))
        if tiers and any(t in ("context", "moderate") for t in tiers.values()):
            hits.extend(self._targeted(tokens, tiers))
        glued = self._glue(tokens)
        if not self.phrase_first.isdisjoint(glued):
            hits.extend(self._phrases(glued))
        return hits

    def _classify(self, tok: str) -> tuple[str, str] | None:
        """(lang, tier) of one token, or None.  Slow path; results are cached by ``match``."""
        if tok in self.allow:
            return None
        if self._no_digits and tok.isdigit() and tok.isascii():
            return None  # "2", "1337", "#4521": no word, stem, root or suffix has a digit
        if _DEVANAGARI.search(tok):
            return self._classify_devanagari(deva_canon(tok))
        if not tok.isascii():
            return None
        if _DIGIT.search(tok):  # "muj1", "ch00tiya": digits the normaliser left alone
            tok = tok.translate(_DIGIT_LEET)
        tier = self.english.get(tok) or self.english.get(collapse(tok))
        if tier is not None:
            return "english", tier
        sk = roman_skeleton(tok)
        tier = self.roman.get(sk)
        if tier is None and len(sk) > 4:
            m = self._suffixed.fullmatch(sk)
            if m:
                tier = self.roman.get(m.group(1))
        if tier is not None:
            return "romanized", tier
        if self.roman_stems.match(sk):
            return "romanized", "severe"
        if self._roots.search(tok) and not any(a in tok for a in self._long_allow):
            return "english", "severe"
        return None

    def _classify_devanagari(self, tok: str) -> tuple[str, str] | None:
        tier = self.deva.get(tok)
        if tier is None and len(tok) > 2 and tok.endswith(self.suffix_deva):
            for suf in self.suffix_deva:
                if tok.endswith(suf) and len(tok) - len(suf) >= 2:
                    tier = self.deva.get(tok[: -len(suf)])
                    if tier is not None:
                        break
        if tier is None and tok.startswith(self.deva_stems):
            tier = "severe"
        return None if tier is None else ("devanagari", tier)

    def _glue(self, tokens: list[str]) -> list[str]:
        """Attach detached postpositions, so "bhalu ko ban" matches the phrase "bhaluko ban"."""
        if self.postpositions.isdisjoint(tokens[1:]):
            return tokens
        out = [tokens[0]]
        for tok in tokens[1:]:
            if tok in self.postpositions:
                out[-1] += tok
            else:
                out.append(tok)
        return out

    def _targeted(self, tokens: list[str], tiers: dict[int, str]) -> list[Hit]:
        out = []
        n = len(tokens)
        for pos, tier in sorted(tiers.items()):
            if tier not in ("context", "moderate"):
                continue
            j = pos - 1
            while j >= 0 and pos - j <= 3 and tokens[j] in _FILLERS:
                j -= 1
            # "you dog", "tu kutta hai", "timi murkha"
            before = j >= 0 and (tokens[j] in self.second_raw or tokens[j] in self.second)
            nxt = tokens[pos + 1] if pos + 1 < n else ""
            # "kukur hos" (Nepali 2nd-person copula), "idiot you" (not message-initial: "kill you" is a phrase)
            after = nxt in self.copula_2p or (nxt in self.second_raw and tier == "context" and pos > 0)
            # "suar ki aulad", "kukur ko choro": an insult word + of + offspring
            lineage = nxt in self.of_particles and pos + 2 < n and tokens[pos + 2] in self.offspring
            # two insult words ending the message ("saala kutta", "fat pig") name a person without "you"
            paired = pos == n - 1 and pos > 0 and tiers.get(pos - 1) in ("context", "moderate")
            if before or after or lineage or paired:
                key = "targeted_moderate" if tier == "moderate" else "targeted_context"
                out.append(Hit(tokens[pos], "targeted", key, self._score(key)))
        return out

    def _phrases(self, tokens: list[str]) -> list[Hit]:
        out = []
        n = len(tokens)
        phrase_next = self._phrase_next
        for i, tok in enumerate(tokens):
            nxt = phrase_next.get(tok)
            if nxt is None:
                continue
            candidates = nxt[0].get(tokens[i + 1], nxt[1]) if i + 1 < n else nxt[1]
            for words, tier, phrase in candidates:
                k = len(words)
                if i + k <= n and tuple(tokens[i:i + k]) == words:
                    score = self._score(tier if tier in ("threat", "sexual") else tier)
                    out.append(Hit(phrase, "phrase", tier, score))
        return out

    def _masked(self, latin: list[str]) -> list[Hit]:
        out = []
        for tok in latin:
            if "*" not in tok or tok.strip("*") == "" or len(tok) < 3:
                continue
            pattern = re.compile("".join(".{1,3}" if c == "*" else re.escape(c) for c in re.sub(r"\*+", "*", tok)))
            for word in self.maskable:
                if pattern.fullmatch(word) and abs(len(word) - len(tok)) <= 2:
                    tier = self.english[word]
                    out.append(Hit(tok, "english", tier, self._score(tier)))
                    break
        return out

    def _split_words(self, latin: list[str]) -> list[Hit]:
        """``fu ck`` / ``bit ch``: two short halves that form a severe word, one half not a word."""
        out = []
        for a, b in zip(latin, latin[1:]):
            if 1 <= len(a) <= 4 and 1 <= len(b) <= 4 and a.isalpha() and b.isalpha():
                joined = a + b
                if self.english.get(joined) == "severe" and not (a in _COMMON and b in _COMMON):
                    out.append(Hit(f"{a} {b}", "english", "severe", self._score("severe")))
        return out


# Short words that legitimately sit next to each other ("as s", "pen is" style accidents are avoided by
# requiring one half to be outside this list).
_COMMON = frozenset("a i as is it in on at to of or so no go do be we he me my by up us am an and are the "
                    "for not but was you can had her his one our out day get has him how man new now old see "
                    "two way who boy did its let put say she too use dad mom fun hot cool pen nice fat ass "
                    "cock tail kit sun set pit all bit sh".split())


def _strings(data: object):
    """Every word, stem, root and suffix in the lexicon data (not its ``about`` text)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in ("about", "scores"):
                yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    text = resources.files(__package__).joinpath("data/lexicon.json").read_text(encoding="utf-8")
    return Lexicon(json.loads(text))
