"""Deterministic mail for the hardening tests: ordinary short business mail and hostile messages.

Everything is a pure function of the seed (one ``random.Random`` per call, drawn in a fixed
order), so a failing run reproduces byte for byte. `hostile_messages` returns each malformed
message with its kind and the parse problem codes the parser must record for it; the mailbox
writers frame them exactly (mboxrd escaping, Maildir file names) and return what a reader must
get back, so tests can compare stored bytes with written ones.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = [
    "CORPUS_REFERENCES",
    "HUGE_ATTACHMENT_BYTES",
    "IDENTITY",
    "MEGABYTE_OF_REFERENCES",
    "Hostile",
    "hostile_messages",
    "mbox_entry",
    "normal_messages",
    "references",
    "sha256",
    "write_maildir",
    "write_mbox",
]

IDENTITY = "*@acme.example"
HUGE_ATTACHMENT_BYTES = 50 * 1024 * 1024
# Mail dates: fixed, in the past, never the current time (the parser refuses dates far in the future).
_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

_STAFF = [
    ("Priya Raman", "support@acme.example", "Support Engineer"),
    ("Daniel Okafor", "daniel.okafor@acme.example", "Account Executive"),
    ("Maya Lindqvist", "maya.lindqvist@acme.example", "Customer Success Manager"),
]
_FIRST = ["Anna", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Georg", "Hana", "Ivan", "Júlia", "Kenji", "Lena"]
_LAST = ["Schmidt", "Okoye", "Novak", "García", "Tanaka", "Müller", "Kowalski", "Haddad", "Rossi", "Berg"]
_COMPANIES = ["northwind", "contoso", "fabrikam", "tailspin", "wingtip", "litware", "adatum", "proseware"]
_TOPICS = ["invoice", "login", "export", "renewal", "API limits", "SSO setup", "dashboard", "data import", "quote"]
_OPENERS = ["Hi,", "Hello,", "Dear support,", "Hi team,", "Good morning,"]
_SENTENCES = [
    "Could you send me the {topic} details by Friday?",
    "The {topic} page has been failing since yesterday and we are losing time.",
    "Thanks a lot, the {topic} works now.",
    "Can we have a call on Tuesday at 10:00 about the {topic}?",
    "What is the price of the {topic} for 50 users?",
    "I am really unhappy: this is the third time the {topic} broke this month.",
    "Please update the {topic} before the end of the week.",
    "Quick question: where do I find the {topic} settings?",
    "Great news, the team loves the new {topic}.",
    "Let's meet next Wednesday at 14:00 to review the {topic}.",
    "We still have not received an answer about the {topic}.",
    "Is there a discount on the {topic} for non-profits?",
]
_CLOSINGS = ["Thanks,", "Best regards,", "Kind regards,", "Cheers,"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _encoded_word(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def normal_messages(count: int, seed: int, *, unique_share: float = 0.01) -> list[bytes]:
    """`count` short, distinct, well-formed business messages (threads, replies, signatures).

    About 70% are inbound from customers, the rest our replies; a third are replies to an
    earlier message (In-Reply-To, References, "Re:" subject, a quoted line). Encodings vary:
    7bit, 8bit UTF-8, quoted-printable, base64, multipart/alternative with HTML, and
    encoded-word display names. Every message has its own Message-ID and date.

    Most are short notes: one sentence from a small pool (six sentences about three topics,
    unless the note answers a thread about another topic), as acknowledgements and quick
    questions are in real mailboxes. The classifiers encode each distinct text of a batch once,
    so these cost little to score. `unique_share` of them are longer letters with a greeting,
    one or two sentences of their own and a closing, about any of nine topics.
    """
    rng = random.Random(seed)
    customers = []
    for i in range(60):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = _COMPANIES[i % len(_COMPANIES)]
        local = f"{first.lower()}.{last.lower()}".encode("ascii", "ignore").decode() or f"user{i}"
        customers.append((f"{first} {last}", f"{local}{i}@{company}.example", company.title()))
    sent: list[tuple[str, str, str, str]] = []  # message id, subject, customer address, customer name
    out: list[bytes] = []
    for n in range(count):
        moment = _START + timedelta(minutes=37 * n + rng.randint(0, 30))
        reply_to = rng.choice(sent[-200:]) if sent and rng.random() < 0.33 else None
        if reply_to is not None:
            parent_id, parent_subject, cust_address, cust_name = reply_to
            subject = parent_subject if parent_subject.startswith("Re: ") else "Re: " + parent_subject
            topic = parent_subject.removeprefix("Re: ").removesuffix(" question").lower()
        else:
            parent_id = None
            cust_name, cust_address, _company = rng.choice(customers)
            topic = ""
        letter = rng.random() < unique_share
        if not topic:
            topic = rng.choice(_TOPICS if letter else _TOPICS[:3]).lower()
            subject = f"{topic.capitalize()} question"
        inbound = rng.random() < 0.7
        staff_name, staff_address, staff_title = rng.choice(_STAFF)
        if inbound:
            sender, sender_name, recipient = cust_address, cust_name, staff_address
        else:
            sender, sender_name, recipient = staff_address, staff_name, cust_address
        message_id = f"<n{n}.{seed}@{sender.split('@')[1]}>"
        if letter:
            sentences = [rng.choice(_SENTENCES).format(topic=topic) for _ in range(rng.randint(1, 2))]
            lines = [rng.choice(_OPENERS), "", " ".join(sentences), "", rng.choice(_CLOSINGS), sender_name.split()[0]]
        else:
            lines = [_SENTENCES[rng.randrange(6)].format(topic=topic)]
        if rng.random() < 0.5:
            title = staff_title if not inbound else rng.choice(["Head of IT", "Office Manager", "CFO"])
            lines += ["", "-- ", sender_name, title, f"Phone: +44 117 496 {n % 10000:04d}"]
        if parent_id is not None:
            lines += ["", f"On {_date(moment - timedelta(hours=2))}, {cust_name} wrote:", "> Earlier message text."]
        body = "\n".join(lines) + "\n"
        display = _encoded_word(sender_name) if rng.random() < 0.2 else f'"{sender_name}"'
        headers = [
            f"From: {display} <{sender}>",
            f"To: {recipient}",
            f"Subject: {subject}",
            f"Date: {_date(moment)}",
            f"Message-ID: {message_id}",
        ]
        if parent_id is not None:
            headers += [f"In-Reply-To: {parent_id}", f"References: {parent_id}"]
        kind = rng.random()
        headers.append("MIME-Version: 1.0")
        if kind < 0.6:
            raw_body = body.encode("utf-8")
            cte = "8bit" if any(ord(c) > 127 for c in body) else "7bit"
            headers += ["Content-Type: text/plain; charset=utf-8", f"Content-Transfer-Encoding: {cte}"]
        elif kind < 0.75:
            raw_body = quopri.encodestring(body.encode("utf-8"))
            headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]
        elif kind < 0.85:
            raw_body = base64.encodebytes(body.encode("utf-8"))
            headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"]
        else:
            boundary = f"alt-{n}-{seed}"
            html_body = "<html><body>" + "".join(f"<p>{line}</p>" for line in lines if line) + "</body></html>\n"
            raw_body = (
                f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}"
                f"--{boundary}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{html_body}"
                f"--{boundary}--\n"
            ).encode()
            headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        out.append(("\n".join(headers) + "\n\n").encode("utf-8") + raw_body)
        sent.append((message_id, subject, cust_address, cust_name))
    return out


@dataclass(frozen=True)
class Hostile:
    """A malformed message, what kind it is, and the parse problems it must be stored with.

    `problems`: every code listed must be in the message's parse_problems; `any_of`: at least
    one of these must be (for inputs where either of two codes is a correct description).
    """

    kind: str
    raw: bytes
    problems: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()
    note: str = ""
    mbox_only: bool = False  # must go in the mbox (e.g. its bytes are the payload for the 50 MB case)
    maildir_only: bool = False  # cannot be framed in an mbox exactly (no final newline)
    extra: dict[str, object] = field(default_factory=dict)


def _head(kind: str, n: int, *extra: str, date: str | None = None, subject: str | None = None) -> str:
    moment = _START + timedelta(days=n % 200, minutes=n)
    lines = [
        f"From: Hostile Sender {n} <hostile{n}@attacker.example>",
        "To: support@acme.example",
        f"Subject: {subject if subject is not None else f'{kind} specimen {n}'}",
        f"Date: {date if date is not None else _date(moment)}",
        f"Message-ID: <hostile-{kind}-{n}@attacker.example>",
        "MIME-Version: 1.0",
        *extra,
    ]
    return "\n".join(lines) + "\n"


def _broken_boundaries(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    broken = frozenset({"broken_mime"})
    specimens = [
        # The declared boundary never appears: the parts use another one.
        _head("broken_boundary", next(n), 'Content-Type: multipart/mixed; boundary="declared"')
        + "\n--other\nContent-Type: text/plain\n\nbody under the wrong boundary\n--other--\n",
        # Multipart without any boundary parameter.
        _head("broken_boundary", next(n), "Content-Type: multipart/mixed")
        + "\n--x\nContent-Type: text/plain\n\nno boundary parameter at all\n--x--\n",
        # The closing boundary is missing.
        _head("broken_boundary", next(n), 'Content-Type: multipart/mixed; boundary="b1"')
        + "\n--b1\nContent-Type: text/plain\n\nfirst part\n--b1\nContent-Type: text/plain\n\nsecond, never closed\n",
        # A boundary of 5,000 characters, used once and never closed.
        _head("broken_boundary", next(n), f'Content-Type: multipart/mixed; boundary="{"z" * 5000}"')
        + f"\n--{'z' * 5000}\nContent-Type: text/plain\n\nlong boundary\n",
        # Nested multipart whose inner boundary is the outer one.
        _head("broken_boundary", next(n), 'Content-Type: multipart/mixed; boundary="same"')
        + '\n--same\nContent-Type: multipart/alternative; boundary="same"\n\n--same\nContent-Type: text/plain\n\n'
        "inner\n--same--\n",
    ]
    return [Hostile("broken_boundary", s.encode(), broken) for s in specimens]


def _deep_nesting(n: int, depth: int = 1000) -> Hostile:
    parts = [_head("deep_nesting", n)]
    for level in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="d{level}"\n\n--d{level}\n')
    parts.append("Content-Type: text/plain\n\nthe bottom of the well\n")
    for level in reversed(range(depth)):
        parts.append(f"--d{level}--\n")
    # Cut at this depth or given up on as broken: either is a correct report.
    return Hostile(
        "deep_nesting",
        "".join(parts).encode(),
        any_of=frozenset({"too_deep", "broken_mime"}),
        extra={"headers": _top_headers("deep_nesting", n)},
    )


def _top_headers(kind: str, n: int) -> tuple[str, str, str]:
    """(subject, Message-ID, sender) that `_head` writes for specimen `n`."""
    return f"{kind} specimen {n}", f"<hostile-{kind}-{n}@attacker.example>", f"hostile{n}@attacker.example"


def _deep_rfc822(n: int, depth: int = 1000) -> Hostile:
    """Messages attached inside messages, 1,000 levels deep."""
    inner = b"From: bottom@attacker.example\nSubject: bottom\n\nbottom text\n"
    for _level in range(depth):
        inner = b"Content-Type: message/rfc822\n\n" + inner
    raw = _head("deep_rfc822", n).encode() + inner
    return Hostile(
        "deep_rfc822",
        raw,
        any_of=frozenset({"too_deep", "broken_mime"}),
        extra={"headers": _top_headers("deep_rfc822", n)},
    )


def _huge_attachment(n: int, rng: random.Random) -> Hostile:
    payload = rng.randbytes(HUGE_ATTACHMENT_BYTES)
    boundary = "huge-boundary"
    raw = (
        _head("huge_attachment", n, f'Content-Type: multipart/mixed; boundary="{boundary}"').encode()
        + f"\n--{boundary}\nContent-Type: text/plain; charset=utf-8\n\nPlease find the full export attached.\n"
        f"--{boundary}\nContent-Type: application/octet-stream; name=export.bin\n"
        "Content-Disposition: attachment; filename=export.bin\nContent-Transfer-Encoding: base64\n\n".encode()
        + base64.encodebytes(payload)
        + f"--{boundary}--\n".encode()
    )
    extra: dict[str, object] = {"size": len(payload), "sha256": sha256(payload), "filename": "export.bin"}
    return Hostile("huge_attachment", raw, extra=extra, note="not malformed: must be stored, listed, and cheap")


# References threaded per message in the corpus. Threading is quadratic in the length of one
# References chain today (see test_hostile_mail.py::test_threading_a_megabyte_of_references_is_fast),
# so the corpus carries 50 KB of them, not a megabyte; MEGABYTE_OF_REFERENCES is that megabyte.
CORPUS_REFERENCES = 2_000
MEGABYTE_OF_REFERENCES = 1024 * 1024 // 24


def references(count: int) -> list[str]:
    return [f"<ref{i}@thread.example>" for i in range(count)]


def _huge_headers(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    megabyte = 1024 * 1024
    words = ("word " * (megabyte // 5)).strip()
    folded_subject = "\n ".join(words[i : i + 70] for i in range(0, len(words), 70))
    recipients = ",\n ".join(f"r{i}@many.example" for i in range(megabyte // 20))
    return [
        Hostile(
            "huge_header",
            (_head("huge_header", next(n), subject=folded_subject) + "\nsubject of a megabyte\n").encode(),
            extra={"subject": folded_subject.replace("\n", "")},  # unfolding removes the line breaks only
        ),
        Hostile(
            "huge_header",
            (
                _head("huge_header", next(n), "X-Junk: " + "j" * megabyte) + "\none unfolded header line of 1 MB\n"
            ).encode(),
        ),
        Hostile(
            "huge_header",
            (_head("huge_header", next(n), "Cc: " + recipients) + "\na megabyte of recipients\n").encode(),
            extra={"cc": megabyte // 20},
        ),
        Hostile(
            "huge_header",
            (
                _head("huge_header", next(n), "References: " + "\n ".join(references(CORPUS_REFERENCES)))
                + "\na long References chain\n"
            ).encode(),
            extra={"references": CORPUS_REFERENCES},
        ),
    ]


def _nul_bytes(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    nul = frozenset({"nul_bytes"})
    return [
        Hostile("nul_bytes", _head("nul_bytes", next(n)).encode() + b"\nhello\x00world\x00\x00 again\n", nul),
        Hostile(
            "nul_bytes",
            _head(
                "nul_bytes", next(n), "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"
            ).encode()
            + b"\n"
            + base64.encodebytes(b"decoded \x00 nul \x00 bytes\n"),
            nul,
        ),
        Hostile(
            "nul_bytes",
            _head("nul_bytes", next(n), subject="nul\x00in\x00the\x00subject").encode() + b"\nbody \x00 too\n",
            nul,
        ),
    ]


def _wrong_charsets(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    latin = "Grüße aus Köln, señor".encode("latin-1")
    utf8 = "Grüße aus Köln, señor".encode()

    def single(label: str, body: bytes) -> bytes:
        return _head("wrong_charset", next(n), f'Content-Type: text/plain; charset="{label}"').encode() + b"\n" + body

    specimens = [
        Hostile("wrong_charset", single("utf-8", latin + b"\n"), frozenset({"bad_charset:utf-8"})),
        Hostile("wrong_charset", single("us-ascii", utf8 + b"\n"), frozenset({"bad_charset:us-ascii"})),
        Hostile("wrong_charset", single("x-klingon", utf8 + b"\n"), frozenset({"bad_charset:x-klingon"})),
        Hostile("wrong_charset", single("base64", utf8 + b"\n"), frozenset({"bad_charset:base64"})),
        Hostile("wrong_charset", single("shift_jis", b"\x81\x7f\xa0\xfd\xfe\n"), frozenset({"bad_charset:shift_jis"})),
    ]
    # Every label in one message wrong: an encoded word in the subject, a display name, two parts.
    boundary = "cs"
    every = (
        _head(
            "wrong_charset",
            next(n),
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            subject="=?utf-8?Q?caf=E9_cr=E8me?=",
        )
        .replace("Hostile Sender", "=?x-martian?Q?Zorg?=")
        .encode()
        + f"\n--{boundary}\nContent-Type: text/plain; charset=iso-2022-jp\n\n".encode()
        + utf8
        + f"\n--{boundary}\nContent-Type: text/html; charset=ascii\n\n<p>".encode()
        + latin
        + f"</p>\n--{boundary}--\n".encode()
    )
    specimens.append(
        Hostile(
            "wrong_charset",
            every,
            frozenset({"bad_charset:utf-8", "bad_charset:x-martian", "bad_charset:iso-2022-jp"}),
        )
    )
    return specimens


def _truncated(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    text = ("The quarterly numbers are attached below, please check them. " * 40).encode()
    b64 = base64.encodebytes(text)
    cut_b64 = b64[: len(b64) // 2 + 3]  # mid-line, mid-quantum: no padding, length not a multiple of 4
    qp = quopri.encodestring(("Grüße " * 200).encode())
    cut_qp = qp[: qp.index(b"=C3=BC", 200) + 4]  # ends inside an escape: "=C3=B"
    boundary = "tb"
    multipart_b64 = (
        _head("truncated", next(n), f'Content-Type: multipart/mixed; boundary="{boundary}"').encode()
        + f"\n--{boundary}\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n".encode()
        + cut_b64
        + b"\n"
    )
    return [
        Hostile(
            "truncated_base64",
            _head("truncated", next(n), "Content-Type: text/plain", "Content-Transfer-Encoding: base64").encode()
            + b"\n"
            + cut_b64
            + b"\n",
            frozenset({"broken_mime"}),
            note="single part, base64 cut mid-quantum",
        ),
        Hostile(
            "truncated_multipart",
            multipart_b64,
            frozenset({"broken_mime"}),
            note="multipart cut inside a base64 part",
        ),
        Hostile(
            "truncated_qp",
            _head(
                "truncated",
                next(n),
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
            ).encode()
            + b"\n"
            + cut_qp,
            frozenset({"bad_charset:utf-8"}),
            note="QP cut inside an escape: the last UTF-8 sequence is incomplete",
            maildir_only=True,
        ),
    ]


def _garbage_dates(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    bad = frozenset({"bad_date"})
    dates = [
        "Mon, 32 Foo 99999 25:61:61 +9999",
        "yesterday, around lunch",
        "Thu, 01 Jan 1970 00:00:00 +0000",  # the epoch: a clock error
        "Fri, 01 Jan 2999 00:00:00 +0000",  # far future
        "Tue, 31 Feb 2026 10:00:00 +0000",  # no such day
        "Wed, 10 Jun 2026 10:00:00 +2500",  # no such offset
        "\x01\x02\x7f",
        "=?utf-8?B?" + "A" * 40 + "?=",
        "9" * 400,
    ]
    out = [Hostile("garbage_date", (_head("garbage_date", next(n), date=d) + "\nbody\n").encode(), bad) for d in dates]
    no_date = _head("garbage_date", next(n)).replace("Date:", "X-Not-Date:") + "\nno Date header at all\n"
    out.append(Hostile("garbage_date", no_date.encode(), frozenset({"missing_date"})))
    return out


def _encoded_word_bombs(counter: Iterable[int]) -> list[Hostile]:
    n = iter(counter)
    many = " ".join(["=?utf-8?B?QQ==?="] * 20000)  # 20,000 words that decode to "A"
    bogus = " ".join(["=?x-bomb?Q?boom?="] * 5000)
    unterminated = "=?utf-8?B?" * 20000
    nested = _encoded_word(_encoded_word(_encoded_word("<b>nested</b>")))
    out = [
        Hostile("encoded_word_bomb", (_head("ew_bomb", next(n), subject=many) + "\nmany words\n").encode()),
        Hostile(
            "encoded_word_bomb",
            (_head("ew_bomb", next(n), subject=bogus) + "\nbogus charset words\n").encode(),
            frozenset({"bad_charset:x-bomb"}),
        ),
        Hostile("encoded_word_bomb", (_head("ew_bomb", next(n), subject=unterminated) + "\nunterminated\n").encode()),
        Hostile(
            "encoded_word_bomb",
            (_head("ew_bomb", next(n), subject=nested) + "\nencoded words inside encoded words\n").encode(),
            extra={"subject": _encoded_word(_encoded_word("<b>nested</b>"))},
        ),
        Hostile(
            "encoded_word_bomb",
            (
                _head("ew_bomb", next(n)).replace("Hostile Sender", " ".join(["=?x-bomb?B?QUFBQQ==?="] * 5000))
                + "\nbomb in the display name\n"
            ).encode(),
            frozenset({"bad_charset:x-bomb"}),
        ),
    ]
    return out


def _binary_junk(rng: random.Random, count: int) -> list[Hostile]:
    out = []
    for i in range(count):
        data = rng.randbytes(rng.randint(1, 20_000))
        # No header block to speak of: no Date and no Message-ID can be found in it.
        if i % 2 == 0:
            out.append(Hostile("binary_junk", data + b"\n", frozenset({"missing_date", "missing_message_id"})))
        else:
            out.append(
                Hostile("binary_junk", data, frozenset({"missing_date", "missing_message_id"}), maildir_only=True)
            )
    return out


def _empty() -> list[Hostile]:
    return [
        Hostile("empty", b"", frozenset({"empty_message"}), maildir_only=True),
        Hostile("empty", b"\n", frozenset({"empty_message"})),
        Hostile("empty", b"\r\n\r\n", frozenset({"empty_message"}), maildir_only=True),
        Hostile(
            "empty_body",
            b"From: a@attacker.example\nSubject: headers only\nMessage-ID: <hostile-empty-body@attacker.example>\n"
            b"Date: Mon, 5 Jan 2026 09:00:00 +0000\n\n",
            frozenset({"empty_body"}),
        ),
    ]


def hostile_messages(seed: int) -> list[Hostile]:
    """Every hostile kind, several specimens each, deterministic for `seed`."""
    rng = random.Random(seed)
    counter = iter(range(10_000))
    specimens: list[Hostile] = []
    specimens += _broken_boundaries(counter)
    specimens.append(_deep_nesting(next(counter)))
    specimens.append(_deep_rfc822(next(counter)))
    specimens.append(_huge_attachment(next(counter), rng))
    specimens += _huge_headers(counter)
    specimens += _nul_bytes(counter)
    specimens += _wrong_charsets(counter)
    specimens += _truncated(counter)
    specimens += _garbage_dates(counter)
    specimens += _encoded_word_bombs(counter)
    specimens += _binary_junk(rng, 20)
    specimens += _empty()
    return specimens


# -- framing ----------------------------------------------------------------------------------

_FROM_ESCAPE = re.compile(rb"(?m)^(>*From )")


def mbox_entry(raw: bytes, when: datetime = _START) -> bytes:
    """One mboxrd entry: a From_ line, the message with ``>*From `` lines escaped, a blank line.

    The reader gives back `raw` exactly when it ends with a newline (an mbox cannot say where a
    message without a final newline ends: those go in a Maildir).
    """
    if not raw.endswith(b"\n"):
        raise ValueError("an mbox entry needs a message that ends with a newline")
    stamp = when.strftime("%a %b %d %H:%M:%S %Y").encode()
    return b"From MAILER-DAEMON " + stamp + b"\n" + _FROM_ESCAPE.sub(rb">\1", raw) + b"\n"


def write_mbox(path: Path, messages: Sequence[bytes]) -> None:
    with path.open("wb") as handle:
        for raw in messages:
            handle.write(mbox_entry(raw))


def write_maildir(root: Path, folder: str, messages: Sequence[bytes]) -> list[Path]:
    """Messages as files of a Maildir++ folder (``INBOX`` is the root); returns their paths."""
    base = root if folder == "INBOX" else root / f".{folder}"
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    if folder != "INBOX":
        (base / "maildirfolder").touch()
    paths = []
    for i, raw in enumerate(messages):
        path = base / "cur" / f"{1767600000 + i}.M{i}P1.hardening:2,S"
        path.write_bytes(raw)
        paths.append(path)
    return paths
