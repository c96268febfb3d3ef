from __future__ import annotations

import io

import numpy as np
import pytest

from halobuzz.moderation.text import TextScorer


@pytest.fixture(scope="session")
def scorer() -> TextScorer:
    return TextScorer()


def encode(arr: np.ndarray, fmt: str = "JPEG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A structured 320x240 RGB test picture (gradients, stripes, a disc): something blur must change."""
    yy, xx = np.mgrid[0:240, 0:320]
    img = np.zeros((240, 320, 3), np.float32)
    img[..., 0] = xx / 319 * 255
    img[..., 1] = yy / 239 * 255
    img[..., 2] = ((xx // 8 + yy // 8) % 2) * 255
    disc = (xx - 160) ** 2 + (yy - 120) ** 2 < 60**2
    img[disc] = [250, 250, 250]
    return img.astype(np.uint8)
