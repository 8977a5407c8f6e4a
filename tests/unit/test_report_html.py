"""The HTML report and the exports, over a small database built through the real migrations.

The fixture mailbox carries hostile strings in subjects, names, addresses, labels and alert
titles; the report must show them as text, never as markup, and load or run nothing.
"""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from intel.config import ReportSettings
from intel.errors import StoreError
from intel.reports.html import ReportContext, build_report, render_html
from intel.reports.metrics import VIEWS, refresh_report_mail, write_report_settings
from intel.store import open_store, publish_snapshot
from intel.store.publish import open_snapshot
from tests.report_pages import ALLOWED_TAGS, parse_page

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SQL = "'); DROP TABLE messages;--"
SVG = "</svg><svg onload=alert(3)>"
ATTR = "' onmouseover='alert(4)"
PAYLOADS = (SCRIPT, IMG, SQL, SVG, ATTR)
EVIL_ADDRESS = "x'><svg/onload=alert(5)>@evil.example"  # an address as a broken parser might keep it
EVIL_DOMAIN = "evil.example"
OURS = "support@ours.example"
T0 = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)  # a Monday; 09:30 in Europe/London


@dataclass
class Mail:
    key: str
    thread: str
    at: datetime
    direction: str
    sender: str
    recipients: list[str]
    subject: str
    name: str = ""
    insight: tuple[str, str, str] | None = None  # sentiment, intent, emotion
    extra: dict[str, Any] = field(default_factory=dict)


MAILS = [
    # Thread a: a hostile customer writes twice, we answer after 2 hours, they write again (unanswered).
    Mail(
        "a1",
        "ta",
        T0,
        "inbound",
        EVIL_ADDRESS,
        [OURS],
        f"Invoice {SCRIPT}",
        IMG,
        ("negative", "complaint", "frustrated"),
    ),
    Mail("a2", "ta", T0 + timedelta(minutes=10), "inbound", EVIL_ADDRESS, [OURS], f"Re: Invoice {SCRIPT}", IMG),
    Mail("a3", "ta", T0 + timedelta(hours=2), "outbound", OURS, [EVIL_ADDRESS], f"Re: Invoice {SCRIPT}", "Support"),
    Mail(
        "a4", "ta", T0 + timedelta(days=1), "inbound", EVIL_ADDRESS, [OURS], f"Re: {SQL}", IMG, ("negative", ATTR, SVG)
    ),
    # Thread b: a friendly customer, answered the next day.
    Mail(
        "b1",
        "tb",
        T0 + timedelta(days=2),
        "inbound",
        "ann@client.example",
        [OURS],
        f"Question {SVG}",
        ATTR,
        ("positive", "query", "happy"),
    ),
    Mail(
        "b2", "tb", T0 + timedelta(days=3), "outbound", OURS, ["ann@client.example"], f"Re: Question {SVG}", "Support"
    ),
    # Thread c: we write first; no inbound at all.
    Mail("c1", "tc", T0 + timedelta(days=9), "outbound", OURS, ["bob@client.example"], "Renewal", "Support"),
]


