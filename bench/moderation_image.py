"""NSFW image scoring speed: ms per 224x224 image (target <= 15 ms, performance.md).

    python -m bench.moderation_image [--seconds 3]

Baseline in the same run: bare ``session.run`` on a preprocessed 224x224 tensor.
Ours: ``NsfwScorer.score(bytes)`` = sniff + limits + decode (JPEG and PNG) +
preprocessing + the same session; plus ``blur()`` of a 640x480 JPEG for context.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

import numpy as np

from halobuzz.moderation.image import NsfwScorer, blur


def _encode(arr: np.ndarray, fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _photo(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(3)
    img = np.stack([xx * 255 / w, yy * 255 / h, (np.sin(xx / 9) * np.cos(yy / 7) + 1) * 127], -1)
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def _time(fn, budget: float) -> list[float]:
    out, deadline = [], time.perf_counter() + budget
    fn()
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args(argv)
    scorer = NsfwScorer()
    small = _photo(224, 224)
    jpeg, png = _encode(small, "JPEG"), _encode(small, "PNG")
    big = _encode(_photo(480, 640), "JPEG")
    tensor = scorer.preprocess(small)
    rows = [
        ("raw session.run (preprocessed tensor)", _time(lambda: scorer.score_array(tensor), args.seconds / 4)),
        ("score(bytes) 224px JPEG", _time(lambda: scorer.score(jpeg), args.seconds / 4)),
        ("score(bytes) 224px PNG", _time(lambda: scorer.score(png), args.seconds / 4)),
        ("score(bytes) 640x480 JPEG", _time(lambda: scorer.score(big), args.seconds / 8)),
        ("blur(bytes) 640x480 JPEG", _time(lambda: blur(big), args.seconds / 8)),
    ]
    raw50 = float(np.percentile(rows[0][1], 50)) * 1e3
    print("NSFW image moderation (nsfwjs MobileNetV2 ONNX, 1 intra-op thread)")
    print(f"{'':40}{'p50 ms':>8}{'p99 ms':>8}")
    for name, samples in rows:
        p50, p99 = (float(np.percentile(samples, q)) * 1e3 for q in (50, 99))
        print(f"{name:40}{p50:8.2f}{p99:8.2f}   {p50 / raw50:4.2f}x raw")
    jpeg50 = float(np.percentile(rows[1][1], 50)) * 1e3
    print(f"target: 224px image <= 15 ms: {'PASS' if jpeg50 <= 15 else 'MISS'} ({jpeg50:.2f} ms JPEG p50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
