"""Signature + activity extraction speed: emails per second on 1,000 realistic emails.

Input: the demo generator (intel/demo.py) run with several seeds other than the demo's own,
rendered to RFC 822, parsed by `intel.parse.parse_message`, and the first N bodies taken (quotes,
signatures, disclaimers, mobile footers, meetings and tasks included). What is timed is exactly what the
pipeline stage runs per message: `Extractor.extract` (signature line classifier, contact fields
with spaCy only where the rules leave a field open, activities with resolved dates), one process.

    .venv/bin/python bench/bench_extract.py [--quick] [-n 1000] [--repeat 3]

Goal (issue 6): at least 200 emails/s on this 2-core machine. Writes the "## Signature and
activity extraction" section of bench/RESULTS.md (not with --quick unless --results is given).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (
    Timing,
    load_average,
    machine_info,
    machine_line,
    markdown_table,
    text_table,
    time_runs,
    utc_now,
    write_section,
)

TITLE = "Signature and activity extraction"
SEEDS = (101, 202, 303, 404, 505)


def load_emails(n: int) -> list[tuple[str, str, datetime, tuple[str, ...]]]:
    from intel.nlp.evaluation import demo_emails

    emails: list[tuple[str, str, datetime, tuple[str, ...]]] = []
    for seed in SEEDS:
        for e in demo_emails(seed):
            emails.append((e.body_text, e.sender, e.sent_at, e.recipients))
            if len(emails) >= n:
                return emails
    while len(emails) < n:  # more seeds than needed is cheap; this only guards small SEEDS
        emails.extend(emails[: n - len(emails)])
    return emails


def run(n: int, repeat: int) -> dict[str, object]:
    from intel.nlp.extract import Extractor

    started = time.perf_counter()
    emails = load_emails(n)
    prepared = time.perf_counter() - started
    load_started = time.perf_counter()
    extractor = Extractor().load()
    load_seconds = time.perf_counter() - load_started
    counts = {"signatures": 0, "activities": 0}

    def body() -> int:
        counts["signatures"] = counts["activities"] = 0
        for text, sender, sent_at, recipients in emails:
            found = extractor.extract(text, sender, sent_at=sent_at, recipients=recipients)
            counts["signatures"] += found.signature.found
            counts["activities"] += len(found.activities)
        return len(emails)

    body()  # warm-up: spaCy loads here if any signature needs it
    full = time_runs(body, repeat)

    def signature_only() -> int:
        for text, sender, sent_at, _ in emails:
            extractor.signature(text, sender, sent_at=sent_at)
        return len(emails)

    sig = time_runs(signature_only, repeat)
    rules = Extractor(use_spacy=False).load()

    def rules_only() -> int:
        for text, sender, sent_at, recipients in emails:
            rules.extract(text, sender, sent_at=sent_at, recipients=recipients)
        return len(emails)

    no_spacy = time_runs(rules_only, repeat)
    return {
        "n": len(emails),
        "prepare_seconds": prepared,
        "load_seconds": load_seconds,
        "full": full,
        "signature": sig,
        "no_spacy": no_spacy,
        "signatures": counts["signatures"],
        "activities": counts["activities"],
        "spacy_calls": extractor.spacy.calls if extractor.spacy else 0,
    }


def _rows(r: dict[str, object]) -> list[list[str]]:
    def row(label: str, t: object) -> list[str]:
        assert isinstance(t, Timing)
        return [label, f"{t.median:.2f}", f"{t.rate:,.0f}", t.spread, f"{t.cpu_ms_per_item:.2f}"]

    return [
        row("signature + contact + activities (what the stage runs)", r["full"]),
        row("signature + contact only", r["signature"]),
        row("signature + contact + activities, spaCy off", r["no_spacy"]),
    ]


HEADERS = ["run", "median s", "emails/s", "min-max emails/s", "CPU ms/email"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 emails, one repetition, RESULTS.md untouched")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--results", type=Path, default=None, help="write the section to this file")
    args = parser.parse_args(argv)
    n, repeat = (100, 1) if args.quick else (args.n, args.repeat)
    info = machine_info()
    r = run(n, repeat)
    full = r["full"]
    assert isinstance(full, Timing)
    print(text_table(HEADERS, _rows(r)))
    verdict = "met" if full.rate >= 200 else "NOT met"
    summary = (
        f"{r['n']} emails: {r['signatures']} signatures, {r['activities']} activities found; "
        f"spaCy asked {r['spacy_calls']} times; model load {r['load_seconds']:.2f}s; goal >= 200 emails/s: {verdict}"
    )
    print(summary)
    if args.quick and args.results is None:
        return 0
    markdown = "\n".join(
        [
            f"`bench/bench_extract.py`, {utc_now()}, load average {load_average()}, on {machine_line(info)}.",
            "",
            f"Input: {r['n']} emails from the demo generator with seeds {', '.join(map(str, SEEDS))} (not the demo's "
            "own), parsed like the pipeline does (bodies with quotes, signatures, disclaimers, mobile footers, "
            "meetings, calls and tasks). One process; median of "
            f"{repeat} runs after a warm-up run.",
            "",
            markdown_table(HEADERS, _rows(r)),
            "",
            summary + ".",
        ]
    )
    write_section(TITLE, markdown, args.results or Path(__file__).resolve().parent / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
