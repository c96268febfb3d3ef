"""The offline evaluation (bench/ai_eval.py) passes on a small synthetic run."""

from bench import ai_eval


def test_offline_evaluation_passes(capsys):
    assert ai_eval.main(["--rooms", "30", "--seed", "3"]) == 0
    assert "PASS" in capsys.readouterr().out
