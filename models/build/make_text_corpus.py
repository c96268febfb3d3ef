"""Generate the labelled chat corpus for text moderation, split into dev and held-out.

    python models/build/make_text_corpus.py          # writes models/corpus/text_{dev,heldout}.jsonl

Every line: {"text", "label": "toxic"|"clean", "lang", "kind", "source", "frame"} (frame: the
sentence frame, threat verb, phrase or neutral words the line was built from).  Languages: en, hi-Latn
(Hinglish), ne-Latn (romanized Nepali), hi-Deva, ne-Deva (Devanagari).

Where the words come from (provenance; licences in models/LICENSES/):
* abusive vocabulary: models/build/sources/text_lists.json, extracted from naughty-words 1.2.0
  (LDNOOBW, CC-BY-4.0), anti-profanity 0.2.6 (MIT), no-nepali-profanity 0.2.0 (MIT);
* Devanagari <-> Latin forms of those words: indic-transliteration (ITRANS <-> Devanagari);
* neutral words for clean lines: Debian's hunspell-ne (LGPL-2.1) and wamerican (SCOWL), see
  models/build/sources/neutral_words.json (words the lexicon flags were removed);
* everything else is ours, written here: sentence frames (insults aimed at "you/tu/tum/timi/ta",
  threats and sexual harassment without swear words, Hinglish abbreviations), obfuscations
  (spacing, repeats, leetspeak, homoglyphs, masks, zero-width characters, dropped vowels) and clean
  chat with innocent look-alikes (Scunthorpe, cockpit, bhalu, gadha, "mera kutta", ...).

The split is decided BEFORE any rule or model sees the data, by a stable hash: every frame and every
vocabulary term belongs to dev or held-out (about a quarter held out).  A held-out line uses a
held-out frame or a held-out term (or both); dev lines use neither.  Rules and the model are tuned on
dev only; held-out is for the figures (`halobuzz moderation eval models/corpus/text_heldout.jsonl`).
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

from indic_transliteration import sanscript

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "models" / "build" / "sources" / "text_lists.json"
NEUTRAL = ROOT / "models" / "build" / "sources" / "neutral_words.json"
OUT = ROOT / "models" / "corpus"
HELD_OUT_PERCENT = 25
SEED = 20261206


def held_out(*key: str) -> bool:
    return int(hashlib.sha1("|".join(key).encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


# -- vocabulary ------------------------------------------------------------------------------------

# Words in the lists that are ordinary, clinical or mostly harmless in chat: not used as abuse.
NOT_ABUSE = set("""bloody balls butt bum sex lust lusting cox breasts labia scrotum semen clitoris masochist sadist
muther willy willies wang flange snatch muff pecker dink dinks teez teets heshe hoar hore cipa buceta dirsa kondum
kondums pron spac turd nazi jap homo hawas maal pataka patakha bulli paki damn hoe cum dyke prick spic chink rape
bhalu geda gula turi pakhe condo kando chaak gu bajiya kundo moot bhate gobre torpe thukk thukka kanda bhangi
hijra hijda gashti suzit bursungha cyalis boiolas boner madar maadar""".split())
# Hindi-list entries that are romanized *Marathi* or otherwise outside our languages.
NOT_OURS = {"tuzya aaichi kanda puchi", "bhadavya", "jhavadya", "lavadya", "raandichya", "gandit", "muttha"}

# Hinglish abuse abbreviations and vowel-less forms (ours; common chat usage).
HINGLISH_ABBREVIATIONS = ["bc", "mc", "bsdk", "mkc", "tmkc", "bkl", "bkc", "mkb", "bhnchd", "mdrchd", "bhsdk",
                          "chtiya", "chutya", "gndu", "lwde", "bhenchod", "bhnc", "madarjaat", "bhosdiwale",
                          "lodu", "lavdu", "chomu"]


def _words(items, *, max_words: int = 3) -> list[str]:
    out = []
    for w in items:
        w = w.strip().lower()
        if not w or w in NOT_ABUSE or w in NOT_OURS or len(w.split()) > max_words:
            continue
        if not re.fullmatch(r"[a-z]+(?:[ -][a-z]+)*", w) or len(w) < 3 and w not in ("bc", "mc"):
            continue
        out.append(w.replace("-", " "))
    return sorted(set(out))


def roman_to_itrans(word: str) -> str:
    """A romanized Hindi/Nepali word as ITRANS, roughly, so indic-transliteration can write it in Devanagari."""
    w = word.lower()
    for a, b in (("chh", "Ch"), ("x", "Ch"), ("aa", "A"), ("ee", "I"), ("ii", "I"), ("oo", "U"), ("uu", "U"),
                 ("z", "j"), ("w", "v"), ("q", "k")):
        w = w.replace(a, b)
    w = re.sub(r"n(?=[kgcjtdpbCT])", "M", w)
    parts = []
    for tok in w.split():
        if tok and tok[-1] not in "aeiouAIU":
            tok += "a"  # a closing consonant keeps its inherent vowel (gand -> गन्द, not गन्द्)
        elif tok.endswith("a") and len(tok) > 2:
            tok = tok[:-1] + "A"  # a written closing "a" is long in chat romanization (saala -> साला)
        parts.append(tok)
    return " ".join(parts)


def to_devanagari(word: str) -> str:
    return sanscript.transliterate(roman_to_itrans(word), sanscript.ITRANS, sanscript.DEVANAGARI)


def to_latin(word: str) -> str:
    """Devanagari -> casual chat romanization (ITRANS, then long vowels and retroflexes flattened)."""
    t = sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.ITRANS)
    for a, b in (("A", "a"), ("I", "i"), ("U", "u"), (".N", "n"), ("M", "n"), ("~N", "n"), ("Ch", "chh"),
                 ("T", "t"), ("D", "d"), ("N", "n"), ("Sh", "sh"), (".", ""), ("^", ""), ("~", "")):
        t = t.replace(a, b)
    return t.lower()


def vocabulary() -> dict[str, list[str]]:
    src = json.loads(SOURCES.read_text(encoding="utf-8"))["sources"]
    nnp = src["no-nepali-profanity"]
    en = _words(nnp["WORDS"]["english:lenient"] + nnp["WORDS"]["english:standard"] + src["anti-profanity"]["english"]
                + src["naughty-words"]["en"], max_words=2)
    hi = _words(src["naughty-words"]["hi"] + src["anti-profanity"]["hindi"], max_words=3)
    hi = sorted(set(hi) | set(HINGLISH_ABBREVIATIONS))
    ne_deva = sorted({w for k in ("devanagari:lenient", "devanagari:standard") for w in nnp["WORDS"][k]}
                     - {"भालु", "गेडा", "गुला", "तुरी", "पाखे", "कोंडो", "काण्डो", "कुन्डो", "चाक", "गु", "बजिया",
                        "मूत", "भाते", "गोबरे", "टोर्पे", "थुक", "थुक्क", "थुक्का", "किचकिच", "कोन्डो"})
    ne = _words(nnp["WORDS"]["romanized:lenient"] + nnp["WORDS"]["romanized:standard"] + nnp["PHRASES"].get(
        "romanized:lenient", []), max_words=3)
    ne = sorted(set(ne) | {to_latin(w) for w in ne_deva if len(to_latin(w)) >= 3} - NOT_ABUSE)
    hi_single = [w for w in hi if " " not in w and len(w) >= 4 and w not in HINGLISH_ABBREVIATIONS]
    hi_deva = sorted({to_devanagari(w) for w in hi_single})
    ne_deva = sorted(set(ne_deva) | {to_devanagari(w) for w in ne if " " not in w and len(w) >= 4})
    return {"en": en, "hi-Latn": hi, "ne-Latn": ne, "hi-Deva": hi_deva, "ne-Deva": ne_deva}


# -- frames ------------------------------------------------------------------------------------------
# {w}: an abusive term.  {p}: a friendly word in the same slot (clean lines use the same frames).
INSULT = {
    "en": ["you {w}", "you are a {w}", "you're such a {w}", "ur a {w}", "what a {w} you are", "shut up you {w}",
           "{w}", "go away {w}", "this streamer is a {w}", "hey {w} answer me", "stop talking {w}", "you absolute {w}",
           "nobody likes you {w}", "lol {w} streamer", "get lost {w}", "such a {w} host", "{w} {w}",
           "you are the biggest {w} here", "mod this {w}", "look at this {w}"],
    "hi-Latn": ["tu {w} hai", "tum {w} ho", "abe {w}", "saale {w}", "{w} kahin ka", "chal nikal {w}", "{w}",
                "bhai tu {w} hai kya", "ye streamer {w} hai", "tera baap {w}", "oye {w} chup kar", "{w} insaan",
                "kitna bada {w} hai tu", "tum log {w} ho", "jaa na {w}", "tu toh {w} nikla", "{w} sala",
                "abe o {w} sun", "tujh jaisa {w} nahi dekha", "aap {w} ho"],
    "ne-Latn": ["timi {w} hau", "ta {w} hos", "tero {w}", "{w} ho timi", "oe {w}", "jaa {w}", "{w}",
                "kasto {w} raicha yo", "yo streamer {w} ho", "timro {w}", "hat {w}", "{w} keta", "chup laag {w}",
                "tapai {w} hunuhuncha", "yo {w} lai herna", "timi jasto {w}", "ekdam {w} raichas", "oi {w} sun",
                "{w} manche", "sala {w}"],
    "hi-Deva": ["तू {w} है", "तुम {w} हो", "अबे {w}", "साले {w}", "{w} कहीं का", "चल निकल {w}", "{w}",
                "तेरा बाप {w}", "भाई तू {w} है क्या", "ये स्ट्रीमर {w} है", "ओए {w} चुप कर", "कितना बड़ा {w} है तू"],
    "ne-Deva": ["तिमी {w} हौ", "तँ {w} होस्", "तेरो {w}", "{w} हो तिमी", "ओए {w}", "जा {w}", "{w}",
                "कस्तो {w} रहेछ यो", "यो स्ट्रिमर {w} हो", "चुप लाग {w}", "तिमी जस्तो {w}", "एकदम {w} रहेछस्"],
}
FRIENDLY = {
    "en": ["legend", "champ", "genius", "star", "pro", "king", "queen", "hero", "sweetheart", "beast at this game",
           "good singer", "nice person", "funny guy", "great host", "gamer", "friend", "boss", "rockstar"],
    "hi-Latn": ["best", "mast", "kamaal", "hero", "badshah", "sher", "dost", "pyaara", "accha", "shandaar",
                "zabardast", "gazab", "sahi banda", "dildaar", "bhai log", "champion"],
    "ne-Latn": ["ramro", "jabar", "hero", "sathi", "mitho", "dami", "babal", "khatra", "raja", "budhi", "maya lagdo",
                "bhalo manche", "ekdam ramro", "sipalu", "gaayak"],
    "hi-Deva": ["अच्छा", "मस्त", "कमाल", "हीरो", "बादशाह", "शेर", "दोस्त", "प्यारा", "शानदार", "ज़बरदस्त"],
    "ne-Deva": ["राम्रो", "जब्बर", "हिरो", "साथी", "मिठो", "दामी", "बबाल", "खत्रा", "राजा", "सिपालु"],
}
THREAT = {  # (subjects, verbs, tails): a threat is subject + verb + tail, no swear word needed
    "en": (["i", "we", "my boys", "i swear i", "trust me i"],
           ["will find where you live", "know where you live", "will hurt your family", "will break your legs",
            "am coming for you", "will make you disappear", "will end you", "will beat you till you bleed",
            "will burn your house", "will kill you", "will shoot you", "will stab you", "will hunt you down",
            "will make your sister cry", "will leak your address"],
           ["", " tonight", " after the stream", " soon", " watch your back", " just wait", " you will see"]),
    "hi-Latn": (["main", "hum", "mere log", ""],
                ["tujhe jaan se maar dunga", "tera ghar jala dunga", "teri haddi tod dunga", "tujhe dekh lunga",
                 "tujhe khatam kar dunga", "tujhe utha lunga", "tera khoon kar dunga", "tere ghar aa raha hoon",
                 "teri behen ko utha lenge", "tujhe zinda nahi chhodunga", "tera sar phod dunga"],
                ["", " kal", " stream ke baad", " ghar aake", " yaad rakhna", " bas dekhta ja"]),
    "ne-Latn": (["ma", "hami", "mero keta haru", ""],
                ["timilai maardinchu", "tero ghar ma aaera kutchu", "timilai sidhyaidinchu", "tero haat bhachdinchu",
                 "timilai chhoddina", "tero tauko phordinchu", "timro ghar jalaidinchu", "timilai khatam garchu",
                 "timilai uthaidinchu", "tero khutta bhachdinchu"],
                ["", " bholi", " stream pachhi", " yaad rakh", " herda hos", " aaja rati"]),
    "hi-Deva": (["मैं", "हम", ""],
                ["तुझे जान से मार दूंगा", "तेरा घर जला दूंगा", "तेरी हड्डी तोड़ दूंगा", "तुझे देख लूंगा",
                 "तुझे खत्म कर दूंगा", "तुझे ज़िंदा नहीं छोड़ूंगा", "तेरा सर फोड़ दूंगा"],
                ["", " कल", " याद रखना", " घर आके"]),
    "ne-Deva": (["म", "हामी", ""],
                ["तँलाई मारिदिन्छु", "तेरो घरमा आएर कुट्छु", "तिमीलाई सिध्याइदिन्छु", "तेरो हात भाँचिदिन्छु",
                 "तिमीलाई छोड्दिन", "तेरो टाउको फोरिदिन्छु", "तिम्रो घर जलाइदिन्छु"],
                ["", " भोलि", " याद राख", " आज राति"]),
}
SEXUAL = {  # harassment without listed swear words
    "en": ["send nudes", "show me your body", "send me pics without clothes", "take off your top for me",
           "come to my room tonight baby", "how much for one night", "show your boobs", "i want to see you naked",
           "open your shirt on stream", "what color is your underwear"],
    "hi-Latn": ["nude bhej", "kapde utaar", "ek raat ka kitna", "apni photo bina kapdo ke bhej", "mere saath so ja",
                "boobs dikha", "video call pe nangi aa"],
    "ne-Latn": ["nude pathau", "luga khol", "ek raat ko kati ho", "nango photo pathau", "mero kotha ma aau rati",
                "dudh dekhau", "sutna aau mero sanga"],
    "hi-Deva": ["न्यूड भेज", "कपड़े उतार", "एक रात का कितना", "मेरे साथ सो जा"],
    "ne-Deva": ["न्युड पठाउ", "लुगा खोल", "एक रातको कति हो", "मेरो कोठामा आऊ राति"],
}
# Insult frames that are rude whatever fills the slot ("shut up you legend"): never used for clean lines.
RUDE_FRAME = re.compile(r"shut up|get lost|go away|stop talking|nobody likes|mod this|chup|nikal|\bjaa?\b|\bhat\b"
                        r"|साले|निकल|चुप|\bजा\b|\bsaale\b|\bsala\b|kahin ka|कहीं का|tera baap|तेरा बाप")
CLEAN = {
    "en": ["nice stream", "gg wp", "what song is this", "where are you from", "hello from {place}", "first time here",
           "this game is so fun", "who won the last round", "thanks for the gift", "good night everyone",
           "see you tomorrow", "what rank are you", "the volume is low", "stream is lagging a bit", "i just followed",
           "happy birthday {name}", "can you play {game} next", "that clutch was insane", "you killed it today",
           "what a shot", "that was a hell of a game", "kill the boss first", "this beat is sick", "i'm dead lol",
           "damn that was close", "my cat is watching with me", "greetings from {place}", "is {name} here today",
           "the cockpit view is better", "i live near scunthorpe", "my assessment is due tomorrow", "sussex is lovely",
           "shiitake mushrooms are tasty", "the peacock in the zoo", "cocktail hour", "classic move",
           "my therapist said to relax", "dick van dyke was great in mary poppins", "the bass is heavy in this song",
           "shoot your shot bro", "grasshopper jump", "analysis of the last match", "passion for music",
           "you are a {p}", "you're such a {p}", "ur a {p}", "you {p}", "what a {p} you are", "hey {p} answer me",
           "this streamer is a {p}", "nobody sings like you {p}", "the title of this stream", "button mashing again",
           "cumulative score is {n}", "i have {n} coins", "level {n} done", "wait for me {name}"],
    "hi-Latn": ["kya baat hai", "bhai mast stream", "tum kahan se ho", "gaana bajao", "bahut accha", "mast gaana",
                "lag ho raha hai", "sahi hai bhai", "kal phir aana", "kitne baje live aaoge", "khana kha liya",
                "chhod do yaar", "mera kutta bahut cute hai", "gadha ghaas kha raha hai", "mera saala aa raha hai",
                "kutte ko khana do", "ullu raat ko jagta hai", "tu {p} hai", "tum {p} ho", "bhai tu {p} hai",
                "aap {p} ho", "ye streamer {p} hai", "tu toh {p} nikla", "hello from {place}", "{name} bhai kaise ho",
                "{game} khelo na", "{n} coins bhej diye", "aaj ka stream {p} tha", "kya scene hai", "chai pi lo",
                "bhai ek gaana suna do", "kamaal kar diya", "mummy bula rahi hai", "padhai karni hai",
                "awaaz thodi kam hai", "ye gaana kiska hai", "bahut pyaar", "sabko good night", "main {place} se dekh raha hoon",
                "bandar ped pe hai", "gaay charne gayi", "mujhe bhi khelna hai", "abe yaar lag gaya", "saala game hang ho gaya"],
    "ne-Latn": ["ramro cha", "dai kasto cha", "khana khayau", "kati baje live aaunu huncha", "namaste dai",
                "bhalu ko video herna", "gadha le bhari bokcha", "mero kukur ko bachha cute cha", "timi ramro gauchau",
                "timi {p} hau", "ta {p} hos", "timro gaana {p} cha", "ekdam {p} raichas", "tapai {p} hunuhuncha",
                "yo streamer {p} ho", "hello from {place}", "{name} dai kasto chau", "{game} khela na",
                "{n} coin pathaye", "aaja ko stream {p} thiyo", "randip dai aaunu bhayo", "kanda ko tarkari mitho",
                "chiya khana jaau", "bholi feri aaunus", "sala bhinaju aaunu bhayo", "bhalu jungle ma huncha", "gaai charna gayo", "kukur bhukyo",
                "aawaj ali kam cha", "yo geet kasko ho", "dherai maya", "subha ratri sabai lai", "ma {place} bata herdai chu",
                "gaana sunaunus na", "khatra khel", "babal stream", "timi kaha bata", "bandar rukh ma cha",],
    "hi-Deva": ["क्या बात है", "भाई मस्त स्ट्रीम", "तुम कहाँ से हो", "गाना बजाओ", "बहुत अच्छा", "मेरा कुत्ता बहुत प्यारा है",
                "गधा घास खा रहा है", "मेरा साला आ रहा है", "तू {p} है", "तुम {p} हो", "आप {p} हो",
                "{place} से नमस्ते", "कल फिर आना", "खाना खा लिया", "उल्लू रात को जागता है", "चाय पी लो",
                "आज का स्ट्रीम {p} था", "{name} भाई कैसे हो", "{game} खेलो ना", "{n} कॉइन भेज दिए", "एक गाना सुना दो",
                "आवाज़ थोड़ी कम है", "कितने बजे लाइव आओगे", "बहुत प्यार", "सबको शुभ रात्रि", "ये गाना किसका है",
                "मैं {place} से देख रहा हूँ", "बंदर पेड़ पर है", "गाय चरने गई"],
    "ne-Deva": ["राम्रो छ", "दाइ कस्तो छ", "खाना खायौ", "नमस्ते दाइ", "भालुको भिडियो हेर्न", "गधाले भारी बोक्छ",
                "मेरो कुकुरको बच्चा क्युट छ", "तिमी राम्रो गाउँछौ", "तिमी {p} हौ", "तँ {p} होस्", "एकदम {p} रहेछस्",
                "{place} बाट नमस्ते", "भोलि फेरि आउनुस्", "चिया खान जाऊँ", "भालु जंगलमा हुन्छ", "साला भिनाजु आउनुभयो",
                "आजको स्ट्रिम {p} थियो", "{name} दाइ कस्तो छ", "{game} खेल न", "{n} कोइन पठाएँ", "गीत सुनाउनुस् न",
                "आवाज अलि कम छ", "कति बजे लाइव आउनुहुन्छ", "धेरै माया", "शुभ रात्रि सबैलाई", "यो गीत कसको हो",
                "म {place} बाट हेर्दैछु", "कुकुर भुक्यो", "गाई चर्न गयो", "बाँदर रुखमा छ"],
}
FILL = {"place": ["pokhara", "delhi", "kathmandu", "mumbai", "london", "butwal", "jaipur", "dharan", "texas",
                  "biratnagar", "lucknow", "chitwan"],
        "name": ["ram", "sita", "arjun", "priya", "bikash", "anil", "sunita", "rohit", "kiran", "maya"],
        "game": ["pubg", "free fire", "minecraft", "valorant", "ludo", "chess", "fortnite"],
        "n": [str(i) for i in (2, 5, 10, 50, 99, 100, 500, 1000, 2026)]}
# Everyday Hinglish / Hindi words (ours) for short clean lines; Nepali and English ones come from
# hunspell-ne and wamerican (models/build/sources/neutral_words.json).
HINGLISH_WORDS = """kya hai haan nahi accha theek bhai yaar dost ghar khana paani chai kal aaj abhi baad pehle
jaldi dheere bahut thoda sab kuch kaun kahan kab kaise kyun gaana naach khel match jeet haar paisa kaam padhai school
college dukaan bazaar sheher gaon mausam baarish dhoop thand garmi subah shaam raat din hafta mahina saal janamdin
shaadi mummy papa didi bhaiya chacha nani dadi beta beti pyaar dil khushi dukh sapna kahani film gana awaaz camera
mobile phone recharge net chalo ruko dekho suno bolo likho padho socho samjho milte""".split()
HINDI_WORDS = """क्या है हाँ नहीं अच्छा ठीक भाई यार दोस्त घर खाना पानी चाय कल आज अभी बाद पहले जल्दी धीरे बहुत थोड़ा सब
कुछ कौन कहाँ कब कैसे क्यों गाना नाच खेल मैच जीत हार पैसा काम पढ़ाई स्कूल दुकान बाज़ार शहर गाँव मौसम बारिश धूप ठंड
गर्मी सुबह शाम रात दिन हफ्ता महीना साल शादी मम्मी पापा दीदी भैया चाचा नानी दादी बेटा बेटी प्यार दिल खुशी सपना कहानी
फिल्म आवाज़ कैमरा मोबाइल चलो रुको देखो सुनो बोलो""".split()

OPENERS = ["", "", "", "lol ", "bro ", "dai ", "bhai ", "omg ", "haha ", "yo ", "ok ", "oye "]
TAILS = ["", "", "", "!", "!!", " :)", " 😂", " 🔥", "?", " haha", " lol", " ❤️", " 😡", " ..."]

# -- obfuscation -------------------------------------------------------------------------------------
LEET = {"a": "4@", "e": "3", "i": "1!", "o": "0", "s": "5$", "t": "7", "l": "1", "g": "9"}
HOMOGLYPH = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "i": "і", "y": "у", "k": "κ"}


def obfuscate(word: str, rng: random.Random, how: str) -> str:
    if not word.isascii():  # Devanagari: joiners and spaces between letters
        if how in ("spacing", "dots"):
            return " ".join(word)
        return "\u200d".join(word) if how == "zero-width" else word + word[-1] * 2
    if how == "spacing":
        return " ".join(word)
    if how == "dots":
        return ".".join(word)
    if how == "repeats":
        i = rng.randrange(len(word))
        return word[:i] + word[i] * rng.randint(3, 6) + word[i + 1:]
    if how == "leet":
        return "".join(rng.choice(LEET[c]) if c in LEET and rng.random() < 0.6 else c for c in word)
    if how == "homoglyph":
        return "".join(HOMOGLYPH[c] if c in HOMOGLYPH and rng.random() < 0.6 else c for c in word)
    if how == "mask":
        vowels = [i for i, c in enumerate(word) if c in "aeiou"]
        if not vowels:
            return word
        i = rng.choice(vowels)
        return word[:i] + "*" + word[i + 1:]
    if how == "zero-width":
        i = rng.randrange(1, max(2, len(word)))
        return word[:i] + "\u200b" + word[i:]
    if how == "vowels":
        return word[0] + re.sub(r"[aeiou]", "", word[1:]) if len(word) > 4 else word
    if how == "caps":
        return "".join(c.upper() if rng.random() < 0.5 else c for c in word)
    return word


OBFUSCATIONS = ("spacing", "dots", "repeats", "leet", "homoglyph", "mask", "zero-width", "vowels", "caps")


def _fill(frame: str, rng: random.Random, lang: str, neutral: list[str]) -> str:
    """Fill a clean frame; the {p} slot gets a friendly word or, as often, any everyday word, so the
    frames themselves ("such a ... host", "timi ... hau") carry no label."""
    for key, values in FILL.items():
        if "{" + key + "}" in frame:
            frame = frame.replace("{" + key + "}", rng.choice(values))
    if "{p}" in frame:
        frame = frame.replace("{p}", rng.choice(FRIENDLY[lang]) if rng.random() < 0.5 else rng.choice(neutral))
    return frame


def _decorate(text: str, rng: random.Random, latin: bool) -> str:
    if latin:
        text = rng.choice(OPENERS) + text
    return text + rng.choice(TAILS)


def generate() -> tuple[list[dict], list[dict]]:
    rng = random.Random(SEED)
    vocab = vocabulary()
    nw = json.loads(NEUTRAL.read_text(encoding="utf-8"))["sources"]
    ne_deva_words = nw["hunspell-ne"]["words"]
    neutral_words = {"en": nw["wamerican"]["words"],
                     "hi-Latn": HINGLISH_WORDS + rng.sample(nw["wamerican"]["words"], 200),
                     "ne-Latn": [to_latin(w) for w in ne_deva_words],
                     "hi-Deva": HINDI_WORDS,
                     "ne-Deva": ne_deva_words}
    allowed = json.loads(SOURCES.read_text(encoding="utf-8"))["sources"]["no-nepali-profanity"]["ALLOWED"]["all"]
    dev: list[dict] = []
    heldout: list[dict] = []
    seen: set[str] = set()

    def add(text: str, label: str, lang: str, kind: str, source: str, hold: bool, frame: str) -> None:
        text = " ".join(text.split(" ")).strip() if "\u200b" in text else " ".join(text.split())
        if not text or text in seen:
            return
        seen.add(text)
        (heldout if hold else dev).append({"text": text, "label": label, "lang": lang, "kind": kind,
                                           "source": source, "frame": frame})

    for lang in INSULT:
        latin = lang in ("en", "hi-Latn", "ne-Latn")
        terms = vocab[lang]
        # toxic: insult frames x terms (each term several times, some obfuscated)
        for term in terms:
            t_hold = held_out(lang, "term", term)
            for frame in rng.sample(INSULT[lang], k=min(4, len(INSULT[lang]))):
                hold = t_hold or held_out(lang, "frame", frame)
                word = term
                how = "plain"
                if rng.random() < 0.3:
                    how = rng.choice(OBFUSCATIONS)
                    word = obfuscate(term, rng, how)
                add(_decorate(frame.replace("{w}", word), rng, latin), "toxic", lang, f"insult:{how}",
                    f"list:{term}", hold, frame)
        subjects, verbs, tails = THREAT[lang]
        for verb in verbs:
            for _ in range(6):
                s, t = rng.choice(subjects), rng.choice(tails)
                add(_decorate(f"{s} {verb}{t}".strip(), rng, latin), "toxic", lang, "threat", "ours",
                    held_out(lang, "threat", verb), verb)
        for phrase in SEXUAL[lang]:
            for _ in range(4):
                add(_decorate(phrase, rng, latin), "toxic", lang, "sexual", "ours", held_out(lang, "sexual", phrase),
                    phrase)
        # clean, short: everyday words alone or in pairs (chat is full of them; without them any
        # unfamiliar word would look abusive to a model trained on templated abuse)
        neutral = neutral_words[lang]
        for _ in range(600):
            k = rng.choice((1, 1, 2, 2, 3))
            picked = rng.sample(neutral, k)
            hold = any(held_out(lang, "neutral", w) for w in picked)
            add(_decorate(" ".join(picked), rng, latin), "clean", lang, "clean:short", "neutral", hold,
                " ".join(picked))
        # clean: as many lines as toxic ones, from clean frames (friendly words in insult frames included)
        n_toxic = sum(1 for r in dev + heldout if r["lang"] == lang and r["label"] == "toxic")
        frames = CLEAN[lang] + [f for f in INSULT[lang] if "{w}" in f and f not in ("{w}", "{w} {w}")
                                and not RUDE_FRAME.search(f)]
        if latin:  # names and words the lists themselves say are innocent (Randip, Scunthorpe, conduct)
            frames += [f"{a} {tail}" for a in allowed for tail in ("", "is here", "bhai kaise ho", "dai aaunu bhayo")]
        tries = 0
        while sum(1 for r in dev + heldout if r["lang"] == lang and r["label"] == "clean") < max(n_toxic, 1200) and tries < 60 * max(n_toxic, 1200):
            tries += 1
            frame = rng.choice(frames)
            hold = held_out(lang, "clean", frame)
            text = _fill(frame.replace("{w}", "{p}"), rng, lang, neutral)
            if rng.random() < 0.4:
                text = f"{text} {_fill(rng.choice(CLEAN[lang]), rng, lang, neutral)}"
            add(_decorate(text, rng, latin), "clean", lang, "clean", "ours", hold, frame)
    return dev, heldout


def main() -> None:
    dev, heldout = generate()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("text_dev.jsonl", dev), ("text_heldout.jsonl", heldout)):
        with (OUT / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    from collections import Counter
    for name, rows in (("dev", dev), ("held-out", heldout)):
        print(name, sorted(Counter((r["lang"], r["label"]) for r in rows).items()), file=sys.stderr)


if __name__ == "__main__":
    main()
