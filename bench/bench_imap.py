"""IMAP sync speed: 20,000 messages from a local Dovecot over IMAPS into DuckDB.

Measures, in one run against one folder:

* a bare imaplib batched ``UID FETCH`` of the folder (what the network and server allow),
* ``intel``'s full sync of the same folder (fetch, hash, parse, write to DuckDB),
* a re-sync with nothing new.

Needs Dovecot and openssl (``scripts/install-system-deps.sh``). Writes its section of
``bench/RESULTS.md`` (the ``## IMAP sync`` heading; other sections are left alone).

    python bench/bench_imap.py [--messages 20000] [--no-write]
"""

from __future__ import annotations

import argparse
import imaplib
import os
import platform
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intel.config import ImapSource, Settings  # noqa: E402
from intel.pipeline import sync_source  # noqa: E402
from intel.sources.base import SourceState  # noqa: E402
from intel.sources.imap import ImapReader, uid_set  # noqa: E402
from tests.integration.conftest import DovecotServer, Mailbox, dovecot_binary  # noqa: E402

__all__ = ["main"]

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## IMAP sync"
FETCH_BATCH = 200
WORDS = [
    "order", "invoice", "delivery", "meeting", "schedule", "contract", "renewal", "question", "thanks", "issue",
    "support", "update", "payment", "refund", "shipment", "account", "access", "report", "quarter", "budget",
    "proposal", "review", "call", "tomorrow",
]  # fmt: skip


def _message(n: int, rng: random.Random, when: datetime) -> bytes:
    """A plausible business email of 1-6 KB: a few paragraphs, a quote, a signature."""
    msg = EmailMessage()
    customer = f"customer{n % 500}@client{n % 37}.example"
    inbound = n % 4 != 0
    msg["From"] = customer if inbound else "me@example.com"
    msg["To"] = "me@example.com" if inbound else customer
    msg["Subject"] = f"Re: {' '.join(rng.choices(WORDS, k=4))} #{n // 3}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<bench-{n}@example.com>"
    if n % 3:
        msg["In-Reply-To"] = f"<bench-{n - 1}@example.com>"
    paragraphs = [
        " ".join(rng.choices(WORDS, k=rng.randint(20, 90))).capitalize() + "." for _ in range(rng.randint(1, 5))
    ]
    quote = "\n".join("> " + " ".join(rng.choices(WORDS, k=12)) for _ in range(rng.randint(0, 15)))
    signature = f"--\nJane Doe\nAccount Manager, Client{n % 37} Ltd\n+1 555 0100 {n % 100:02d}\n"
    msg.set_content("Hello,\n\n" + "\n\n".join(paragraphs) + "\n\n" + quote + "\n\nBest regards,\n" + signature)
    return msg.as_bytes()


def seed(mailbox: Mailbox, count: int) -> int:
    """Write `count` messages into INBOX; returns their total size."""
    rng = random.Random(20_000)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    total = 0
    for n in range(count):
        when = start + timedelta(minutes=37 * n)
        data = _message(n, rng, when)
        total += len(data)
        mailbox.add("INBOX", data, received=when)
    return total


def bare_fetch(mailbox: Mailbox) -> tuple[float, int, int]:
    """Seconds, messages and bytes for a plain imaplib batched fetch of INBOX over IMAPS."""
    import ssl

    context = ssl.create_default_context(cafile=str(mailbox.server.ca_file))
    began = time.perf_counter()
    imap = imaplib.IMAP4_SSL("127.0.0.1", mailbox.server.port("imap", "ssl"), ssl_context=context)
    imap.login(mailbox.user, mailbox.password)
    imap.select("INBOX", readonly=True)
    _typ, data = imap.uid("SEARCH", "ALL")
    uids = [int(u) for u in data[0].split()]
    messages = size = 0
    for start in range(0, len(uids), FETCH_BATCH):
        _typ, fetched = imap.uid("FETCH", uid_set(uids[start : start + FETCH_BATCH]), "(UID INTERNALDATE BODY.PEEK[])")
        for item in fetched:
            if isinstance(item, tuple):
                messages += 1
                size += len(item[1])
    imap.logout()
    return time.perf_counter() - began, messages, size


