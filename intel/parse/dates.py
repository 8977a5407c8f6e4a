"""Message dates: the Date header with its offset, and the fallbacks when it is missing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz

__all__ = ["parse_date", "received_date"]

# Dates before this are clock errors (1970 epochs, 1980 DOS defaults), not real mail.
_EARLIEST = datetime(1985, 1, 1, tzinfo=UTC)
_DAY_FIRST_NUMERIC = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_date(value: str | None) -> tuple[datetime, int | None] | None:
    """Parse an RFC 5322 date into (UTC datetime, sender's offset in minutes).

    Accepts the obsolete forms the stdlib knows (``EST``, two-digit years, missing seconds).
    The offset is None for ``-0000`` (RFC 5322: "no information about the local time zone")
    and for dates that carried no zone at all. Returns None when the value is not a date.
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        fields = parsedate_tz(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        fields = None
    if fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    offset_seconds = fields[9]
    try:
        naive = datetime(year, month, day, hour, minute, min(second, 59))
    except (ValueError, OverflowError):
        return None
    offset_minutes: int | None
    if offset_seconds is None:
        offset_minutes = None
        offset_seconds = 0
    else:
        if abs(offset_seconds) >= 24 * 3600:
            return None
        offset_minutes = offset_seconds // 60
        if offset_minutes == 0 and re.search(r"-0000\s*(\(.*\))?$", text):
            offset_minutes = None
    try:
        utc = (naive - timedelta(seconds=offset_seconds)).replace(tzinfo=UTC)
    except OverflowError:
        return None
    return utc, offset_minutes


def received_date(received_headers: list[str]) -> tuple[datetime, int | None] | None:
    """The date of the newest Received header (the first one: each hop prepends its own)."""
    for header in received_headers:
        if not header or ";" not in header:
            continue
        parsed = parse_date(header.rpartition(";")[2])
        if parsed is not None:
            return parsed
    return None


def is_plausible(when: datetime, now: datetime) -> bool:
    """False for dates before 1985 or more than two days in the future of `now`."""
    return _EARLIEST <= when <= now + timedelta(days=2)
