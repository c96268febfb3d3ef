"""The web console and the static files under /assets/.

`/` serves assets/console/index.html (a client-side app with hash routes, plain ES modules,
no build step); `/assets/<path>` serves files from `resources.assets_dir()` — the checkout's
assets/, the PyInstaller bundle's, or an operator's override directory.

Static serving rules (see tests/integration/test_console.py):
* only regular files under the assets root; any `..`, empty, dot-prefixed or backslash
  segment is refused with 404, and a resolved path (symlinks followed) must stay in the root;
* explicit content types for what the console ships (JS must be a JavaScript MIME type or
  module scripts refuse to run), `charset=utf-8` on text;
* ETag + `If-None-Match` → 304; console files revalidate every time (`no-cache`), so an
  upgrade shows at once without hashed file names; gift art and vendored files are cached
  for a day;
* file bodies are cached in memory by (path, mtime, size): the whole console is ~100 KB;
* server-only data under assets/ (the quiz bank with its answers) is never served.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from urllib.parse import unquote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from ..errors import NotFound

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
LONG_CACHE = "public, max-age=86400"
REVALIDATE = "no-cache"
MAX_FILE_BYTES = 8 * 1024 * 1024
# Read by the server, never served: the quiz bank holds the answers.
PRIVATE_PREFIXES = ("games/",)


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def safe_parts(raw: str) -> list[str] | None:
    """The path's segments, or None if any of them could step outside (or is hidden)."""
    text = unquote(raw)
    if not text or "\\" in text or "\x00" in text or text.startswith("/"):
        return None
    parts = text.split("/")
    for part in parts:
        if not part or part in (".", "..") or part.startswith("."):
            return None
    return parts


class StaticFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, tuple[float, int, bytes, str]] = {}

    def resolve(self, raw: str) -> Path:
        parts = safe_parts(raw)
        if parts is None or "/".join(parts).startswith(PRIVATE_PREFIXES):
            raise NotFound("no such file")
        root = self.root.resolve()
        path = root.joinpath(*parts)
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise NotFound("no such file") from None
        if not real.is_relative_to(root) or not real.is_file():
            raise NotFound("no such file")
        return real

    def load(self, path: Path) -> tuple[bytes, str]:
        st = path.stat()
        hit = self._cache.get(path)
        if hit and hit[0] == st.st_mtime and hit[1] == st.st_size:
            return hit[2], hit[3]
        if st.st_size > MAX_FILE_BYTES:
            raise NotFound("no such file")
        body = path.read_bytes()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        self._cache[path] = (st.st_mtime, st.st_size, body, etag)
        return body, etag

    def respond(self, request: Request, path: Path, cache_control: str) -> HTTPResponse:
        body, etag = self.load(path)
        headers = {"ETag": etag, "Cache-Control": cache_control}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return HTTPResponse(status=304, headers=headers)
        return HTTPResponse(b"" if request.method == "HEAD" else body, headers=headers, content_type=content_type(path))


def cache_policy(raw: str) -> str:
    return REVALIDATE if raw.startswith("console/") and not raw.startswith("console/vendor/") else LONG_CACHE


bp = Blueprint("console")


def _files(request: Request) -> StaticFiles:
    return request.app.ctx.static_files


@bp.route("/assets/<path:path>", methods=["GET", "HEAD"], name="console_asset")
async def asset(request: Request, path: str):
    files = _files(request)
    return files.respond(request, files.resolve(path), cache_policy(path))


@bp.route("/", methods=["GET", "HEAD"], name="console_index")
async def index(request: Request):
    files = _files(request)
    return files.respond(request, files.resolve("console/index.html"), REVALIDATE)


@bp.route("/favicon.ico", methods=["GET", "HEAD"], name="console_favicon")
async def favicon(request: Request):
    files = _files(request)
    return files.respond(request, files.resolve("console/icon.svg"), LONG_CACHE)
