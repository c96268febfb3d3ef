"""The web console and /assets/ static serving, over real HTTP (no browser)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from halobuzz.api.console import safe_parts

CONSOLE = Path(__file__).resolve().parents[2] / "assets" / "console"


def test_index_served_with_csp_and_revalidation(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
    assert '<script type="module" src="/assets/console/js/app.js"></script>' in r.text


@pytest.mark.parametrize(
    "path,ctype",
    [
        ("/assets/console/js/app.js", "text/javascript; charset=utf-8"),
        ("/assets/console/css/console.css", "text/css; charset=utf-8"),
        ("/assets/console/icon.svg", "image/svg+xml"),
        ("/assets/gifts/rose.svg", "image/svg+xml"),
        ("/assets/gifts/catalog.json", "application/json"),
    ],
)
def test_content_types(client, path, ctype):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ctype
    assert r.headers["x-content-type-options"] == "nosniff"


def test_caching_headers_and_304(client):
    js = client.get("/assets/console/js/app.js")
    assert js.headers["cache-control"] == "no-cache"
    again = client.get("/assets/console/js/app.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    art = client.get("/assets/gifts/rose.svg")
    assert "max-age=86400" in art.headers["cache-control"]
    head = client.head("/assets/gifts/rose.svg")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../pyproject.toml",
        "/assets/console/../../pyproject.toml",
        "/assets/..%2f..%2fpyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/console/..%5c..%5cpyproject.toml",
        "/assets/%2fetc%2fpasswd",
        "/assets//etc/passwd",
        "/assets/console/",
        "/assets/console",
        "/assets/.hidden",
        "/assets/console/nope.js",
    ],
)
def test_traversal_and_missing_refused(server, path):
    import httpx

    # Send the path exactly as written (httpx would normalise "..").
    with httpx.Client(base_url=server.url) as c:
        req = c.build_request("GET", path)
        req.url = req.url.copy_with(raw_path=path.encode())
        r = c.send(req)
    assert r.status_code == 404, (path, r.status_code)
    assert r.headers["content-type"].startswith("application/json")
    assert "[tool" not in r.text and "root:" not in r.text


def test_safe_parts():
    assert safe_parts("console/js/app.js") == ["console", "js", "app.js"]
    for bad in ("", "../x", "a/../b", "a//b", "/etc/passwd", "a\\b", ".git/config", "a/./b", "%2e%2e/x", "a%00b"):
        assert safe_parts(bad) is None, bad


def test_symlink_out_of_root_refused(tmp_path):
    from halobuzz.api.console import StaticFiles
    from halobuzz.errors import NotFound

    root = tmp_path / "assets"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "ok.txt").write_text("ok")
    files = StaticFiles(root)
    assert files.resolve("ok.txt").name == "ok.txt"
    with pytest.raises(NotFound):
        files.resolve("link.txt")


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        if "style" in a:
            self.problems.append(f"style attribute on <{tag}>")
        for name in a:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
        if tag == "a" and (a.get("href") or "").startswith("javascript:"):
            self.problems.append("javascript: URL")


def test_html_is_csp_compatible():
    for page in CONSOLE.rglob("*.html"):
        scan = _Scan()
        scan.feed(page.read_text(encoding="utf-8"))
        assert scan.problems == [], (page, scan.problems)


def test_scripts_never_use_html_sinks_or_eval():
    # User text reaches the DOM only as text nodes (dom.js h()); no HTML string sinks at all.
    sinks = re.compile(
        r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
        r"setAttribute\(\s*[\"']style|setTimeout\(\s*[\"']"
    )
    found = [
        (p.name, m.group(0))
        for p in CONSOLE.rglob("*.js")
        if "vendor" not in p.parts
        for m in sinks.finditer(p.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_module_import_resolves():
    # A missing file would only show in a browser; check relative imports here.
    pattern = re.compile(r"""(?:from\s+|import\s*\(\s*)["'](\.{1,2}/[^"']+)["']""")
    for js in CONSOLE.rglob("*.js"):
        for rel in pattern.findall(js.read_text(encoding="utf-8")):
            assert (js.parent / rel).resolve().is_file(), (js, rel)


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
