"""The HTML report: one self-contained page over the report views, plus their CSV/Parquet exports.

`build_report` exports every view (see `intel.reports.export`), reads the exported Parquet files
back and renders one page from them, so the page and the CSV files always agree. The page needs
nothing else to open: styles are inline, charts are inline SVG, there is no script and no
external reference (a Content-Security-Policy forbids them too). Every string that came from
mail is HTML-escaped where it is written into the page, in text and in attribute values alike.
"""

from __future__ import annotations

import html
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from intel.config import ReportSettings
from intel.errors import BadInputError
from intel.reports import charts
from intel.reports.export import export_views
from intel.reports.metrics import VIEWS

__all__ = ["DEFAULT_TITLE", "ReportContext", "ReportResult", "build_report", "render_html"]

DEFAULT_TITLE = "Email intelligence report"
DAILY_DAYS = 90  # the daily volume chart shows the last this many days of the period
WIDTH = 1040  # chart width in CSS pixels (they shrink with the window)
MAX_WEEKS = 104  # weekly charts over a longer period show months instead

DIRECTION_COLOURS = {"inbound": "#0072B2", "outbound": "#E69F00", "internal": "#7F7F7F"}
SENTIMENT_COLOURS = {"positive": "#009E73", "neutral": "#9AA5B1", "negative": "#D55E00"}
INTENT_COLOURS = {
    "request": "#0072B2",
    "query": "#56B4E9",
    "complaint": "#D55E00",
    "purchase_inquiry": "#009E73",
    "other": "#9AA5B1",
}
EMOTION_COLOURS = {
    "happy": "#E8D21D",
    "enthusiastic": "#E69F00",
    "grateful": "#009E73",
    "trust": "#0072B2",
    "neutral": "#9AA5B1",
    "confused": "#CC79A7",
    "dissatisfied": "#D55E00",
    "frustrated": "#8B1E0F",
}
ACTIVITY_COLOURS = {"meeting": "#0072B2", "call": "#E69F00", "task": "#009E73"}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The views the page itself shows (the exports hold every view of VIEWS).
PAGE_VIEWS = (
    "v_response_summary",
    "v_response_times",
    "v_first_response",
    "v_response_by_correspondent",
    "v_unanswered",
    "v_volume_daily",
    "v_volume_weekly",
    "v_busiest_hours",
    "v_top_correspondents",
    "v_top_domains",
    "v_thread_lengths",
    "v_thread_length_distribution",
    "v_sentiment_weekly",
    "v_intent_weekly",
    "v_emotion_weekly",
    "v_customer_health",
    "v_activities_weekly",
    "v_alerts_open",
)
RESPONSE_BUCKETS = (
    ("< 1 h", 1.0),
    ("1–4 h", 4.0),
    ("4–8 h", 8.0),
    ("8–24 h", 24.0),
    ("1–2 d", 48.0),
    ("2–7 d", 168.0),
    ("> 7 d", math.inf),
)


@dataclass(frozen=True)
class ReportResult:
    """What `build_report` wrote and how long it took."""

    html: Path
    csv_dir: Path
    parquet_dir: Path
    rows: dict[str, int]  # view -> rows exported
    seconds: float


