"""Date/time mentions resolved against fixed reference dates and offsets (table-driven)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from intel.nlp.evaluation import score_mentions
from intel.nlp.timeparse import find_durations, find_mentions, parse_reference

HELDOUT = Path(__file__).resolve().parents[2] / "models" / "training" / "activities" / "mentions_heldout.jsonl"

WED = "2026-03-04T10:15:00-05:00"  # Wednesday, New York (before US DST starts on 8 March)
FRI = "2026-06-12T16:40:00+02:00"  # Friday afternoon, Berlin
SUN = "2026-09-27T09:00:00+10:00"  # Sunday, Sydney
MON = "2026-11-30T14:00:00+00:00"  # Monday, London, last day of the month
TUE = "2026-12-29T11:00:00+05:30"  # Tuesday, Pune, across the new year


def _resolve(text: str, ref: str | None) -> list[str | None]:
    return [m.iso() for m in find_mentions(text, parse_reference(ref))]


CASES = [
    # relative days and weekdays (weeks run Monday-Sunday; "next X" is X of the following week)
    (WED, "Can we meet next Tuesday at 3pm?", "2026-03-10T15:00:00-05:00"),
    (WED, "Please send it by tomorrow EOD.", "2026-03-05T17:00:00-05:00"),
    (WED, "I need this by Friday.", "2026-03-06"),
    (WED, "Are you free this Thursday afternoon?", "2026-03-05"),
    (WED, "Let's schedule it for the day after tomorrow at noon.", "2026-03-06T12:00:00-05:00"),
    (WED, "Call me at 4:30 this afternoon.", "2026-03-04T16:30:00-05:00"),
    (WED, "Quick sync @ 4pm tmrw?", "2026-03-05T16:00:00-05:00"),
    (WED, "EOD Friday please.", "2026-03-06T17:00:00-05:00"),
    (WED, "I'll have it to you COB tomorrow.", "2026-03-05T17:00:00-05:00"),
    (WED, "Can we push it to the following Monday?", "2026-03-09"),
    (FRI, "Let's talk Monday.", "2026-06-15"),
    (FRI, "What about this Sunday?", "2026-06-14"),
    (FRI, "The audit starts Monday next week.", "2026-06-15"),
    (SUN, "Let's catch up next Friday.", "2026-10-02"),
    (SUN, "Are you around this Friday?", "2026-10-02"),
    (MON, "Can we do this Monday at 4?", "2026-11-30T16:00:00+00:00"),
    (MON, "I'll call you on Monday.", "2026-12-07"),
    (TUE, "Can we talk next Tuesday?", "2027-01-05"),
    (TUE, "Please send the file by Friday.", "2027-01-01"),
    # day of month, explicit dates, years
    (WED, "Let's talk on the 14th.", "2026-03-14"),
    (FRI, "Let's meet on the 1st.", "2026-07-01"),
    (WED, "How about Monday, March 9 at 9:30am?", "2026-03-09T09:30:00-05:00"),
    (WED, "Please reply no later than March 13th.", "2026-03-13"),
    (WED, "Can we meet on Wed 11 Mar at 10:00?", "2026-03-11T10:00:00-05:00"),
    (WED, "Kick-off is on 2026-04-15 at 09:00.", "2026-04-15T09:00:00-05:00"),
    (WED, "The invoice is due on 3/20.", "2026-03-20"),
    (SUN, "Please book the venue on 5/10.", "2026-10-05"),
    (WED, "Die Lieferung kommt am 03.04.2026 an.", "2026-04-03"),
    (MON, "The board meets on 12/03.", "2027-03-12"),
    (MON, "Can we do Jan 5th at 9am?", "2027-01-05T09:00:00+00:00"),
    (TUE, "Can we do Monday 4th January?", "2027-01-04"),
    (TUE, "The order was placed on December 28.", "2026-12-28"),
    (None, "The launch is on 5 June 2026.", "2026-06-05"),
    # spans of time
    (WED, "We'll revisit this in two weeks.", "2026-03-18"),
    (WED, "Payment is due in 30 days.", "2026-04-03"),
    (WED, "Two weeks from Monday works for the launch.", "2026-03-23"),
    (WED, "Could we do a week from today?", "2026-03-11"),
    (FRI, "Let's reconnect in a fortnight.", "2026-06-26"),
    (FRI, "Please respond within 2 business days.", "2026-06-16"),
    (MON, "The contract renews in 2 months.", "2027-01-30"),
    (WED, "Let's aim for the end of next week.", "2026-03-13"),
    (WED, "The report is due by the end of the month.", "2026-03-31"),
    (FRI, "We should finish by the end of the quarter.", "2026-06-30"),
    (TUE, "We need it by the end of the year.", "2026-12-31"),
    # zones: a zone label moves the time there (regional names follow DST on that date)
    (WED, "The maintenance window is 10:30-11:00 CET on Thursday.", "2026-03-05T10:30:00+01:00"),
    (WED, "See you on 12 March at 14:00 UK time.", "2026-03-12T14:00:00+00:00"),
    (WED, "Sync at 9 AM PT on Friday?", "2026-03-06T09:00:00-08:00"),
    (WED, "Works for me: Thursday, 3/12 at 1:30 PM ET.", "2026-03-12T13:30:00-04:00"),
    (FRI, "Shall we say 10am BST on the 18th?", "2026-06-18T10:00:00+01:00"),
    (FRI, "The webinar is on June 30th at 4 PM CEST.", "2026-06-30T16:00:00+02:00"),
    (SUN, "How about 10:30 Sydney time on Monday?", "2026-09-28T10:30:00+10:00"),
    (MON, "Confirmed for Friday, December 11th at 3:00 PM EST.", "2026-12-11T15:00:00-05:00"),
    (TUE, "Are you free Wednesday, January 6 at 3:30 PM Singapore time?", "2027-01-06T15:30:00+08:00"),
    (MON, "Meet at 9:00 UTC+2 on Friday 4 December?", "2026-12-04T09:00:00+02:00"),
    # ranges and 12-hour times without am/pm
    (WED, "Could you do 2-3pm tomorrow?", "2026-03-05T14:00:00-05:00"),
    (WED, "I'm free between 10 and 11am on Friday.", "2026-03-06T10:00:00-05:00"),
    (WED, "Let's pencil in Tues at 2.", "2026-03-10T14:00:00-05:00"),
    (FRI, "How about tomorrow at 11?", "2026-06-13T11:00:00+02:00"),
    (FRI, "Dinner at 7:30 tonight?", "2026-06-12T19:30:00+02:00"),
    (FRI, "Would 9.30am on Thursday suit?", "2026-06-18T09:30:00+02:00"),
]


@pytest.mark.parametrize(("ref", "text", "expected"), CASES, ids=[c[1][:40] for c in CASES])
def test_mention_resolves(ref: str | None, text: str, expected: str) -> None:
    found = find_mentions(text, parse_reference(ref))
    assert found, f"no mention found in {text!r}"
    values = [m.start for m in found if m.start is not None]
    if "T" in expected:
        want = datetime.fromisoformat(expected)
        assert any(isinstance(v, datetime) and v == want and v.utcoffset() == want.utcoffset() for v in values), (
            text,
            [m.iso() for m in found],
        )
    else:
        assert date.fromisoformat(expected) in [v if not isinstance(v, datetime) else v.date() for v in values], (
            text,
            [m.iso() for m in found],
        )


def test_range_has_an_end() -> None:
    (m,) = find_mentions("Can we do 10:30-11:00 CET on Thursday?", parse_reference(WED))
    assert m.iso() == "2026-03-05T10:30:00+01:00"
    assert m.end is not None and m.end.isoformat() == "2026-03-05T11:00:00+01:00"


@pytest.mark.parametrize(
    "text",
    [
        "Let's catch up next week.",
        "Sometime early next month would be good.",
        "I'll get back to you later this week.",
        "We'll know more in a few days.",
        "Can we talk early next week?",
    ],
)
def test_vague_mentions_keep_their_text_and_no_date(text: str) -> None:
    found = find_mentions(text, parse_reference(FRI))
    assert found and all(m.start is None and not m.explicit for m in found)


@pytest.mark.parametrize(
    "text", ["Can we meet on Monday at 10?", "Please send it by tomorrow.", "See you on the 14th."]
)
def test_relative_mentions_without_a_reference_are_not_made_up(text: str) -> None:
    found = find_mentions(text, None)
    assert found and all(m.start is None for m in found)


@pytest.mark.parametrize(
    "text",
    [
        "We have 3 may attend, 40 seats in total.",
        "Call me on +1 (312) 555-0147 or 0491 570 156.",
        "Version 4.2.1 was released in 2026 for 49 USD at 3 sites.",
        "It costs $10.50 per seat, 2-3 seats per team.",
        "Our office is on the 5th floor.",
    ],
)
def test_numbers_that_are_not_times(text: str) -> None:
    assert [m.iso() for m in find_mentions(text, parse_reference(WED)) if m.start is not None] == []


def test_deadlines_are_marked() -> None:
    ref = parse_reference(WED)
    assert [m.deadline for m in find_mentions("Send it by Friday.", ref)] == [True]
    assert [m.deadline for m in find_mentions("Expect the fix tomorrow EOD at the latest.", ref)] == [True]
    assert [m.deadline for m in find_mentions("Let's meet on Friday.", ref)] == [False]


def test_a_time_alone_is_today_only_while_still_ahead() -> None:
    ref = parse_reference(WED)  # 10:15
    assert _resolve("Can we talk at 3pm?", WED) == ["2026-03-04T15:00:00-05:00"]
    assert _resolve("It broke at 8:15 am.", WED) == [None]
    assert ref is not None


def test_parse_reference_accepts_z_and_naive() -> None:
    assert parse_reference("2026-06-01T10:00:00Z") == datetime(2026, 6, 1, 10, tzinfo=UTC)
    naive = parse_reference("2026-06-01T10:00:00")
    assert naive is not None and naive.utcoffset() == timedelta(0)
    assert parse_reference(None) is None


def test_durations() -> None:
    assert [d.length for d in find_durations("It should take about 45 minutes.")] == [timedelta(minutes=45)]
    assert [d.length for d in find_durations("a 30-minute call")] == [timedelta(minutes=30)]
    assert [d.length for d in find_durations("for an hour")] == [timedelta(hours=1)]
    assert [d.length for d in find_durations("half an hour")] == [timedelta(minutes=30)]


def test_heldout_mentions_meet_the_goal() -> None:
    """The model card's number: >= 90% of explicit mentions resolved to the right calendar date."""
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores = score_mentions(rows)
    assert scores.explicit >= 100
    assert scores.date_accuracy >= 0.9, scores.failures
    assert scores.vague_kept_null == scores.vague
