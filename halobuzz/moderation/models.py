"""Where the shipped ONNX models live, and how they are loaded and checked.

Every model file is listed in ``models/manifest.json`` with its sha256; a file
whose digest differs is refused, so a truncated copy or a hand-swapped model
never scores anything.  Sessions use one intra-op thread: in a single-process
server a second thread slows the small text graph (see performance.md 2d).
onnxruntime is imported by ``load_model`` only: `serve` checks the files at start
(``check_models``) and loads the sessions later, in a thread (loading.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnxruntime as ort

MANIFEST = "manifest.json"


class ModelError(RuntimeError):
    """A model file is missing, corrupt, or does not match the manifest."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = str(path) if path is not None else None


def models_dir() -> Path:
    """HALOBUZZ_MODELS_DIR, else the PyInstaller bundle's models/, else <repo>/models."""
    env = os.environ.get("HALOBUZZ_MODELS_DIR")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "models"
    return Path(__file__).resolve().parents[2] / "models"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    file: str
    sha256: str
    thresholds: dict[str, float]
    raw: dict[str, Any] = field(repr=False, compare=False)
    size: int | None = None  # the manifest's "bytes": a truncated copy fails before hashing


def load_manifest(directory: Path | None = None) -> dict[str, ModelSpec]:
    directory = directory or models_dir()
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        specs = {
            m["id"]: ModelSpec(m["id"], m["file"], m["sha256"], dict(m.get("thresholds", {})), m, m.get("bytes"))
            for m in data["models"]
        }
    except FileNotFoundError:
        raise ModelError(f"model manifest not found: {path} (set HALOBUZZ_MODELS_DIR?)", path) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"model manifest {path} is unreadable: {exc}", path) from None
    return specs


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(spec: ModelSpec, directory: Path | None = None) -> Path:
    """Return the model's path after checking it exists and matches the manifest digest."""
    path = (directory or models_dir()) / spec.file
    if not path.is_file():
        raise ModelError(f"model file missing: {path} (model {spec.id})", path)
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        raise ModelError(
            f"model file corrupt: {path} (model {spec.id}) is {size} bytes, manifest says {spec.size}", path
        )
    actual = _sha256(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model file corrupt: {path} (model {spec.id}) sha256 {actual[:12]}… != manifest {spec.sha256[:12]}…",
            path,
        )
    return path


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    session: ort.InferenceSession
    metadata: dict[str, str]


def load_model(model_id: str, directory: Path | None = None, *, threads: int = 1) -> LoadedModel:
    """Verify and open one model from the manifest; raises ModelError naming the file."""
    directory = directory or models_dir()
    specs = load_manifest(directory)
    if model_id not in specs:
        raise ModelError(f"model {model_id!r} not in {directory / MANIFEST}", directory / MANIFEST)
    spec = specs[model_id]
    path = verify(spec, directory)
    import onnxruntime as ort  # here, not at import: see the module docstring

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise ModelError(f"model file unloadable: {path} (model {model_id}): {exc}", path) from None
    return LoadedModel(spec, session, dict(session.get_modelmeta().custom_metadata_map))


def check_models(directory: Path | None = None) -> list[str]:
    """Problems for ``halobuzz doctor``: an empty list means every model is present and intact."""
    directory = directory or models_dir()
    try:
        specs = load_manifest(directory)
    except ModelError as exc:
        return [str(exc)]
    problems = []
    for spec in specs.values():
        try:
            verify(spec, directory)
        except ModelError as exc:
            problems.append(str(exc))
    return problems