@dataclass(frozen=True)
class ReportContext:
    """Everything the page shows besides the views' rows."""

    title: str
    database: str
    generated_at: datetime
    timezone: str  # the zone the views computed days, weeks and hours in
    top: int
    work_start: int = 540  # minutes after midnight
    work_end: int = 1020
    work_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    configured_timezone: str | None = None  # [reports].timezone, when it differs from `timezone`
    descriptions: Mapping[str, str] = field(default_factory=dict)  # view -> description
    exported: Mapping[str, int] = field(default_factory=dict)  # view -> rows in the CSV / Parquet exports


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build_report(
    con: duckdb.DuckDBPyConnection, reports: ReportSettings, out_dir: Path, *, title: str = DEFAULT_TITLE
) -> ReportResult:
    """Write ``out_dir/report.html``, ``out_dir/csv/`` and ``out_dir/parquet/`` from the report views.

    Args:
        con: a connection to the database with the report views (the read-only snapshot).
        reports: the ``[reports]`` settings (``top`` rows per table; the configured time zone).
        out_dir: where to write; created if missing.
        title: the page title.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    exported = export_views(con, out_dir)
    # The page reads back only the views it shows (the base views can be as large as the mailbox).
    frames = {name: pl.read_parquet(exported.parquet(name)) for name in PAGE_VIEWS if name in exported.rows}
    context = _context(con, reports, title, exported.rows)
    page = render_html(frames, context)
    path = out_dir / "report.html"
    _write_atomic(path, page)
    return ReportResult(
        path, exported.csv_dir, exported.parquet_dir, dict(exported.rows), time.perf_counter() - started
    )


def _context(
    con: duckdb.DuckDBPyConnection, reports: ReportSettings, title: str, rows: Mapping[str, int]
) -> ReportContext:
    # fetchall, not fetchone: DuckDB keeps a partly fetched result open on the caller's connection.
    paths = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    database = str(paths[0][0]) if paths and paths[0][0] else "(in memory)"
    rows_ = con.execute("SELECT timezone, work_start, work_end, work_days FROM report_settings LIMIT 1").fetchall()
    settings = rows_[0] if rows_ else None
    if settings is None:
        zone, start, end, days = reports.timezone, 540, 1020, (1, 2, 3, 4, 5)
    else:
        zone, start, end, days = str(settings[0]), int(settings[1]), int(settings[2]), tuple(settings[3])
    return ReportContext(
        title=title,
        database=database,
        generated_at=datetime.now(ZoneInfo(zone)),
        timezone=zone,
        top=reports.top,
        work_start=start,
        work_end=end,
        work_days=days,
        configured_timezone=reports.timezone if reports.timezone != zone else None,
        descriptions=dict(VIEWS),
        exported=dict(rows),
    )


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise BadInputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Formatting: every value goes through one of these, and they all escape
# --------------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_hours(value: Any) -> str:
    """Hours for people: 35 min, 5.2 h, 3.1 d."""
    if _missing(value):
        return "–"
    hours = float(value)
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def fmt_share(value: Any) -> str:
    if _missing(value):
        return "–"
    return f"{float(value) * 100:.0f}%"


def fmt_int(value: Any) -> str:
    if _missing(value):
        return "–"
    return f"{int(value):,}"


class _Clock:
    """Formats instants in the report's time zone (naive values are already local wall time)."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def when(self, value: Any) -> str:
        if _missing(value):
            return "–"
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(self.zone)
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


@dataclass(frozen=True)
class Col:
    """A table column: the view's column, its header and how to show it."""

    key: str
    header: str
    kind: str = "text"  # text | long | label | int | hours | share | when | severity


_NUMERIC = {"int", "hours", "share"}


def _cell(col: Col, value: Any, clock: _Clock) -> str:
    if col.kind in _NUMERIC:
        text = {"int": fmt_int, "hours": fmt_hours, "share": fmt_share}[col.kind](value)
        return f'<td class="num">{_e(text)}</td>'
    if col.kind == "when":
        return f'<td class="when">{_e(clock.when(value))}</td>'
    if _missing(value) or value == "":
        return '<td class="none">–</td>'
    if col.kind == "severity":
        level = str(value)
        css = f"sev sev-{level}" if level in SEVERITY_ORDER else "sev"
        return f'<td><span class="{css}">{_e(level)}</span></td>'
    text = str(value)
    if col.kind == "label":
        return f'<td class="label">{_e(text)}</td>'
    if col.kind == "long" and len(text) > 90:
        return f'<td class="long" title="{_e(text)}">{_breakable(text[:89].rstrip())}…</td>'
    return f'<td class="{"long" if col.kind == "long" else "text"}">{_breakable(text)}</td>'


def _breakable(text: str) -> str:
    """Escaped text that may wrap after the @ of an address (the escaped text has no other @)."""
    return _e(text).replace("@", "@<wbr>")


def _empty(message: str = "No data.") -> str:
    return f'<p class="empty">{_e(message)}</p>'


def _table(
    frame: pl.DataFrame | None,
    columns: Sequence[Col],
    *,
    view: str,
    top: int,
    clock: _Clock,
    empty: str = "No data.",
    caption: str = "",
) -> str:
    """The first `top` rows of `frame`, with "N more in the CSV" below when there are more."""
    if frame is None or frame.height == 0:
        return _empty(empty)
    shown = [c for c in columns if c.key in frame.columns]
    head = "".join(f'<th class="{"num" if c.kind in _NUMERIC else ""}">{_e(c.header)}</th>' for c in shown)
    body = []
    for record in frame.head(top).select([c.key for c in shown]).iter_rows():
        body.append("<tr>" + "".join(_cell(c, v, clock) for c, v in zip(shown, record, strict=True)) + "</tr>")
    parts = ['<div class="table-wrap"><table>']
    if caption:
        parts.append(f"<caption>{_e(caption)}</caption>")
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
    if frame.height > top:
        more = frame.height - top
        parts.append(
            f'<p class="more">{_e(f"{more:,}")} more in the CSV: '
            f'<a href="csv/{_e(view)}.csv">csv/{_e(view)}.csv</a></p>'
        )
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Data shaping for the charts
# --------------------------------------------------------------------------------------------