def warm(mailbox: Mailbox) -> float:
    """Open the folder once so Dovecot builds its index (a one-time server cost, not ours)."""
    began = time.perf_counter()
    imap = imaplib.IMAP4("127.0.0.1", mailbox.server.port("imap", "none"))
    imap.login(mailbox.user, mailbox.password)
    imap.select("INBOX", readonly=True)
    imap.uid("FETCH", "1:*", "(UID INTERNALDATE RFC822.SIZE)")
    imap.logout()
    return time.perf_counter() - began


def reader_only(mailbox: Mailbox) -> tuple[float, int]:
    """Seconds and messages for `intel`'s IMAP reader alone: batches out, nothing parsed or stored."""
    config = ImapSource(**mailbox.source(name="bench", batch_size=FETCH_BATCH, timeout=60.0))
    state = SourceState(cursors={}, known_locations=lambda _folder: set())
    began = time.perf_counter()
    count = sum(len(batch.messages) for batch in ImapReader(config).batches(state, 1000))
    return time.perf_counter() - began, count


def intel_sync(mailbox: Mailbox, database: Path) -> tuple[float, int, int]:
    """Seconds, messages seen and new for `intel`'s sync of the mailbox into `database`."""
    settings = Settings(
        storage={"database": database},
        identity={"addresses": ["me@example.com"]},
        source=[mailbox.source(name="bench", batch_size=FETCH_BATCH, timeout=60.0)],
    )
    began = time.perf_counter()
    result = sync_source(settings, "bench")
    return time.perf_counter() - began, result.seen, result.new


def _row(what: str, seconds: float, messages: int, megabytes: float) -> str:
    return f"| {what} | {seconds:.2f} | {messages / seconds:,.0f} | {megabytes / seconds:.1f} |"


def write_section(text: str) -> None:
    """Replace the ``## IMAP sync`` section of RESULTS.md (or append it)."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    section = text.rstrip("\n") + "\n\n"
    if pattern.search(current):
        updated = pattern.sub(lambda _m: section, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 messages, RESULTS.md untouched")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.no_write = 500, True

    binary = dovecot_binary()
    if binary is None:
        print("bench_imap: dovecot is not installed (scripts/install-system-deps.sh)", file=sys.stderr)
        return 2
    server = DovecotServer(binary)
    server.start()
    try:
        mailbox = server.new_mailbox()
        os.environ[mailbox.password_env] = mailbox.password
        began = time.perf_counter()
        total_bytes = seed(mailbox, args.messages)
        seeded = time.perf_counter() - began
        indexed = warm(mailbox)
        bare_s, bare_n, bare_bytes = bare_fetch(mailbox)
        reader_s, reader_n = reader_only(mailbox)
        with tempfile.TemporaryDirectory(prefix="bench-imap-") as tmp:
            database = Path(tmp) / "bench.duckdb"
            sync_s, seen, new = intel_sync(mailbox, database)
            resync_s, reseen, _ = intel_sync(mailbox, database)
            db_mb = database.stat().st_size / 1e6
    finally:
        server.stop()

    assert bare_n == reader_n == args.messages and seen == args.messages and new == args.messages and reseen == 0
    mb = total_bytes / 1e6
    lines = [
        HEADING,
        "",
        f"`python bench/bench_imap.py` on {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Dovecot over IMAPS on 127.0.0.1.",
        f"One folder of {args.messages:,} messages ({mb:.1f} MB, {total_bytes // args.messages:,} bytes on average); "
        f"UID FETCH batches of {FETCH_BATCH}.",
        "",
        "| what | seconds | messages/s | MB/s |",
        "| --- | ---: | ---: | ---: |",
        _row("bare imaplib batched UID FETCH (BODY.PEEK[])", bare_s, bare_n, bare_bytes / 1e6),
        _row("`intel` IMAP reader alone (batches out, nothing parsed or stored)", reader_s, reader_n, mb),
        _row("`intel` sync end to end (fetch, hash, parse, DuckDB)", sync_s, seen, mb),
        f"| `intel` re-sync, nothing new | {resync_s:.2f} | - | - |",
        "",
        f"Goal: >= 3,000 messages/s end to end; re-sync < 1 s. Database after the sync: {db_mb:.0f} MB. "
        f"(Not timed: writing the Maildir, {seeded:.1f} s; Dovecot's first indexing of the folder, {indexed:.1f} s.)",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
