"""Meetings, calls and tasks in new text, with resolved dates, statuses and participants."""

from __future__ import annotations

from datetime import datetime

import pytest

from intel.nlp.activities import ActivityExtractor, split_sentences
from intel.nlp.extract import Extractor
from intel.nlp.timeparse import parse_reference

REF = parse_reference("2026-06-08T11:52:00+01:00")  # a Monday, sender in UK summer time
EXTRACTOR = ActivityExtractor()


def one(text: str, context: str = "") -> tuple[str, str, str | None, str | None]:
    found = EXTRACTOR.extract(text, REF, sender="me@x.example", context=context)
    assert len(found) == 1, [a.text for a in found]
    a = found[0]
    return a.type, a.status, a.start, a.due


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Could we have a quick call on Monday 22 June at 15:15 BST?",
            ("call", "proposed", "2026-06-22T15:15:00+01:00", None),
        ),
        ("Are you free to meet next Friday at 2:00 PM?", ("meeting", "proposed", "2026-06-19T14:00:00+01:00", None)),
        ("Let's jump on a Zoom tomorrow at 10.", ("call", "proposed", "2026-06-09T10:00:00+01:00", None)),
        ("Can we do Thursday at 10:30 instead?", ("meeting", "rescheduled", "2026-06-11T10:30:00+01:00", None)),
        ("Confirmed: Thursday 25 June at 10:30 CEST.", ("meeting", "confirmed", "2026-06-25T10:30:00+02:00", None)),
        ("Please send over the signed SOW by tomorrow EOD.", ("task", "requested", None, "2026-06-09T17:00:00+01:00")),
        ("I'll send you the patched build by the end of the week.", ("task", "committed", None, "2026-06-12")),
        ("We need the signed DPA by next Thursday.", ("task", "requested", None, "2026-06-18")),
        ("Could you confirm by 5 July whether the seats stay the same?", ("task", "requested", None, "2026-07-05")),
        ("Let's catch up next week over coffee.", ("meeting", "proposed", None, None)),
    ],
)
def test_kinds_statuses_and_dates(text: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "It last worked on Friday.",
        "It was great to meet you at the conference last week.",
        "We have a management report due this week and can't pull the numbers.",
        "Happy to jump on a quick screen share if that's easier.",
        "Call me on +44 117 496 0123 as soon as possible.",
        "Hope you had a good weekend.",
        "The shipment should arrive on Thursday.",
        "I expect a call from a manager today.",
    ],
)
def test_not_activities(text: str) -> None:
    assert EXTRACTOR.extract(text, REF) == []


def test_a_bare_confirmation_takes_its_type_from_the_message_it_answers() -> None:
    quoted = (
        "On Mon, Jun 8, 2026 at 9:00 AM Priya <p@x.example> wrote:\n"
        "> Sorry, I've been pulled into an all-day workshop.\n"
        "> Would a call on Monday 22 June at 15:30 work for you?\n"
    )
    kind, status, start, _ = one("Monday 22 June at 15:30 works for me.", context=quoted)
    assert (kind, status, start) == ("call", "confirmed", "2026-06-22T15:30:00+01:00")
    assert one("Monday 22 June at 15:30 works for me.")[0] == "meeting"


def test_unresolvable_mentions_keep_text_and_no_times() -> None:
    (a,) = EXTRACTOR.extract("Can we meet on Monday at 10 to review the plan?", None)
    assert a.type == "meeting" and a.start is None and a.time_text == "Monday at 10"


def test_ranges_and_durations_give_an_end() -> None:
    (a,) = EXTRACTOR.extract("Can we meet on Thursday 11 June, 10:30-11:00 CET?", REF)
    assert (a.start, a.end) == ("2026-06-11T10:30:00+02:00", "2026-06-11T11:00:00+02:00")
    (b,) = EXTRACTOR.extract("Would a call on Tuesday at 14:00 work? It shouldn't take more than 30 minutes.", REF)
    assert (b.start, b.end) == ("2026-06-09T14:00:00+01:00", "2026-06-09T14:30:00+01:00")


def test_participants_include_sender_recipients_and_mentioned_addresses() -> None:
    (a,) = ActivityExtractor().extract(
        "Can we meet on Friday at 3pm with bob@partner.example?",
        REF,
        sender="me@x.example",
        recipients=("you@y.example",),
    )
    assert a.participants == ["me@x.example", "you@y.example", "bob@partner.example"]


def test_spans_point_into_the_original_text() -> None:
    text = (
        "Hi Ana,\n\nThanks for the update. Could we meet on Friday at 3pm to go\nthrough it?\n\nBest,\nTom Becker\n"
        "Studio Lead | Greenleaf Print\n\nOn Mon, Jun 8, 2026 at 9:00 AM Ana <ana@x.example> wrote:\n> Hi\n"
    )
    (a,) = Extractor(use_spacy=False).load().activities_of(text, sender="tom@greenleaf.example", sent_at=REF)
    assert a.span is not None
    assert text[a.span[0] : a.span[1]].startswith("Could we meet on Friday at 3pm")
    assert a.start is not None and datetime.fromisoformat(a.start).hour == 15


def test_sentences() -> None:
    text = "Hi Tom,\n\nThe call is at 3 p.m. tomorrow. Can we move it?\nAgenda:\n- budget\n- hiring"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["Hi Tom,", "The call is at 3 p.m. tomorrow.", "Can we move it?", "Agenda:", "- budget", "- hiring"]


def test_json_shape() -> None:
    (a,) = EXTRACTOR.extract("Can we meet on Friday at 3pm?", REF)
    assert set(a.to_json()) >= {"type", "text", "start", "end", "due", "participants", "confidence"}
    assert 0 < a.confidence <= 1