def _sorted(frame: pl.DataFrame, by: Sequence[str], descending: Sequence[bool]) -> pl.DataFrame:
    keys = [(k, d) for k, d in zip(by, descending, strict=True) if k in frame.columns]
    if not keys or frame.height == 0:
        return frame
    return frame.sort([k for k, _ in keys], descending=[d for _, d in keys], nulls_last=True)


def _span(first: date, last: date, step: int) -> list[date]:
    days = (last - first).days
    return [first + timedelta(days=i) for i in range(0, days + 1, step)]


def _by_period(
    frame: pl.DataFrame,
    period: str,
    label: str,
    value: str,
    *,
    step: int,
    order: Iterable[str] = (),
    span: tuple[date, date] | None = None,
) -> tuple[list[date], dict[str, list[float]]]:
    """Rows of (period, label, value) -> every period from first to last, one series per label.

    With `span` the periods run over it (widened to the rows' own first and last), so charts of
    different views share one time axis.
    """
    if frame.height == 0 or not {period, label, value} <= set(frame.columns):
        return [], {}
    clean = frame.filter(pl.col(period).is_not_null())
    if clean.height == 0:
        return [], {}
    first, last = clean[period].min(), clean[period].max()
    if span is not None:
        first, last = min(first, span[0]), max(last, span[1])  # type: ignore[type-var]
    periods = _span(first, last, step)  # type: ignore[arg-type]
    index = {p: i for i, p in enumerate(periods)}
    present = [str(x) for x in clean[label].drop_nulls().unique().to_list()]
    known = [name for name in order if name in present]
    names = known + sorted(name for name in present if name not in known)
    series = {name: [0.0] * len(periods) for name in names}
    for when, name, amount in clean.select(period, label, value).iter_rows():
        if name is not None and when in index:
            series[str(name)][index[when]] += float(amount or 0)
    return periods, series


def _labels(periods: Sequence[date]) -> list[str]:
    return [p.isoformat() for p in periods]


def _weekly(weeks: Sequence[date], series: Mapping[str, list[float]]) -> tuple[list[str], dict[str, list[float]], str]:
    """Weekly series as chart labels; beyond MAX_WEEKS the weeks are summed per month of their Monday."""
    if len(weeks) <= MAX_WEEKS:
        return _labels(weeks), dict(series), "week"
    months: dict[str, int] = {}
    for week in weeks:
        months.setdefault(f"{week.year}-{week.month:02d}", len(months))
    summed = {name: [0.0] * len(months) for name in series}
    for i, week in enumerate(weeks):
        slot = months[f"{week.year}-{week.month:02d}"]
        for name, values in series.items():
            summed[name][slot] += values[i]
    return list(months), summed, "month"


def _sum(frame: pl.DataFrame | None, column: str, where: tuple[str, str] | None = None) -> int:
    if frame is None or frame.height == 0 or column not in frame.columns:
        return 0
    if where is not None:
        if where[0] not in frame.columns:
            return 0
        frame = frame.filter(pl.col(where[0]) == where[1])
    total = frame[column].sum()
    return int(total or 0)


def _median(frame: pl.DataFrame | None, column: str) -> float | None:
    if frame is None or frame.height == 0 or column not in frame.columns:
        return None
    value = frame[column].drop_nulls().median()
    return None if value is None else float(value)  # type: ignore[arg-type]


def _first(frame: pl.DataFrame | None) -> dict[str, Any]:
    if frame is None or frame.height == 0:
        return {}
    return frame.row(0, named=True)


def _buckets(values: Iterable[Any]) -> list[float]:
    counts = [0.0] * len(RESPONSE_BUCKETS)
    for value in values:
        if _missing(value):
            continue
        for i, (_, upper) in enumerate(RESPONSE_BUCKETS):
            if float(value) < upper:
                counts[i] += 1
                break
    return counts


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


