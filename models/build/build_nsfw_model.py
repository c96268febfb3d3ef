"""Rebuild models/nsfw-mobilenetv2-v1.onnx from the npm package nsfwjs 4.4.0 (MIT).

Build-time only::

    mkdir -p /tmp/nsfw && cd /tmp/nsfw && npm pack nsfwjs@4.4.0 && tar xzf nsfwjs-4.4.0.tgz
    node /work/main/models/build/dump_nsfwjs.js /tmp/nsfw/package /tmp/nsfw/dump
    /tmp/mbuild/bin/python models/build/build_nsfw_model.py /tmp/nsfw/dump
    # optional parity check against tfjs itself (npm install @tensorflow/tfjs@4.22.0 in /tmp/nsfw):
    /tmp/mbuild/bin/python models/build/verify_nsfw_tfjs.py /tmp/nsfw

nsfwjs ships a Keras 2.2.4 layers model whose weights are already uint8 with a
per-tensor (min, scale): value = q * scale + min.  We keep those bytes as uint8
initializers and dequantise them in the graph with Cast -> Mul -> Add, which
onnxruntime constant-folds when the session is created; the file stays ~2.7 MB
with weights bit-identical to what tfjs uses, and no QDQ session flag is needed.

Input  ``image``: float32 [N, 224, 224, 3], RGB scaled to 0..1 (nsfwjs divides by
255 and resizes bilinearly with alignCorners).  Output ``probs``: float32 [N, 5]
softmax over CLASSES below.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MODELS = Path(__file__).resolve().parents[1]
OUT = MODELS / "nsfw-mobilenetv2-v1.onnx"
CLASSES = ["drawing", "hentai", "neutral", "porn", "sexy"]


class Converter:
    def __init__(self, model_json: dict, blob: bytes) -> None:
        self.layers = model_json["modelTopology"]["model_config"]["config"]["layers"]
        self.weights: dict[str, tuple[np.ndarray, float, float]] = {}
        offset = 0
        for group in model_json["weightsManifest"]:
            for w in group["weights"]:
                q = w["quantization"]
                assert q["dtype"] == "uint8", w
                size = int(np.prod(w["shape"]))
                arr = np.frombuffer(blob, np.uint8, size, offset).reshape(w["shape"])
                offset += size
                self.weights[w["name"]] = (arr, float(q["scale"]), float(q["min"]))
        assert offset == len(blob), (offset, len(blob))
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.used: set[str] = set()

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, key: str, transpose: tuple[int, ...] | None = None, reshape=None) -> str:
        q, scale, minimum = self.weights[key]
        self.used.add(key)
        if transpose is not None:
            q = np.ascontiguousarray(q.transpose(transpose))
        if reshape is not None:
            q = q.reshape(reshape)
        base = key.replace("/", "_")
        self.const(base + "_q", q)
        self.const(base + "_scale", np.array(scale, np.float32))
        self.const(base + "_min", np.array(minimum, np.float32))
        self.nodes += [
            helper.make_node("Cast", [base + "_q"], [base + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [base + "_f", base + "_scale"], [base + "_s"]),
            helper.make_node("Add", [base + "_s", base + "_min"], [base]),
        ]
        return base

    def convert(self) -> onnx.ModelProto:
        out_of: dict[str, str] = {}
        last = None
        for layer in self.layers:
            kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
            inputs = [out_of[i[0]] for i in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            y = name
            if kind == "InputLayer":
                assert cfg["batch_input_shape"][1:] == [224, 224, 3]
                self.nodes.append(helper.make_node("Transpose", ["image"], [y], perm=[0, 3, 1, 2]))
            elif kind == "ZeroPadding2D":
                (t, b), (lft, r) = cfg["padding"]
                pads = self.const(name + "_pads", np.array([0, 0, t, lft, 0, 0, b, r], np.int64))
                self.nodes.append(helper.make_node("Pad", [inputs[0], pads], [y], mode="constant"))
            elif kind in ("Conv2D", "DepthwiseConv2D"):
                assert cfg["dilation_rate"] == [1, 1] and cfg["activation"] == "linear"
                if kind == "Conv2D":
                    w = self.weight(name + "/kernel", (3, 2, 0, 1))
                    group = 1
                else:
                    q = self.weights[name + "/depthwise_kernel"][0]
                    kh, kw, cin, mult = q.shape
                    assert mult == 1
                    w = self.weight(name + "/depthwise_kernel", (2, 3, 0, 1), (cin * mult, 1, kh, kw))
                    group = cin
                args = [inputs[0], w]
                if cfg["use_bias"]:
                    args.append(self.weight(name + "/bias"))
                pad = {"same": "SAME_UPPER", "valid": "VALID"}[cfg["padding"]]
                self.nodes.append(helper.make_node(
                    "Conv", args, [y], group=group, strides=cfg["strides"],
                    kernel_shape=cfg["kernel_size"], auto_pad=pad))
            elif kind == "BatchNormalization":
                assert cfg["center"] and cfg["scale"] and cfg["axis"] in (-1, 3)
                args = [inputs[0]] + [self.weight(f"{name}/{p}") for p in ("gamma", "beta", "moving_mean", "moving_variance")]
                self.nodes.append(helper.make_node("BatchNormalization", args, [y], epsilon=cfg["epsilon"]))
            elif kind == "ReLU":
                assert cfg.get("negative_slope", 0) == 0 and cfg.get("threshold", 0) == 0
                lo = self.const(name + "_lo", np.array(0.0, np.float32))
                args = [inputs[0], lo]
                if cfg.get("max_value") is not None:
                    args.append(self.const(name + "_hi", np.array(cfg["max_value"], np.float32)))
                self.nodes.append(helper.make_node("Clip", args, [y]))
            elif kind == "Add":
                self.nodes.append(helper.make_node("Add", inputs, [y]))
            elif kind == "AveragePooling2D":
                assert cfg["padding"] == "valid"
                self.nodes.append(helper.make_node(
                    "AveragePool", [inputs[0]], [y], kernel_shape=cfg["pool_size"], strides=cfg["strides"]))
            elif kind == "Flatten":
                # The pooled map is 1x1, so NCHW and NHWC flatten to the same channel order.
                self.nodes.append(helper.make_node("Flatten", [inputs[0]], [y], axis=1))
            elif kind == "Dropout":
                self.nodes.append(helper.make_node("Identity", [inputs[0]], [y]))
            elif kind == "Dense":
                w = self.weight(name + "/kernel")
                pre = name + "_mm"
                self.nodes.append(helper.make_node("MatMul", [inputs[0], w], [pre]))
                if cfg["use_bias"]:
                    self.nodes.append(helper.make_node("Add", [pre, self.weight(name + "/bias")], [name + "_b"]))
                    pre = name + "_b"
                act = cfg["activation"]
                op = {"relu": "Relu", "softmax": "Softmax", "linear": "Identity"}[act]
                extra = {"axis": -1} if op == "Softmax" else {}
                self.nodes.append(helper.make_node(op, [pre], [y], **extra))
            else:
                raise ValueError(f"unsupported layer {kind}")
            out_of[name] = y
            last = y
        assert self.used == set(self.weights), set(self.weights) - self.used
        self.nodes.append(helper.make_node("Identity", [last], ["probs"]))
        graph = helper.make_graph(
            self.nodes, "nsfwjs_mobilenet_v2",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 224, 224, 3])],
            [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 5])],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="halobuzz-build")
        model.ir_version = 8
        for key, value in {"classes": json.dumps(CLASSES), "source": "nsfwjs@4.4.0 mobilenet_v2 (MIT)",
                           "preprocess": "RGB/255, bilinear alignCorners resize to 224, NHWC"}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(model)
        return model


def main(dump_dir: str) -> int:
    src = Path(dump_dir)
    model = Converter(json.loads((src / "model.json").read_text()), (src / "weights.bin").read_bytes()).convert()
    OUT.write_bytes(model.SerializeToString())
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(OUT), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    probs = sess.run(None, {"image": rng.random((2, 224, 224, 3), dtype=np.float32)})[0]
    assert probs.shape == (2, 5) and np.allclose(probs.sum(1), 1, atol=1e-4), probs
    print(f"{OUT.name}: {OUT.stat().st_size} bytes; noise -> {np.round(probs, 3).tolist()}")
    print("sha256", hashlib.sha256(OUT.read_bytes()).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/nsfw/dump"))
