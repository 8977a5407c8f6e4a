"""Benchmark: importing an mbox into DuckDB, against a plain `mailbox` + `email.parser` loop.

Generates a deterministic, realistic mbox (business threads with quoting and signatures,
multipart/alternative HTML, small attachments, encoded non-ASCII headers) under
``bench/.work/`` and measures, in one run:

1. end to end: ``intel.pipeline.sync_source`` into a fresh database, then ``thread_messages``;
2. the parser alone: ``split_mbox`` + ``parse_message``, one process;
3. the baseline: ``mailbox.mbox`` + ``email.parser.BytesParser`` (policy default and compat32),
   reading each message's body text;
4. peak memory of a child process importing mailboxes of growing size;
5. re-importing the same file when nothing is new.

Usage: ``python bench/bench_import.py [--quick] [-n N] [--repeat R] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import email.policy
import html
import io
import json
import mailbox
import mmap
import os
import pstats
import random
import shutil
import sys
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from common import (
    RESULTS_PATH,
    WORK_DIR,
    Timing,
    TreeMonitor,
    load_average,
    machine_info,
    machine_line,
    markdown_table,
    run_child,
    text_table,
    time_runs,
    utc_now,
    write_section,
)

SECTION = "mbox import"
GOAL_RATE = 3000.0  # messages per second end to end (sync), on the reference 2-core machine
# "Does not grow with mailbox size": doubling the mailbox (the two largest sizes) may add at most
# 10% to the peak. DuckDB fills its buffer pool up to storage.memory_limit (256 MB by default)
# on the way to that plateau, so the smallest size is reported too, but it is not the criterion.
MEMORY_GROWTH_LIMIT = 1.10
GENERATOR_VERSION = 2  # bump when the generated mail changes, so cached files are rebuilt
SOURCE_NAME = "bench"
OUR_DOMAIN = "northwind-example.com"

# --- a deterministic generator of realistic business mail ------------------------------------

_FIRST = [
    "Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hiro", "Ingrid", "James", "Kate", "Liam",
    "Maria", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Sam", "Tom", "Uma", "Victor", "Wei", "Yara",
]  # fmt: skip
_FIRST_NON_ASCII = ["José", "Zoë", "Jürgen", "Łukasz", "Søren", "François", "Chloé", "Björn", "Renée", "Åsa", "Siobhán"]
_LAST = [
    "Smith", "Johnson", "Patel", "Nguyen", "Brown", "Schmidt", "Rossi", "Kowalski", "Dubois", "Tanaka",
    "O'Brien", "Garcia", "Fischer", "Walker", "Lindqvist", "Meyer", "Costa", "Jansen", "Novak", "Evans",
]  # fmt: skip
_LAST_NON_ASCII = ["Müller", "Núñez", "Østergaard", "Dvořák", "Çelik", "Sánchez"]
_NON_ASCII_NAME = 0.08  # per name part: about a third of messages then carry an RFC 2047 encoded name
_COMPANIES = [
    ("Acme Logistics", "acme-logistics.example"), ("Bluefin Retail", "bluefin-retail.example"),
    ("Cedar Health", "cedarhealth.example"), ("Delta Fabrication", "deltafab.example"),
    ("Evergreen Foods", "evergreen-foods.example"), ("Fjord Shipping AS", "fjordship.example"),
    ("Globex Consulting", "globex.example"), ("Helios Energy", "helios-energy.example"),
    ("Ironbridge Bank", "ironbridge.example"), ("Juniper Software", "junipersw.example"),
    ("Kestrel Media", "kestrel.example"), ("Lumen Optics GmbH", "lumen-optics.example"),
    ("Meridian Hotels", "meridianhotels.example"), ("Nordlys Design", "nordlys.example"),
    ("Orchard Legal LLP", "orchardlegal.example"), ("Pioneer Tools", "pioneertools.example"),
    ("Quartz Analytics", "quartz-analytics.example"), ("Riverside Clinic", "riverside.example"),
    ("Société Lumière", "lumiere.example"), ("Tundra Outdoor", "tundra.example"),
]  # fmt: skip
_TITLES = [
    "Account Manager", "Head of Procurement", "Operations Director", "Customer Success Lead",
    "Finance Controller", "Project Manager", "CTO", "Sales Executive", "Office Manager", "Buyer",
]  # fmt: skip
_PRODUCTS = [
    "the X200 scanner", "pallet racking", "the annual license", "cold-chain boxes", "the API plan",
    "printer toner", "the maintenance contract", "conference room booking", "LED panels", "the Pro tier",
]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_TIMES = ["9:00", "10:30", "11:00", "13:00", "14:30", "15:00", "16:15"]
_TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "request": (
        ["Request: updated quote for {product}", "Please send the signed contract", "Access to the shared drive",
         "Need the delivery schedule for {order}", "Documents for the audit"],
        ["Could you please send me the updated quote for {product} by {day}?",
         "Please share the signed copy of the agreement so we can process order {order}.",
         "We need the delivery schedule for {order} before the end of the week.",
         "Can you add our new colleague to the distribution list and the shared folder?",
         "I would appreciate it if you could confirm the billing address on invoice {invoice}."],
    ),
    "complaint": (
        ["Late delivery of order {order}", "Wrong items received", "Invoice {invoice} is incorrect",
         "Still waiting for a response", "Service outage this morning"],
        ["This is the third time this month that order {order} has arrived late, which is not acceptable.",
         "We received the wrong items and our team lost half a day sorting it out.",
         "Invoice {invoice} charges us {amount} more than the agreed price.",
         "I have been waiting for a reply for over a week and nobody has called back.",
         "The service was down from 8 to 11 this morning and our customers could not place orders."],
    ),
    "query": (
        ["Question about {product}", "Lead times for Q3?", "Clarification on invoice {invoice}",
         "Does the warranty cover this?", "Status of ticket #{ticket}"],
        ["What is the current lead time for {product}?",
         "Is the warranty still valid if the unit was moved to another site?",
         "Could you clarify which cost centre invoice {invoice} should be booked to?",
         "Do you know whether ticket #{ticket} has been picked up by the support team yet?",
         "How does the new pricing apply to existing subscriptions?"],
    ),
    "purchase": (
        ["Pricing for {product}", "Interested in a bulk order", "Quote request: 500 units",
         "Upgrade options for our plan", "Availability of {product}"],
        ["We are interested in ordering around 500 units of {product} and would like a volume discount.",
         "Please send pricing and availability for {product}, delivered to our Rotterdam warehouse.",
         "We are considering upgrading to the enterprise plan for 40 users; what would that cost?",
         "If the price is right we would like to place the order before {day}."],
    ),
    "meeting": (
        ["Meeting on {day} at {time}", "Quarterly review", "Call to discuss the renewal",
         "Kick-off workshop", "Agenda for {day}"],
        ["Can we schedule a call on {day} at {time} to go through the renewal?",
         "Let's meet next {day} at {time} in the main office, room 4.12.",
         "I have sent an invite for the quarterly review on {day} at {time}; please confirm.",
         "Could we move our meeting to {day} afternoon? Something came up in the morning."],
    ),
    "update": (
        ["Shipment {order} dispatched", "Project update week {week}", "Minutes from today's meeting",
         "New price list", "Holiday opening hours"],
        ["Shipment {order} left our warehouse today and should arrive within three working days.",
         "The migration is on track; we finished testing the reporting module this week.",
         "Attached are the minutes from today's meeting with the action items we agreed.",
         "Our new price list applies from the first of next month; existing orders are not affected.",
         "From what I understand, the carrier will collect the pallets tomorrow before noon."],
    ),
    "thanks": (
        ["Thank you!", "Great work on the rollout", "Thanks for the quick turnaround"],
        ["Thank you so much for sorting this out so quickly, the team is really happy.",
         "Great job on the rollout, everything went smoothly and users love the new dashboard.",
         "Many thanks for your help with order {order}; it arrived in perfect condition."],
    ),
}  # fmt: skip
_FILLER = [
    "As discussed on the phone, we would like to keep the current terms for another year.",
    "Our finance team closes the books on the 25th, so anything after that moves to next month.",
    "I have copied my colleague who is handling the logistics side of this.",
    "Please note that our office will be closed on Friday for the regional holiday.",
    "The numbers in the attached spreadsheet are preliminary and may still change.",
    "We have been working with your team for several years and have always been satisfied.",
    "Let me know if anything is unclear or if you need more details from our side.",
    "For reference, our purchase order number is {order} and the cost centre is 4410.",
    "The warehouse in Hamburg can receive deliveries between 7:00 and 15:00 on weekdays.",
    "I will be out of the office next week, so please reach out to the team mailbox.",
    "We are also reviewing the service levels for next year and will share a proposal.",
    "Our auditors asked for the certificates of conformity for all items delivered this year.",
]
_NON_ASCII_SUBJECTS = [
    "Angebot für {product}", "Réunion de suivi – {day}", "Überweisung für Rechnung {invoice}",
    "Pedido urgente nº {order}", "Kaffee & Kuchen: Teamevent 🎉", "Prix révisés 2026 (€)",
    "Zamówienie {order} – pytanie",
]  # fmt: skip
_GREETINGS = ["Hi {first},", "Hello {first},", "Dear {first},", "Dear {name},", "Hi all,", "Good morning {first},"]
_CLOSINGS = ["Best regards,", "Kind regards,", "Thanks,", "Cheers,", "Many thanks,", "Best,", "Regards,"]
_TIMEZONES = [timezone(timedelta(hours=h, minutes=m)) for h, m in [(0, 0), (1, 0), (2, 0), (-5, 0), (-8, 0), (5, 30)]]
_TRANSLITERATE = str.maketrans({"ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "đ": "d"})
_MAILERS = ["Microsoft Outlook 16.0", "Apple Mail (2.3774)", "Mozilla Thunderbird 128.3", "Gmail", None, None]


@dataclass(frozen=True)
class Person:
    name: str
    address: str
    title: str
    company: str
    domain: str
    phone: str
    style: int  # which signature layout this person uses

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass
class Thread:
    subject: str
    topic: str
    participants: list[Person]
    last: Person
    message_ids: list[str] = field(default_factory=list)
    last_text: str = ""
    last_date: datetime | None = None


def _people(rng: random.Random) -> tuple[list[Person], list[Person]]:
    """(colleagues at our company, external contacts)."""

    def person(company: str, domain: str) -> Person:
        first = rng.choice(_FIRST_NON_ASCII if rng.random() < _NON_ASCII_NAME else _FIRST)
        last = rng.choice(_LAST_NON_ASCII if rng.random() < _NON_ASCII_NAME else _LAST)
        local = _local_part(f"{first} {last}")
        country = rng.choice([1, 44, 49, 33, 47, 31])
        phone = f"+{country} {rng.randint(20, 99)} {rng.randint(1000, 9999)} {rng.randint(100, 999)}"
        return Person(
            f"{first} {last}", f"{local}@{domain}", rng.choice(_TITLES), company, domain, phone, rng.randrange(4)
        )

    ours = [person("Northwind Traders", OUR_DOMAIN) for _ in range(12)]
    external = [person(company, domain) for company, domain in _COMPANIES for _ in range(rng.randint(3, 8))]
    return ours, external


def _signature(p: Person) -> str:
    if p.style == 0:
        return f"-- \n{p.name}\n{p.title} | {p.company}\nPhone: {p.phone}\nwww.{p.domain}"
    if p.style == 1:
        return f"{p.name}\n{p.title}\n{p.company}\nT {p.phone} | {p.address}"
    if p.style == 2:
        return f"--\n{p.name} – {p.title}\n{p.company}, Main Street 12, 20095 Hamburg\nMobile: {p.phone}"
    return f"{p.first}\n\nSent from my iPhone"


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        product=rng.choice(_PRODUCTS),
        day=rng.choice(_DAYS),
        time=rng.choice(_TIMES),
        order=f"PO-{rng.randint(10000, 99999)}",
        invoice=f"INV-2026-{rng.randint(1, 9999):04d}",
        amount=f"EUR {rng.randint(50, 9000):,}.{rng.randint(0, 99):02d}",
        ticket=rng.randint(1000, 99999),
        week=rng.randint(1, 52),
    )


def _paragraphs(rng: random.Random, topic: str, target: int) -> list[str]:
    """Paragraphs of roughly `target` characters in total, topic sentences first."""
    sentences = _TOPICS[topic][1]
    paragraphs: list[str] = []
    size = 0
    while size < target:
        pool = sentences if not paragraphs or rng.random() < 0.4 else _FILLER
        text = " ".join(_fill(rng, rng.choice(pool)) for _ in range(rng.randint(1, 4)))
        paragraphs.append(text)
        size += len(text) + 2
    return paragraphs


def _wrap(text: str, width: int = 76) -> str:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _local_part(name: str) -> str:
    """``"Søren Østergaard"`` -> ``"soren.ostergaard"``."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLITERATE))
    return ".".join("".join(c for c in part if c.isascii() and c.isalnum()) for part in folded.split())


