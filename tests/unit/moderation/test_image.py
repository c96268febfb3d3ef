import io

import numpy as np
import pytest
from PIL import Image

from halobuzz.moderation.age import AgeEstimator
from halobuzz.moderation.image import (
    ImageError,
    NsfwScorer,
    blur,
    decode,
    resize_align_corners,
    sniff,
)

from .conftest import encode


@pytest.fixture(scope="module")
def nsfw():
    return NsfwScorer()


def test_sniff_by_magic_bytes(photo):
    assert sniff(encode(photo, "JPEG")) == "image/jpeg"
    assert sniff(encode(photo, "PNG")) == "image/png"
    assert sniff(encode(photo, "GIF")) == "image/gif"
    assert sniff(encode(photo, "WEBP")) == "image/webp"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff(b"") is None


def test_rejects_non_images_and_limits(photo):
    with pytest.raises(ImageError) as e:
        decode(b"%PDF-1.7 not an image")
    assert e.value.code == "unsupported_type"
    with pytest.raises(ImageError) as e:
        decode(encode(photo), max_bytes=100)
    assert e.value.code == "too_large"
    with pytest.raises(ImageError) as e:
        decode(encode(photo, "PNG"), max_pixels=1000)
    assert e.value.code == "too_many_pixels"


def test_decompression_bomb_header_is_refused_before_decoding():
    # a PNG that claims 100000 x 100000 pixels
    img = Image.new("L", (1, 1))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = (100000).to_bytes(4, "big") * 2  # IHDR width/height
    with pytest.raises(ImageError) as e:
        decode(bytes(data))
    assert e.value.code in ("too_many_pixels", "corrupt")


def test_corrupt_image(photo, nsfw):
    data = encode(photo, "PNG")
    with pytest.raises(ImageError) as e:
        nsfw.score(data[: len(data) // 3])
    assert e.value.code == "corrupt"
    with pytest.raises(ImageError):
        nsfw.score(b"\xff\xd8\xff" + b"\x00" * 100)


def test_score_is_a_probability_and_deterministic(photo, nsfw):
    data = encode(photo)
    v1, v2 = nsfw.score(data), nsfw.score(data)
    assert v1 == v2 and v1.content_type == "image/jpeg" and v1.model_id == "nsfw-mobilenetv2-v1"
    assert abs(sum(v1.probs.values()) - 1) < 1e-3
    assert 0 <= v1.score <= 1
    assert v1.score < 0.5  # a synthetic test card is not NSFW


def test_align_corners_resize():
    src = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
    out = resize_align_corners(src, 7)
    assert out.shape == (7, 7, 3)
    assert np.allclose(out[0, 0], src[0, 0]) and np.allclose(out[-1, -1], src[-1, -1])
    assert np.allclose(out[3, 3], (src[1, 1] + src[2, 2]) / 2 * 0 + src[1:3, 1:3].mean(axis=(0, 1)))


@pytest.mark.parametrize("fmt, kind", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/jpeg")])
def test_blur_produces_a_real_blurred_derivative(photo, fmt, kind):
    data = encode(photo, fmt)
    out = blur(data)
    assert sniff(out) == kind
    before = np.asarray(decode(data), dtype=np.float32)
    after = np.asarray(decode(out), dtype=np.float32)
    assert after.shape == before.shape
    assert np.abs(after - before).mean() > 10  # pixels really changed
    # detail is gone: high-frequency energy (neighbour differences) collapses
    assert np.abs(np.diff(after, axis=1)).mean() < 0.2 * np.abs(np.diff(before, axis=1)).mean()


def test_age_is_a_review_signal(photo):
    est = AgeEstimator()
    a = est.estimate(encode(photo))
    assert 0 <= a.age <= 80 and 0 <= a.p_under_18 <= 1 and 0 < a.confidence <= 1
    assert a.review == (a.p_under_18 >= est.review_threshold)
    b = est.estimate(photo)  # arrays work too
    assert abs(b.age - a.age) < 15
    assert AgeEstimator(review_threshold=0.0).estimate(photo).review is True
