"""Apparent age from a face crop (dlib-models age net, CC0) — a review signal only.

Never use this as the only evidence for restricting an account: apparent-age
models err by years exactly around 13–25 and vary with pose and lighting.
The upstream package finds and aligns faces with dlib, which we do not ship;
the caller passes a square crop around one face (about 20 % margin, like
dlib's chip padding 0.2), as bytes or an RGB array.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .image import decode
from .models import load_model

AGE_MODEL_ID = "age-v1"
CHIP = 64
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
AGES = np.array([0.25, *range(1, 81)], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class AgeEstimate:
    age: float  # expectation over the 81 age bins
    p_under_18: float  # sum of the bins for ages < 18
    confidence: float  # probability of the most likely bin
    review: bool  # p_under_18 >= review threshold: queue for a human, nothing more
    model_id: str = AGE_MODEL_ID


class AgeEstimator:
    def __init__(self, models_directory: Path | None = None, review_threshold: float | None = None) -> None:
        self.model = load_model(AGE_MODEL_ID, models_directory)
        self.session = self.model.session
        default = self.model.spec.thresholds.get("review", 0.5)
        self.review_threshold = default if review_threshold is None else review_threshold

    def _chip(self, face) -> np.ndarray:
        if isinstance(face, (bytes, bytearray, memoryview)):
            face = decode(bytes(face))
        if not isinstance(face, np.ndarray):
            face = np.asarray(face.convert("RGB").resize((CHIP, CHIP), 2))  # 2 = bilinear
        elif face.shape[:2] != (CHIP, CHIP):
            from .image import resize_align_corners

            face = resize_align_corners(face, CHIP)
        if face.ndim != 3 or face.shape[2] != 3:
            raise ValueError(f"face must be RGB HxWx3, got shape {face.shape}")
        x = (face.astype(np.float32) - MEANS) / np.float32(256.0)
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    def estimate(self, face) -> AgeEstimate:
        return self.estimate_batch([face])[0]

    def estimate_batch(self, faces) -> list[AgeEstimate]:
        if not faces:
            return []
        batch = np.stack([self._chip(f) for f in faces])
        probs = self.session.run(None, {"images": batch})[0]
        out = []
        for p in probs:
            under = float(p[:18].sum())
            out.append(
                AgeEstimate(
                    round(float(p @ AGES), 2), round(under, 4), round(float(p.max()), 4), under >= self.review_threshold
                )
            )
        return out