class _Page:
    def __init__(self, frames: Mapping[str, pl.DataFrame], context: ReportContext) -> None:
        self.frames = frames
        self.context = context
        self.clock = _Clock(context.timezone)
        self.top = context.top

    def view(self, name: str) -> pl.DataFrame | None:
        return self.frames.get(name)

    def table(self, view: str, columns: Sequence[Col], *, frame: pl.DataFrame | None = None, **kw: Any) -> str:
        return _table(
            self.view(view) if frame is None else frame, columns, view=view, top=self.top, clock=self.clock, **kw
        )

    # -- header and key numbers -------------------------------------------------------------

    def weeks(self) -> tuple[date, date] | None:
        """The first and last week of the period (their Mondays), for the weekly charts' common axis."""
        weekly = self.view("v_volume_weekly")
        if weekly is None or weekly.height == 0 or "week" not in weekly.columns:
            return None
        weeks = weekly["week"].drop_nulls()
        if weeks.len() == 0:
            return None
        return weeks.min(), weeks.max()  # type: ignore[return-value]

    def period(self) -> tuple[date, date] | None:
        daily = self.view("v_volume_daily")
        if daily is None or daily.height == 0 or "day" not in daily.columns:
            return None
        days = daily["day"].drop_nulls()
        if days.len() == 0:
            return None
        return days.min(), days.max()  # type: ignore[return-value]

    def header(self) -> str:
        c = self.context
        period = self.period()
        if period is None:
            covered = "no mail yet"
        else:
            span = (period[1] - period[0]).days + 1
            covered = f"{period[0].isoformat()} to {period[1].isoformat()} ({span:,} days)"
        days = ", ".join(WEEKDAYS[d - 1][:3] for d in sorted(c.work_days) if 1 <= d <= 7)
        hours = f"{c.work_start // 60:02d}:{c.work_start % 60:02d}–{c.work_end // 60:02d}:{c.work_end % 60:02d}"
        rows = [
            ("Database", c.database),
            ("Generated", c.generated_at.strftime("%Y-%m-%d %H:%M %Z")),
            ("Time zone", f"{c.timezone} (business hours {days} {hours})"),
            ("Period covered", covered),
        ]
        meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
        warning = ""
        if c.configured_timezone:
            warning = (
                f'<p class="note warn">The configuration now says time zone {_e(c.configured_timezone)}; these '
                f"numbers were computed with the settings stored in the database ({_e(c.timezone)}). "
                "They follow the configuration after the next <code>intel report</code> or <code>intel run</code>.</p>"
            )
        return f'<header><h1>{_e(c.title)}</h1><dl class="meta">{meta}</dl>{warning}</header>'

    def key_numbers(self) -> str:
        daily = self.view("v_volume_daily")
        summary = _first(self.view("v_response_summary"))
        first = self.view("v_first_response")
        threads = self.view("v_thread_lengths")
        people = self.view("v_top_correspondents")
        alerts = self.view("v_alerts_open")
        unanswered = self.view("v_unanswered")
        inbound = _sum(daily, "messages", ("direction", "inbound"))
        outbound = _sum(daily, "messages", ("direction", "outbound"))
        internal = _sum(daily, "messages", ("direction", "internal"))
        turns, answered = summary.get("turns"), summary.get("answered_turns")
        waiting = summary.get("unanswered")
        if _missing(waiting):
            waiting = unanswered.height if unanswered is not None else None
        cards = [
            ("Messages in", fmt_int(inbound), f"{internal:,} internal" if internal else ""),
            ("Messages out", fmt_int(outbound), ""),
            ("Threads", fmt_int(threads.height if threads is not None else None), ""),
            ("Correspondents", fmt_int(people.height if people is not None else None), ""),
            (
                "Response rate",
                fmt_share(summary.get("response_rate")),
                f"{fmt_int(answered)} of {fmt_int(turns)} turns answered" if not _missing(turns) else "",
            ),
            (
                "Median first response",
                fmt_hours(_median(first, "first_response_hours")),
                f"{fmt_hours(_median(first, 'first_response_business_hours'))} in business hours",
            ),
            ("Unanswered", fmt_int(waiting), "turns awaiting a reply"),
            ("Open alerts", fmt_int(alerts.height if alerts is not None else None), ""),
        ]
        items = "".join(
            f'<div class="card"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
            + (f'<div class="sub">{_e(sub)}</div>' if sub else "")
            + "</div>"
            for label, value, sub in cards
        )
        return f'<section id="key-numbers" class="cards" aria-label="Key numbers">{items}</section>'

    # -- sections ---------------------------------------------------------------------------

    def responsiveness(self) -> str:
        times = self.view("v_response_times")
        parts = []
        summary = _first(self.view("v_response_summary"))
        if summary and not _missing(summary.get("turns")):
            head = "".join(f'<th class="num">{_e(h)}</th>' for h in ("p25", "median", "p75", "p90"))
            body = ""
            for label, suffix in (("Calendar hours", "response_hours"), ("Business hours", "response_business_hours")):
                cells = "".join(
                    f'<td class="num">{_e(fmt_hours(summary.get(f"{q}_{suffix}")))}</td>'
                    for q in ("p25", "median", "p75", "p90")
                )
                body += f"<tr><th>{_e(label)}</th>{cells}</tr>"
            parts.append(
                '<div class="table-wrap narrow"><table><caption>Time to reply, per answered turn</caption>'
                f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table></div>"
            )
        if times is None or times.height == 0:
            parts.append(_empty("No answered turns yet."))
        else:
            calendar = _buckets(times["response_hours"]) if "response_hours" in times.columns else []
            business = _buckets(times["response_business_hours"]) if "response_business_hours" in times.columns else []
            series = {k: v for k, v in (("calendar hours", calendar), ("business hours", business)) if v}
            parts.append(
                charts.bar_chart(
                    [b[0] for b in RESPONSE_BUCKETS],
                    series,
                    width=WIDTH,
                    title="Response-time distribution",
                    y_label="answered turns",
                    stacked=False,
                    colours={"calendar hours": "#0072B2", "business hours": "#56B4E9"},
                )
            )
        by_person = self.view("v_response_by_correspondent")
        parts.append("<h3>By correspondent</h3>")
        parts.append(
            self.table(
                "v_response_by_correspondent",
                [
                    Col("correspondent", "Correspondent"),
                    Col("correspondent_domain", "Domain"),
                    Col("turns", "Turns", "int"),
                    Col("answered_turns", "Answered", "int"),
                    Col("response_rate", "Rate", "share"),
                    Col("median_response_hours", "Median", "hours"),
                    Col("median_response_business_hours", "Median (business)", "hours"),
                    Col("p90_response_hours", "p90", "hours"),
                    Col("last_inbound_at", "Last inbound", "when"),
                ],
                frame=None if by_person is None else _sorted(by_person, ["turns", "correspondent"], [True, False]),
            )
        )
        waiting = self.view("v_unanswered")
        parts.append("<h3>Unanswered</h3>")
        parts.append(
            self.table(
                "v_unanswered",
                [
                    Col("correspondent", "Correspondent"),
                    Col("subject", "Subject", "long"),
                    Col("awaiting_since", "Awaiting since", "when"),
                    Col("inbound_in_turn", "Messages", "int"),
                    Col("waiting_hours", "Waiting", "hours"),
                    Col("waiting_business_hours", "Waiting (business)", "hours"),
                    Col("intent", "Intent", "label"),
                    Col("sentiment", "Sentiment", "label"),
                ],
                frame=None if waiting is None else _sorted(waiting, ["waiting_hours"], [True]),
                empty="Nothing is awaiting a reply.",
            )
        )
        return self.section("responsiveness", "Responsiveness", parts)

    def volume(self) -> str:
        parts = []
        weekly = self.view("v_volume_weekly")
        if weekly is None or weekly.height == 0:
            parts.append(_empty("No mail in the period."))
        else:
            weeks, series = _by_period(weekly, "week", "direction", "messages", step=7, order=DIRECTION_COLOURS)
            labels, series, per = _weekly(weeks, series)
            note = "weeks start on Monday" if per == "week" else "each week counted in the month of its Monday"
            parts.append(
                charts.bar_chart(
                    labels,
                    series,
                    width=WIDTH,
                    title=f"Messages per {per} ({note})",
                    y_label="messages",
                    colours=DIRECTION_COLOURS,
                )
            )
        daily = self.view("v_volume_daily")
        if daily is not None and daily.height:
            days, series = _by_period(daily, "day", "direction", "messages", step=1, order=DIRECTION_COLOURS)
            title = "Messages per day"
            if len(days) > DAILY_DAYS:
                days, series = days[-DAILY_DAYS:], {k: v[-DAILY_DAYS:] for k, v in series.items()}
                title += f" (the last {DAILY_DAYS} days; every day is in the CSV)"
            parts.append(
                charts.line_chart(
                    _labels(days), series, width=WIDTH, title=title, y_label="messages", colours=DIRECTION_COLOURS
                )
            )
        hours = self.view("v_busiest_hours")
        if hours is not None and hours.height and {"weekday", "hour", "total"} <= set(hours.columns):
            grid = [[0.0] * 24 for _ in range(7)]
            for weekday, hour, total in hours.select("weekday", "hour", "total").iter_rows():
                if weekday is not None and hour is not None and 1 <= weekday <= 7 and 0 <= hour <= 23:
                    grid[weekday - 1][hour] += float(total or 0)
            if any(any(row) for row in grid):
                parts.append(
                    charts.heatmap(
                        list(WEEKDAYS),
                        [f"{h:02d}" for h in range(24)],
                        grid,
                        width=WIDTH,
                        title=f"Busiest hours: messages by weekday and hour ({self.context.timezone})",
                    )
                )
        return self.section("volume", "Volume", parts)

    def correspondents(self) -> str:
        parts = []
        people = self.view("v_top_correspondents")
        if people is not None and people.height:
            people = _sorted(
                people.with_columns(
                    _total=pl.sum_horizontal(*[c for c in ("inbound", "outbound") if c in people.columns])
                ),
                ["_total", "correspondent"],
                [True, False],
            )
            head = people.head(min(self.top, 25))
            names = [
                str(name) if name else str(address)
                for name, address in zip(
                    head["name"] if "name" in head.columns else [None] * head.height,
                    head["correspondent"],
                    strict=True,
                )
            ]
            parts.append(
                charts.horizontal_bars(
                    names,
                    {k: head[k].to_list() for k in ("inbound", "outbound") if k in head.columns},
                    width=WIDTH,
                    title=f"Top {len(names)} correspondents by messages",
                    colours=DIRECTION_COLOURS,
                    max_label=44,
                )
            )
        parts.append(
            self.table(
                "v_top_correspondents",
                [
                    Col("correspondent", "Correspondent"),
                    Col("name", "Name"),
                    Col("inbound", "In", "int"),
                    Col("outbound", "Out", "int"),
                    Col("threads", "Threads", "int"),
                    Col("first_at", "First", "when"),
                    Col("last_at", "Last", "when"),
                    Col("negative_share", "Negative", "share"),
                    Col("median_response_hours", "Median reply", "hours"),
                ],
                frame=people,
                empty="No correspondents yet.",
            )
        )
        domains = self.view("v_top_domains")
        parts.append("<h3>Domains</h3>")
        if domains is not None and domains.height:
            domains = _sorted(
                domains.with_columns(
                    _total=pl.sum_horizontal(*[c for c in ("inbound", "outbound") if c in domains.columns])
                ),
                ["_total", "domain"],
                [True, False],
            )
            head = domains.head(min(self.top, 25))
            parts.append(
                charts.horizontal_bars(
                    [str(d) for d in head["domain"]],
                    {k: head[k].to_list() for k in ("inbound", "outbound") if k in head.columns},
                    width=WIDTH,
                    title=f"Top {head.height} domains by messages",
                    colours=DIRECTION_COLOURS,
                )
            )
        parts.append(
            self.table(
                "v_top_domains",
                [
                    Col("domain", "Domain"),
                    Col("correspondents", "Correspondents", "int"),
                    Col("inbound", "In", "int"),
                    Col("outbound", "Out", "int"),
                    Col("threads", "Threads", "int"),
                ],
                frame=domains,
                empty="No domains yet.",
            )
        )
        return self.section("correspondents", "Correspondents and domains", parts)

    def threads(self) -> str:
        parts = []
        spread = self.view("v_thread_length_distribution")
        if spread is not None and spread.height and {"messages", "threads"} <= set(spread.columns):
            cap = 30
            counts: dict[int, float] = {}
            for messages, threads in spread.select("messages", "threads").iter_rows():
                if messages is not None:
                    key = min(int(messages), cap + 1)
                    counts[key] = counts.get(key, 0.0) + float(threads or 0)
            longest = max(counts) if counts else 0
            keys = list(range(1, longest + 1))
            labels = [str(k) if k <= cap else f"{cap + 1}+" for k in keys]
            parts.append(
                charts.bar_chart(
                    labels,
                    {"threads": [counts.get(k, 0.0) for k in keys]},
                    width=WIDTH,
                    title="Thread lengths: threads by number of messages",
                    y_label="threads",
                )
            )
        lengths = self.view("v_thread_lengths")
        parts.append("<h3>Longest threads</h3>")
        parts.append(
            self.table(
                "v_thread_lengths",
                [
                    Col("subject", "Subject", "long"),
                    Col("messages", "Messages", "int"),
                    Col("inbound", "In", "int"),
                    Col("outbound", "Out", "int"),
                    Col("participants", "Participants", "int"),
                    Col("first_at", "First", "when"),
                    Col("last_at", "Last", "when"),
                    Col("duration_hours", "Duration", "hours"),
                ],
                frame=None if lengths is None else _sorted(lengths, ["messages", "last_at"], [True, True]),
                empty="No threads yet.",
            )
        )
        return self.section("threads", "Threads", parts)

    def health(self) -> str:
        parts = []
        trends: list[tuple[str, str, Mapping[str, str]]] = [
            ("v_sentiment_weekly", "Sentiment of inbound mail", SENTIMENT_COLOURS),
            ("v_intent_weekly", "Intent of inbound mail", INTENT_COLOURS),
            ("v_emotion_weekly", "Emotion of inbound mail", EMOTION_COLOURS),
        ]
        scored = False
        for view, title, colours in trends:
            frame = self.view(view)
            if frame is None or frame.height == 0:
                continue
            scored = True
            weeks, series = _by_period(frame, "week", "label", "messages", step=7, order=colours, span=self.weeks())
            labels, series, per = _weekly(weeks, series)
            parts.append(
                charts.bar_chart(
                    labels, series, width=WIDTH, title=f"{title} per {per}", y_label="scored messages", colours=colours
                )
            )
        if not scored:
            parts.append(
                _empty("No messages have been scored for sentiment, intent or emotion yet (run intel enrich).")
            )
        customers = self.view("v_customer_health")
        parts.append("<h3>Per customer</h3>")
        parts.append(
            self.table(
                "v_customer_health",
                [
                    Col("correspondent", "Customer"),
                    Col("messages_in", "Messages in", "int"),
                    Col("negative_share", "Negative", "share"),
                    Col("last_sentiment", "Last sentiment", "label"),
                    Col("last_emotion", "Last emotion", "label"),
                    Col("complaints", "Complaints", "int"),
                    Col("open_alerts", "Open alerts", "int"),
                    Col("unanswered", "Unanswered", "int"),
                    Col("median_response_hours", "Median reply", "hours"),
                    Col("last_inbound_at", "Last inbound", "when"),
                ],
                frame=None
                if customers is None
                else _sorted(
                    customers,
                    ["open_alerts", "negative_share", "unanswered", "messages_in"],
                    [True, True, True, True],
                ),
                empty="No customers yet.",
            )
        )
        return self.section("health", "Customer health", parts)

    def activities(self) -> str:
        frame = self.view("v_activities_weekly")
        if frame is None or frame.height == 0:
            body = [_empty("No meetings, calls or tasks found yet.")]
        else:
            weeks, series = _by_period(
                frame, "week", "type", "activities", step=7, order=ACTIVITY_COLOURS, span=self.weeks()
            )
            labels, series, per = _weekly(weeks, series)
            body = [
                charts.bar_chart(
                    labels,
                    series,
                    width=WIDTH,
                    title=f"Meetings, calls and tasks per {per} (by the date of the message that mentions them)",
                    y_label="activities",
                    colours=ACTIVITY_COLOURS,
                )
            ]
        return self.section("activities", "Activities", body)

    def alerts(self) -> str:
        frame = self.view("v_alerts_open")
        if frame is not None and frame.height and "severity" in frame.columns:
            frame = (
                frame.with_columns(_rank=pl.col("severity").replace_strict(SEVERITY_ORDER, default=9))
                .pipe(_sorted, ["_rank", "trigger_at"], [False, True])
                .drop("_rank")
            )
        table = self.table(
            "v_alerts_open",
            [
                Col("severity", "Severity", "severity"),
                Col("rule", "Rule", "label"),
                Col("subject", "About"),
                Col("title", "Alert", "long"),
                Col("first_at", "Since", "when"),
                Col("trigger_at", "Triggered", "when"),
                Col("raised_at", "Raised at", "when"),
            ],
            frame=frame,
            empty="No open alerts.",
        )
        return self.section("alerts", "Open alerts", [table])

    def exports(self) -> str:
        rows = []
        for name, count in self.context.exported.items():
            rows.append(
                f'<tr><td class="label"><code>{_e(name)}</code></td>'
                f'<td class="long">{_e(self.context.descriptions.get(name, ""))}</td>'
                f'<td class="num">{_e(f"{count:,}")}</td>'
                f'<td class="label"><a href="csv/{_e(name)}.csv">CSV</a> · '
                f'<a href="parquet/{_e(name)}.parquet">Parquet</a></td></tr>'
            )
        table = (
            '<div class="table-wrap"><table><thead><tr><th>View</th><th>What it holds</th><th class="num">Rows</th>'
            f"<th>Files</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            if rows
            else _empty("No views were exported.")
        )
        note = (
            '<p class="note">Every view in full, beside this file in <code>csv/</code> and <code>parquet/</code>'
            " (columns as described in data/README.md).</p>"
        )
        return self.section("exports", "Exports", [note, table])

    @staticmethod
    def section(anchor: str, title: str, parts: Sequence[str]) -> str:
        return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>{"".join(parts)}</section>'

    def render(self) -> str:
        sections: list[tuple[str, str, Callable[[], str]]] = [
            ("responsiveness", "Responsiveness", self.responsiveness),
            ("volume", "Volume", self.volume),
            ("correspondents", "Correspondents", self.correspondents),
            ("threads", "Threads", self.threads),
            ("health", "Customer health", self.health),
            ("activities", "Activities", self.activities),
            ("alerts", "Open alerts", self.alerts),
            ("exports", "Exports", self.exports),
        ]
        toc = "".join(f'<a href="#{_e(anchor)}">{_e(label)}</a>' for anchor, label, _ in sections)
        body = "".join(render() for _, _, render in sections)
        generated = self.context.generated_at.strftime("%Y-%m-%d %H:%M %Z")
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            # Defence in depth: even a string that escaped escaping could load or run nothing.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(self.context.title)}</title><style>{CSS}</style></head>"
            f'<body><div class="page">{self.header()}<nav class="toc">{toc}</nav>{self.key_numbers()}'
            f"<main>{body}</main>"
            f"<footer>{_e(self.context.title)} · generated {_e(generated)}</footer></div></body></html>\n"
        )


