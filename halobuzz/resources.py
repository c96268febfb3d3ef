"""Where bundled files live: in a checkout (repo root) or inside the PyInstaller bundle.

HALOBUZZ_ASSETS_DIR / HALOBUZZ_MODELS_DIR override either with a directory on disk.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def bundle_root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def assets_dir() -> Path:
    override = os.environ.get("HALOBUZZ_ASSETS_DIR")
    return Path(override) if override else bundle_root() / "assets"


def models_dir() -> Path:
    override = os.environ.get("HALOBUZZ_MODELS_DIR")
    return Path(override) if override else bundle_root() / "models"
