"""Text moderation speed: per-message latency (incl. normalisation) and batched throughput.

    python -m bench.moderation_text [--seconds 2] [--json out.json]

Baseline in the same run: a bare ``session.run`` of each ONNX graph (the English
model and the multilingual char n-gram model) on pre-featurised input (what
onnxruntime alone costs); ratios are to the two bare calls together.  Targets
(docs performance.md): p99 <= 50 us per message, >= 100k msgs/s batched.
The corpus is synthetic live-stream chat (mostly ordinary messages, ~8 %
abusive, English / romanized Nepali / Devanagari / Hinglish), every message
distinct.  The scorer keeps bounded caches per word (normal form, lexicon
class, vocabulary weight) and per feature row (model score, extra model
check), so the "corpus" rows, which loop over the same 4000 messages for the
time budget, run warm; the "stream" rows score fresh messages exactly once
each (their words and feature rows may still repeat, as in real chat).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from halobuzz.moderation.normalize import normalize
from halobuzz.moderation.text import TextScorer

DEV = Path(__file__).resolve().parents[1] / "tests" / "data" / "moderation_dev.jsonl"

_OPENERS = ["", "", "lol ", "bro ", "dai ", "bhai ", "omg ", "haha ", "yo ", "wow ", "ok ", "hey "]
_BODIES = [
    "nice stream",
    "gg wp",
    "what song is this",
    "play despacito",
    "where are you from",
    "hello from pokhara",
    "this game is fun",
    "who won the last round",
    "kati baje live aaunu huncha",
    "ramro cha",
    "kya baat hai",
    "mast gaana",
    "love from delhi",
    "first time here",
    "how old is this game",
    "can you say hi to me",
    "that was close",
    "nice shot",
    "happy birthday",
    "thanks for the gift",
    "khana khanu bhayo",
    "sahi hai",
    "नमस्ते दाइ",
    "राम्रो गीत",
    "which mic do you use",
    "volume is low",
    "lag ho raha hai",
    "stream is laggy",
    "i just followed",
    "send me the link",
    "good night everyone",
    "see you tomorrow",
    "what rank are you",
]
_TOXIC = [
    "fuck you",
    "you are an idiot",
    "muji",
    "chutiya",
    "stfu noob",
    "kys",
    "tero muji",
    "madarchod",
    "you suck",
    "piece of shit",
    "मुजी",
    "randi",
    "send nudes",
    "sh1t streamer",
    "f u c k off",
]
_TAILS = ["", "", "", "!", "!!", " :)", " 😂", " 🔥", "?", " haha", " lol", " ❤️"]


def corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        body = rng.choice(_TOXIC) if rng.random() < 0.08 else rng.choice(_BODIES)
        msg = f"{rng.choice(_OPENERS)}{body}{rng.choice(_TAILS)}"
        if rng.random() < 0.5:
            msg += f" {rng.choice(_BODIES)}"
        if rng.random() < 0.3:
            msg += f" #{rng.randrange(10_000)}"
        out.add(msg)
    return sorted(out, key=lambda _: rng.random())


def percentiles(samples: list[float]) -> tuple[float, float]:
    a = np.array(samples) * 1e6
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def time_each(fn, items, budget: float) -> list[float]:
    out = []
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline:
        for x in items:
            t = time.perf_counter()
            fn(x)
            out.append(time.perf_counter() - t)
    return out


def time_each_once(fn, items) -> list[float]:
    out = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t)
    return out


def throughput(fn, batches, n_per_pass: int, budget: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        for b in batches:
            fn(b)
        done += n_per_pass
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per measurement")
    ap.add_argument("--messages", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--stream", type=int, default=20000, help="fresh messages scored once each")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    scorer = TextScorer()
    msgs = corpus(args.messages)
    dev = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines()]
    for m in msgs[:500]:
        scorer.score(m)  # warm up

    # raw baseline: onnxruntime alone on pre-featurised input
    feats = [scorer.features(normalize(m)) for m in msgs]
    singles = [scorer._arrays([f]) for f in feats]
    sess = scorer.session
    raw_single = time_each(lambda a: sess.run(["score"], {"ids": a[0], "weights": a[1]}), singles, args.seconds)
    pre_batches = [scorer._arrays(feats[i : i + args.batch]) for i in range(0, len(feats), args.batch)]
    raw_batch = throughput(
        lambda a: sess.run(["score"], {"ids": a[0], "weights": a[1]}), pre_batches, len(feats), args.seconds
    )

    # the same for the multilingual char n-gram model (the scorer runs both graphs)
    char = scorer.char
    cfeats = [char.row(normalize(m).split()) for m in msgs]
    csess = char.model.session

    def char_arrays(rows):
        width = max(1, max(map(len, rows)))
        ids = np.full((len(rows), width), char.pad, np.int64)
        for k, r in enumerate(rows):
            ids[k, : len(r)] = r
        scale = np.array([len(r) ** -0.5 if r else 0.0 for r in rows], np.float32)
        return ids, scale

    csingles = [char_arrays([f]) for f in cfeats]
    raw_char_single = time_each(lambda a: csess.run(["score"], {"ids": a[0], "scale": a[1]}), csingles, args.seconds)
    cbatches = [char_arrays(cfeats[i : i + args.batch]) for i in range(0, len(cfeats), args.batch)]
    raw_char_batch = throughput(
        lambda a: csess.run(["score"], {"ids": a[0], "scale": a[1]}), cbatches, len(cfeats), args.seconds
    )

    ours_single = time_each(scorer.score, msgs, args.seconds)
    dev_single = time_each(scorer.score, dev, args.seconds / 2)
    text_batches = [msgs[i : i + args.batch] for i in range(0, len(msgs), args.batch)]
    ours_batch = throughput(scorer.score_batch, text_batches, len(msgs), args.seconds)

    # each message once: fresh messages the scorer has never seen
    seen = set(msgs)
    fresh = [m for m in corpus(2 * args.stream, seed=99) if m not in seen]
    once_single, once_batch = fresh[: args.stream], fresh[args.stream :]
    stream_single = time_each_once(scorer.score, once_single)
    t0 = time.perf_counter()
    for i in range(0, len(once_batch), args.batch):
        scorer.score_batch(once_batch[i : i + args.batch])
    stream_batch = len(once_batch) / (time.perf_counter() - t0)

    c50, c99 = percentiles(raw_char_single)
    r50, r99 = percentiles(raw_single)
    # both bare calls, one message: what onnxruntime alone costs per message for the two graphs
    both50 = r50 + c50
    raw_both_batch = 1 / (1 / raw_batch + 1 / raw_char_batch)
    o50, o99 = percentiles(ours_single)
    d50, d99 = percentiles(dev_single)
    s50, s99 = percentiles(stream_single)
    rows = [
        ("raw session.run English, 1 msg", f"{r50:8.1f}", f"{r99:8.1f}", ""),
        ("raw session.run char n-gram, 1 msg", f"{c50:8.1f}", f"{c99:8.1f}", ""),
        ("score() incl. normalise+lexicon, chat mix", f"{o50:8.1f}", f"{o99:8.1f}", f"{o50 / both50:5.2f}x raw p50s"),
        ("score(), dev set (hard cases)", f"{d50:8.1f}", f"{d99:8.1f}", f"{d50 / both50:5.2f}x raw p50s"),
        ("score(), stream (each message once)", f"{s50:8.1f}", f"{s99:8.1f}", f"{s50 / both50:5.2f}x raw p50s"),
    ]
    print(f"text moderation ({len(msgs)} distinct chat messages, batch {args.batch}, 1 intra-op thread)")
    print(f"{'':44}{'p50 us':>8}{'p99 us':>9}")
    for name, p50, p99, note in rows:
        print(f"{name:44}{p50}{' ' + p99}  {note}")
    print(f"{'raw session.run English, batched':44}{raw_batch:12,.0f} msgs/s")
    print(f"{'raw session.run char n-gram, batched':44}{raw_char_batch:12,.0f} msgs/s")
    print(f"{'raw, both graphs batched':44}{raw_both_batch:12,.0f} msgs/s")
    print(
        f"{'score_batch() incl. everything':44}{ours_batch:12,.0f} msgs/s   "
        f"({ours_batch / raw_both_batch:.3f}x raw both)"
    )
    print(
        f"{'score_batch() stream (each message once)':44}{stream_batch:12,.0f} msgs/s   "
        f"({stream_batch / raw_both_batch:.3f}x raw both)"
    )
    for label, p99, batch in (("corpus", o99, ours_batch), ("stream", s99, stream_batch)):
        ok_p99, ok_batch = p99 <= 50, batch >= 100_000
        print(
            f"targets ({label}): p99 <= 50 us: {'PASS' if ok_p99 else 'MISS'} ({p99:.1f});"
            f" batched >= 100k msgs/s: {'PASS' if ok_batch else 'MISS'} ({batch:,.0f})"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "raw_p50_us": r50,
                    "raw_p99_us": r99,
                    "raw_char_p50_us": c50,
                    "raw_char_p99_us": c99,
                    "raw_char_batch_msgs_s": raw_char_batch,
                    "raw_both_batch_msgs_s": raw_both_batch,
                    "p50_us": o50,
                    "p99_us": o99,
                    "dev_p50_us": d50,
                    "dev_p99_us": d99,
                    "raw_batch_msgs_s": raw_batch,
                    "batch_msgs_s": ours_batch,
                    "stream_p50_us": s50,
                    "stream_p99_us": s99,
                    "stream_batch_msgs_s": stream_batch,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
