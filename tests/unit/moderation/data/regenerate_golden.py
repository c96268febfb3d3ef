"""Rewrite text_dev_golden.jsonl: the scorer's verdicts on every line of tests/data/moderation_dev.jsonl.

    PYTHONPATH=. python tests/unit/moderation/data/regenerate_golden.py

Run ONLY when verdicts are meant to change (a new model or lexicon), and say so in the commit.
Written with every cache of the scorer held to one entry, so each verdict is the uncached
computation; test_text_equivalence then checks that cached, warm and batched scoring agree.
History: written by the pre-cache scorer (commit 142443e); rewritten for issue 16 when
text-chargram-v1 and the licensed lists were added (2 actions of 629 changed: "kukur jasto manche
timi" allow -> warn, "tatti ke baad haath dhona" warn -> allow).
"""

import importlib
import json
from pathlib import Path

from halobuzz.moderation import decide

text_module = importlib.import_module("halobuzz.moderation.text")
normalize_module = importlib.import_module("halobuzz.moderation.normalize")

HERE = Path(__file__).resolve().parent
DEV = HERE.parents[2] / "data" / "moderation_dev.jsonl"


def main() -> None:
    text_module._WORD_CACHE_MAX = text_module._ROW_CACHE_MAX = 1
    normalize_module._WORD_CACHE_MAX = 1
    scorer = text_module.TextScorer()
    if scorer.char is not None:
        scorer.char._max = 1
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    batch = scorer.score_batch([r["text"] for r in rows])
    with (HERE / "text_dev_golden.jsonl").open("w", encoding="utf-8") as fh:
        for row, b in zip(rows, batch, strict=True):
            v = scorer.score(row["text"])
            fh.write(
                json.dumps(
                    {
                        "text": row["text"],
                        "score": v.score,
                        "model": v.model_score,
                        "lexicon": v.lexicon_score,
                        "char": v.char_score,
                        "reasons": v.reasons,
                        "action": decide(v.score).action.value,
                        "batch_score": b.score,
                        "batch_model": b.model_score,
                        "batch_reasons": b.reasons,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


if __name__ == "__main__":
    main()