def render_html(frames: Mapping[str, pl.DataFrame], context: ReportContext) -> str:
    """The report page from the views' rows (view name -> frame); missing views show as empty."""
    return _Page(frames, context).render()


CSS = """
:root{--text:#1f2933;--muted:#52606d;--line:#e4e7eb;--soft:#f5f7fa;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;color:var(--text);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.page{max-width:1100px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:24px;margin:0 0 6px}
h2{font-size:19px;margin:0 0 12px}
h3{font-size:15px;margin:22px 0 8px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0;font-size:13px}
.meta dt{color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
.toc{display:flex;flex-wrap:wrap;gap:4px 16px;margin:16px 0 0;font-size:13px}
.toc a{color:var(--accent);text-decoration:none}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px;margin:18px 0 8px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}
.card .label{color:var(--muted);font-size:12px}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .sub{color:var(--muted);font-size:12px}
main section{margin-top:28px;padding-top:10px;border-top:2px solid var(--line)}
svg.chart{display:block;margin:12px 0 18px}
.table-wrap{overflow-x:auto}
.table-wrap.narrow{max-width:520px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
caption{text-align:left;color:var(--muted);padding:0 0 4px}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;vertical-align:bottom}
thead th.num{white-space:normal}
tbody th{font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.when{white-space:nowrap}
td.text,td.long{overflow-wrap:break-word}
td.label{white-space:nowrap}
td.long{min-width:220px}
td.none{color:var(--muted)}
.more,.note{color:var(--muted);font-size:12.5px;margin:6px 0}
.warn{color:#8a2c0d}
.empty{margin:10px 0;padding:12px 14px;background:var(--soft);border:1px dashed #cbd2d9;border-radius:6px;
color:var(--muted)}
.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:11.5px;font-weight:600;background:#e4e7eb}
.sev-high{background:#fde2d7;color:#8a2c0d}
.sev-medium{background:#fff1c2;color:#6b4e00}
.sev-low{background:#e3eefa;color:#0b4a7a}
a{color:var(--accent)}
code{font-size:12px}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{
body{font-size:11px}
.page{max-width:none;padding:0}
.toc{display:none}
main section{break-inside:auto}
h2,h3{break-after:avoid}
svg.chart,.card,tr{break-inside:avoid}
thead{display:table-header-group}
.table-wrap{overflow:visible}
a{color:inherit;text-decoration:none}
@page{margin:14mm}
}
"""
