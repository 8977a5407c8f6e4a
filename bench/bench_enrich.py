"""Enrichment stage throughput vs the raw classifier: how much the stage adds around the model.

Input: N ~150-word business emails (`bench_classify.make_emails`, seed 7), written as .eml files
(one customer address per 40 mails, to `support@northwind-example.com`) and imported with
`intel.pipeline.sync_source` into a database that is then kept as the template (not timed).

Timed, in one run, with one classifier loaded once (`intel.enrich.load_classifier`, which the
stage itself uses) and after one untimed warm-up of each:

* **enrich end to end**: `intel.enrich.enrich(settings)` on a fresh copy of the template each
  repetition (the copy is not timed): open the store, count and read pending messages, score
  them in batches of `[enrich] batch_size`, write `message_insights`, record the load.
* **raw model, one call**: `load_classifier(models).predict(pairs)` on the same (subject,
  new_text) pairs as stored (read back from the template), all N in one call.
* **raw model, stage batches**: the same in batches of `batch_size`, as `score_batch` calls it,
  which separates the cost of batching from the cost of the database work.

The repetitions are interleaved (enrich, raw, raw in batches, in a rotating order), so a change
in the machine's load during the run affects the three alike and the ratio stays meaningful.

    .venv/bin/python bench/bench_enrich.py [--quick] [-n 1000] [--repeat 3]

Goal (issue 7): enrichment within 20% of the raw model speed (messages/s ratio >= 0.8). Writes
the "## Enrichment" section of bench/RESULTS.md (not with --quick unless --results is given).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_classify import make_emails
from common import Timing, load_average, machine_line, markdown_table, text_table, time_runs, utc_now, write_section

TITLE = "Enrichment"
GOAL_RATIO = 0.8
OUR_DOMAIN = "northwind-example.com"
SOURCE = "mail"


def write_emls(directory: Path, emails: list[tuple[str, str]]) -> None:
    """One .eml file per email: a customer writing to support, a minute apart."""
    directory.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for i, (subject, body) in enumerate(emails):
        message = EmailMessage()
        message["From"] = f"Customer {i // 40} <customer{i // 40}@client{i % 7}-example.com>"
        message["To"] = f"Support <support@{OUR_DOMAIN}>"
        message["Subject"] = subject
        message["Date"] = format_datetime(start + timedelta(minutes=i))
        message["Message-ID"] = f"<bench-enrich-{i}@client{i % 7}-example.com>"
        message.set_content(body)
        (directory / f"{i:05d}.eml").write_bytes(bytes(message))


def settings_for(database: Path, mail: Path, threads: int | None = None) -> Any:
    from intel.config import Settings

    return Settings(
        storage={"database": database},
        identity={"addresses": [f"*@{OUR_DOMAIN}"]},
        source=[{"name": SOURCE, "type": "eml", "path": mail}],
        models={} if threads is None else {"threads": threads},
    )


def build_template(work: Path, n: int) -> tuple[Path, Path]:
    """Write the .eml files and import them; returns (mail directory, template database)."""
    from intel.pipeline import sync_source

    mail = work / "mail"
    write_emls(mail, make_emails(n))
    template = work / "template.duckdb"
    result = sync_source(settings_for(template, mail), SOURCE)
    if result.new != n:
        raise RuntimeError(f"imported {result.new} of {n} messages")
    return mail, template


def stored_pairs(template: Path) -> list[tuple[str, str]]:
    """(subject, new_text) of every message, in the order the stage reads them."""
    from intel.store import open_snapshot

    con = open_snapshot(template)
    try:
        rows = con.execute("SELECT subject, new_text FROM messages ORDER BY sent_at, message_key").fetchall()
    finally:
        con.close()
    return [(subject or "", text or "") for subject, text in rows]


def distinct_inputs(pairs: list[tuple[str, str]], batch_size: int) -> tuple[int, int, int] | None:
    """(strings the encoder is given, distinct ones in one call, distinct ones summed over batches).

    The encoder encodes each distinct string of a call once (the email texts plus, for intent,
    every sentence of each email), so how much of the input repeats decides how much one big
    call saves over the stage's batches. None if the classifier's internals moved.
    """
    try:
        from intel.nlp.encoder import email_text
        from intel.nlp.intents import split_sentences
    except ImportError:
        return None

    def strings(items: list[tuple[str, str]]) -> list[str]:
        texts = [email_text(subject, text) for subject, text in items]
        for _, text in items:
            parts = split_sentences(text)
            texts.extend(parts if len(parts) >= 2 else [])
        return texts

    every = strings(pairs)
    batched = sum(len(set(strings(pairs[i : i + batch_size]))) for i in range(0, len(pairs), batch_size))
    return len(every), len(set(every)), batched


def measure(n: int, repeat: int, threads: int | None, log: Callable[[str], None]) -> dict[str, Any]:
    from intel.enrich import enrich, load_classifier

    with tempfile.TemporaryDirectory(prefix="bench-enrich-") as tmp:
        work = Path(tmp)
        log(f"writing {n} .eml files and importing them ...")
        mail, template = build_template(work, n)
        pairs = stored_pairs(template)
        words = sum(len(t.split()) for _, t in pairs) / len(pairs)
        settings = settings_for(work / "run.duckdb", mail, threads)
        batch_size = settings.enrich.batch_size
        log("loading the classifier ...")
        classifier = load_classifier(settings.models)

        def fresh_copy() -> None:
            for leftover in work.glob("run.duckdb*"):
                leftover.unlink()
            shutil.copyfile(template, work / "run.duckdb")

        scored: list[int] = []

        def stage() -> int:
            result = enrich(settings)
            scored.append(result.scored)
            return result.scored

        def raw_one_call() -> int:
            return len(classifier.predict(pairs))

        def raw_batches() -> int:
            return sum(len(classifier.predict(pairs[i : i + batch_size])) for i in range(0, len(pairs), batch_size))

        runs: dict[str, tuple[Callable[[], int], Callable[[], None] | None]] = {
            "enrich": (stage, fresh_copy),
            "raw": (raw_one_call, None),
            "raw_batches": (raw_batches, None),
        }
        log("warm-up: one enrich run and one raw call ...")
        fresh_copy()
        stage()
        raw_one_call()  # the batched raw runs have the enrich run's batch shapes, warmed above
        scored.clear()
        # Interleaved (in a rotating order), so that a change in the machine's load during the
        # run hits all three alike and their ratio stays meaningful.
        measured: dict[str, list[Timing]] = {key: [] for key in runs}
        keys = list(runs)
        for rep in range(repeat):
            log(f"repetition {rep + 1} of {repeat} ...")
            for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
                body, setup = runs[key]
                measured[key].append(time_runs(body, 1, setup=setup))
        timings = {
            key: Timing([s for t in ts for s in t.seconds], ts[0].count, [c for t in ts for c in t.cpu_seconds])
            for key, ts in measured.items()
        }
        if any(s != n for s in scored):
            raise RuntimeError(f"enrich scored {scored} messages, expected {n} each time")
        encoder = classifier.encoder_
        return {
            "distinct": distinct_inputs(pairs, batch_size),
            "timings": timings,
            "words": words,
            "batch_size": batch_size,
            "threads": settings.models.threads,
            "bf16": getattr(encoder, "bf16_active_", "?"),
            "max_length": getattr(encoder, "max_length", "?"),
        }


def rows(r: dict[str, Any]) -> list[list[str]]:
    t: dict[str, Timing] = r["timings"]
    raw = t["raw"].rate
    labels = {
        "enrich": "`enrich(settings)` end to end (read, score, write)",
        "raw": "raw `Classifier.predict`, all messages in one call",
        "raw_batches": f"raw `Classifier.predict`, batches of {r['batch_size']}",
    }
    return [
        [
            label,
            f"{t[key].median:.2f}",
            f"{t[key].rate:.1f}",
            t[key].spread,
            f"{t[key].cpu_ms_per_item:.1f}",
            f"{t[key].rate / raw:.2f}",
        ]
        for key, label in labels.items()
    ]


def _distinct_note(result: dict[str, Any]) -> str:
    distinct = result["distinct"]
    if distinct is None:
        return ""
    given, one_call, batched = distinct
    return (
        f" The encoder encodes each distinct string of a call once: these emails give it {given:,} strings "
        f"(texts and, for intent, their sentences), of which {one_call:,} are distinct in one call but "
        f"{batched:,} summed over batches of {result['batch_size']} (the generator reuses a pool of sentences), "
        "so the one-call rate is partly a property of this input."
    )


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 emails; RESULTS.md untouched")
    parser.add_argument("-n", type=int, default=1000, help="emails (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after a warm-up (default 3)")
    parser.add_argument("--results", type=Path, default=None, help="write the section to this file")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads ([models] threads; default: the config default). On a machine whose cores are"
        " already busy, 1 avoids torch's threads spinning against each other",
    )
    args = parser.parse_args(argv)
    n = 100 if args.quick else args.n

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    load_before = load_average()
    result = measure(n, args.repeat, args.threads, log)
    load_after = load_average()
    t: dict[str, Timing] = result["timings"]
    ratio = t["enrich"].rate / t["raw"].rate
    ratio_batches = t["enrich"].rate / t["raw_batches"].rate
    # CPU per message is less disturbed by other work on the machine than wall-clock rates.
    cpu_ratio = t["raw"].cpu_ms_per_item / t["enrich"].cpu_ms_per_item
    cpu_ratio_batches = t["raw_batches"].cpu_ms_per_item / t["enrich"].cpu_ms_per_item
    verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
    headers = ["run", "median s", "messages/s", "min-max/s", "CPU ms/msg", "vs raw"]
    table_rows = rows(result)
    print(text_table(headers, [[c.replace("`", "") for c in row] for row in table_rows]))
    note = _distinct_note(result).strip()
    if note:
        print(note)
    print(
        f"enrich / raw = {ratio:.2f} (goal >= {GOAL_RATIO}: {verdict}); vs raw in stage batches {ratio_batches:.2f}; "
        f"by CPU per message {cpu_ratio:.2f} and {cpu_ratio_batches:.2f}; "
        f"load average {load_before} before, {load_after} after"
    )
    if args.quick and args.results is None:
        return 0
    markdown = "\n".join(
        [
            f"Measured {utc_now()} by `bench/bench_enrich.py` on {machine_line()}; load average {load_before} "
            f"before, {load_after} after (other work on the machine slows wall-clock rates).",
            "",
            f"{n} emails of ~{result['words']:.0f} words (`bench_classify.make_emails`) written as .eml and "
            f"imported with `sync_source`; sentiment + intent + emotion, torch threads: {result['threads']}, "
            f"bf16 autocast: {result['bf16']}, max {result['max_length']} tokens. The classifier is loaded once "
            f"(`load_classifier`); each row is the median of {args.repeat} runs after a warm-up, and every "
            "`enrich` run starts from a fresh copy of the imported database (the copy is not timed). CPU ms/msg "
            "counts every thread of the process.",
            "",
            markdown_table(headers, table_rows),
            "",
            f"Goal: enrichment within 20% of the raw model (ratio >= {GOAL_RATIO}): **{verdict}** "
            f"({ratio:.2f}; {ratio_batches:.2f} against the model called in the stage's own batches). "
            f"By CPU time per message, which other work on the machine disturbs less: {cpu_ratio:.2f} against "
            f"one call, {cpu_ratio_batches:.2f} against the stage's batches.{_distinct_note(result)}",
        ]
    )
    write_section(TITLE, markdown, args.results or Path(__file__).resolve().parent / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