def _insert_mail(con: duckdb.DuckDBPyConnection, m: Mail) -> None:
    now = datetime.now(UTC)
    con.execute(
        "INSERT INTO messages (message_key, source, folder, folder_role, rfc_message_id, thread_id, subject,"
        " normalized_subject, sent_at, date_source, from_address, from_name, from_domain, to_addresses, direction,"
        " body_text, body_html, new_text, signature, attachment_count, size_bytes, headers, parse_problems,"
        " parser_version, load_id, ingested_at)"
        " VALUES (?, 'fixture', ?, ?, ?, ?, ?, ?, ?, 'header', ?, ?, ?, ?, ?, ?, false, ?, '', 0, 100, MAP {}, [],"
        " 'test', 1, ?)",
        [
            m.key,
            "INBOX" if m.direction == "inbound" else "Sent",
            "inbox" if m.direction == "inbound" else "sent",
            f"<{m.key}@fixture>",
            m.thread,
            m.subject,
            m.subject.lower(),
            m.at,
            m.sender,
            m.name,
            m.sender.rsplit("@", 1)[1],
            m.recipients,
            m.direction,
            f"Body of {m.subject}",
            f"Body of {m.subject}",
            now,
        ],
    )
    con.execute(
        "INSERT INTO message_locations (source, folder, location, sha256, folder_role, load_id, seen_at)"
        " VALUES ('fixture', 'INBOX', ?, ?, 'inbox', 1, ?)",
        [m.key, m.key, now],
    )
    addresses = [("from", 0, m.sender, m.name)] + [("to", i, r, "") for i, r in enumerate(m.recipients)]
    for role, position, address, name in addresses:
        con.execute(
            "INSERT INTO message_addresses VALUES (?, ?, ?, ?, ?, ?, ?)",
            [m.key, role, position, address, name, address.rsplit("@", 1)[1], address == OURS],
        )
    if m.insight:
        sentiment, intent, emotion = m.insight
        con.execute(
            "INSERT INTO message_insights VALUES (?, ?, 0.9, MAP {'x': 0.1}, ?, 0.8, MAP {'x': 0.2}, [], ?, 0.7,"
            " MAP {'x': 0.3}, 'sentiment.v1', 'intent.v1', 'emotion.v1', 'test', 10, 1, ?)",
            [m.key, sentiment, intent, emotion, now],
        )


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    for mail in MAILS:
        _insert_mail(con, mail)
    now = datetime.now(UTC)
    con.execute(
        "INSERT INTO alerts (alert_key, rule, severity, subject_type, subject, title, details, message_keys,"
        " thread_id, first_at, trigger_at, raised_at, load_id) VALUES (?, 'negative_streak', 'high', 'address',"
        " ?, ?, ?, ['a1', 'a4'], 'ta', ?, ?, ?, 1)",
        ["k1", EVIL_ADDRESS, f"2 negative emails from {IMG}: {SCRIPT}", json.dumps({"streak": 2}), T0, T0, now],
    )
    con.execute(
        "INSERT INTO alerts (alert_key, rule, severity, subject_type, subject, title, details, message_keys,"
        " first_at, trigger_at, raised_at, load_id) VALUES ('k2', ?, ?, 'message', 'b1', ?, '{}', ['b1'], ?, ?, ?, 1)",
        [SVG, ATTR, SQL, T0, T0, now],
    )
    con.execute(
        "INSERT INTO activities (activity_id, message_key, position, thread_id, type, status, text, confidence,"
        " sent_at, from_address, model_version, load_id, extracted_at)"
        " VALUES ('b1:0', 'b1', 0, 'tb', 'meeting', 'proposed', ?, 0.9, ?, 'ann@client.example', 'a', 1, ?)",
        [SCRIPT, T0 + timedelta(days=2), now],
    )
    con.execute(
        "INSERT INTO contacts (address, domain, name, messages, messages_with_signature, load_id, updated_at)"
        " VALUES ('ann@client.example', 'client.example', ?, 1, 1, 1, ?)",
        [SQL, now],
    )


