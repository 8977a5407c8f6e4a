"""SQL and HTML/JS payloads in every string a mailbox or the config can carry.

Payloads ride in subjects, display names, addresses, bodies, attachment file names, folder
names (Maildir folders, an mbox file name, a folder-role override in the config) and the
examples of a custom intent. After sync -> thread -> extract -> enrich -> alerts -> publish ->
report: every value is stored exactly as the parser reads it, every table is still there, the
HTML report shows the payloads as text only, and the CSV export holds them verbatim.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from intel import pipeline
from intel.config import load_settings
from intel.enrich import enrich
from intel.errors import ConfigError
from intel.store import open_store
from tests.hardening.helpers import csv_cells, page_problems, write_config
from tests.hardening.mailgen import mbox_entry, write_maildir

pytestmark = pytest.mark.slow

SQL = ["'); DROP TABLE messages;--", '" OR 1=1 --', "$1", "?"]
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "</style><script>alert(4)</script>",
    "<svg onload=alert(5)>",
]
PAYLOADS = SQL + MARKUP
# Addresses that are valid (a quoted local part may hold almost anything) and that the parser keeps
# as written; payloads with spaces or unquoted brackets are not addresses and are dropped as such.
ADDRESSES = [
    "'or'1'='1'--@evil.example",
    "$1@evil.example",
    "?@evil.example",
    '"><img-src=x-onerror=alert(2)>"@evil.example',
    '"<script>alert(1)</script>"@evil.example',
]
OURS = "support@acme.example"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MBOX_FOLDER = SQL[0]  # the mbox file is named after a payload; its folder is that name
INTENT = "refund_request"
INTENT_EXAMPLES = [f"I want my money back {SQL[0]}", f"{MARKUP[0]} refund this order now", "please refund me"]


def _b(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


@dataclass(frozen=True)
class Mail:
    n: int
    payload: str
    address: str
    folder: str
    raw: bytes
    reply: bool = False  # ours, answering message n - 1
    text: str | None = None  # the body, when not the default one

    @property
    def message_id(self) -> str:
        return f"<inj-{self.n}@evil.example>"

    @property
    def name(self) -> str:
        return f"Eve {self.payload} Doe"

    @property
    def body(self) -> str:
        if self.text is not None:
            return self.text
        return f"Hello, the payload is {self.payload} in the body.\nIt is here too: {self.payload}"

    @property
    def filename(self) -> str:
        return f"{self.payload}.txt"


def _folder_for(payload: str) -> str:
    return "INBOX" if "/" in payload else payload  # a directory name cannot hold a slash


def _inbound(
    n: int, payload: str, address: str, folder: str, *, negative: bool = False, text: str | None = None
) -> Mail:
    mail = Mail(n, payload, address, folder, b"", text=text)
    angry = "\n\nThis is terrible. I am furious: your product is broken again and your support is useless."
    body = mail.body + (angry if negative else "")
    boundary = f"inj{n}"
    raw = (
        f"From: {_b(mail.name)} <{address}>\n"
        f"To: Support <{OURS}>\n"
        f"Subject: {payload}\n"
        f"Date: {(START + timedelta(hours=3 * n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
        f"Message-ID: {mail.message_id}\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Disposition: attachment; filename*=utf-8''{quote(mail.filename, safe='')}\n\nattached\n"
        f"--{boundary}--\n"
    ).encode()
    return Mail(n, payload, address, folder, raw, text=text)


def _reply(n: int, to: Mail) -> Mail:
    raw = (
        f"From: Support <{OURS}>\n"
        f"To: {_b(to.name)} <{to.address}>\n"
        f"Subject: Re: {to.payload}\n"
        f"Date: {(START + timedelta(hours=3 * to.n + 1)).strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
        f"Message-ID: <inj-{n}@acme.example>\n"
        f"In-Reply-To: {to.message_id}\nReferences: {to.message_id}\n\n"
        f"We looked at {to.payload} and fixed it.\n"
    ).encode()
    return Mail(n, to.payload, OURS, to.folder, raw, reply=True)


def _mails() -> list[Mail]:
    mails: list[Mail] = []
    n = 0
    for i, payload in enumerate(PAYLOADS):
        folder = MBOX_FOLDER if i == 0 else _folder_for(payload)
        mail = _inbound(n, payload, ADDRESSES[i % len(ADDRESSES)], folder)
        mails.append(mail)
        n += 1
        if i % 2 == 0:  # every other one answered, the rest wait (and show as unanswered)
            mails.append(_reply(n, mail))
            n += 1
    # Complaints in a row from one sender: alerts (a negative streak, complaints waiting for a
    # reply) whose titles carry the sender's address and the subjects.
    for payload in MARKUP[:3]:
        mails.append(_inbound(n, payload, ADDRESSES[4], "INBOX", negative=True))
        n += 1
    # One message that says what a custom intent example says.
    mails.append(_inbound(n, INTENT_EXAMPLES[2], ADDRESSES[1], "INBOX", text=INTENT_EXAMPLES[2]))
    return mails


@dataclass
class Injected:
    root: Path
    database: Path
    mails: list[Mail]
    report: Any
    tables_before: set[str]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def _catalog(con: duckdb.DuckDBPyConnection) -> set[str]:
    tables = {f"table {r[0]}" for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = {f"view {r[0]}" for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    return tables | views


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Injected:
    root = tmp_path_factory.mktemp("injection")
    mails = _mails()
    mbox = root / f"{MBOX_FOLDER}.mbox"
    mbox.write_bytes(b"".join(mbox_entry(m.raw) for m in mails if m.folder == MBOX_FOLDER))
    for folder in sorted({m.folder for m in mails} - {MBOX_FOLDER}):
        write_maildir(root / "Maildir", folder, [m.raw for m in mails if m.folder == folder])
    database = root / "db" / "intel.duckdb"
    with open_store(database) as store:  # the schema as the migrations make it, before any mail
        tables_before = _catalog(store.con)
    config = write_config(
        root / "intel.toml",
        {
            "storage": {"database": str(database), "parse_workers": 1},
            "identity": {"addresses": ["*@acme.example"]},
            "reports": {"out": str(root / "report"), "timezone": "UTC"},
            "alerts": {"negative_streak": 2},
            "models": {"custom_intent": [{"name": INTENT, "examples": INTENT_EXAMPLES}]},
        },
        [
            {"name": "files", "type": "mbox", "path": str(mbox), "folder_roles": {MBOX_FOLDER: "archive"}},
            {"name": "box", "type": "maildir", "path": str(root / "Maildir")},
        ],
    )
    settings = load_settings(config)
    for source in settings.sources:
        assert pipeline.sync_source(settings, source.name).error is None
    pipeline.thread_messages(settings)
    pipeline.extract_contacts_and_activities(settings)
    assert enrich(settings).scored == len(mails)
    pipeline.raise_alerts(settings)
    pipeline.publish(settings)
    report = pipeline.report(settings)
    return Injected(root, database, mails, report, tables_before)


def test_every_value_is_stored_verbatim(injected: Injected) -> None:
    for mail in injected.mails:
        rows = injected.rows(
            "SELECT m.subject, m.from_name, m.from_address, m.body_text, m.attachments, m.folder, r.raw"
            " FROM messages m JOIN raw_messages r ON r.sha256 = m.message_key WHERE m.rfc_message_id = ?",
            [mail.message_id if not mail.reply else f"<inj-{mail.n}@acme.example>"],
        )
        assert len(rows) == 1, mail.message_id
        subject, name, address, body, attachments, folder, raw = rows[0]
        assert raw == mail.raw and folder == mail.folder
        if mail.reply:
            assert subject == f"Re: {mail.payload}" and body == f"We looked at {mail.payload} and fixed it."
            continue
        assert (subject, name, address) == (mail.payload, mail.name, mail.address)
        assert body.startswith(mail.body)
        assert [a["filename"] for a in attachments] == [mail.filename]
    # The address table and the threads carry the same strings.
    names = {r[0] for r in injected.rows("SELECT name FROM message_addresses WHERE role = 'from'")}
    assert {m.name for m in injected.mails if not m.reply} <= names
    subjects = {r[0] for r in injected.rows("SELECT subject FROM threads")}
    assert set(PAYLOADS) <= subjects


def test_every_table_is_intact(injected: Injected) -> None:
    with duckdb.connect(str(injected.database), read_only=True) as con:
        assert _catalog(con) == injected.tables_before
    counts = dict(
        injected.rows("SELECT 'messages', count(*) FROM messages UNION ALL SELECT 'raw', count(*) FROM raw_messages")
    )
    assert counts == {"messages": len(injected.mails), "raw": len(injected.mails)}
    assert injected.rows("SELECT count(*) FROM message_insights") == [(len(injected.mails),)]
    assert injected.rows("SELECT count(*) FROM loads WHERE status <> 'ok'") == [(0,)]
    roles = dict(injected.rows("SELECT DISTINCT folder, folder_role FROM messages"))
    assert roles[MBOX_FOLDER] == "archive"  # the override, keyed by a payload in the config, applied


def test_the_report_shows_payloads_as_text_only(injected: Injected) -> None:
    page = injected.report.html.read_text(encoding="utf-8")
    problems, text = page_problems(page)
    assert problems == []
    for payload in PAYLOADS:
        if any(c in payload for c in "<>\"'&"):
            assert payload not in page, payload  # never written raw ...
        assert payload in text, payload  # ... but shown, as text
    for mail in injected.mails:
        if not mail.reply:
            assert html.escape(mail.payload, quote=True) in page
    # Alert titles quote addresses and subjects: payloads reach them, and they are escaped too.
    titles = [row[0] for row in injected.rows("SELECT title FROM alerts")]
    hostile = [t for t in titles if any(p in t for p in MARKUP)]
    assert hostile, titles
    for title in hostile:
        assert title not in page and html.escape(title, quote=True) in page


def test_the_csv_export_holds_payloads_verbatim(injected: Injected) -> None:
    cells = csv_cells(injected.report.csv_dir)
    mail = cells["v_mail"]
    for m in injected.mails:
        if m.reply:
            continue
        assert {m.payload, m.name, m.address, m.folder} <= mail, m.payload
        assert any(m.body in cell for cell in mail), m.payload  # new_text
    assert set(PAYLOADS) <= cells["v_thread_lengths"]
    assert {m.name for m in injected.mails if not m.reply} & cells["v_top_correspondents"]
    assert set(ADDRESSES) <= cells["v_top_correspondents"]


def test_custom_intent_examples_with_payloads_are_used(injected: Injected) -> None:
    assert injected.rows("SELECT DISTINCT models LIKE '%|custom=%' FROM message_insights") == [(True,)]
    refund = injected.mails[-1]
    rows = injected.rows(
        "SELECT i.custom_intents FROM message_insights i JOIN messages m USING (message_key)"
        " WHERE m.rfc_message_id = ?",
        [refund.message_id],
    )
    assert rows == [([INTENT],)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_refused_as_custom_intent_names(tmp_path: Path, payload: str) -> None:
    config = write_config(
        tmp_path / "intel.toml",
        {"models": {"custom_intent": [{"name": payload, "examples": ["an example"]}]}},
        [],
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "\n" not in message and "models.custom_intent[0].name" in message
