"""Communication metrics: the report views of migration 0005 and the settings they read.

The metrics themselves are SQL views in the database (``intel/store/migrations/0005_report_views.sql``),
so notebooks and BI tools reading the snapshot get the same numbers as the HTML report. Most of
them read the table ``report_mail`` (the mail with each message's turn and reply, computed
once instead of in every view); `refresh_report_mail` rebuilds it when its inputs changed.
This module also writes the one row of ``report_settings`` that the views read (time zone and
working week), lists the public views, reads one into polars, and holds a plain-Python
reference of the business-hours definition that the tests hold the SQL macro to. Every
definition is written out in ``data/README.md`` ("Metric definitions").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from intel.config import ReportSettings
from intel.errors import BadInputError, StoreError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LIVE_VIEWS",
    "VIEWS",
    "business_hours",
    "read_view",
    "refresh_report_mail",
    "report_mail_is_current",
    "work_minutes",
    "write_report_settings",
]

# Every public view of migration 0005, in the order the report presents them; the three base
# views (one row per message or per turn: large) and the status of report_mail come last.
VIEWS: dict[str, str] = {
    "v_response_summary": "One row: turns, answered turns, response rate, quartiles and p90 of response times",
    "v_response_times": "One row per answered turn: from its first inbound message to the reply",
    "v_first_response": "One row per thread with inbound mail: time to the first reply",
    "v_response_by_correspondent": "Turns, response rate and response-time median / p90 per correspondent",
    "v_unanswered": "Turns still awaiting a reply, longest waiting first",
    "v_volume_daily": "Messages per local day and direction, days without mail included",
    "v_volume_weekly": "Messages per local ISO week and direction, weeks without mail included",
    "v_busiest_hours": "Messages in each of the 168 (local weekday, hour) cells",
    "v_top_correspondents": "Correspondents by messages exchanged, with threads, negative share and median response",
    "v_top_domains": "Correspondent domains by messages exchanged",
    "v_thread_lengths": "One row per thread: messages, participants, first and last message, duration",
    "v_thread_length_distribution": "How many threads have each number of messages",
    "v_sentiment_weekly": "Inbound sentiment per local week: messages and share of the week's scored mail",
    "v_intent_weekly": "Inbound intent per local week: messages and share of the week's scored mail",
    "v_emotion_weekly": "Inbound emotion per local week: messages and share of the week's scored mail",
    "v_sentiment_by_customer": "Positive, negative and neutral inbound mail per correspondent and week",
    "v_customer_health": "One row per correspondent who writes to us: negativity, complaints, alerts, waiting",
    "v_activities_weekly": "Meetings, calls and tasks found per local week",
    "v_alerts_open": "Open alerts, newest first",
    "v_mail": "The conversation mail the metrics use, with local time, correspondent and labels",
    "v_message_responses": "One row per inbound message: its turn, its reply and the response time",
    "v_turns": "One row per turn (inbound messages between two outbound ones): reply or waiting time",
    "v_report_status": "When report_mail was rebuilt, its rows, and whether it matches the data now",
}

# The views that read the tables directly instead of the materialized `report_mail`.
LIVE_VIEWS: frozenset[str] = frozenset({"v_mail", "v_alerts_open", "v_report_status"})


def work_minutes(hhmm: str) -> int:
    """Minutes after midnight of an ``HH:MM`` time (``"09:30"`` -> 570)."""
    hours, _, minutes = hhmm.partition(":")
    try:
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise BadInputError(f"'{hhmm}' is not a time of day as HH:MM") from None
    if not 0 <= value < 24 * 60 or not 0 <= int(minutes) < 60:
        raise BadInputError(f"'{hhmm}' is not a time of day as HH:MM")
    return value


def write_report_settings(con: duckdb.DuckDBPyConnection, reports: ReportSettings) -> None:
    """Store the report time zone and working week in the one ``report_settings`` row.

    The views read that row, so a BI tool opening the snapshot sees numbers computed with the
    settings of the run that wrote it. The row is re-created if someone deleted it.
    """
    values = [
        reports.timezone,
        work_minutes(reports.work_start),
        work_minutes(reports.work_end),
        sorted(set(reports.work_days)),
        datetime.now(UTC),
    ]
    updated = con.execute(
        "UPDATE report_settings SET timezone = ?, work_start = ?, work_end = ?, work_days = ?, updated_at = ?"
        " WHERE id = 1 RETURNING id",
        values,
    ).fetchall()
    if not updated:
        con.execute(
            "INSERT INTO report_settings (id, timezone, work_start, work_end, work_days, updated_at)"
            " VALUES (1, ?, ?, ?, ?, ?)",
            values,
        )


def report_mail_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `report_mail` was built from the data and settings the database holds now."""
    rows = con.execute("SELECT is_current FROM v_report_status").fetchall()
    return bool(rows and rows[0][0])


