"""Generate assets/games/quiz/bank.json from the fact tables below (English and Nepali).

Run: python scripts/gen_quiz_bank.py   (deterministic: the same tables give the same file)
Every question is original, built from a fact and a template; wrong options come from the
same table so they are plausible. Nepali numbers use Devanagari digits.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "games" / "quiz" / "bank.json"
DEV = str.maketrans("0123456789", "०१२३४५६७८९")


def ne_num(n) -> str:
    return str(n).translate(DEV)


# (country en, country ne, capital en, capital ne)
CAPITALS = [
    ("Nepal", "नेपाल", "Kathmandu", "काठमाडौं"),
    ("India", "भारत", "New Delhi", "नयाँ दिल्ली"),
    ("China", "चीन", "Beijing", "बेइजिङ"),
    ("Japan", "जापान", "Tokyo", "टोकियो"),
    ("France", "फ्रान्स", "Paris", "पेरिस"),
    ("the United Kingdom", "बेलायत", "London", "लन्डन"),
    ("the United States", "अमेरिका", "Washington, D.C.", "वासिङ्टन डी.सी."),
    ("Russia", "रुस", "Moscow", "मस्को"),
    ("Bangladesh", "बंगलादेश", "Dhaka", "ढाका"),
    ("Pakistan", "पाकिस्तान", "Islamabad", "इस्लामाबाद"),
    ("Bhutan", "भुटान", "Thimphu", "थिम्पु"),
    ("Thailand", "थाइल्यान्ड", "Bangkok", "बैंकक"),
    ("Germany", "जर्मनी", "Berlin", "बर्लिन"),
    ("Italy", "इटाली", "Rome", "रोम"),
    ("Spain", "स्पेन", "Madrid", "म्याड्रिड"),
    ("Egypt", "इजिप्ट", "Cairo", "काइरो"),
    ("Australia", "अस्ट्रेलिया", "Canberra", "क्यानबेरा"),
    ("Canada", "क्यानडा", "Ottawa", "ओटावा"),
    ("Brazil", "ब्राजिल", "Brasília", "ब्रासिलिया"),
    ("Argentina", "अर्जेन्टिना", "Buenos Aires", "ब्युनस आयर्स"),
    ("South Korea", "दक्षिण कोरिया", "Seoul", "सियोल"),
    ("Indonesia", "इन्डोनेसिया", "Jakarta", "जकार्ता"),
    ("Malaysia", "मलेसिया", "Kuala Lumpur", "क्वालालम्पुर"),
    ("Qatar", "कतार", "Doha", "दोहा"),
    ("the United Arab Emirates", "संयुक्त अरब इमिरेट्स", "Abu Dhabi", "अबु धाबी"),
    ("Saudi Arabia", "साउदी अरब", "Riyadh", "रियाद"),
    ("Afghanistan", "अफगानिस्तान", "Kabul", "काबुल"),
    ("the Maldives", "माल्दिभ्स", "Malé", "माले"),
    ("Myanmar", "म्यानमार", "Naypyidaw", "नेपिडो"),
    ("Kenya", "केन्या", "Nairobi", "नैरोबी"),
    ("Mexico", "मेक्सिको", "Mexico City", "मेक्सिको सिटी"),
    ("Turkey", "टर्की", "Ankara", "अंकारा"),
    ("Greece", "ग्रीस", "Athens", "एथेन्स"),
    ("Portugal", "पोर्चुगल", "Lisbon", "लिस्बन"),
    ("Norway", "नर्वे", "Oslo", "ओस्लो"),
    ("Sweden", "स्विडेन", "Stockholm", "स्टकहोम"),
    ("Vietnam", "भियतनाम", "Hanoi", "हनोई"),
    ("the Philippines", "फिलिपिन्स", "Manila", "मनिला"),
    ("Iran", "इरान", "Tehran", "तेहरान"),
    ("Iraq", "इराक", "Baghdad", "बगदाद"),
]

# Nepal's seven provinces and their capitals.
PROVINCES = [
    ("Koshi", "कोशी", "Biratnagar", "विराटनगर"),
    ("Madhesh", "मधेस", "Janakpur", "जनकपुर"),
    ("Bagmati", "बागमती", "Hetauda", "हेटौंडा"),
    ("Gandaki", "गण्डकी", "Pokhara", "पोखरा"),
    ("Lumbini", "लुम्बिनी", "Deukhuri", "देउखुरी"),
    ("Karnali", "कर्णाली", "Birendranagar", "वीरेन्द्रनगर"),
    ("Sudurpashchim", "सुदूरपश्चिम", "Godawari", "गोदावरी"),
]

# Eight-thousanders of Nepal (metres).
PEAKS = [
    ("Everest", "सगरमाथा", 8849),
    ("Kanchenjunga", "कञ्चनजङ्घा", 8586),
    ("Lhotse", "ल्होत्से", 8516),
    ("Makalu", "मकालु", 8485),
    ("Cho Oyu", "चोयु", 8188),
    ("Dhaulagiri", "धौलागिरि", 8167),
    ("Manaslu", "मनास्लु", 8163),
    ("Annapurna", "अन्नपूर्ण", 8091),
]

# (element en, element ne, symbol, atomic number)
ELEMENTS = [
    ("Hydrogen", "हाइड्रोजन", "H", 1),
    ("Helium", "हिलियम", "He", 2),
    ("Carbon", "कार्बन", "C", 6),
    ("Nitrogen", "नाइट्रोजन", "N", 7),
    ("Oxygen", "अक्सिजन", "O", 8),
    ("Neon", "नियोन", "Ne", 10),
    ("Sodium", "सोडियम", "Na", 11),
    ("Magnesium", "म्याग्नेसियम", "Mg", 12),
    ("Aluminium", "एल्युमिनियम", "Al", 13),
    ("Silicon", "सिलिकन", "Si", 14),
    ("Phosphorus", "फस्फोरस", "P", 15),
    ("Sulfur", "सल्फर", "S", 16),
    ("Chlorine", "क्लोरिन", "Cl", 17),
    ("Potassium", "पोटासियम", "K", 19),
    ("Calcium", "क्याल्सियम", "Ca", 20),
    ("Iron", "फलाम", "Fe", 26),
    ("Copper", "तामा", "Cu", 29),
    ("Zinc", "जस्ता", "Zn", 30),
    ("Silver", "चाँदी", "Ag", 47),
    ("Tin", "टिन", "Sn", 50),
    ("Gold", "सुन", "Au", 79),
    ("Mercury", "पारो", "Hg", 80),
    ("Lead", "सिसा", "Pb", 82),
    ("Uranium", "युरेनियम", "U", 92),
]

PLANETS = [
    ("Mercury", "बुध"),
    ("Venus", "शुक्र"),
    ("Earth", "पृथ्वी"),
    ("Mars", "मङ्गल"),
    ("Jupiter", "बृहस्पति"),
    ("Saturn", "शनि"),
    ("Uranus", "युरेनस"),
    ("Neptune", "नेप्च्युन"),
]
ORDINAL_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
ORDINAL_NE = ["पहिलो", "दोस्रो", "तेस्रो", "चौथो", "पाँचौं", "छैटौं", "सातौं", "आठौं"]


def options(rng: random.Random, right, pool: list, k: int = 4) -> tuple[list, int]:
    wrong = rng.sample([p for p in pool if p != right], k - 1)
    opts = wrong + [right]
    rng.shuffle(opts)
    return opts, opts.index(right)


def q(qid, category, en, ne, opts_en, opts_ne, answer):
    return {
        "id": qid,
        "category": category,
        "answer": answer,
        "en": {"q": en, "options": opts_en},
        "ne": {"q": ne, "options": opts_ne},
    }


def build() -> list[dict]:
    rng = random.Random(20261206)
    out = []
    # arithmetic: 120
    ops = [("+", "+", lambda a, b: a + b), ("−", "−", lambda a, b: a - b), ("×", "×", lambda a, b: a * b)]
    seen = set()
    while len(out) < 120:
        sym, sym_ne, fn = ops[len(out) % 3]
        a, b = (rng.randint(11, 99), rng.randint(2, 19)) if sym == "×" else (rng.randint(20, 999), rng.randint(10, 499))
        if sym == "−" and b > a:
            a, b = b, a
        if (a, sym, b) in seen:
            continue
        seen.add((a, sym, b))
        right = fn(a, b)
        pool = sorted({right + d for d in (-20, -11, -10, -9, -2, -1, 1, 2, 9, 10, 11, 20)} - {right})
        opts, ans = options(rng, right, pool)
        out.append(
            q(
                f"arith-{len(out) + 1:03d}",
                "arithmetic",
                f"What is {a} {sym} {b}?",
                f"{ne_num(a)} {sym_ne} {ne_num(b)} कति हुन्छ?",
                [str(o) for o in opts],
                [ne_num(o) for o in opts],
                ans,
            )
        )
    # world capitals both ways: 80
    for i, (c_en, c_ne, cap_en, cap_ne) in enumerate(CAPITALS):
        opts, ans = options(rng, i, list(range(len(CAPITALS))))
        out.append(
            q(
                f"capital-{i + 1:03d}",
                "world-geography",
                f"What is the capital of {c_en}?",
                f"{c_ne}को राजधानी कुन हो?",
                [CAPITALS[o][2] for o in opts],
                [CAPITALS[o][3] for o in opts],
                ans,
            )
        )
        opts, ans = options(rng, i, list(range(len(CAPITALS))))
        out.append(
            q(
                f"country-{i + 1:03d}",
                "world-geography",
                f"{cap_en} is the capital of which country?",
                f"{cap_ne} कुन देशको राजधानी हो?",
                [CAPITALS[o][0] for o in opts],
                [CAPITALS[o][1] for o in opts],
                ans,
            )
        )
    # Nepal provinces both ways: 14
    for i, (p_en, p_ne, cap_en, cap_ne) in enumerate(PROVINCES):
        opts, ans = options(rng, i, list(range(len(PROVINCES))))
        out.append(
            q(
                f"province-{i + 1:03d}",
                "nepal",
                f"Which city is the capital of {p_en} Province?",
                f"{p_ne} प्रदेशको राजधानी कुन सहर हो?",
                [PROVINCES[o][2] for o in opts],
                [PROVINCES[o][3] for o in opts],
                ans,
            )
        )
        opts, ans = options(rng, i, list(range(len(PROVINCES))))
        out.append(
            q(
                f"province-city-{i + 1:03d}",
                "nepal",
                f"{cap_en} is the capital of which province of Nepal?",
                f"{cap_ne} नेपालको कुन प्रदेशको राजधानी हो?",
                [PROVINCES[o][0] + " Province" for o in opts],
                [PROVINCES[o][1] + " प्रदेश" for o in opts],
                ans,
            )
        )
    # peaks: which of four is highest (40 distinct sets) + heights of each (8)
    sets = set()
    while len(sets) < 40:
        sets.add(tuple(sorted(rng.sample(range(len(PEAKS)), 4))))
    for n, s in enumerate(sorted(sets)):
        opts = list(s)
        rng.shuffle(opts)
        top = min(s)  # PEAKS is sorted highest first
        out.append(
            q(
                f"peak-{n + 1:03d}",
                "nepal",
                "Which of these mountains is the highest?",
                "यीमध्ये सबैभन्दा अग्लो हिमाल कुन हो?",
                [PEAKS[o][0] for o in opts],
                [PEAKS[o][1] for o in opts],
                opts.index(top),
            )
        )
    for i, (m_en, m_ne, h) in enumerate(PEAKS):
        opts, ans = options(rng, h, [p[2] for p in PEAKS])
        out.append(
            q(
                f"peak-height-{i + 1:03d}",
                "nepal",
                f"How high is {m_en}, in metres?",
                f"{m_ne}को उचाइ कति मिटर हो?",
                [f"{o} m" for o in opts],
                [f"{ne_num(o)} मिटर" for o in opts],
                ans,
            )
        )
    # elements: symbol, name from symbol, atomic number: 72
    for i, (e_en, e_ne, sym, z) in enumerate(ELEMENTS):
        opts, ans = options(rng, i, list(range(len(ELEMENTS))))
        out.append(
            q(
                f"symbol-{i + 1:03d}",
                "science",
                f"What is the chemical symbol of {e_en}?",
                f"{e_ne}को रासायनिक सङ्केत के हो?",
                [ELEMENTS[o][2] for o in opts],
                [ELEMENTS[o][2] for o in opts],
                ans,
            )
        )
        opts, ans = options(rng, i, list(range(len(ELEMENTS))))
        out.append(
            q(
                f"element-{i + 1:03d}",
                "science",
                f"Which element has the symbol {sym}?",
                f"{sym} सङ्केत भएको तत्त्व कुन हो?",
                [ELEMENTS[o][0] for o in opts],
                [ELEMENTS[o][1] for o in opts],
                ans,
            )
        )
        opts, ans = options(rng, z, [e[3] for e in ELEMENTS])
        out.append(
            q(
                f"atomic-{i + 1:03d}",
                "science",
                f"What is the atomic number of {e_en}?",
                f"{e_ne}को परमाणु सङ्ख्या कति हो?",
                [str(o) for o in opts],
                [ne_num(o) for o in opts],
                ans,
            )
        )
    # planets: order from the Sun: 8
    for i, (p_en, p_ne) in enumerate(PLANETS):
        opts, ans = options(rng, i, list(range(len(PLANETS))))
        out.append(
            q(
                f"planet-{i + 1:03d}",
                "science",
                f"Which planet is the {ORDINAL_EN[i]} from the Sun?",
                f"सूर्यबाट {ORDINAL_NE[i]} ग्रह कुन हो?",
                [PLANETS[o][0] for o in opts],
                [PLANETS[o][1] for o in opts],
                ans,
            )
        )
    return out


def main() -> None:
    bank = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"version": 1, "questions": bank}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(bank)} questions -> {OUT}")


if __name__ == "__main__":
    main()
