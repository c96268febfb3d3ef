#!/usr/bin/env bash
# Build the one-file binary: dist/halobuzz (installs the `build` extra: PyInstaller).
# Usage: scripts/build-binary.sh            (from anywhere; output in <repo>/dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip install -q -e '.[build]'
python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller halobuzz.spec
ls -l dist/halobuzz
dist/halobuzz version
