import pytest

from halobuzz.moderation.normalize import collapse, normalize, spaced_runs


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ＦＵＣＫ you", "fuck you"),  # fullwidth (NFKC)
        ("sh1t", "shit"),  # leetspeak inside a word
        ("b!tch!", "bitch!"),  # "!" between letters is a letter, at the end punctuation
        ("a$$hole", "asshole"),
        ("cl4ss", "class"),
        ("h3ll0 fr13nd", "hello friend"),
        ("fuuuuuck", "fuuck"),  # 3+ repeats -> 2
        ("noooooo way", "noo way"),
        ("zero\u200bwidth", "zerowidth"),  # zero-width space
        ("fu\u00adck", "fuck"),  # soft hyphen
        ("f\u0300u\u0301c\u0302k", "fuck"),  # combining marks over Latin (zalgo)
        ("Ѕhіt", "shit"),  # Cyrillic look-alikes
        ("\U0001f595", "fuck"),  # 🖕
        ("\U0001f1eb\U0001f1fa\U0001f1e8\U0001f1f0", "fuck"),  # regional indicator letters
        ("Hello\x00World\x07", "hello world"),  # control characters
        ("  many   spaces\n\there ", "many spaces here"),
        ("Ⓕⓤⓒⓚ", "fuck"),  # circled letters (NFKC)
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw", ["I scored 2 goals in 10 mins", "mp3 4k 10am 2nd", "1337", "hello @user", "$100 bucks"])
def test_digits_and_symbols_outside_words_stay(raw):
    assert normalize(raw) == raw.lower()


def test_devanagari_survives():
    assert normalize("मुजी \u200dरण्डी") == "मुजी रण्डी"


def test_spaced_runs_and_collapse():
    assert spaced_runs(normalize("f u c k off")) == ["fuck"]
    assert spaced_runs(normalize("F.U.C.K")) == ["fuck"]
    assert spaced_runs("hello world") == []
    assert collapse("fuuck biiitch") == "fuck bitch"
