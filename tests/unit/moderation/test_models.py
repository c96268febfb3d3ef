import json
import shutil

import pytest

from halobuzz.moderation import ModelError, check_models, load_model, models_dir
from halobuzz.moderation.text import TextScorer


def test_models_dir_env_and_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("HALOBUZZ_MODELS_DIR", str(tmp_path))
    assert models_dir() == tmp_path
    monkeypatch.delenv("HALOBUZZ_MODELS_DIR")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert models_dir() == tmp_path / "models"
    monkeypatch.delattr("sys._MEIPASS")
    assert (models_dir() / "manifest.json").is_file()


def test_shipped_models_are_intact():
    assert check_models() == []
    manifest = json.loads((models_dir() / "manifest.json").read_text())
    assert {m["id"] for m in manifest["models"]} == {
        "text-profanity-en-v1",
        "text-chargram-v1",
        "nsfw-mobilenetv2-v1",
        "age-v1",
    }
    assert sum(m["bytes"] for m in manifest["models"]) < 30_000_000


@pytest.fixture()
def copy_dir(tmp_path):
    src = models_dir()
    shutil.copy(src / "manifest.json", tmp_path)
    shutil.copy(src / "text-profanity-en-v1.onnx", tmp_path)
    shutil.copy(src / "text-chargram-v1.onnx", tmp_path)
    return tmp_path


def test_missing_model_names_the_file(copy_dir):
    with pytest.raises(ModelError, match="missing.*nsfw-mobilenetv2-v1.onnx"):
        load_model("nsfw-mobilenetv2-v1", copy_dir)
    problems = check_models(copy_dir)
    assert len(problems) == 2 and any("age-v1.onnx" in p for p in problems)


def test_corrupt_model_names_the_file(copy_dir):
    path = copy_dir / "text-profanity-en-v1.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt.*text-profanity-en-v1.onnx") as err:
        TextScorer(copy_dir)
    assert err.value.path.endswith("text-profanity-en-v1.onnx")
    assert any("corrupt" in p for p in check_models(copy_dir))


def test_truncated_model_with_matching_manifest_is_unloadable(copy_dir):
    import hashlib

    path = copy_dir / "text-profanity-en-v1.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    manifest = json.loads((copy_dir / "manifest.json").read_text())
    for m in manifest["models"]:
        if m["id"] == "text-profanity-en-v1":
            m["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            m["bytes"] = path.stat().st_size
    (copy_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unloadable.*text-profanity-en-v1.onnx"):
        load_model("text-profanity-en-v1", copy_dir)


def test_a_copy_of_another_size_is_corrupt_before_hashing(copy_dir):
    path = copy_dir / "text-chargram-v1.onnx"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="corrupt.*text-chargram-v1.onnx.*bytes, manifest says") as err:
        load_model("text-chargram-v1", copy_dir)
    assert err.value.path.endswith("text-chargram-v1.onnx")


def test_missing_or_bad_manifest(tmp_path):
    with pytest.raises(ModelError, match="manifest not found"):
        load_model("age-v1", tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    assert "unreadable" in check_models(tmp_path)[0]
    with pytest.raises(ModelError, match="not in"):
        load_model("nope", models_dir())
