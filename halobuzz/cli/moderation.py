"""`halobuzz moderation ...`: replay, eval, score, queue — operators' own checks."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta

import click

from .common import data_dir_option, fail, load_settings

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_span(text: str) -> timedelta:
    m = _SPAN.match(text or "")
    if not m:
        raise click.BadParameter(f"{text!r}: use a number and s, m, h, d or w (e.g. 1d, 12h)")
    return timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2)])


def _scorer(settings):
    from ..moderation.models import ModelError
    from ..moderation.text import TextScorer
    from ..resources import models_dir

    try:
        return TextScorer(models_dir(settings))
    except ModelError as exc:
        fail(f"moderation model problem: {exc}")


def _ro(settings):
    from ..db.connection import connect

    if not settings.db_path.exists():
        fail(f"no database at {settings.db_path} (run `halobuzz init`)")
    return connect(settings.db_path, readonly=True)


@click.group()
def moderation():
    """Moderation: replay thresholds, evaluate, score text, the review queue."""


@moderation.command("replay")
@click.option("--since", "since", default="1d", show_default=True, help="How far back: 30m, 12h, 1d, 2w")
@click.option("--warn", type=float, default=None, help="New warn threshold (default: the configured one)")
@click.option("--block", type=float, default=None, help="New block threshold (default: the configured one)")
@click.option("--kind", type=click.Choice(["text", "image"]), default="text", show_default=True)
@click.option("--show", default=10, show_default=True, help="Changed decisions to list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object")
@data_dir_option
def replay_cmd(since, warn, block, kind, show, as_json, data_dir):
    """What would change under new thresholds, from the stored decisions (no re-scoring).

    \b
    Example:
      halobuzz moderation replay --since 1d --warn 0.5 --block 0.85
    """
    from ..infra.clock import Clock
    from ..moderation import decisions
    from ..moderation.image import NSFW_MODEL_ID
    from ..moderation.policy import Thresholds
    from ..moderation.replay import replay
    from ..moderation.text import COMBINED_MODEL_ID

    settings = load_settings(data_dir)
    span = parse_span(since)
    if kind == "text":
        base = (settings.moderation_warn, settings.moderation_block)
    else:
        base = (settings.moderation_image_warn, settings.moderation_image_block)
    try:
        new = Thresholds(base[0] if warn is None else warn, base[1] if block is None else block)
    except ValueError as exc:
        fail(str(exc))
    conn = _ro(settings)
    try:
        rows = decisions.since(conn, kind, Clock().now() - span)
    finally:
        conn.close()
    model = COMBINED_MODEL_ID if kind == "text" else NSFW_MODEL_ID
    report = replay(rows, new, model_id=model)
    by_id = {r["id"]: r for r in rows}
    changes = [
        {
            "id": c.ref,
            "at": by_id[c.ref]["at"],
            "source": by_id[c.ref]["source"],
            "userId": by_id[c.ref]["user_id"],
            "subjectId": by_id[c.ref]["subject_id"],
            "score": round(c.score, 4),
            "from": c.old.value,
            "to": c.new.value,
        }
        for c in report.changes
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "since": since,
                    "kind": kind,
                    "thresholds": {"warn": new.warn, "block": new.block},
                    "total": report.total,
                    "changed": len(report.changes),
                    "unchanged": report.unchanged,
                    "stale": report.stale,
                    "transitions": {f"{o.value}->{n.value}": c for (o, n), c in report.transitions.items()},
                    "changes": changes[:show] if show else changes,
                }
            )
        )
        return
    click.echo(
        f"{kind} decisions since {since}: warn {new.warn:.2f} (now {base[0]:.2f}), "
        f"block {new.block:.2f} (now {base[1]:.2f})"
    )
    click.echo(report.summary())
    for c in changes[:show]:
        click.echo(f"  #{c['id']:<8} {c['at']}  {c['source']:<9} score {c['score']:.3f}  {c['from']} -> {c['to']}")


@moderation.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--threshold", type=float, default=None, help="Only this threshold (default: warn and block)")
@click.option("--errors", "show_errors", default=0, help="Also list this many misclassified lines")
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def eval_cmd(file, threshold, show_errors, as_json, data_dir):
    """Precision, recall and false-positive rate per language on a labelled JSONL file
    (lines {"text", "label": "toxic"|"clean", "lang"}), at the configured thresholds.
    Without FILE: the shipped corpus, dev split then held-out split, at the warn threshold.

    \b
    Examples:
      halobuzz moderation eval
      halobuzz moderation eval tests/data/moderation_dev.jsonl
    """
    from ..moderation.evaluate import evaluate, read_jsonl
    from ..resources import models_dir

    settings = load_settings(data_dir)
    if file:
        files = [("", file)]
    else:
        corpus = models_dir(settings) / "corpus"
        files = [(name, corpus / f"text_{split}.jsonl") for name, split in (("dev", "dev"), ("held-out", "heldout"))]
        missing = [str(f) for _, f in files if not f.is_file()]
        if missing:
            fail(f"no corpus at {', '.join(missing)} (pass a FILE)")
    scorer = _scorer(settings)
    results = {}
    for split, path in files:
        try:
            rows = read_jsonl(path)
        except ValueError as exc:
            fail(str(exc))
        scores = [v.score for v in scorer.score_batch([r["text"] for r in rows])]
        if threshold is not None:
            points = [("threshold", threshold)]
        elif file:
            points = [("warn", settings.moderation_warn), ("block", settings.moderation_block)]
        else:  # the corpus targets are stated at the warn threshold
            points = [("warn", settings.moderation_warn)]
        results[split] = [(name, evaluate(rows, scores, t)) for name, t in points]
    if as_json:
        out = {split or "file": {name: r.as_dict() for name, r in reports} for split, reports in results.items()}
        click.echo(json.dumps(out if not file else out["file"]))
        return
    first = True
    for split, reports in results.items():
        for name, r in reports:
            if not first:
                click.echo("")
            first = False
            click.echo(f"[{split + ' ' if split else ''}{name}] " + r.table())
            for e in r.errors[:show_errors]:
                click.echo(f"    {e['label']:<5} {e['lang']!s:<8} {e['score']:.3f}  {e['text'][:80]}")


@moderation.command("score")
@click.option("--batch", default=256, show_default=True, help="Lines scored per model call")
@data_dir_option
def score_cmd(batch, data_dir):
    """Score one message per stdin line; one JSON line out per message:
    {"text", "score", "action", "reasons"} at the configured thresholds.

    \b
    Example:
      printf 'hello\\nyou idiot\\n' | halobuzz moderation score
    """
    from ..moderation.policy import Thresholds, decide

    settings = load_settings(data_dir)
    try:
        th = Thresholds(settings.moderation_warn, settings.moderation_block)
    except ValueError as exc:
        fail(str(exc))
    scorer = _scorer(settings)
    out = sys.stdout
    chunk: list[str] = []

    def flush():
        for text, v in zip(chunk, scorer.score_batch(chunk)):
            d = decide(v.score, th, model_id=v.model_id, reasons=v.reasons)
            out.write(
                json.dumps(
                    {"text": text, "score": round(v.score, 4), "action": d.action.value, "reasons": list(v.reasons)},
                    ensure_ascii=False,
                )
                + "\n"
            )
        out.flush()
        chunk.clear()

    for raw in sys.stdin.buffer:
        # Binary or badly encoded input is scored as text with replacement characters, never a crash.
        chunk.append(raw.rstrip(b"\r\n").decode("utf-8", errors="replace"))
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()


@moderation.command("queue")
@click.option(
    "--status",
    type=click.Choice(["pending", "reviewed", "resolved", "appealed", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--type", "type_", type=click.Choice(["user", "stream", "message", "content"]), default=None)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line")
@data_dir_option
def queue_cmd(status, type_, limit, as_json, data_dir):
    """The review queue, oldest first (reports and automated flags).

    \b
    Example:
      halobuzz moderation queue --status pending --type message
    """
    from ..moderation import reports

    settings = load_settings(data_dir)
    conn = _ro(settings)
    try:
        page = reports.queue(conn, status=status, type=type_, limit=limit)
    finally:
        conn.close()
    for f in page["items"]:
        if as_json:
            click.echo(json.dumps(f))
            continue
        d = f.get("decision") or {}
        who = "system" if f["automated"] else f"report by {f['reporterId']}"
        score = f"{f['score']:.3f}" if f["score"] is not None else "  -  "
        click.echo(
            f"{f['id']}  {f['createdAt']}  {f['type']:<8} {f['action']:<6} {f['status']:<9} "
            f"score {score}  {who}: {f['reason']}"
        )
        subj = f.get("subject")
        if subj:
            w = subj["where"]
            where = (
                f"DM to @{w['recipient']['username']} (conversation {w['conversationId']})"
                if subj["kind"] == "dm"
                else f"room {w.get('streamTitle') or ''} ({w['streamId']})"
            )
            click.echo(f"    @{subj['author']['username']} in {where}, {subj['status']}: {subj['text']!r}")
        if d:
            crossed = f" >= {d['threshold']}" if d.get("threshold") is not None else ""
            click.echo(
                f"    {d['modelId']}: score {d['score']:.3f} {d['action']}{crossed} "
                f"(warn {d['thresholds']['warn']}, block {d['thresholds']['block']})"
                + (f"; {', '.join(d['reasons'])}" if d.get("reasons") else "")
            )
    if not page["items"] and not as_json:
        click.echo(f"no {status} flags")
