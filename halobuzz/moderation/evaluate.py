"""Precision / recall / false-positive rate of a scorer over labelled JSONL.

Each line: ``{"text": "...", "label": "toxic" | "clean", "lang": "en"}``.
Used by ``halobuzz moderation eval FILE.jsonl``; a message counts as flagged
when its score reaches the warn threshold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LABELS = ("toxic", "clean")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, toxic: bool, flagged: bool) -> None:
        if toxic:
            if flagged:
                self.tp += 1
            else:
                self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def fpr(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None

    def as_dict(self) -> dict:
        return {
            "n": self.n,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": self.precision,
            "recall": self.recall,
            "fpr": self.fpr,
        }


@dataclass
class Report:
    threshold: float
    overall: Counts = field(default_factory=Counts)
    by_lang: dict[str, Counts] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)  # misclassified examples, with score

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "overall": self.overall.as_dict(),
            "by_lang": {k: v.as_dict() for k, v in sorted(self.by_lang.items())},
            "errors": self.errors,
        }

    def table(self) -> str:
        def pct(x: float | None) -> str:
            return "   -  " if x is None else f"{x * 100:5.1f}%"

        lines = [f"threshold {self.threshold:.2f}", f"{'lang':<10}{'n':>5}{'precision':>11}{'recall':>9}{'FPR':>9}"]
        for name, c in [*sorted(self.by_lang.items()), ("all", self.overall)]:
            lines.append(f"{name:<10}{c.n:>5}{pct(c.precision):>11}{pct(c.recall):>9}{pct(c.fpr):>9}")
        return "\n".join(lines)


def read_jsonl(path: str | Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON ({exc})") from None
            if not isinstance(row, dict) or row.get("label") not in LABELS or not isinstance(row.get("text"), str):
                raise ValueError(f'{path}:{lineno}: need {{"text": str, "label": "toxic"|"clean", "lang": str}}')
            rows.append(row)
    return rows


def evaluate(rows: Sequence[dict], scores: Iterable[float], threshold: float = 0.6) -> Report:
    """Metrics for precomputed scores (same order as rows)."""
    report = Report(threshold)
    for row, score in zip(rows, scores, strict=True):
        toxic = row["label"] == "toxic"
        flagged = score >= threshold
        report.overall.add(toxic, flagged)
        report.by_lang.setdefault(str(row.get("lang", "?")), Counts()).add(toxic, flagged)
        if toxic != flagged:
            report.errors.append(
                {"text": row["text"], "label": row["label"], "lang": row.get("lang"), "score": round(float(score), 4)}
            )
    return report


def evaluate_file(path: str | Path, score_batch: Callable[[list[str]], list], threshold: float = 0.6) -> Report:
    """Score a JSONL file with e.g. ``TextScorer().score_batch`` (returns objects with ``.score``)."""
    rows = read_jsonl(path)
    verdicts = score_batch([r["text"] for r in rows])
    return evaluate(rows, [getattr(v, "score", v) for v in verdicts], threshold)
