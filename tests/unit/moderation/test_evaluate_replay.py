import json
from pathlib import Path

import pytest

from halobuzz.moderation import Thresholds, evaluate, evaluate_file, read_jsonl, replay

DEV = Path(__file__).resolve().parents[2] / "data" / "moderation_dev.jsonl"


def test_metrics_math():
    rows = [
        {"text": str(i), "label": lab, "lang": lang}
        for i, (lab, lang) in enumerate(
            [("toxic", "en")] * 4 + [("clean", "en")] * 6 + [("toxic", "ne")] * 2 + [("clean", "ne")] * 2
        )
    ]
    scores = [0.9, 0.7, 0.6, 0.1] + [0.0, 0.0, 0.0, 0.0, 0.65, 0.2] + [0.95, 0.3] + [0.1, 0.1]
    r = evaluate(rows, scores, threshold=0.6)
    en = r.by_lang["en"]
    assert (en.tp, en.fn, en.fp, en.tn) == (3, 1, 1, 5)
    assert en.precision == pytest.approx(3 / 4) and en.recall == pytest.approx(3 / 4)
    assert en.fpr == pytest.approx(1 / 6)
    ne = r.by_lang["ne"]
    assert ne.precision == 1.0 and ne.recall == 0.5 and ne.fpr == 0.0
    assert r.overall.n == 14 and r.overall.tp == 4
    assert len(r.errors) == 3
    assert "precision" in r.table() and json.dumps(r.as_dict())


def test_empty_classes_give_none():
    r = evaluate([{"text": "a", "label": "clean", "lang": "en"}], [0.1])
    assert r.overall.precision is None and r.overall.recall is None and r.overall.fpr == 0.0


def test_read_jsonl_validates(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "maybe"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        read_jsonl(bad)


def test_dev_set_meets_targets(scorer):
    rows = read_jsonl(DEV)
    assert len(rows) >= 400
    assert {r["lang"] for r in rows} == {"en", "ne-Latn", "ne-Deva", "hi-Latn"}
    report = evaluate_file(DEV, scorer.score_batch, threshold=0.6)
    for lang, c in report.by_lang.items():
        assert c.recall >= 0.9, (lang, c.as_dict())
        assert c.fpr <= 0.03, (lang, c.as_dict())
    assert report.overall.fpr <= 0.02


def test_replay_reports_changes():
    old = Thresholds(0.6, 0.9)
    stored = [
        {"id": 1, "model_id": "m1", "score": 0.65, "warn": 0.6, "block": 0.9},  # warn -> allow
        {"id": 2, "model_id": "m1", "score": 0.85, "action": "warn"},  # warn -> block
        {"id": 3, "model_id": "m1", "score": 0.95, "warn": 0.6, "block": 0.9},  # block stays
        {"id": 4, "model_id": "m1", "score": 0.10, "action": "allow"},  # allow stays
        {"id": 5, "model_id": "m0", "score": 0.99, "action": "block"},  # other model: stale
    ]
    r = replay(stored, Thresholds(0.7, 0.8), model_id="m1")
    assert r.total == 5 and r.stale == 1 and r.unchanged == 2
    assert [(c.ref, c.old.value, c.new.value) for c in r.changes] == [(1, "warn", "allow"), (2, "warn", "block")]
    assert "2 change" in r.summary()
    same = replay(stored, old)
    assert same.changes == [] and same.stale == 0
