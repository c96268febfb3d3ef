"""Compare models/nsfw-mobilenetv2-v1.onnx with nsfwjs on tfjs (build time only).

    /tmp/mbuild/bin/python models/build/verify_nsfw_tfjs.py /tmp/nsfw   # dir with dump/ and node_modules/
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent


def images(n: int = 8) -> np.ndarray:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:224, 0:224] / 223.0
    out = [
        rng.random((224, 224, 3)),
        np.stack([xx, yy, 1 - xx], -1),
        np.zeros((224, 224, 3)),
        np.ones((224, 224, 3)),
        np.stack([0.85 + 0 * xx, 0.62 + 0.1 * yy, 0.5 + 0.05 * xx], -1),  # skin-tone-ish blob
        (np.sin(xx * 40)[..., None] * 0.5 + 0.5) * np.array([0.2, 0.6, 0.9]),
        np.clip(rng.normal(0.5, 0.2, (224, 224, 3)), 0, 1),
        np.stack([yy, yy, yy], -1),
    ]
    return np.stack(out[:n]).astype(np.float32)


def main(workdir: str) -> int:
    work = Path(workdir)
    x = images()
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "x.bin", Path(tmp) / "y.json"
        inp.write_bytes(x.tobytes())
        subprocess.run(["node", str(HERE / "verify_nsfw_tfjs.js"), str(work / "dump"), str(inp), str(len(x)), str(outp)],
                       cwd=work, check=True)
        ref = np.array(json.loads(outp.read_text()), np.float32)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(HERE.parent / "nsfw-mobilenetv2-v1.onnx"), so, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": x})[0]
    diff = np.abs(got - ref).max()
    top = float(np.mean(got.argmax(1) == ref.argmax(1)))
    print(f"{len(x)} images: max |dp| vs tfjs = {diff:.2e}, top-1 agreement {top:.0%}")
    assert diff < 1e-3, diff
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/nsfw"))
