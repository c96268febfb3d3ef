"""The house rules about imports, checked on the source (not by convention).

Domain packages hold the rules and never import Sanic or the transports; `db/` is the
bottom layer and imports nothing of ours above it; `realtime/` never reaches into `api/`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import halobuzz

ROOT = Path(halobuzz.__file__).parent
TRANSPORTS = {"api", "realtime", "cli", "simulators"}  # simulators: the dev gateway servers
TOP_LEVEL_OK_FOR_DOMAIN = {"config", "errors", "events", "reply", "resources", "db", "infra", "observability"}


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    out += [f"{mod}.{a.name}" for a in node.names]
                    continue
            else:
                mod = node.module or ""
            out.append(mod)
    return out


def _package_files(name: str) -> list[Path]:
    return sorted((ROOT / name).rglob("*.py"))


def _domain_packages() -> list[str]:
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and (p / "__init__.py").exists()
        and p.name not in TRANSPORTS | {"db", "infra", "observability", "jobs"}
    )


def test_there_are_domain_packages_to_check():
    assert {"wallet", "gifts", "streams", "payments", "moderation", "chat", "accounts"} <= set(_domain_packages())


def test_domain_packages_never_import_sanic_or_the_transports():
    bad = []
    for pkg in _domain_packages():
        for f in _package_files(pkg):
            for mod in _imports(f):
                if mod.split(".")[0] in ("sanic", "sanic_ext", "socketio") or mod.startswith(
                    ("halobuzz.api", "halobuzz.realtime", "halobuzz.cli", "halobuzz.app")
                ):
                    bad.append(f"{f.relative_to(ROOT)} imports {mod}")
    assert bad == []


def test_db_imports_nothing_above_it():
    allowed = ("halobuzz.db", "halobuzz.errors", "halobuzz.infra", "halobuzz.observability")
    bad = [
        f"{f.relative_to(ROOT)} imports {mod}"
        for f in _package_files("db")
        for mod in _imports(f)
        if mod.startswith("halobuzz") and not mod.startswith(allowed)
    ]
    assert bad == []


def test_realtime_never_imports_api_and_api_never_imports_realtime():
    bad = [
        f"{f.relative_to(ROOT)} imports {mod}"
        for f in _package_files("realtime")
        for mod in _imports(f)
        if mod.startswith(("halobuzz.api", "halobuzz.app", "halobuzz.cli"))
    ]
    bad += [
        f"{f.relative_to(ROOT)} imports {mod}"
        for f in _package_files("api")
        for mod in _imports(f)
        if mod.startswith(("halobuzz.realtime", "halobuzz.app", "halobuzz.cli"))
    ]
    assert bad == []


def test_the_wiring_lives_only_in_app_py():
    """No plugin modules, service locator or import-time registration left to come back."""
    for gone in (
        "features.py",
        "money_plugin.py",
        "moderation_plugin.py",
        "context.py",
        "economy.py",
        "wallet/service.py",
        "payments/plugin.py",
        "realtime/wiring.py",
    ):
        assert not (ROOT / gone).exists(), gone
    offenders = [
        str(f.relative_to(ROOT))
        for f in ROOT.rglob("*.py")
        if "extras[" in f.read_text(encoding="utf-8")
        or "CHECKS.append" in f.read_text(encoding="utf-8")
        or "SEEDERS.append" in f.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_no_service_publishes_after_awaiting_a_write():
    """Events leave through the writer (emit inside the unit); `bus.publish` right after an
    `await ...write(` in the same function would lose them when the caller is cancelled."""
    bad = []
    for f in ROOT.rglob("*.py"):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.AsyncFunctionDef):
                continue
            awaited_write = False
            for node in ast.walk(fn):
                if isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
                    callee = ast.unparse(node.value.func)
                    if callee.endswith(".write") or callee.endswith("self.write"):
                        awaited_write = True
                if awaited_write and isinstance(node, ast.Call) and ast.unparse(node.func).endswith("bus.publish"):
                    bad.append(f"{f.relative_to(ROOT)}:{fn.name}")
    assert bad == []


def test_domain_packages_import_each_other_without_cycles():
    """A package that imports another may not be imported back by it (directly or round a loop)."""
    domain = set(_domain_packages())
    edges: dict[str, set[str]] = {p: set() for p in domain}
    for pkg in domain:
        for f in _package_files(pkg):
            for mod in _imports(f):
                parts = mod.split(".")
                if parts[0] == "halobuzz" and len(parts) > 1 and parts[1] in domain and parts[1] != pkg:
                    edges[pkg].add(parts[1])

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges[start] - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False

    cycles = sorted(f"{a} <-> {b}" for a in domain for b in edges[a] if reaches(b, a, {b}))
    assert cycles == []