def _html(text: str) -> str:
    blocks = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n"))
    head = '<html><head><meta charset="utf-8"></head><body style="font-family:Calibri,sans-serif">'
    return f"{head}\n{blocks}</body></html>\n"


def _attachment(rng: random.Random) -> tuple[bytes, str, str, str]:
    kind = rng.choice(["pdf", "csv", "png"])
    size = rng.randint(800, 5000)
    if kind == "csv":
        rows = ["sku,quantity,unit_price"] + [
            f"SKU-{rng.randint(100, 999)},{rng.randint(1, 500)},{rng.randint(1, 900)}.{rng.randint(0, 99):02d}"
            for _ in range(size // 24)
        ]
        return "\n".join(rows).encode(), "text", "csv", f"order-lines-{rng.randint(1, 999)}.csv"
    noise = rng.randbytes(size)
    if kind == "pdf":
        return b"%PDF-1.4\n" + noise, "application", "pdf", f"Invoice_{rng.randint(1000, 9999)}.pdf"
    return b"\x89PNG\r\n\x1a\n" + noise, "image", "png", "screenshot.png"


class MailGenerator:
    """An endless, seeded stream of (From_ line, message bytes).

    The stream does not depend on how many messages are taken, so the file of 5,000 messages
    is a prefix of the file of 40,000 with the same seed.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ours, self.external = _people(self.rng)
        self.threads: deque[Thread] = deque(maxlen=400)
        self.clock = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
        self.count = 0
        self.policy = email.policy.default.clone(linesep="\n", max_line_length=78)

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return self

    def __next__(self) -> tuple[bytes, bytes]:
        rng = self.rng
        self.count += 1
        self.clock += timedelta(minutes=rng.expovariate(1 / 25))
        if rng.random() < 0.05:
            return self._notification()
        reply_to = self.threads[-1 - min(int(rng.expovariate(1 / 30)), len(self.threads) - 1)] if self.threads else None
        if reply_to is not None and rng.random() < 0.5:
            return self._reply(reply_to)
        return self._new_thread()

    # Each message: the size of what is new in it follows a log-normal around 1.5 KB.
    def _target(self) -> int:
        return int(min(max(self.rng.lognormvariate(7.2, 0.8), 150), 9000))

    def _sender_and_recipient(self) -> tuple[Person, Person]:
        rng = self.rng
        outside = rng.choice(self.external)
        inside = rng.choice(self.ours)
        return (inside, outside) if rng.random() < 0.4 else (outside, inside)

    def _new_thread(self) -> tuple[bytes, bytes]:
        rng = self.rng
        sender, recipient = self._sender_and_recipient()
        topic = rng.choice(list(_TOPICS))
        if rng.random() < 0.06:
            subject = _fill(rng, rng.choice(_NON_ASCII_SUBJECTS))
        else:
            subject = _fill(rng, rng.choice(_TOPICS[topic][0]))
        thread = Thread(subject, topic, [sender, recipient], sender)
        self.threads.append(thread)
        return self._compose(thread, sender, [recipient], subject, quote=None)

    def _reply(self, thread: Thread) -> tuple[bytes, bytes]:
        rng = self.rng
        candidates = [p for p in thread.participants if p != thread.last]
        sender = rng.choice(candidates) if candidates else rng.choice(self.ours)
        if rng.random() < 0.15:  # someone new joins the conversation
            newcomer = rng.choice(self.ours if sender.domain != OUR_DOMAIN else self.external)
            thread.participants.append(newcomer)
        others = [p for p in thread.participants if p not in (sender, thread.last)]
        recipients = [thread.last, *others[:3]]
        prefix = rng.choice(["Re: ", "Re: ", "RE: ", "AW: "]) if rng.random() > 0.05 else "Fwd: "
        subject = prefix + thread.subject
        return self._compose(thread, sender, recipients, subject, quote=thread)

    def _quote(self, thread: Thread, budget: int) -> str:
        rng = self.rng
        previous = thread.last_text[:budget]
        assert thread.last_date is not None
        if rng.random() < 0.3:  # Outlook style: a header block, the old text not prefixed
            return (
                "-----Original Message-----\n"
                f"From: {thread.last.name} <{thread.last.address}>\n"
                f"Sent: {thread.last_date.strftime('%A, %B %d, %Y %I:%M %p')}\n"
                f"Subject: {thread.subject}\n\n{previous}"
            )
        when = thread.last_date.strftime("%a, %b %d, %Y at %H:%M")
        quoted = "\n".join(f"> {line}" if line else ">" for line in previous.split("\n"))
        return f"On {when}, {thread.last.name} <{thread.last.address}> wrote:\n{quoted}"

    def _compose(
        self, thread: Thread, sender: Person, recipients: list[Person], subject: str, quote: Thread | None
    ) -> tuple[bytes, bytes]:
        rng = self.rng
        when = self.clock.astimezone(rng.choice(_TIMEZONES))
        with_html = rng.random() < 0.15
        attachment = _attachment(rng) if rng.random() < 0.03 else None
        # Keep every message under ~20 KB: the text budget shrinks with what else the message carries.
        budget = 18_000 - (len(attachment[0]) * 4 // 3 if attachment else 0)
        budget = int(budget / (2.3 if with_html else 1.0) / 1.4)  # 1.4: worst transfer encoding (base64)

        recipient = recipients[0]
        greeting = rng.choice(_GREETINGS).format(first=recipient.first, name=recipient.name)
        paragraphs = [_wrap(p) for p in _paragraphs(rng, thread.topic, min(self._target(), budget // 2))]
        own = "\n\n".join([greeting, *paragraphs, rng.choice(_CLOSINGS) + "\n" + _signature(sender)])
        text = own
        if quote is not None and quote.last_text and budget > len(own) + 200:
            text = own + "\n\n" + self._quote(quote, budget - len(own) - 200)

        message = EmailMessage(policy=self.policy)
        message["From"] = formataddr((sender.name, sender.address))
        message["To"] = formataddr((recipient.name, recipient.address))
        if len(recipients) > 1:
            message["Cc"] = ", ".join(formataddr((p.name, p.address)) for p in recipients[1:])
        message["Subject"] = subject
        message["Date"] = format_datetime(when)
        message_id = f"<{self.count:07d}.{rng.getrandbits(40):010x}@{sender.domain}>"
        message["Message-ID"] = message_id
        if quote is not None and quote.message_ids:
            message["In-Reply-To"] = quote.message_ids[-1]
            message["References"] = " ".join(quote.message_ids[-10:])
        mailer = rng.choice(_MAILERS)
        if mailer:
            message["X-Mailer"] = mailer
        if rng.random() < 0.3:
            message["Content-Language"] = "en-US"

        charset = "utf-8"
        if rng.random() < 0.1 and _encodable(text, "iso-8859-1"):
            charset = "iso-8859-1"
        cte = rng.choice(["quoted-printable", "quoted-printable", "8bit", "base64"]) if not text.isascii() else "7bit"
        message.set_content(text, charset=charset, cte=cte)
        if with_html:
            message.add_alternative(_html(text), subtype="html")
        if attachment is not None:
            data, maintype, subtype, filename = attachment
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

        thread.message_ids.append(message_id)
        thread.last, thread.last_text, thread.last_date = sender, own, when
        return self._from_line(sender.address), message.as_bytes(policy=self.policy)

    def _notification(self) -> tuple[bytes, bytes]:
        """Automated mail: a short newsletter or system notice, no thread."""
        rng = self.rng
        company, domain = rng.choice(_COMPANIES)
        recipient = rng.choice(self.ours)
        message = EmailMessage(policy=self.policy)
        message["From"] = formataddr((f"{company} Notifications", f"no-reply@{domain}"))
        message["To"] = formataddr((recipient.name, recipient.address))
        message["Subject"] = _fill(rng, rng.choice(["Your invoice {invoice} is ready", "Order {order} confirmed"]))
        message["Date"] = format_datetime(self.clock)
        message["Message-ID"] = f"<{self.count:07d}.{rng.getrandbits(40):010x}@mailer.{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message["List-Id"] = f"<notifications.{domain}>"
        body = _fill(rng, "Hello,\n\nyour document is available in the portal. Reference: {invoice}.\n")
        message.set_content(body + "\nThis is an automated message, please do not reply.\n")
        message.add_alternative(_html(body), subtype="html")
        return self._from_line(f"no-reply@{domain}"), message.as_bytes(policy=self.policy)

    def _from_line(self, address: str) -> bytes:
        return f"From {address} {self.clock.strftime('%a %b %d %H:%M:%S %Y')}".encode()


def _mboxrd_escape(data: bytes) -> bytes:
    # mboxrd: every body line that starts with ">*From " gets one more ">".
    if b"From " not in data:
        return data
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.lstrip(b">").startswith(b"From "):
            lines[i] = b">" + line
    return b"\n".join(lines)


def mbox_path(n: int, seed: int) -> Path:
    return WORK_DIR / "mbox" / f"business-s{seed}-g{GENERATOR_VERSION}-{n}.mbox"


def ensure_mboxes(sizes: list[int], seed: int) -> dict[int, Path]:
    """Generate (once; later runs reuse the files) one mbox per size, in a single pass."""
    paths = {n: mbox_path(n, seed) for n in sorted(set(sizes))}
    missing = [n for n, p in paths.items() if not p.exists()]
    if not missing:
        return paths
    paths[missing[0]].parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    temps = {n: paths[n].with_suffix(".tmp") for n in missing}
    handles = {n: temps[n].open("wb") for n in missing}
    try:
        generator = MailGenerator(seed)
        for index in range(max(missing)):
            from_line, data = next(generator)
            chunk = from_line + b"\n" + _mboxrd_escape(data).rstrip(b"\n") + b"\n\n"
            for n, handle in handles.items():
                if index < n:
                    handle.write(chunk)
    finally:
        for handle in handles.values():
            handle.close()
    for n in missing:
        temps[n].replace(paths[n])
    print(f"generated {', '.join(f'{n:,}' for n in missing)} messages in {time.perf_counter() - start:.1f}s")
    return paths


def describe_mbox(path: Path) -> dict[str, Any]:
    """Message count, sizes and the share of each kind of message, for the report."""
    sizes: list[int] = []
    html_parts = attachments = replies = encoded = 0
    from intel.sources.files import split_mbox

    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for _, _, _, raw in split_mbox(data):
            sizes.append(len(raw))
            head = raw[: raw.find(b"\n\n")]
            html_parts += b"multipart/alternative" in raw
            attachments += b"Content-Disposition: attachment" in raw
            replies += b"\nIn-Reply-To:" in head
            encoded += b"=?utf-8?" in head
    sizes.sort()
    count = len(sizes)
    return {
        "messages": count,
        "bytes": path.stat().st_size,
        "min": sizes[0],
        "median": sizes[count // 2],
        "p95": sizes[int(count * 0.95)],
        "max": sizes[-1],
        "html": html_parts / count,
        "attachments": attachments / count,
        "replies": replies / count,
        "encoded_headers": encoded / count,
    }


# --- the measured operations ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportRun:
    messages: int
    sync_seconds: float
    thread_seconds: float


def _write_config(directory: Path, mbox: Path) -> Path:
    config = directory / "intel.toml"
    config.write_text(
        "[storage]\n"
        f"database = {json.dumps(str(directory / 'intel.duckdb'))}\n\n"
        "[identity]\n"
        f'addresses = ["*@{OUR_DOMAIN}"]\n\n'
        "[[source]]\n"
        f'name = "{SOURCE_NAME}"\n'
        'type = "mbox"\n'
        f"path = {json.dumps(str(mbox))}\n",
        encoding="utf-8",
    )
    return config


def import_once(
    mbox: Path, directory: Path, *, fresh: bool = True, after_sync: Callable[[], None] | None = None
) -> ImportRun:
    """`intel sync` + threading in-process, into `directory` (emptied first when `fresh`).

    `after_sync` is called between the two stages, outside the timed spans.
    """
    from intel.config import load_settings
    from intel.pipeline import sync_source, thread_messages

    if fresh:
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    settings = load_settings(_write_config(directory, mbox))
    start = time.perf_counter()
    result = sync_source(settings, SOURCE_NAME)
    synced = time.perf_counter()
    if after_sync is not None:
        after_sync()
        synced = time.perf_counter()
    thread_messages(settings)
    threaded = time.perf_counter()
    return ImportRun(result.new, synced - start, threaded - synced)


def parse_only(path: Path) -> int:
    """`split_mbox` + `parse_message` over every message, one process."""
    from intel.parse import parse_message
    from intel.sources.files import split_mbox

    count = 0
    now = datetime.now(UTC)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for _, _, _, raw in split_mbox(data):
            parse_message(raw, ingest_time=now)
            count += 1
    return count


def _body_default(message: Any) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def _body_compat32(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "ascii", "replace")
    return ""


def baseline(path: Path, policy: email.policy.Policy) -> int:
    """The plain stdlib loop: `mailbox.mbox` + `BytesParser`, reading each body's text."""
    parser = BytesParser(policy=policy)
    read_body = _body_compat32 if policy is email.policy.compat32 else _body_default
    box = mailbox.mbox(path, create=False)
    count = 0
    try:
        for key in box.iterkeys():
            read_body(parser.parsebytes(box.get_bytes(key)))
            count += 1
    finally:
        box.close()
    return count


# --- the benchmark -------------------------------------------------------------------------


def _own_peak() -> int:
    """This process's peak RSS in bytes so far (VmHWM), 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class MemoryRun:
    messages: int
    seconds: float
    sync_hwm: int  # the importing process's own peak RSS when the sync stage ended
    importer_hwm: int  # the importing process's own peak RSS after threading too
    worker_hwm: int  # the largest peak RSS of a parse worker (or any other descendant)
    tree_rss: int  # peak of the summed RSS of the whole process tree
    tree_anon: int  # the same, anonymous memory only


@dataclass
class Results:
    n: int
    repeat: int
    corpus: dict[str, Any]
    sync: Timing
    sync_thread: Timing
    thread: Timing
    parse: Timing
    baseline_default: Timing
    baseline_compat32: Timing
    reimport: Timing
    memory: list[MemoryRun]
    load_before: str
    load_after: str
    note: str = ""


def measure_import(mbox: Path, n: int, repeat: int) -> tuple[Timing, Timing, Timing, Timing]:
    """(sync, sync+threading, threading, re-import) timings over `repeat` fresh databases.

    CPU is that of the whole process tree (this process, the DuckDB threads, the parse workers).
    """
    directory = WORK_DIR / "e2e"
    runs: list[tuple[ImportRun, float]] = []
    for _ in range(repeat):
        with TreeMonitor(interval=0.2) as monitor:
            run = import_once(mbox, directory)
        if run.messages != n:
            raise SystemExit(f"end to end: expected {n} new messages, the import stored {run.messages}")
        runs.append((run, monitor.cpu_seconds))
    reimports = [import_once(mbox, directory, fresh=False) for _ in range(max(repeat, 3))]
    if any(r.messages for r in reimports):
        raise SystemExit("re-import stored messages again; the mbox cursor did not hold")
    cpu = [c for _, c in runs]
    return (
        Timing([r.sync_seconds for r, _ in runs], n, cpu),
        Timing([r.sync_seconds + r.thread_seconds for r, _ in runs], n, cpu),
        Timing([r.thread_seconds for r, _ in runs], n),
        Timing([r.sync_seconds + r.thread_seconds for r in reimports], n),
    )


def measure_memory(paths: dict[int, Path]) -> list[MemoryRun]:
    """Import each mailbox in a fresh child process and sample its process tree's memory."""
    rows = []
    for n, path in sorted(paths.items()):
        directory = WORK_DIR / f"memory-{n}"
        run = run_child([sys.executable, __file__, "--child-import", str(path), "--child-dir", str(directory)])
        report = json.loads(run.stdout.strip().splitlines()[-1])
        if report["messages"] != n:
            raise SystemExit(f"memory run: expected {n} messages, the child stored {report['messages']}")
        rows.append(
            MemoryRun(
                n,
                run.seconds,
                report["sync_peak"],
                max(report["peak"], run.child_hwm_bytes),
                run.max_descendant_hwm_bytes,
                run.peak_rss_bytes,
                run.peak_anon_bytes,
            )
        )
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def _mib(value: int) -> str:
    return f"{value / 1024 / 1024:,.0f} MiB"


_HEADERS = ["stage", "median s", "msg/s", "msg/s min-max", "CPU ms/msg", "vs default", "vs compat32"]
_MEMORY_HEADERS = [
    "messages",
    "importer peak: sync",
    "importer peak: + threading",
    "largest worker peak",
    "tree peak RSS",
    "tree peak anon",
    "seconds",
]


def _rows(r: Results) -> list[list[str]]:
    base = r.baseline_default.rate
    base32 = r.baseline_compat32.rate

    def row(label: str, t: Timing) -> list[str]:
        cpu = t.cpu_ms_per_item
        return [
            label,
            f"{t.median:.2f}",
            f"{t.rate:,.0f}",
            t.spread,
            "-" if cpu != cpu else f"{cpu:.2f}",  # NaN: not measured
            f"{t.rate / base:.2f}x",
            f"{t.rate / base32:.2f}x",
        ]

    return [
        row("end to end: sync (parse on all cores + DuckDB)", r.sync),
        row("end to end: sync + threading", r.sync_thread),
        row("parser alone: split_mbox + parse_message, 1 process", r.parse),
        row("baseline: mailbox + BytesParser(policy.default)", r.baseline_default),
        row("baseline: mailbox + BytesParser(compat32)", r.baseline_compat32),
    ]


def _memory_rows(r: Results) -> list[list[str]]:
    return [
        [
            f"{m.messages:,}",
            _mib(m.sync_hwm),
            _mib(m.importer_hwm),
            _mib(m.worker_hwm),
            _mib(m.tree_rss),
            _mib(m.tree_anon),
            f"{m.seconds:.1f}",
        ]
        for m in r.memory
    ]


def _memory_growth(memory: list[MemoryRun], first: int = 0) -> float:
    """Peak anonymous memory of the process tree at the largest size over the size at `first`."""
    return memory[-1].tree_anon / memory[first].tree_anon if memory and memory[first].tree_anon else float("nan")


def _verdicts(r: Results, cores: int) -> list[str]:
    growth = _memory_growth(r.memory, -2)
    overall = _memory_growth(r.memory)
    ceiling = cores * 1000 / r.sync.cpu_ms_per_item
    rate_ok = r.sync.rate >= GOAL_RATE
    return [
        f"at least {GOAL_RATE:,.0f} messages/s end to end (sync): **{'met' if rate_ok else 'not met'}** "
        f"({r.sync.rate:,.0f}/s; with threading {r.sync_thread.rate:,.0f}/s). The import uses "
        f"{r.sync.cpu_ms_per_item:.2f} ms of CPU per message over all its processes, so {cores} idle "
        f"cores could do at most ~{ceiling:,.0f}/s.",
        f"peak memory does not grow with mailbox size (anonymous memory of the process tree at "
        f"{r.memory[-1].messages:,} within {MEMORY_GROWTH_LIMIT:.2f}x of {r.memory[-2].messages:,}): "
        f"**{'met' if growth <= MEMORY_GROWTH_LIMIT else 'not met'}** ({growth:.2f}x; "
        f"{overall:.2f}x from {r.memory[0].messages:,}, while DuckDB's buffer pool fills up to "
        "storage.memory_limit)",
    ]


def report_markdown(r: Results, info: dict[str, str]) -> str:
    c = r.corpus
    return "\n".join(
        [
            f"Measured {utc_now()} by `bench/bench_import.py` on {machine_line(info)}; "
            f"load average {r.load_before} before, {r.load_after} after (other work on the machine "
            "lowers wall-clock rates; CPU ms/msg is less affected)." + (f" {r.note}" if r.note else ""),
            "",
            f"Mailbox: {c['messages']:,} generated messages, {c['bytes'] / 1024 / 1024:.1f} MiB "
            f"(message size median {c['median'] / 1024:.1f} KB, p95 {c['p95'] / 1024:.1f} KB, "
            f"range {c['min'] / 1024:.1f}-{c['max'] / 1024:.1f} KB); {c['replies']:.0%} replies with "
            f"In-Reply-To/References, {c['html']:.0%} multipart/alternative with HTML, "
            f"{c['attachments']:.1%} with an attachment, {c['encoded_headers']:.0%} with RFC 2047 encoded headers. "
            f"Median of {r.repeat} runs; every end-to-end run starts from an empty database. "
            "CPU ms/msg counts every process involved (importer, DuckDB threads, parse workers).",
            "",
            markdown_table(_HEADERS, _rows(r)),
            "",
            f"Threading alone: {r.thread.median:.2f} s. Re-import of the same file with nothing new "
            f"(sync + threading check): {r.reimport.median:.3f} s.",
            "",
            "Peak memory of a fresh child process importing mailboxes of growing size (each file is a "
            "prefix of the next). *Importer* and *worker* peaks are per-process VmHWM (the importer's "
            "when the sync stage ended, and after threading); the *tree* "
            "columns are the peak of the summed RSS of the importer and its parse workers, sampled "
            "every 50 ms, in total and anonymous only (total RSS also counts the mmap'd mbox pages, "
            "which are page cache):",
            "",
            markdown_table(_MEMORY_HEADERS, _memory_rows(r)),
            "",
            "Goals:",
            "",
            *(f"- {line}" for line in _verdicts(r, int(info["cores"]))),
        ]
    )


def print_report(r: Results, cores: int) -> None:
    print()
    print(f"mbox import, {r.n:,} messages, median of {r.repeat} (load average {r.load_before} -> {r.load_after})")
    print(text_table(_HEADERS, _rows(r)))
    print(f"threading alone {r.thread.median:.2f}s; re-import with nothing new {r.reimport.median:.3f}s")
    print()
    print(text_table(_MEMORY_HEADERS, _memory_rows(r)))
    print()
    for line in _verdicts(r, cores):
        print("goal: " + line.replace("**", ""))


def profile(mbox: Path, top: int = 25) -> None:
    """Print where the time goes: the parser alone, and a sync with parsing in-process."""
    profiler = cProfile.Profile()
    profiler.runcall(parse_only, mbox)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print("\n=== profile: parser alone (tottime) ===\n" + out.getvalue())

    os.environ["INTEL_STORAGE__PARSE_WORKERS"] = "1"  # parse in this process, so the profile sees it
    try:
        profiler = cProfile.Profile()
        profiler.runcall(import_once, mbox, WORK_DIR / "profile")
    finally:
        del os.environ["INTEL_STORAGE__PARSE_WORKERS"]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n=== profile: sync + threading, parse_workers=1 (cumulative) ===\n" + out.getvalue())
    shutil.rmtree(WORK_DIR / "profile", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 messages, one repetition")
    parser.add_argument("-n", "--messages", type=int, help="mailbox size (default 20,000; 500 with --quick)")
    parser.add_argument("--repeat", type=int, help="repetitions per measurement (default 3; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default 2026)")
    parser.add_argument(
        "--results",
        type=Path,
        help=f"write the '{SECTION}' section to this file (default bench/RESULTS.md; with --quick: nothing)",
    )
    parser.add_argument("--profile", action="store_true", help="also print cProfile tables of parse and sync")
    parser.add_argument(
        "--note", default="", help="a sentence for the results, e.g. that the machine was shared with other work"
    )
    parser.add_argument("--child-import", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_import:  # the memory measurement's child: import, report, exit
        peaks: dict[str, int] = {}
        run = import_once(args.child_import, args.child_dir, after_sync=lambda: peaks.update(sync=_own_peak()))
        print(json.dumps({"messages": run.messages, "sync_peak": peaks.get("sync", 0), "peak": _own_peak()}))
        return 0

    n = args.messages or (500 if args.quick else 20_000)
    repeat = args.repeat or (1 if args.quick else 3)
    memory_sizes = [n // 2, n] if args.quick else [5_000, 20_000, 40_000]
    results_path = args.results or (None if args.quick else RESULTS_PATH)
    info = machine_info()
    load_before = load_average()
    print(f"mbox import benchmark: {n:,} messages x {repeat} on {machine_line(info)}; load average {load_before}")

    paths = ensure_mboxes([n, *memory_sizes], args.seed)
    mbox = paths[n]
    corpus = describe_mbox(mbox)
    # Warm the page cache and the imports, so the first timed run is not penalized.
    baseline(mbox, email.policy.compat32)

    print("end to end (sync + threading) ...", flush=True)
    sync, sync_thread, thread, reimport = measure_import(mbox, n, repeat)
    print("parser alone ...", flush=True)
    parse = time_runs(lambda: parse_only(mbox), repeat)
    print("baselines ...", flush=True)
    base_default = time_runs(lambda: baseline(mbox, email.policy.default), repeat)
    base_compat32 = time_runs(lambda: baseline(mbox, email.policy.compat32), repeat)
    print("peak memory by mailbox size ...", flush=True)
    memory = measure_memory({size: paths[size] for size in memory_sizes})
    shutil.rmtree(WORK_DIR / "e2e", ignore_errors=True)

    results = Results(
        n,
        repeat,
        corpus,
        sync,
        sync_thread,
        thread,
        parse,
        base_default,
        base_compat32,
        reimport,
        memory,
        load_before,
        load_average(),
        args.note.strip(),
    )
    print_report(results, int(info["cores"]))
    if args.profile:
        profile(mbox)
    if results_path is not None:
        written = write_section(SECTION, report_markdown(results, info), results_path)
        print(f"\nwrote section '## {SECTION}' of {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
