"""NSFW image scoring (nsfwjs MobileNetV2 as ONNX) and blurred derivatives.

Input is untrusted bytes: the type is sniffed from magic bytes (never from a
file name or a client's Content-Type), size and pixel count are bounded
before decoding (decompression bombs), and any decoder failure becomes
``ImageError``.  Needs Pillow for decoding and blurring.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .models import load_model

if TYPE_CHECKING:  # numpy is imported where arrays are made: the service imports this module at start
    import numpy as np

NSFW_MODEL_ID = "nsfw-mobilenetv2-v1"
CLASSES = ("drawing", "hentai", "neutral", "porn", "sexy")
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
SIZE = 224

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class ImageError(ValueError):
    """Unsupported, oversized or corrupt image. ``code`` is stable for API error mapping."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # unsupported_type | too_large | too_many_pixels | corrupt


def sniff(data: bytes) -> str | None:
    """Content type from magic bytes: image/jpeg, image/png, image/gif, image/webp, or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _pil():
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is a runtime dependency of image moderation
        raise ImageError("unsupported_type", "image moderation needs Pillow installed") from exc
    return Image


def decode(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS):
    """Bytes -> RGB PIL image, after sniffing and limits. Raises ImageError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError("unsupported_type", "image must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImageError("too_large", f"image is {len(data)} bytes; limit {max_bytes}")
    kind = sniff(data)
    if kind is None:
        raise ImageError("unsupported_type", "not a JPEG, PNG, GIF or WebP image")
    Image = _pil()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels or w <= 0 or h <= 0:
                raise ImageError("too_many_pixels", f"image is {w}x{h}; limit {max_pixels} pixels")
            if kind == "image/jpeg" and max(w, h) > 4 * SIZE:
                img.draft("RGB", (2 * SIZE, 2 * SIZE))  # decode at reduced scale: much faster, same verdict
            img.load()
            return img.convert("RGB")
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("too_many_pixels", str(exc)) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… for corrupt input
        # Pillow's messages can hold Python reprs ("<_io.BytesIO object at 0x…>"): never show those.
        detail = _REPR.sub("", str(exc)).replace("  ", " ").strip(" :") or "cannot be decoded"
        raise ImageError("corrupt", f"corrupt {kind} image: {detail}") from None


_REPR = re.compile(r"<[^<>]*? at 0x[0-9a-fA-F]+>")


def resize_align_corners(rgb: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Bilinear resize with alignCorners=true, as nsfwjs's tf.image.resizeBilinear does. float32 HWC."""
    import numpy as np

    h, w = rgb.shape[:2]
    ys = np.linspace(0, h - 1, size, dtype=np.float32) if h > 1 else np.zeros(size, np.float32)
    xs = np.linspace(0, w - 1, size, dtype=np.float32) if w > 1 else np.zeros(size, np.float32)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0)[:, None, None]
    wx = (xs - x0)[None, :, None]
    img = rgb.astype(np.float32)
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


@dataclass(frozen=True, slots=True)
class ImageVerdict:
    score: float  # porn + hentai + 0.5 * sexy, in [0, 1]
    probs: dict[str, float]
    content_type: str
    model_id: str = NSFW_MODEL_ID
    reasons: list[str] = field(default_factory=list)


class NsfwScorer:
    def __init__(self, models_directory: Path | None = None) -> None:
        self.model = load_model(NSFW_MODEL_ID, models_directory)
        self.session = self.model.session
        self.model_id = self.model.spec.id

    @staticmethod
    def preprocess(img) -> np.ndarray:
        import numpy as np

        arr = np.asarray(img, dtype=np.uint8)
        if arr.shape[0] != SIZE or arr.shape[1] != SIZE:
            arr = resize_align_corners(arr)
        return (arr.astype(np.float32) / 255.0)[None]

    def score_array(self, batch: np.ndarray) -> np.ndarray:
        """[N,224,224,3] float32 in 0..1 -> [N,5] class probabilities."""
        import numpy as np

        return self.session.run(None, {"image": batch.astype(np.float32, copy=False)})[0]

    def score(self, data: bytes) -> ImageVerdict:
        kind = sniff(data) or "unknown"
        img = decode(data)
        probs = self.score_array(self.preprocess(img))[0]
        named = {c: round(float(p), 6) for c, p in zip(CLASSES, probs)}
        score = min(1.0, named["porn"] + named["hentai"] + 0.5 * named["sexy"])
        top = max(named, key=named.get)
        return ImageVerdict(round(score, 6), named, kind, self.model_id, [f"nsfw:top={top}:{named[top]:.3f}"])


def blur(data: bytes, *, radius: float | None = None, max_side: int = 1280) -> bytes:
    """A heavily blurred derivative of the image (JPEG, or PNG if the source was PNG).

    The result is a new file (no EXIF or other metadata is carried over); it is downscaled to
    ``max_side`` first, which also makes the blur cheap.
    """
    kind = sniff(data)
    img = decode(data)
    Image = _pil()
    from PIL import ImageFilter

    img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    r = radius if radius is not None else max(8.0, max(img.size) / 20)
    # Pixelate then blur: no recoverable detail, even for small images.
    small = img.resize((max(1, img.width // 16), max(1, img.height // 16)), Image.Resampling.BILINEAR)
    out = small.resize(img.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(r))
    buf = io.BytesIO()
    if kind == "image/png":
        out.save(buf, format="PNG", optimize=False)
    else:
        out.save(buf, format="JPEG", quality=80)
    return buf.getvalue()