def hostile_snapshot(root: Path) -> Path:
    """The fixture mailbox in a database under `root`, published as a snapshot (its path)."""
    database = root / "intel.duckdb"
    with open_store(database) as store:
        _fill(store.con)
        write_report_settings(store.con, ReportSettings(timezone="Europe/London"))
        refresh_report_mail(store.con)
    return publish_snapshot(database, root / "intel.snapshot.duckdb")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_snapshot(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def report(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("out")
    con = open_snapshot(snapshot)
    try:
        result = build_report(con, ReportSettings(timezone="Europe/London", top=20), out)
    finally:
        con.close()
    assert result.html == out / "report.html"
    return out, result.html.read_text(encoding="utf-8")


def test_hostile_strings_are_shown_as_text_and_nothing_can_run_or_load(report: tuple[Path, str]) -> None:
    _, page = report
    for payload in (*PAYLOADS, EVIL_ADDRESS):
        assert payload not in page, payload
    parsed = parse_page(page)
    shown = "".join(parsed.text)
    # Each payload reached the page (so escaping, not omission, kept it harmless) ...
    for payload in (SCRIPT, IMG, SQL, SVG, ATTR):
        assert payload in shown or html.escape(payload, quote=True) in page, payload
    assert EVIL_ADDRESS in shown
    # ... and the document has only our own tags and attributes: no script, handler or URL.
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            assert name not in {"src", "srcset", "action", "formaction", "xlink:href", "style"} or tag == "svg"
            if name == "href":
                assert value is not None and re.fullmatch(r"#[a-z-]+|(csv|parquet)/v_[a-z_]+\.(csv|parquet)", value)
    assert "<script" not in page.lower()
    assert re.search(r"https?:|//[a-z]", page, re.IGNORECASE) is None
    assert "default-src 'none'" in page  # and a policy that would block anything that slipped through


def test_key_numbers_and_header(report: tuple[Path, str]) -> None:
    _, page = report
    cards = dict(re.findall(r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>', page))
    assert cards == {
        "Messages in": "4",
        "Messages out": "3",
        "Threads": "3",
        "Correspondents": "3",
        "Response rate": "67%",  # turns: a1+a2 (answered), a4 (waiting), b1 (answered)
        "Median first response": "13.0 h",  # the median of 2 h (thread a) and 24 h (thread b)
        "Unanswered": "1",
        "Open alerts": "2",
    }
    assert "2 of 3 turns answered" in page
    assert "Europe/London (business hours Mon, Tue, Wed, Thu, Fri 09:00–17:00)" in page
    assert "2026-06-01 to 2026-06-10 (10 days)" in page
    assert "intel.snapshot.duckdb" in page


def test_times_are_shown_in_the_report_time_zone(report: tuple[Path, str]) -> None:
    _, page = report
    unanswered = page.split('id="responsiveness"')[1].split("<h3>Unanswered</h3>")[1].split("</table>")[0]
    assert "2026-06-02 09:30" in unanswered  # a4 was sent 08:30 UTC = 09:30 BST
    assert "2026-06-02 08:30" not in unanswered


def test_every_view_is_exported_as_csv_and_parquet_with_the_same_rows(report: tuple[Path, str], snapshot: Path) -> None:
    out, page = report
    con = open_snapshot(snapshot)
    try:
        for view in VIEWS:
            frame = pl.read_parquet(out / "parquet" / f"{view}.parquet")
            with open(out / "csv" / f"{view}.csv", newline="", encoding="utf-8") as handle:
                records = list(csv.reader(handle))
            assert records[0] == frame.columns, view
            assert len(records) - 1 == frame.height, view
            (count,) = con.execute(f"SELECT count(*) FROM {view}").fetchall()[0]
            assert frame.height == count, view
            assert f'href="csv/{view}.csv"' in page and f'href="parquet/{view}.parquet"' in page
    finally:
        con.close()
    hours = pl.read_parquet(out / "parquet" / "v_busiest_hours.parquet")
    assert hours.height == 168 and hours["total"].sum() == len(MAILS)
    # Strings from mail are kept verbatim in the exports (they are data, not markup).
    subjects = pl.read_parquet(out / "parquet" / "v_thread_lengths.parquet")["subject"].to_list()
    assert f"Invoice {SCRIPT}" in subjects
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_tables_are_capped_with_a_pointer_to_the_csv(snapshot: Path, tmp_path: Path) -> None:
    con = open_snapshot(snapshot)
    try:
        result = build_report(con, ReportSettings(timezone="Europe/London", top=1), tmp_path)
        again = build_report(con, ReportSettings(timezone="Europe/London", top=1), tmp_path)  # same connection
    finally:
        con.close()
    page = again.html.read_text(encoding="utf-8")
    assert result.rows == again.rows and result.rows["v_thread_lengths"] == 3
    assert '2 more in the CSV: <a href="csv/v_thread_lengths.csv">' in page
    assert '2 more in the CSV: <a href="csv/v_top_correspondents.csv">' in page
    longest = page.split("<h3>Longest threads</h3>")[1].split("</table>")[0]
    assert longest.count("<tr>") == 2  # the header row and one thread
    assert result.seconds > 0 and again.csv_dir == tmp_path / "csv" and again.parquet_dir == tmp_path / "parquet"


def test_charts_are_drawn_from_the_views(report: tuple[Path, str]) -> None:
    _, page = report
    for title in (
        "Response-time distribution",
        "Messages per week (weeks start on Monday)",
        "Messages per day",
        "Busiest hours: messages by weekday and hour (Europe/London)",
        "Top 3 correspondents by messages",
        "Thread lengths: threads by number of messages",
        "Sentiment of inbound mail per week",
        "Intent of inbound mail per week",
        "Emotion of inbound mail per week",
        "Meetings, calls and tasks per week (by the date of the message that mentions them)",
    ):
        assert f'aria-label="{html.escape(title)}"' in page, title
    # Monday 09:30 local: two messages in the Monday 09 cell
    assert "<title>Monday 09: 2 messages</title>" in page
    # The intent legend names the hostile label as text.
    assert (
        html.escape(ATTR, quote=True)
        in page.split('aria-label="Intent of inbound mail per week"')[1].split("</svg>")[0]
    )


def test_an_empty_database_says_no_data(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    with open_store(database):
        pass
    con = duckdb.connect(str(database), read_only=True)
    try:
        result = build_report(con, ReportSettings(), tmp_path / "out")
    finally:
        con.close()
    page = result.html.read_text(encoding="utf-8")
    assert "no mail yet" in page and "No answered turns yet." in page and "No mail in the period." in page
    assert "No messages have been scored" in page and "No open alerts." in page
    assert result.rows["v_busiest_hours"] == 168 and result.rows["v_volume_daily"] == 0
    assert set(result.rows) == set(VIEWS)
    with open(result.csv_dir / "v_unanswered.csv", encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) == 1  # the header only


def test_render_without_any_view_does_not_fail() -> None:
    context = ReportContext(
        title=SCRIPT, database=IMG, generated_at=datetime(2026, 6, 1, tzinfo=UTC), timezone="UTC", top=5
    )
    page = render_html({}, context)
    assert SCRIPT not in page and IMG not in page
    assert page.count('class="empty"') >= 6
    assert html.escape(SCRIPT) in page


def test_a_database_without_the_report_views_is_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "old.duckdb"
    duckdb.connect(str(database)).close()
    con = duckdb.connect(str(database), read_only=True)
    try:
        with pytest.raises(StoreError, match="has no report tables: it predates the report views"):
            build_report(con, ReportSettings(), tmp_path / "out")
    finally:
        con.close()


def test_report_command(snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intel.cli import app

    monkeypatch.delenv("INTEL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    database = snapshot.with_name("intel.duckdb")
    result = CliRunner().invoke(app, ["--db", str(database), "report", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert f"report:    {tmp_path / 'r' / 'report.html'}" in result.output
    assert "alerts:" in result.output and "snapshot:" in result.output
    assert (tmp_path / "r" / "report.html").is_file() and (tmp_path / "r" / "csv" / "v_alerts_open.csv").is_file()

    failed = CliRunner().invoke(app, ["--db", str(tmp_path / "missing.duckdb"), "report"])
    assert isinstance(failed.exception, StoreError) and "no database at" in str(failed.exception)
    assert not (tmp_path / "missing.duckdb").exists()


def test_years_of_weeks_are_charted_per_month() -> None:
    weeks = [date(2023, 1, 2) + timedelta(weeks=i) for i in range(160)]
    frames = {
        "v_volume_weekly": pl.DataFrame(
            {"week": weeks * 2, "direction": ["inbound"] * 160 + ["outbound"] * 160, "messages": [1] * 160 + [2] * 160}
        ),
        "v_sentiment_weekly": pl.DataFrame({"week": weeks[:3], "label": ["negative"] * 3, "messages": [4, 5, 6]}),
    }
    context = ReportContext(
        title="t", database="d", generated_at=datetime(2026, 1, 1, tzinfo=UTC), timezone="UTC", top=5
    )
    page = render_html(frames, context)
    volume = page.split('aria-label="Messages per month (each week counted in the month of its Monday)"')[1]
    volume = volume.split("</svg>")[0]
    assert "<title>2023-01 · inbound: 5</title>" in volume  # five Mondays in January 2023
    assert "<title>2023-01 · outbound: 10</title>" in volume
    assert "<title>2026-01 · inbound: 3</title>" in volume  # the last three weeks: 5, 12 and 19 January
    sentiment = page.split('aria-label="Sentiment of inbound mail per month"')[1].split("</svg>")[0]
    assert "<title>2023-01 · negative: 15</title>" in sentiment  # on the volume chart's axis
    assert sentiment.count("<title>") == 2  # the chart's title and the one month with scored mail


def test_stale_report_tables_are_refused_read_only_and_rebuilt_on_a_write_connection(
    snapshot: Path, tmp_path: Path
) -> None:
    database = tmp_path / "stale.duckdb"
    database.write_bytes(snapshot.read_bytes())
    with open_store(database) as store:
        _insert_mail(
            store.con, Mail("d1", "td", T0 + timedelta(days=5), "inbound", "dan@client.example", [OURS], "New")
        )
    con = duckdb.connect(str(database), read_only=True)
    try:
        with pytest.raises(StoreError, match="predate its data or settings"):
            build_report(con, ReportSettings(), tmp_path / "refused")
    finally:
        con.close()
    con = duckdb.connect(str(database))
    try:
        result = build_report(con, ReportSettings(), tmp_path / "rebuilt")
    finally:
        con.close()
    assert result.rows["v_unanswered"] == 2  # a4 and the new d1
    assert "dan@<wbr>client.example" in result.html.read_text(encoding="utf-8")