def refresh_report_mail(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Rebuild `report_mail` (what the metric views read) if its inputs changed; True if rebuilt.

    Needs a write connection. Its inputs (the view `report_inputs`) are the messages, the
    threading, message locations and sync windows, the classifier scores and `report_settings`,
    so call `write_report_settings` first. Costs one pass over the mail (several CPU-seconds per
    million messages); with nothing changed it is one small query. Runs in the caller's
    transaction if there is one: the table and its state row are replaced together or, after a
    crash between the two, rebuilt again on the next call.
    """
    ((current, stored),) = con.execute(
        "SELECT i.inputs, s.inputs FROM report_inputs AS i LEFT JOIN report_state AS s ON true"
    ).fetchall()
    if stored == current and not force:
        return False
    with _room_for_windows(con):
        con.execute("CREATE OR REPLACE TABLE report_mail AS SELECT * FROM report_mail_build")
    con.execute(
        "INSERT OR REPLACE INTO report_state (id, inputs, rows, refreshed_at)"
        " SELECT 1, ?, count(*), ? FROM report_mail",
        [current, datetime.now(UTC)],
    )
    return True


_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
_REFRESH_MEMORY = 1024**3  # measured: over 1,000,000 messages the build fails at 256 MB and needs ~512 MB


@contextmanager
def _room_for_windows(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the `report_mail` build with at least 1 GiB of DuckDB memory and no order to keep.

    Its window functions sort each thread's mail and cannot spill all of their state to disk, so
    the import-time `storage.memory_limit` (256 MB by default) is too small for large mailboxes;
    the setting is restored afterwards.
    """
    ((limit, order),) = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    ).fetchall()
    number, _, unit = str(limit).partition(" ")
    try:
        current = float(number) * _UNITS.get(unit.strip(), 1)
    except ValueError:
        current = 0.0
    raise_limit = current < _REFRESH_MEMORY
    if raise_limit:
        con.execute("SET memory_limit = '1GiB'")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        if raise_limit:
            con.execute("SET memory_limit = ?", [str(limit)])
        con.execute("SET preserve_insertion_order = ?", [bool(order)])


def _is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return bool(rows and rows[0][0])


def read_view(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """All rows of one public report view (see `VIEWS`), in the view's order, as polars.

    On a write connection `report_mail` is first brought up to date (`refresh_report_mail`); on a
    read-only one (the snapshot) an out-of-date `report_mail` raises StoreError rather than
    returning old numbers.
    """
    if name not in VIEWS:
        raise BadInputError(f"'{name}' is not a report view; known: {', '.join(VIEWS)}")
    if name not in LIVE_VIEWS:
        if not _is_read_only(con):
            refresh_report_mail(con)
        elif not report_mail_is_current(con):
            raise StoreError(
                "the report tables predate the data in this database (report_mail is out of date);"
                " run `intel report` to rebuild them"
            )
    # `name` is one of our own constants (checked above), never user text in SQL.
    return con.sql(f"SELECT * FROM {name}").pl()  # noqa: S608


def business_hours(start: datetime, end: datetime, settings: ReportSettings) -> float:
    """Business hours between two instants: the reference for the SQL ``business_hours`` macro.

    The time on the local wall clock of ``settings.timezone`` inside [work_start, work_end) on
    the ISO weekdays ``settings.work_days``, in hours. Counted day by day on the wall clock (a
    09:00-17:00 day is 8 hours even on a day the clocks change), which is what the closed form
    in SQL computes. Negative when the end's local time precedes the start's.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise BadInputError("business_hours needs time-zone-aware datetimes (instants)")
    zone = ZoneInfo(settings.timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    if local_end < local_start:
        return -_wall_clock_business_hours(local_end, local_start, settings)
    return _wall_clock_business_hours(local_start, local_end, settings)


def _wall_clock_business_hours(local_start: datetime, local_end: datetime, settings: ReportSettings) -> float:
    opens = timedelta(minutes=work_minutes(settings.work_start))
    closes = timedelta(minutes=work_minutes(settings.work_end))
    days = set(settings.work_days)
    total = timedelta(0)
    day: date = local_start.date()
    while day <= local_end.date():
        if day.isoweekday() in days:
            midnight = datetime(day.year, day.month, day.day)
            inside = min(local_end, midnight + closes) - max(local_start, midnight + opens)
            if inside > timedelta(0):
                total += inside
        day += timedelta(days=1)
    return total / timedelta(hours=1)
