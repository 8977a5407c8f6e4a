"""The report views of migration 0005 over small hand-built mailboxes, and over the demo mailbox.

Every expected number is worked out by hand in a comment beside it. Our own addresses end in
``@us.example``; unless a test says otherwise the report settings are the defaults: UTC, work
from 09:00 to 17:00, Monday to Friday. 2026-06-01 is a Monday.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intel import pipeline
from intel.config import ReportSettings, Settings, load_settings
from intel.demo import DemoMessage, demo_messages
from intel.errors import BadInputError, StoreError
from intel.reports.metrics import (
    VIEWS,
    business_hours,
    read_view,
    refresh_report_mail,
    report_mail_is_current,
    work_minutes,
    write_report_settings,
)
from intel.store.db import open_store

MON = datetime(2026, 6, 1, tzinfo=UTC)  # Monday 00:00 UTC


def at(day: int, hour: float) -> datetime:
    """`day` days after Monday 2026-06-01 (0 = Monday), at `hour` UTC."""
    return MON + timedelta(days=day, hours=hour)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_store(tmp_path / "intel.duckdb") as store:
        yield store.con


def add(
    con: duckdb.DuckDBPyConnection,
    key: str,
    sent_at: datetime,
    direction: str,
    *,
    thread: str = "t1",
    sender: str | None = None,
    to: tuple[str, ...] | None = None,
    cc: tuple[str, ...] = (),
    folder_role: str | None = None,
    headers: dict[str, str] | None = None,
    duplicate_of: str | None = None,
    subject: str = "Hello",
) -> None:
    """One parsed message with its address rows and its location, as the sync stage stores them."""
    if sender is None:
        sender = "agent@us.example" if direction in ("outbound", "internal") else "alice@acme.example"
    if to is None:
        to = ("alice@acme.example",) if direction == "outbound" else ("support@us.example",)
    role = folder_role or ("sent" if direction == "outbound" else "inbox")
    con.execute(
        "INSERT INTO messages (message_key, source, folder, folder_role, rfc_message_id, thread_id, duplicate_of,"
        " subject, normalized_subject, sent_at, date_source, from_address, from_name, from_domain, to_addresses,"
        " cc_addresses, direction, body_text, body_html, new_text, signature, attachment_count, size_bytes,"
        " headers, parse_problems, parser_version, load_id, ingested_at)"
        " VALUES (?, 'test', ?, ?, ?, ?, ?, ?, lower(?), ?, 'header', ?, ?, ?, ?, ?, ?, 'body', false, 'body', '',"
        " 0, 100, ?, [], '1', 1, now())",
        [
            key,
            role,
            role,
            f"<{key}@test>",
            thread,
            duplicate_of,
            subject,
            subject,
            sent_at,
            sender,
            sender.split("@")[0].title(),
            sender.split("@")[1],
            list(to),
            list(cc),
            direction,
            headers or {},
        ],
    )
    rows = [("from", 0, sender)] + [("to", i, a) for i, a in enumerate(to)] + [("cc", i, a) for i, a in enumerate(cc)]
    for kind, position, address in rows:
        con.execute(
            "INSERT INTO message_addresses VALUES (?, ?, ?, ?, ?, ?, ?)",
            [key, kind, position, address, address.split("@")[0].title(), address.split("@")[1],
             address.endswith("@us.example")],
        )  # fmt: skip
    con.execute(
        "INSERT INTO message_locations (source, folder, location, sha256, folder_role, load_id, seen_at)"
        " VALUES ('test', ?, ?, ?, ?, 1, now())",
        [role, key, key, role],
    )


def score(
    con: duckdb.DuckDBPyConnection, key: str, sentiment: str, intent: str = "other", emotion: str = "neutral"
) -> None:
    con.execute(
        "INSERT INTO message_insights VALUES (?, ?, 0.9, MAP {}, ?, 0.8, MAP {}, [], ?, 0.7, MAP {},"
        " 'sentiment.v1', 'intent.v1', 'emotion.v1', 'm', 10, 1, now())",
        [key, sentiment, intent, emotion],
    )


def rows(con: duckdb.DuckDBPyConnection, view: str) -> list[dict[str, Any]]:
    return read_view(con, view).to_dicts()


def by(items: list[dict[str, Any]], column: str) -> dict[Any, dict[str, Any]]:
    return {item[column]: item for item in items}


# ---------------------------------------------------------------------------------------------
# Turns and replies
# ---------------------------------------------------------------------------------------------


def test_the_reply_is_the_first_outbound_message_of_the_thread_after_the_inbound(
    con: duckdb.DuckDBPyConnection,
) -> None:
    add(con, "o0", at(0, 8), "outbound")  # we write first: it answers nothing
    add(con, "i1", at(0, 10), "inbound")
    add(con, "x1", at(0, 11), "outbound", thread="t2")  # another thread: not a reply to i1
    add(con, "o1", at(0, 12), "outbound")  # the reply to i1
    add(con, "o2", at(0, 13), "outbound")  # a follow-up, no inbound is waiting
    add(con, "i2", at(1, 9), "inbound")
    add(con, "o3", at(1, 10.5), "outbound")  # the reply to i2
    times = rows(con, "v_response_times")
    # i1 Monday 10:00 -> o1 12:00: 2 h, all inside 09-17; i2 Tuesday 09:00 -> o3 10:30: 1.5 h.
    assert [(t["message_key"], t["reply_key"], t["response_hours"], t["response_business_hours"]) for t in times] == [
        ("i1", "o1", 2.0, 2.0),
        ("i2", "o3", 1.5, 1.5),
    ]
    assert all(t["inbound_in_turn"] == 1 and t["correspondent"] == "alice@acme.example" for t in times)
    responses = by(rows(con, "v_message_responses"), "message_key")
    assert set(responses) == {"i1", "i2"}  # one row per inbound message
    assert responses["i1"]["turn"] == 1 and responses["i2"]["turn"] == 3  # outbound messages before each
    first = rows(con, "v_first_response")
    assert [(f["thread_id"], f["first_reply_at"], f["first_response_hours"]) for f in first] == [("t1", at(0, 12), 2.0)]


def test_a_reply_sent_at_the_same_instant_does_not_answer(con: duckdb.DuckDBPyConnection) -> None:
    # Same second: the outbound message cannot answer the inbound one; the next one does.
    add(con, "i1", at(0, 10), "inbound")
    add(con, "o1", at(0, 10), "outbound")
    add(con, "o2", at(0, 11), "outbound")
    ((reply, hours),) = [(r["reply_key"], r["response_hours"]) for r in rows(con, "v_response_times")]
    assert (reply, hours) == ("o2", 1.0)


def test_two_inbound_messages_in_a_turn_count_once_from_the_first(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "i1", at(0, 10), "inbound")
    add(con, "i2", at(0, 11), "inbound", sender="bob@acme.example")  # a colleague adds to the same turn
    add(con, "o1", at(0, 14), "outbound")
    # One turn, from i1 (10:00) to o1 (14:00): 4 h; it belongs to i1's sender.
    (turn,) = rows(con, "v_response_times")
    assert (turn["message_key"], turn["awaiting_since"], turn["response_hours"], turn["inbound_in_turn"]) == (
        "i1",
        at(0, 10),
        4.0,
        2,
    )
    assert turn["correspondent"] == "alice@acme.example"
    responses = by(rows(con, "v_message_responses"), "message_key")
    assert [responses[k]["is_turn_start"] for k in ("i1", "i2")] == [True, False]
    assert [responses[k]["turn_start"] for k in ("i1", "i2")] == [at(0, 10), at(0, 10)]
    assert [responses[k]["response_hours"] for k in ("i1", "i2")] == [4.0, 3.0]  # per message: from its own time
    (summary,) = rows(con, "v_response_summary")
    assert (summary["turns"], summary["answered_turns"], summary["median_response_hours"]) == (1, 1, 4.0)
    per = by(rows(con, "v_response_by_correspondent"), "correspondent")
    assert per["alice@acme.example"]["turns"] == 1 and "bob@acme.example" in per
    assert per["bob@acme.example"]["turns"] == 0 and per["bob@acme.example"]["response_rate"] is None


def test_automated_mail_neither_opens_a_turn_nor_answers_one(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "news", at(0, 9), "inbound", thread="n", headers={"list-id": "<news.acme.example>"})
    add(con, "bulk", at(0, 9), "inbound", thread="b", headers={"precedence": "Bulk"})
    add(con, "bounce", at(0, 9), "inbound", thread="d", sender="MAILER-DAEMON@mx.example".lower())
    add(con, "noreply", at(0, 9), "inbound", thread="r", sender="no-reply@shop.example")
    add(con, "ooo", at(0, 9), "inbound", thread="o", headers={"auto-submitted": "auto-replied; owner=x"})
    add(con, "human", at(0, 10), "inbound", headers={"auto-submitted": "no"})  # explicitly not automated
    add(con, "ack", at(0, 10.1), "outbound", headers={"auto-submitted": "auto-replied"})  # our autoresponder
    add(con, "reply", at(0, 12), "outbound")
    mail = by(rows(con, "v_mail"), "message_key")
    automated = {k for k, m in mail.items() if m["is_automated"]}
    assert automated == {"news", "bulk", "bounce", "noreply", "ooo", "ack"}
    # Only "human" is a turn, and the autoresponder's "ack" does not count as its reply: 10:00 -> 12:00.
    assert [(r["message_key"], r["reply_key"], r["response_hours"]) for r in rows(con, "v_response_times")] == [
        ("human", "reply", 2.0)
    ]
    assert rows(con, "v_unanswered") == []


def test_drafts_spam_trash_duplicates_and_mail_outside_the_window_are_left_out(
    con: duckdb.DuckDBPyConnection,
) -> None:
    add(con, "old", at(-30, 10), "inbound", thread="old")  # before the source's sync window
    con.execute("INSERT INTO source_cursors VALUES ('test', 'window', ?, 1, now())", ['{"since": "2026-05-15"}'])
    add(con, "i1", at(0, 10), "inbound")
    add(con, "i1-copy", at(0, 10.5), "inbound", duplicate_of="i1")  # same Message-ID, other bytes
    add(con, "draft", at(0, 11), "outbound", folder_role="drafts")  # never sent: no reply
    add(con, "junk", at(0, 11), "inbound", folder_role="spam", thread="s")
    add(con, "binned", at(0, 11), "inbound", folder_role="trash", thread="x")
    add(con, "o1", at(0, 13), "outbound")
    assert {m["message_key"] for m in rows(con, "v_mail")} == {"i1", "o1"}
    # One turn: i1 10:00 -> o1 13:00 = 3 h (the draft at 11:00 does not answer it).
    assert [(r["message_key"], r["reply_key"], r["response_hours"]) for r in rows(con, "v_response_times")] == [
        ("i1", "o1", 3.0)
    ]
    assert sum(r["messages"] for r in rows(con, "v_volume_daily")) == 2


def test_unanswered_turns_wait_from_their_first_message(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "a1", at(0, 10), "inbound", thread="a")
    add(con, "a2", at(0, 12), "outbound", thread="a")  # answers a1 after 2 h
    add(con, "a3", at(1, 10), "inbound", thread="a", subject="Re: Hello")  # a new turn...
    add(con, "a4", at(1, 11), "inbound", thread="a", subject="Still waiting")  # ...of two messages
    add(con, "b1", at(2, 15), "inbound", thread="b", sender="carol@beta.example")
    score(con, "a3", "neutral")
    score(con, "a4", "negative", intent="complaint", emotion="frustrated")
    before = datetime.now(UTC)
    waiting = by(rows(con, "v_unanswered"), "thread_id")
    after = datetime.now(UTC)
    assert set(waiting) == {"a", "b"}
    a = waiting["a"]
    # Row of the turn a3+a4: waiting since a3 (its first message); message, subject and labels of a4 (the last).
    assert (a["message_key"], a["awaiting_since"], a["last_inbound_at"], a["inbound_in_turn"]) == (
        "a4",
        at(1, 10),
        at(1, 11),
        2,
    )
    assert (a["subject"], a["intent"], a["sentiment"], a["correspondent"]) == (
        "Still waiting",
        "complaint",
        "negative",
        "alice@acme.example",
    )
    # waiting_hours = now - awaiting_since, with now taken while the view ran.
    low, high = ((t - at(1, 10)) / timedelta(hours=1) for t in (before, after))
    assert low - 1e-6 <= a["waiting_hours"] <= high + 1e-6
    reference = ReportSettings()
    assert business_hours(at(1, 10), before, reference) - 1e-3 <= a["waiting_business_hours"]
    assert a["waiting_business_hours"] <= business_hours(at(1, 10), after, reference) + 1e-3
    assert waiting["b"]["correspondent"] == "carol@beta.example" and waiting["b"]["inbound_in_turn"] == 1
    (summary,) = rows(con, "v_response_summary")
    # Three turns (a1, a3+a4, b1), one answered.
    assert (summary["turns"], summary["answered_turns"], summary["unanswered"]) == (3, 1, 2)
    assert summary["response_rate"] == pytest.approx(1 / 3)
    responses = by(rows(con, "v_message_responses"), "message_key")
    assert responses["a1"]["answered"] and responses["a1"]["waiting_hours"] is None
    assert not responses["a4"]["answered"] and responses["a4"]["reply_key"] is None
    # the turn a3+a4 starts at a3, not at the outbound a2 that precedes it
    assert responses["a3"]["turn_start"] == responses["a4"]["turn_start"] == at(1, 10)
    assert [responses[k]["is_turn_start"] for k in ("a1", "a3", "a4")] == [True, True, False]


# ---------------------------------------------------------------------------------------------
# Business hours
# ---------------------------------------------------------------------------------------------

UTC_WEEK = ReportSettings()
LONDON = ReportSettings(timezone="Europe/London")
DUBAI_SUN_THU = ReportSettings(timezone="Asia/Dubai", work_start="08:00", work_end="16:00", work_days=[7, 1, 2, 3, 4])

BUSINESS_CASES = [
    # Friday 16:00 -> Monday 10:00 UTC: Friday 16-17 and Monday 09-10.
    (UTC_WEEK, at(4, 16), at(7, 10), 2.0),
    # Tuesday 16:30 -> Wednesday 09:30: 30 min each evening and morning.
    (UTC_WEEK, at(1, 16.5), at(2, 9.5), 1.0),
    # Monday 07:00 -> 08:00: before opening.
    (UTC_WEEK, at(0, 7), at(0, 8), 0.0),
    # Saturday to Sunday: no work day.
    (UTC_WEEK, at(5, 10), at(6, 16), 0.0),
    # Two whole weeks, Monday 09:00 to Monday 09:00: 10 days * 8 h.
    (UTC_WEEK, at(0, 9), at(14, 9), 80.0),
    # Clocks go forward in London on Sunday 2026-03-29. Saturday 12:00 UTC -> Monday 08:30 UTC, which
    # is 09:30 BST: 0.5 h (UTC wall-clock would give 0).
    (LONDON, datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 8, 30, tzinfo=UTC), 0.5),
    # Clocks go back on Sunday 2026-10-25. Friday 16:00 UTC is 17:00 BST (closed); Monday 09:30 UTC
    # is 09:30 GMT: 0.5 h (UTC wall-clock would give 1.5).
    (LONDON, datetime(2026, 10, 23, 16, tzinfo=UTC), datetime(2026, 10, 26, 9, 30, tzinfo=UTC), 0.5),
    # Sunday-to-Thursday week, 08-16 in Dubai (+04:00): Friday 10:00 -> Sunday 10:00 local = Sunday 08-10.
    (DUBAI_SUN_THU, at(4, 6), at(6, 6), 2.0),
    # Thursday 15:00 local -> Sunday 09:00 local: 1 h Thursday + 1 h Sunday.
    (DUBAI_SUN_THU, at(3, 11), at(6, 5), 2.0),
    # Reversed: the negative of the first case.
    (UTC_WEEK, at(7, 10), at(4, 16), -2.0),
]


@pytest.mark.parametrize(("reports", "start", "end", "hours"), BUSINESS_CASES)
def test_business_hours_macro_and_reference(
    con: duckdb.DuckDBPyConnection, reports: ReportSettings, start: datetime, end: datetime, hours: float
) -> None:
    assert business_hours(start, end, reports) == pytest.approx(hours, abs=1e-9)
    ((between,),) = con.execute(
        "SELECT business_hours_between(?, ?, ?, ?, ?, ?)",
        [start, end, reports.timezone, work_minutes(reports.work_start), work_minutes(reports.work_end),
         reports.work_days],
    ).fetchall()  # fmt: skip
    assert between == pytest.approx(hours, abs=1e-9)
    write_report_settings(con, reports)  # business_hours(a, b) reads report_settings
    ((stored,),) = con.execute("SELECT business_hours(?, ?)", [start, end]).fetchall()
    assert stored == pytest.approx(hours, abs=1e-9)


def test_response_business_hours_use_the_report_settings(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "i1", datetime(2026, 3, 27, 16, tzinfo=UTC), "inbound")  # Friday 16:00 GMT
    add(con, "o1", datetime(2026, 3, 30, 8, 30, tzinfo=UTC), "outbound")  # Monday 09:30 BST
    (utc_row,) = rows(con, "v_response_times")
    # UTC: Friday 16-17 = 1 h, Monday 08:30 UTC is before opening: 1 h; calendar: 64.5 h.
    assert (utc_row["response_hours"], utc_row["response_business_hours"]) == (64.5, 1.0)
    write_report_settings(con, LONDON)
    assert not report_mail_is_current(con)  # the settings are an input of report_mail
    (london_row,) = rows(con, "v_response_times")
    # London: Friday 16-17 GMT = 1 h, Monday 09:00-09:30 BST = 0.5 h.
    assert london_row["response_business_hours"] == 1.5
    assert report_mail_is_current(con)


ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
]


@pytest.fixture(scope="module")
def macro_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_store(tmp_path_factory.mktemp("macro") / "intel.duckdb") as store:
        yield store.con


@st.composite
def working_weeks(draw: st.DrawFn) -> ReportSettings:
    start = draw(st.integers(0, 23 * 60 + 58))
    end = draw(st.integers(start + 1, 23 * 60 + 59))
    days = draw(st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True))
    return ReportSettings(
        timezone=draw(st.sampled_from(ZONES)),
        work_start=f"{start // 60:02d}:{start % 60:02d}",
        work_end=f"{end // 60:02d}:{end % 60:02d}",
        work_days=days,
    )


@settings(max_examples=300, deadline=None)
@given(
    week=working_weeks(),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),
    span=st.timedeltas(min_value=timedelta(days=-20), max_value=timedelta(days=60)),
)
def test_business_hours_macro_equals_the_python_reference(
    macro_con: duckdb.DuckDBPyConnection, week: ReportSettings, start: datetime, span: timedelta
) -> None:
    begin = start.replace(tzinfo=UTC)
    end = begin + span
    ((sql,),) = macro_con.execute(
        "SELECT business_hours_between(?, ?, ?, ?, ?, ?)",
        [begin, end, week.timezone, work_minutes(week.work_start), work_minutes(week.work_end), week.work_days],
    ).fetchall()
    assert math.isclose(sql, business_hours(begin, end, week), abs_tol=1e-6)


# ---------------------------------------------------------------------------------------------
# Percentiles, volume, busiest hours
# ---------------------------------------------------------------------------------------------


def test_percentiles_are_linear_interpolation(con: duckdb.DuckDBPyConnection) -> None:
    # Five turns answered after 1, 2, 3, 4 and 10 hours (Monday from 09:00, so business hours are equal).
    for n, hours in enumerate([1, 2, 3, 4, 10]):
        add(con, f"i{n}", at(n % 3, 9), "inbound", thread=f"t{n}")
        add(con, f"o{n}", at(n % 3, 9 + hours), "outbound", thread=f"t{n}")
    (summary,) = rows(con, "v_response_summary")
    # quantile_cont on [1, 2, 3, 4, 10]: position q * (n - 1) = q * 4, interpolated.
    # p25 -> position 1 -> 2; median -> 2 -> 3; p75 -> 3 -> 4; p90 -> 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
    assert [summary[f"{p}_response_hours"] for p in ("p25", "median", "p75", "p90")] == pytest.approx(
        [2.0, 3.0, 4.0, 7.6]
    )
    # Business hours: the 10 h reply crosses 17:00 (09:00 -> 19:00 = 8 h), so [1, 2, 3, 4, 8]:
    # p90 = 4 + 0.6 * (8 - 4) = 6.4.
    assert [summary[f"{p}_response_business_hours"] for p in ("p25", "median", "p75", "p90")] == pytest.approx(
        [2.0, 3.0, 4.0, 6.4]
    )
    (alice,) = rows(con, "v_response_by_correspondent")
    assert (alice["turns"], alice["answered_turns"], alice["response_rate"]) == (5, 5, 1.0)
    assert (alice["median_response_hours"], alice["p90_response_hours"]) == pytest.approx((3.0, 7.6))
    assert alice["p90_response_business_hours"] == pytest.approx(6.4)


def test_volume_and_busiest_hours_in_the_report_time_zone(con: duckdb.DuckDBPyConnection) -> None:
    write_report_settings(con, LONDON)  # BST, UTC+1, in June
    add(con, "a", datetime(2026, 6, 1, 8, 30, tzinfo=UTC), "inbound", thread="a")  # Mon 09:30 local
    add(con, "b", datetime(2026, 6, 1, 8, 45, tzinfo=UTC), "outbound", thread="a")  # Mon 09:45 local
    add(con, "c", datetime(2026, 6, 3, 12, tzinfo=UTC), "inbound", thread="c")  # Wed 13:00 local
    # Sunday 23:30 UTC is Monday 00:30 in London: the next day, the next ISO week.
    add(con, "d", datetime(2026, 6, 7, 23, 30, tzinfo=UTC), "inbound", thread="d")
    add(con, "e", datetime(2026, 6, 8, 9, tzinfo=UTC), "internal", thread="e", to=("boss@us.example",))
    daily = {(r["day"].isoformat(), r["direction"]): r["messages"] for r in rows(con, "v_volume_daily")}
    # Days 2026-06-01 .. 2026-06-08 (8 days) x the three directions that occur, zeros included.
    assert len(daily) == 8 * 3
    assert daily[("2026-06-01", "inbound")] == 1 and daily[("2026-06-01", "outbound")] == 1
    assert daily[("2026-06-03", "inbound")] == 1 and daily[("2026-06-02", "inbound")] == 0
    assert daily[("2026-06-07", "inbound")] == 0 and daily[("2026-06-08", "inbound")] == 1
    assert daily[("2026-06-08", "internal")] == 1
    weekly = {(r["week"].isoformat(), r["direction"]): r["messages"] for r in rows(con, "v_volume_weekly")}
    assert weekly == {
        ("2026-06-01", "inbound"): 2,  # a, c
        ("2026-06-01", "outbound"): 1,
        ("2026-06-01", "internal"): 0,
        ("2026-06-08", "inbound"): 1,  # d
        ("2026-06-08", "outbound"): 0,
        ("2026-06-08", "internal"): 1,
    }
    cells = rows(con, "v_busiest_hours")
    assert len(cells) == 168 and sum(c["total"] for c in cells) == 5
    grid = {(c["weekday"], c["hour"]): (c["inbound"], c["outbound"], c["total"]) for c in cells}
    assert grid[(1, 9)] == (1, 1, 2)  # a and b, Monday 09:xx local
    assert grid[(3, 13)] == (1, 0, 1)  # c
    assert grid[(1, 0)] == (1, 0, 1)  # d, Monday 00:30 local
    assert grid[(1, 10)] == (0, 0, 1)  # e, internal, Monday 10:00 local
    assert cells[0]["weekday_name"] == "Monday" and cells[-1]["weekday_name"] == "Sunday"


# ---------------------------------------------------------------------------------------------
# Sentiment and customers
# ---------------------------------------------------------------------------------------------


def test_sentiment_weekly_shares_count_scored_inbound_mail_only(con: duckdb.DuckDBPyConnection) -> None:
    week1 = [("p1", "positive"), ("p2", "positive"), ("n1", "negative"), ("u1", "neutral")]
    for n, (key, label) in enumerate(week1):
        add(con, key, at(n, 10), "inbound", thread=key)
        score(con, key, label)
    add(con, "unscored", at(1, 11), "inbound", thread="u")  # not scored yet: left out
    add(con, "ours", at(1, 12), "outbound", thread="p1")
    score(con, "ours", "negative")  # outbound: left out
    add(con, "promo", at(2, 12), "inbound", thread="promo", headers={"precedence": "bulk"})
    score(con, "promo", "negative")  # automated: left out
    add(con, "later", at(7, 10), "inbound", thread="later", sender="bob@acme.example")
    score(con, "later", "negative", intent="complaint")
    shares = {(r["week"].isoformat(), r["label"]): (r["messages"], r["share"]) for r in rows(con, "v_sentiment_weekly")}
    # Week of 2026-06-01: 4 scored inbound messages: 2 positive, 1 negative, 1 neutral.
    assert shares == {
        ("2026-06-01", "negative"): (1, 0.25),
        ("2026-06-01", "neutral"): (1, 0.25),
        ("2026-06-01", "positive"): (2, 0.5),
        ("2026-06-08", "negative"): (1, 1.0),
    }
    intents = {(r["week"].isoformat(), r["label"]): r["share"] for r in rows(con, "v_intent_weekly")}
    assert intents == {("2026-06-01", "other"): 1.0, ("2026-06-08", "complaint"): 1.0}
    per = {(r["correspondent"], r["week"].isoformat()): r for r in rows(con, "v_sentiment_by_customer")}
    alice = per[("alice@acme.example", "2026-06-01")]
    # (2 positive - 1 negative) / 4 messages = 0.25
    assert (alice["positive"], alice["negative"], alice["neutral"], alice["messages"]) == (2, 1, 1, 4)
    assert alice["net_sentiment"] == 0.25
    assert per[("bob@acme.example", "2026-06-08")]["net_sentiment"] == -1.0


def test_customer_health(con: duckdb.DuckDBPyConnection) -> None:
    # Alice: four messages in two threads; the last turn (m4) is unanswered.
    add(con, "m1", at(0, 9), "inbound", thread="x")
    add(con, "r1", at(0, 11), "outbound", thread="x")  # answers m1 after 2 h
    add(con, "m2", at(1, 9), "inbound", thread="y")
    add(con, "r2", at(1, 15), "outbound", thread="y")  # answers m2 after 6 h
    add(con, "m3", at(2, 9), "inbound", thread="y")
    add(con, "r3", at(2, 10), "outbound", thread="y")  # answers m3 after 1 h
    add(con, "m4", at(3, 9), "inbound", thread="y")
    for key, label, intent, emotion in [
        ("m1", "negative", "complaint", "frustrated"),
        ("m2", "negative", "request", "dissatisfied"),
        ("m3", "positive", "other", "grateful"),
    ]:
        score(con, key, label, intent, emotion)  # m4 not scored yet
    add(con, "d1", at(0, 9), "inbound", thread="z", sender="dan@beta.example")
    alerts = [
        ("k1", "address", "alice@acme.example", "open"),
        ("k2", "address", "alice@acme.example", "resolved"),  # not open: not counted
        ("k3", "domain", "acme.example", "open"),  # her organisation
        ("k4", "message", "m2", "open"),  # about one of her messages
        ("k5", "address", "dan@beta.example", "open"),
    ]
    for key, kind, subject, status in alerts:
        con.execute(
            "INSERT INTO alerts VALUES (?, 'negative_streak', 'high', ?, ?, 'title', '{}', [], NULL, ?, ?, ?, 1, ?,"
            " NULL)",
            [key, kind, subject, at(0, 9), at(0, 9), at(0, 9), status],
        )
    health = by(rows(con, "v_customer_health"), "correspondent")
    alice = health["alice@acme.example"]
    # 4 inbound; negative share of the scored ones: 2 / 3; last scored: m3 (positive, grateful);
    # 1 complaint; alerts k1 + k3 + k4; one unanswered turn (m4); responses 2, 6, 1 h -> median 2.
    assert alice["messages_in"] == 4
    assert alice["negative_share"] == pytest.approx(2 / 3)
    assert (alice["last_sentiment"], alice["last_emotion"], alice["complaints"]) == ("positive", "grateful", 1)
    assert (alice["open_alerts"], alice["unanswered"], alice["median_response_hours"]) == (3, 1, 2.0)
    assert alice["last_inbound_at"] == at(3, 9)
    dan = health["dan@beta.example"]
    assert (dan["messages_in"], dan["negative_share"], dan["open_alerts"], dan["unanswered"]) == (1, None, 1, 1)
    assert [a["alert_key"] for a in rows(con, "v_alerts_open")] == ["k1", "k3", "k4", "k5"]  # same trigger_at: by key
    top = rows(con, "v_top_correspondents")
    assert [(t["correspondent"], t["inbound"], t["outbound"], t["threads"]) for t in top] == [
        ("alice@acme.example", 4, 3, 2),
        ("dan@beta.example", 1, 0, 1),
    ]
    assert top[0]["name"] == "Alice" and top[0]["negative_share"] == pytest.approx(2 / 3)
    assert top[0]["median_response_hours"] == 2.0
    domains = by(rows(con, "v_top_domains"), "domain")
    assert (domains["acme.example"]["correspondents"], domains["acme.example"]["threads"]) == (1, 2)


def test_thread_lengths(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "a1", at(0, 9), "inbound", thread="a", subject="Order 17", cc=("bob@acme.example",))
    add(con, "a2", at(0, 12), "outbound", thread="a", subject="Re: Order 17")
    add(con, "a3", at(1, 9), "inbound", thread="a", subject="Re: Order 17")
    add(con, "b1", at(2, 9), "inbound", thread="b", subject="Invoice")
    lengths = by(rows(con, "v_thread_lengths"), "thread_id")
    a = lengths["a"]
    # alice, support@, bob (cc) and agent@ take part; 09:00 Monday to 09:00 Tuesday = 24 h.
    assert (a["subject"], a["messages"], a["inbound"], a["outbound"], a["participants"]) == ("Order 17", 3, 2, 1, 4)
    assert a["duration_hours"] == 24.0 and lengths["b"]["duration_hours"] == 0.0
    assert [r["thread_id"] for r in rows(con, "v_thread_lengths")] == ["a", "b"]  # longest first
    assert rows(con, "v_thread_length_distribution") == [{"messages": 1, "threads": 1}, {"messages": 3, "threads": 1}]


# ---------------------------------------------------------------------------------------------
# Empty databases, settings, read_view, report_mail
# ---------------------------------------------------------------------------------------------


def test_every_view_answers_on_an_empty_database(con: duckdb.DuckDBPyConnection) -> None:
    counts = {name: read_view(con, name).height for name in VIEWS}
    assert counts.pop("v_response_summary") == 1 and counts.pop("v_busiest_hours") == 168
    assert counts.pop("v_report_status") == 1
    assert set(counts.values()) == {0}
    (summary,) = rows(con, "v_response_summary")
    assert (summary["turns"], summary["unanswered"], summary["response_rate"]) == (0, 0, None)
    listed = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert set(VIEWS) <= listed


def test_views_work_before_enrichment_and_alerts(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "i1", at(0, 10), "inbound")
    add(con, "o1", at(0, 11), "outbound")
    assert rows(con, "v_sentiment_weekly") == [] and rows(con, "v_alerts_open") == []
    (health,) = rows(con, "v_customer_health")
    assert (health["negative_share"], health["last_sentiment"], health["open_alerts"]) == (None, None, 0)
    (mail,) = [m for m in rows(con, "v_mail") if m["direction"] == "outbound"]
    assert (mail["correspondent"], mail["correspondent_domain"], mail["sentiment"]) == (
        "alice@acme.example",
        "acme.example",
        None,
    )


def test_outbound_correspondent_is_the_first_recipient_that_is_not_ours(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "o1", at(0, 10), "outbound", to=("colleague@us.example", "zoe@zeta.example"), cc=("amy@acme.example",))
    add(con, "o2", at(0, 11), "outbound", thread="t2", to=("boss@us.example",), cc=("amy@acme.example",))
    mail = by(rows(con, "v_mail"), "message_key")
    assert mail["o1"]["correspondent"] == "zoe@zeta.example"  # To before Cc, our own addresses skipped
    assert mail["o2"]["correspondent"] == "amy@acme.example"


def test_write_report_settings(con: duckdb.DuckDBPyConnection) -> None:
    write_report_settings(
        con, ReportSettings(timezone="Asia/Tokyo", work_start="08:30", work_end="18:00", work_days=[6, 1])
    )
    stored = con.execute("SELECT timezone, work_start, work_end, work_days, updated_at FROM report_settings").fetchall()
    assert [row[:4] for row in stored] == [("Asia/Tokyo", 510, 1080, [1, 6])]
    assert stored[0][4] is not None
    con.execute("DELETE FROM report_settings")
    write_report_settings(con, LONDON)  # the row comes back
    assert con.execute("SELECT id, timezone FROM report_settings").fetchall() == [(1, "Europe/London")]


def test_read_view_refuses_other_names(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("messages", "v_messages", "v_mail; DROP TABLE messages"):
        with pytest.raises(BadInputError, match="not a report view"):
            read_view(con, name)


def test_report_mail_is_rebuilt_only_when_its_inputs_change(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "i1", at(0, 10), "inbound")
    assert refresh_report_mail(con) and report_mail_is_current(con)
    assert not refresh_report_mail(con)  # nothing changed
    score(con, "i1", "negative")
    assert not report_mail_is_current(con)
    assert refresh_report_mail(con)
    assert con.execute("SELECT sentiment FROM report_mail").fetchall() == [("negative",)]
    # Writing the same settings again, or a load of another stage, changes nothing it reads...
    write_report_settings(con, UTC_WEEK)
    con.execute("INSERT INTO loads (load_id, stage, started_at, status) VALUES (99, 'alerts', now(), 'ok')")
    assert report_mail_is_current(con)
    # ...a threading run does (it stamps `threads` with its load).
    con.execute("INSERT INTO threads (thread_id, load_id) VALUES ('t1', 100)")
    assert not report_mail_is_current(con)
    assert refresh_report_mail(con) and not refresh_report_mail(con)
    assert refresh_report_mail(con, force=True)


def test_a_read_only_database_with_stale_report_tables_refuses_to_answer(tmp_path: Path) -> None:
    database = tmp_path / "intel.duckdb"
    with open_store(database) as store:
        add(store.con, "i1", at(0, 10), "inbound")
        refresh_report_mail(store.con)
        add(store.con, "i2", at(0, 11), "inbound", thread="t2")  # after the rebuild
    reader = duckdb.connect(str(database), read_only=True)
    try:
        with pytest.raises(StoreError, match="out of date"):
            read_view(reader, "v_response_summary")
        assert read_view(reader, "v_mail").height == 2  # the live views still answer
    finally:
        reader.close()
    with open_store(database) as store:
        refresh_report_mail(store.con)
    reader = duckdb.connect(str(database), read_only=True)
    try:
        assert read_view(reader, "v_response_summary")["turns"].to_list() == [2]
    finally:
        reader.close()


def test_business_hours_reference_wants_instants() -> None:
    with pytest.raises(BadInputError, match="time-zone-aware"):
        business_hours(datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 10), UTC_WEEK)


# ---------------------------------------------------------------------------------------------
# The demo mailbox against its ground truth
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, pl.DataFrame]]]:
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the embedded default writes the demo Maildir under ./data/demo
        patch.delenv("INTEL_CONFIG", raising=False)
        settings = load_settings(database=root / "intel.duckdb")
        assert settings.origin.startswith("embedded default")
        pipeline.sync_source(settings, "demo")
        pipeline.thread_messages(settings)
        with open_store(settings.storage.database) as store:
            write_report_settings(store.con, settings.reports)
            frames = {
                name: read_view(store.con, name) for name in ("v_response_times", "v_unanswered", "v_response_summary")
            }
            keys = dict(store.con.execute("SELECT message_key, rfc_message_id FROM messages").fetchall())
        frames["ids"] = pl.DataFrame({"message_key": list(keys), "message_id": list(keys.values())})
        yield settings, frames


def _demo_turns(truth: list[DemoMessage]) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    """Answered turns (by first message id) and unanswered turns (by last message id), from the truth.

    Per thread, in time order: an inbound message after an outbound one (or first in the thread)
    opens a turn; the next outbound message answers it.
    """
    threads: dict[str, list[DemoMessage]] = {}
    for m in truth:
        threads.setdefault(m.thread_key, []).append(m)
    answered: dict[str, tuple[Any, ...]] = {}
    unanswered: dict[str, tuple[Any, ...]] = {}
    for messages in threads.values():
        messages.sort(key=lambda m: (m.sent_at, m.direction == "inbound"))
        assert len({m.sent_at for m in messages}) == len(messages)  # no ties to break
        turn: list[DemoMessage] = []
        for m in messages:
            if m.direction == "inbound":
                turn.append(m)
            elif turn:
                answered[turn[0].message_id] = (turn[0].sender, turn[0].sent_at, m.message_id, m.sent_at, len(turn))
                turn = []
        if turn:
            unanswered[turn[-1].message_id] = (turn[0].sender, turn[0].sent_at, len(turn))
    return answered, unanswered


def test_demo_response_times_and_unanswered_match_the_ground_truth(
    demo: tuple[Settings, dict[str, pl.DataFrame]],
) -> None:
    settings, frames = demo
    truth = demo_messages()
    answered, unanswered = _demo_turns(truth)
    assert len(answered) >= 100 and len(unanswered) >= 10  # the demo has both, plenty
    ids = dict(zip(frames["ids"]["message_key"], frames["ids"]["message_id"], strict=True))
    got = {
        ids[r["message_key"]]: (r["correspondent"], r["awaiting_since"], ids[r["reply_key"]], r["replied_at"],
                                r["inbound_in_turn"], r["response_hours"], r["response_business_hours"])
        for r in frames["v_response_times"].to_dicts()
    }  # fmt: skip
    assert set(got) == set(answered)
    for message_id, (sender, since, reply_id, replied, count) in answered.items():
        correspondent, awaiting, reply, replied_at, inbound, hours, business = got[message_id]
        assert (correspondent, awaiting, reply, replied_at, inbound) == (sender, since, reply_id, replied, count)
        assert hours == pytest.approx((replied - since) / timedelta(hours=1), abs=1e-9)
        # Europe/London, 09:00-17:00 Monday to Friday (the embedded default's [reports])
        assert business == pytest.approx(business_hours(since, replied, settings.reports), abs=1e-6)
    waiting = {ids[r["message_key"]]: r for r in frames["v_unanswered"].to_dicts()}
    assert set(waiting) == set(unanswered)
    for message_id, (sender, since, count) in unanswered.items():
        row = waiting[message_id]
        assert (row["correspondent"], row["awaiting_since"], row["inbound_in_turn"]) == (sender, since, count)
        # the demo ends in September 2026: every wait is long and positive
        assert row["waiting_hours"] > 24 and row["waiting_business_hours"] > 0
    (summary,) = frames["v_response_summary"].to_dicts()
    assert (summary["turns"], summary["answered_turns"], summary["unanswered"]) == (
        len(answered) + len(unanswered),
        len(answered),
        len(unanswered),
    )
    hours = sorted((r - s) / timedelta(hours=1) for _, s, _, r, _ in answered.values())
    position = 0.5 * (len(hours) - 1)
    low = hours[math.floor(position)]
    median = low + (hours[math.ceil(position)] - low) * (position - math.floor(position))
    assert summary["median_response_hours"] == pytest.approx(median)


def test_demo_local_times_follow_the_report_zone(demo: tuple[Settings, dict[str, pl.DataFrame]]) -> None:
    settings, _ = demo
    assert settings.reports.timezone == "Europe/London"
    zone = ZoneInfo("Europe/London")
    reader = duckdb.connect(str(settings.storage.database), read_only=True)
    try:
        rows_ = reader.execute("SELECT sent_at, local_sent_at FROM v_mail").fetchall()
    finally:
        reader.close()
    assert len(rows_) == len(demo_messages())
    assert all(local == sent.astimezone(zone).replace(tzinfo=None) for sent, local in rows_)
