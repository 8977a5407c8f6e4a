"""Measure the activity extractor and write its model card (`models/activity/CARD.md`).

    python -m intel.nlp.evaluate_activities [--out models/activity]

Two measurements: the hand-written held-out set of date/time mentions
(`models/training/activities/mentions_heldout.jsonl`: sentences, a reference date and offset,
and the calendar date, or instant, a careful reader would put in a calendar), and the demo
mailbox's ground truth (activities per message with resolved dates).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intel.nlp.activities import ACTIVITY_VERSION
from intel.nlp.evaluation import demo_emails, score_mentions

__all__ = ["demo_scores", "main"]

REPO = Path(__file__).resolve().parents[2]
HELDOUT = REPO / "models" / "training" / "activities" / "mentions_heldout.jsonl"


def demo_scores() -> dict[str, Any]:
    """Precision / recall of activities on the demo mailbox, and how many have the right type and date."""
    from intel.nlp.extract import Extractor

    extractor = Extractor().load()
    tp = fp = fn = right_type = right_date = 0
    for e in demo_emails():
        found = extractor.activities_of(e.body_text, sender=e.sender, sent_at=e.sent_at, recipients=e.recipients)
        truth = list(e.truth.activities)
        used: set[int] = set()
        for a in found:
            match = next(
                (j for j, t in enumerate(truth) if j not in used and (a.text in t["text"] or t["text"] in a.text)),
                None,
            )
            if match is None:
                fp += 1
                continue
            used.add(match)
            tp += 1
            t = truth[match]
            right_type += a.type == t["type"]
            want, got = t["start"] or t["due"], a.start or a.due
            if (
                got
                and got[:10] == want[:10]
                and ("T" not in want or "T" not in got or datetime.fromisoformat(got) == datetime.fromisoformat(want))
            ):
                right_date += 1
        fn += len(truth) - len(used)
    return {
        "truth_activities": tp + fn,
        "found": tp + fp,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "right_type": round(right_type / tp, 4) if tp else 1.0,
        "right_date": round(right_date / tp, 4) if tp else 1.0,
    }


def _card(mentions: dict[str, Any], failures: list[Any], demo: dict[str, Any], today: str) -> str:
    instant = f"{mentions['right_instant']:.1%} of {mentions['with_time']}"
    vague = f"{mentions['vague_left_unresolved']} of {mentions['vague_mentions']}"
    fail_lines = "\n".join(f"- `{f[1]}`: expected {f[2]}, got {f[3]}" for f in failures) or "- none"
    return f"""# Model card: activity extractor (`{ACTIVITY_VERSION}`)

Finds meetings, calls and tasks in the new text of an email (quotes and signature removed) and
resolves their dates against the message date in the sender's offset. Rules, not a learned model:
`intel/nlp/activities.py` (what is an activity) on top of `intel/nlp/timeparse.py` (what a date or
time phrase means). Measured {today}.

## How it decides

- **Sentences**: paragraphs are split at blank lines, at line ends that close a sentence or start a
  list item, then at sentence punctuation (abbreviations such as "a.m." or "Dr." kept together).
- **Meeting / call**: the sentence names one ("call", "Zoom", "dial-in" -> call; "meet", "meeting",
  "demo", "catch up", "coffee", "workshop" -> meeting) or reads as scheduling ("works for me",
  "instead", "are you free", "see you on", "calendar invite"), and holds a date/time mention that is
  not a deadline, with either a time or a proposal ("let's", "can we", a question). A confirmation
  that does not say which ("Thursday at 10:30 works for me") takes the type of the newest proposal
  in the quoted message it answers, else "meeting". Status: proposed, confirmed or rescheduled.
- **Task**: a deadline ("by Friday", "before noon", "no later than the 14th", "... at the latest")
  in a request ("could you", "please", "we need", "I'd like") or commitment ("I'll", "we'll",
  "expect"), or an action verb (send, sign, review, deploy...) with a date in a request or
  commitment. Statements ("we have a report due this week") are not tasks. Status: requested or
  committed.
