"""Text normalisation for moderation: one canonical form for the model and the lexicon.

Chat is mostly short ASCII, so the ASCII path skips NFKC and the Unicode
tables.  The order matters and each step is cheap:

1. NFKC (fullwidth ``ＦＵＣＫ``, ligatures, circled/math letters → ASCII),
   drop zero-width and other format characters (also inside Devanagari: we
   match on letters, not on half-form joiners), strip combining accents over
   Latin letters (zalgo, ``fùck``), map Cyrillic/Greek look-alikes and
   letter-like emoji (regional indicators, squared letters) to Latin;
   a few emoji stand for words (🖕 → fuck, 💩 → shit).
2. casefold; control characters become spaces; whitespace runs collapse.
3. leetspeak inside words that also contain letters (``sh1t``, ``b!tch``,
   ``a$$``): digits alone (``2 goals``, ``1337``) are left alone.
4. a run of 3+ identical characters becomes two (``fuuuuck`` → ``fuuck``,
   ``assss`` → ``ass``); the lexicon also tries the fully collapsed form.

``spaced_runs`` finds ``f u c k`` / ``f.u.c.k`` / ``f-u-c-k`` and returns the
joined candidates; the caller decides whether they mean anything.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068"
        "\u2069\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0",
    ),
    None,
)
_CONTROL = {i: " " for i in [*range(0, 32), 127, *range(0x80, 0xA0)]}

_LOOKALIKE = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ь": "b",
        "г": "r",
        "п": "n",
        "и": "u",
        "л": "n",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "μ": "u",
        "ω": "w",
        "ϲ": "c",
        # assorted symbols used as letters
        "ß": "ss",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ħ": "h",
        "ı": "i",
        "ƒ": "f",
        "¢": "c",
        "€": "e",
        "£": "l",
        "¥": "y",
        "©": "c",
        "®": "r",
        "∪": "u",
        "µ": "u",
    }
)

_EMOJI_WORDS = {"\U0001f595": " fuck ", "\U0001f4a9": " shit "}


def _letter_emoji_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for i in range(26):
        letter = chr(ord("a") + i)
        for base in (0x1F1E6, 0x1F130, 0x1F150, 0x1F170):  # regional indicator, squared, neg. circled, neg. squared
            table[base + i] = letter
    for emoji, word in _EMOJI_WORDS.items():
        table[ord(emoji)] = word
    table[0xFE0F] = None  # variation selector
    table[0x20E3] = None  # keycap
    return table


_EMOJI = _letter_emoji_table()
_NON_ASCII_TABLE = {**_ZERO_WIDTH, **_EMOJI}

_SPACES = re.compile(r"\s+")
_STRETCH = re.compile(r"(.)\1\1+")
_DOUBLE = re.compile(r"(.)\1+")
# A leet-bearing word: letters and leet symbols, at least one letter (checked in _unleet).
_LEET_CHARS = "013457$@!|+"
_LEET_ANY = re.compile(r"[a-z][0-9$@!|+]+[a-z]|[a-z]\$")  # sh1t, b!tch, a$$ (not "mp3", "wow!", "@bob")
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_LEET_WORD = re.compile(r"[a-z0-9$@!|+]+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a", "!": "i", "|": "i", "+": "t"}
)
_SPACED = re.compile(r"(?<![\w*])(?:[a-z0-9@$*](?:[ ._\-~/\\]{1,2})){2,}[a-z0-9@$*](?![\w*])")
_SPACED_SEP = re.compile(r"[ ._\-~/\\]")
_LATIN_MARKS = re.compile(r"[\u00c0-\u024f\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]")
_COMBINING_LATIN = re.compile(r"(?<=[A-Za-z])[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _unleet(match: re.Match[str]) -> str:
    word = match.group()
    core = word.strip("!|+$@")  # trailing "!" is punctuation, a leading "@" a mention
    if not core or core.isdigit() or not any(c.isalpha() for c in core):
        return word
    # Keep ordinary alphanumerics like "mp3", "4k", "10am", "2nd": leet needs a letter on both sides
    # of a symbol, or a symbol between letters; a word that merely starts or ends with digits stays.
    stripped = core.strip("0123456789")
    if not stripped or not any(c in _LEET_CHARS for c in stripped):
        if word.endswith("$$") or word.endswith("$"):
            core = word.rstrip("!|+")  # "a$$", "a$"
            return core.translate(_LEET) + word[len(core) :]
        return word
    start = word.index(core)
    return word[:start] + core.translate(_LEET) + word[start + len(core) :]


_WORD_CACHE_MAX = 65_536  # distinct raw ASCII words remembered by normalized_words (a few MB at most)
_words: dict[str, tuple[bool, str, str]] = {}


def _ascii_word(word: str) -> tuple[bool, str, str]:
    """One lower-cased, control-free ASCII word (no whitespace) -> (it triggers the leet pass,
    its normal form when the message has no leet, its normal form when it has).

    Every step of ``normalize`` after casefolding works inside whitespace-free runs (the leet
    and stretch patterns cannot cross a space), so a message's normal form is its words' forms
    joined by one space; only the decision *whether* the leet pass runs is per message.
    """
    leet = _LEET_ANY.search(word) is not None
    plain = _STRETCH.sub(r"\1\1", word) if _STRETCH.search(word) else word
    leeted = _LEET_WORD.sub(_unleet, word)
    if _STRETCH.search(leeted):
        leeted = _STRETCH.sub(r"\1\1", leeted)
    form = (leet, plain, leeted)
    if len(_words) >= _WORD_CACHE_MAX:
        _words.clear()
    _words[word] = form
    return form


_uwords: dict[str, tuple] = {}


def _variant(text: str) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    leet = _LEET_ANY.search(text) is not None
    plain = _STRETCH.sub(r"\1\1", text) if _STRETCH.search(text) else text
    leeted = _LEET_WORD.sub(_unleet, text)
    if _STRETCH.search(leeted):
        leeted = _STRETCH.sub(r"\1\1", leeted)
    return leet, tuple(plain.split()), tuple(leeted.split())


def _unicode_word(word: str) -> tuple:
    """One whitespace-free run of a non-ASCII message without control characters -> (it has
    accent marks over Latin letters, its forms without / with the marks pass).

    NFKC, the character tables and casefolding never act across whitespace, so they work word
    by word.  Two passes are decided per message: dropping marks (NFD also splits precomposed
    letters of *other* words, e.g. ``ạ``) and leet; each variant is a ``_variant`` triple.
    A word's form may itself contain spaces (``🖕`` → `` fuck ``), hence the tuples.
    """
    text = unicodedata.normalize("NFKC", word).translate(_NON_ASCII_TABLE)
    marks = _LATIN_MARKS.search(text) is not None
    demarked = unicodedata.normalize("NFC", _COMBINING_LATIN.sub("", unicodedata.normalize("NFD", text)))
    form = (marks, _variant(text.casefold().translate(_LOOKALIKE)), _variant(demarked.casefold().translate(_LOOKALIKE)))
    if len(_uwords) >= _WORD_CACHE_MAX:
        _uwords.clear()
    _uwords[word] = form
    return form


def ascii_word_forms(word: str) -> tuple[bool, str, str]:
    """``_ascii_word``, cached: for callers that keep their own per-word state (text.TextScorer)."""
    return _words.get(word) or _ascii_word(word)


def ascii_words(text: str) -> list[str]:
    """An ASCII message lower-cased, controls made spaces, split: the words ``_ascii_word`` takes."""
    text = text.lower()
    if not text.isprintable():  # ASCII non-printables are exactly the control characters
        text = text.translate(_CONTROL)
    return text.split()


def normalized_words(text: str) -> list[str]:
    """``normalize(text).split()``, computed word by word from bounded caches."""
    if not text.isascii():
        if _CTRL.search(text):  # controls change whitespace and gate a message-wide pass: do it whole
            return _normalize_unicode(text).split()
        uwords = _uwords
        entries = [uwords.get(w) or _unicode_word(w) for w in text.split()]
        m = 1
        for e in entries:
            if e[0]:
                m = 2
                break
        variants = [e[m] for e in entries]
        k = 1
        for v in variants:
            if v[0]:
                k = 2
                break
        out: list[str] = []
        for v in variants:
            out += v[k]
        return out
    text = text.lower()
    if not text.isprintable():  # ASCII non-printables are exactly the control characters
        text = text.translate(_CONTROL)
    words = _words
    forms = [words.get(w) or _ascii_word(w) for w in text.split()]
    for f in forms:
        if f[0]:
            return [f[2] for f in forms]
    return [f[1] for f in forms]


def normalize(text: str) -> str:
    """Canonical lower-case form used by both the model and the lexicon."""
    return " ".join(normalized_words(text))


def _normalize_unicode(text: str) -> str:
    """The whole-message form of ``normalize`` (used when the text has control characters)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_NON_ASCII_TABLE)
        if _LATIN_MARKS.search(text):  # accented Latin / zalgo: drop the marks, keep the letters
            text = unicodedata.normalize("NFC", _COMBINING_LATIN.sub("", unicodedata.normalize("NFD", text)))
        text = text.casefold().translate(_LOOKALIKE)
    else:
        text = text.lower()
    if _CTRL.search(text):
        text = text.translate(_CONTROL)
    if _LEET_ANY.search(text):
        text = _LEET_WORD.sub(_unleet, text)
    if _STRETCH.search(text):
        text = _STRETCH.sub(r"\1\1", text)
    return " ".join(text.split())


def collapse(text: str) -> str:
    """All runs of a repeated character to one (``fuuck`` → ``fuck``); for lexicon lookups only."""
    return _DOUBLE.sub(r"\1", text)


def spaced_runs(normalized: str) -> list[str]:
    """Joined forms of letter-by-letter spellings: ``f u c k`` / ``f.u.c.k`` → ``fuck``."""
    if len(normalized) < 5:
        return []
    return [_SPACED_SEP.sub("", m.group()).translate(_LEET) for m in _SPACED.finditer(normalized)]
