"""packaging/: alert rules parse and pass promtool, and every metric they (and the Grafana
dashboard) use is one the code exposes. Fast; runs in the default suite."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from halobuzz.observability.metrics import Metrics
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "packaging" / "prometheus" / "halobuzz-alerts.yml"
RULE_TESTS = ROOT / "packaging" / "prometheus" / "halobuzz-alerts.test.yml"
DASHBOARD = ROOT / "packaging" / "grafana" / "halobuzz-dashboard.json"
METRIC = re.compile(r"\b((?:halobuzz|process)_[a-z0-9_]+|up)\b(?!\s*\()")
SEED_ALERTS = {"HalobuzzHighErrorRate", "HalobuzzHighLatencyP95", "HalobuzzHighCPU", "HalobuzzRevenueDrop"}


def exposed_metrics() -> set[str]:
    names = set(
        re.findall(
            r'"(halobuzz_[a-z0-9_]+)"',
            "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "halobuzz").rglob("*.py")),
        )
    )
    text = generate_latest(Metrics().registry).decode()
    names |= set(re.findall(r"^# TYPE (\S+)", text, re.M))
    names |= {n[: -len("_total")] + "_total" for n in names}
    return names | {"up"}  # `up` is Prometheus' own scrape metric


def base(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def used(expr: str) -> set[str]:
    return {base(m) for m in METRIC.findall(expr)}


def test_alert_rules_structure_and_metrics_exist():
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert all(g.get("name") for g in doc["groups"])
    assert SEED_ALERTS <= {r["alert"] for r in rules}
    known = exposed_metrics()
    for r in rules:
        assert r["labels"]["severity"] in ("page", "warn"), r["alert"]
        assert r["annotations"]["summary"], r["alert"]
        missing = used(r["expr"]) - known
        assert not missing, f"{r['alert']} uses metrics the code does not expose: {missing}"
    revenue = next(r for r in rules if r["alert"] == "HalobuzzRevenueDrop")
    assert "halobuzz_payments_revenue_minor_total" in revenue["expr"] and "offset 1d" in revenue["expr"]
    weekly = next(r for r in rules if r["alert"] == "HalobuzzRevenueDropWeekOverWeek")
    assert "[1h] offset 1w" in weekly["expr"] and "0.9" in weekly["expr"]


def test_dashboard_metrics_exist():
    dash = json.loads(DASHBOARD.read_text())
    known = exposed_metrics()
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) > 15
    for expr in exprs:
        missing = used(expr) - known
        assert not missing, f"dashboard panel uses unknown metrics {missing}: {expr}"


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (apt-get install prometheus)")
def test_promtool_check_and_unit_tests():
    tests = sorted(str(p) for p in RULES.parent.glob("*.test.yml"))
    assert str(RULE_TESTS) in tests
    for args in (["check", "rules", str(RULES)], ["test", "rules", *tests]):
        out = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60, cwd=RULES.parent)
        assert out.returncode == 0, out.stdout + out.stderr


HEALTHCHECK_SCRIPT = ROOT / "packaging" / "healthcheck.sh"


def probe(data_dir: Path, *args: str, port: str = "1") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HALOBUZZ_DATA_DIR": str(data_dir), "HALOBUZZ_PORT": port}
    return subprocess.run(
        ["/bin/bash", str(HEALTHCHECK_SCRIPT), *args], capture_output=True, text=True, timeout=10, env=env
    )


def test_container_healthcheck_never_starts_the_binary():
    text = (ROOT / "packaging" / "Containerfile").read_text()
    check = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*$", text, re.M).group(0)  # with its continuation lines
    assert "halobuzz-healthcheck" in check and '"/usr/local/bin/halobuzz"' not in check
    assert "COPY packaging/healthcheck.sh /usr/local/bin/halobuzz-healthcheck" in text


def test_container_healthcheck_probes_the_recorded_port(server, tmp_path):
    # The server runs on a random port; the script finds it in <data>/serve.port.
    ok = probe(server.data_dir)
    assert ok.returncode == 0, ok.stderr
    assert probe(server.data_dir, "readyz").returncode == 0
    missing = probe(server.data_dir, "no-such-path")
    assert missing.returncode == 1 and "answered HTTP/1.1 404" in missing.stderr
    down = probe(tmp_path, port=str(free_port()))  # no serve.port, nothing on $HALOBUZZ_PORT
    assert down.returncode == 1 and "nothing listens" in down.stderr


def spec_excludes() -> list[str]:
    """The EXCLUDES list literal from halobuzz.spec (the spec runs only inside PyInstaller)."""
    import ast

    tree = ast.parse((ROOT / "halobuzz.spec").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXCLUDES":
            return ast.literal_eval(node.value)
    raise AssertionError("no EXCLUDES in halobuzz.spec")


def test_the_app_works_without_what_the_binary_leaves_out(tmp_path):
    # The left-out modules are installed here, so they are made unimportable (as in the
    # binary); then the app is built as `serve` builds it and the paths that touch the
    # optional imports run: image moderation on every accepted format, a Stripe webhook.
    code = f"""
import io, sys
EXCLUDED = sys.argv[1:]
class LeftOut:
    def find_spec(self, name, path=None, target=None):
        if any(name == x or name.startswith(x + ".") for x in EXCLUDED):
            raise ImportError(f"left out of the binary: {{name}}")
sys.meta_path.insert(0, LeftOut())
from halobuzz import config
from halobuzz.cli import cli
from halobuzz.app import create_app
create_app(config.load({str(tmp_path)!r}))
from PIL import Image
from halobuzz.moderation.image import NsfwScorer
scorer = NsfwScorer()
for fmt in ("JPEG", "PNG", "GIF", "WEBP"):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 90)).save(buf, fmt)
    assert 0.0 <= scorer.score(buf.getvalue()).score <= 1.0, fmt
import stripe
from halobuzz.payments.gateways.stripe import verify_webhook
payload = b'{{"id": "evt_1", "type": "checkout.session.completed", "data": {{"object": {{}}}}}}'
import time, hmac, hashlib
t = int(time.time())
sig = hmac.new(b"whsec_x", f"{{t}}.".encode() + payload, hashlib.sha256).hexdigest()
assert verify_webhook(payload, f"t={{t}},v1={{sig}}", "whsec_x", 300)["id"] == "evt_1"
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code, *spec_excludes()], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
