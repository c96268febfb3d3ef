"""`halobuzz bench`: a short run prints safe limits (fast settings here)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import cli


def test_bench_prints_safe_limits(tmp_path):
    out = cli(tmp_path / "data", "bench", "--seconds", "0.5", "--viewers", "20", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["raw_gifts_per_s"] > 0 and res["writer_gifts_per_s"] > 0
    assert res["safe_gifts_per_s"] == int(res["writer_gifts_per_s"] * 0.5)
    assert res["deliveries_per_s"] > 0 and set(res["safe_viewers_per_room"]) == {"1/s", "5/s", "20/s", "50/s"}
    text = cli(tmp_path / "data", "bench", "--seconds", "0.5", "--viewers", "20")
    assert "Safe limits" in text.stdout and "viewers in one room" in text.stdout


@pytest.mark.slow
def test_bench_video_reports_ingests_and_hls_viewers(tmp_path):
    out = cli(tmp_path / "data", "bench", "--seconds", "0.5", "--viewers", "10", "--video", "--ingests", "2", "--json")
    assert out.returncode == 0, out.stderr
    video = json.loads(out.stdout)["video"]
    if "exited" in video.get("error", ""):
        pytest.skip(video["error"])
    assert "error" not in video, video
    assert video["publishing"] == 2 and 0 < video["cpu_per_ingest"] < 1 and video["safe_ingests"] >= 1
    assert video["hls"]["viewers_held"] >= 20 and video["safe_hls_viewers"] >= 1
    assert video["hls"]["steps"][0]["errors"] == 0 and video["hls"]["pdt_lag_s"] < 5