- **Not activities**: past tense without a future or a question ("it last worked on Friday", "we met
  last week"), sentences without a date/time mention (a meeting idea without a time stays text).
- **Participants**: the sender and the recipients, addresses written in the sentence, and person
  names spaCy finds in it (only run on activity sentences that hold a capitalised word that is not
  a date word, so it costs little).

## How times resolve (timeparse)

Against the message date in the sender's own offset: weeks run Monday-Sunday; "next Tuesday" is the
Tuesday of the following week (on a weekend that is the coming one), "this Thursday" this week's
(or the coming one once it has passed), a bare weekday the next one after today; "tomorrow EOD",
"end of day", "COB" are 17:00; "noon" 12:00; "end of the week" Friday, "end of the month" its last
day; "in two weeks", "a week from Monday", "within 2 business days"; "on the 14th" the next 14th;
"10:30-11:00 CET", "2-3pm", "between 10 and 11am" give an end, and a duration in the sentence or the
next ("It should take about 45 minutes") gives one too. A zone after a time ("CEST", "3pm ET",
"14:00 UK time", "10:30 Sydney time", "UTC+2") puts the time in that zone, with daylight saving time
for regional names on that date (ET in March before the 8th is -05:00, after it -04:00); otherwise
the sender's offset. A 12-hour time without am/pm is read in business hours (1-7 pm, 8-11 am). A
date without a year is the occurrence nearest the message date, and a weekday written with it picks
the year that matches. `7/8` is read month-first when the sender's offset is in the Americas, else
day-first; `23.06.` is always day-first. Vague mentions ("next week", "later this month", "in a few
days") keep their text with null times, and relative mentions without a message date stay
unresolved: nothing is ever made up.

## Metrics

**Held-out date/time mentions** (`models/training/activities/mentions_heldout.jsonl`, written by hand
for this card from varied phrasings, five reference dates in five offsets, including a year end, US
and European DST changes, German and numeric dates): {mentions["explicit_mentions"]} explicit mentions,
{mentions["vague_mentions"]} vague or unresolvable ones.

| measure | value |
|---|---:|
| explicit mentions resolved to the right calendar date | **{mentions["right_calendar_date"]:.1%}** (goal >= 90%) |
| mentions with a time: right instant (date, time and offset) | {instant} |
| vague / unresolvable mentions left without a date | {vague} |

The first run on this set, before any change prompted by it, resolved 105 of 106 explicit mentions to
the right date (99.1%) and 49 of 51 times to the right instant; the misses ("am Dienstag, 23.06. um
14:00" and "Tues at 2.") led to two general fixes (day-first dates ending in a dot, a bare hour at the
end of a sentence). Failures now:

{fail_lines}

**Demo mailbox** (the generator's ground truth; the rules were developed on it, so this is not a
held-out number): {demo["truth_activities"]} activities in the truth, {demo["found"]} found;
precision {demo["precision"]:.3f}, recall {demo["recall"]:.3f}; of those found, right type
{demo["right_type"]:.3f} and right calendar date (and instant where a time is given)
{demo["right_date"]:.3f}.

## Limits

- English phrasing (plus day-first numeric dates and a few German/French/Spanish connectors); other
  languages' weekday and month names are not read.
- "next Tuesday" follows one convention (the following week's); some writers mean the coming one.
- "EST"/"CST"/"PST" are read as the region's local time on that date (as most writers mean them),
  not as the fixed standard-time offset.
- Meetings without any date or time mention ("let's set up a call") and requests without a deadline
  are not activities.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure the activity extractor and write its card.")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "activity")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores = score_mentions(rows)
    demo = demo_scores()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "CARD.md").write_text(_card(scores.row(), scores.failures or [], demo, today), encoding="utf-8")
    metrics = {"version": ACTIVITY_VERSION, "measured": today, "mentions": scores.row(), "demo": demo}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
