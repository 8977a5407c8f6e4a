"""Meetings, calls and tasks in the new text of an email, with resolved dates.

Rules over sentences, built on `intel.nlp.timeparse`:

* a **meeting** or **call** is a sentence that names one ("call", "meet", "meeting", "demo",
  "catch up", "Zoom"...) or reads as scheduling ("works for me", "instead", "are you free",
  "see you on") *and* holds a date/time mention that is not a deadline. Scheduling sentences that
  do not say which (a confirmation "Thursday at 10:30 works for me") take the type from the
  quoted message they answer, else "meeting". Status: ``proposed``, ``confirmed`` or
  ``rescheduled``.
* a **task** is a sentence with a deadline ("by Friday", "before noon", "no later than the
  14th", "... at the latest"), or with a request / commitment verb and a date ("I'll send it on
  Monday"). Status: ``requested`` ("could you", "please", "we need") or ``committed`` ("I'll",
  "we'll", "expect").
* past-tense sentences ("it last worked on Friday", "we met on Monday") are not activities.

Times are resolved against the message date in the sender's offset; a mention that cannot be
resolved keeps its text with null times. Participants are the sender and recipients plus email
addresses and person names in the sentence (spaCy NER, only on the few sentences that are
activities and hold a capitalised word that is not a date word).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from intel.nlp.contacts import SpacyHelper
from intel.nlp.signature import EMAIL
from intel.nlp.timeparse import TimeMention, find_durations, find_mentions

__all__ = ["ACTIVITY_VERSION", "Activity", "ActivityExtractor", "split_sentences"]

ACTIVITY_VERSION = "activity.v1"
_I = re.IGNORECASE

_CALL = re.compile(
    r"\b(?:call|calls|phone call|ring|dial[- ]in|phone|zoom|teams call|video call|conference call|hangout"
    r"|google meet|webex|skype|speak on the phone|give you a buzz|anruf|telefonat|appel)\b",
    _I,
)
_MEETING = re.compile(
    r"\b(?:meet|meeting|get together|catch up|catch-up|sit down|workshop|demo|session|lunch|coffee|dinner|visit"
    r"|appointment|onsite|on-site|in person|webinar|kick-?off|interview|screen ?share|walkthrough|review session"
    r"|sync|standup|stand-up|offsite|training|presentation|termin|réunion|reunión|rendez-vous)\b",
    _I,
)
_SCHEDULING = re.compile(
    r"\b(?:works for me|work for you|works for you|suit you|suits you|are you free|are you available|free on"
    r"|available on|how about|would .{0,40} work|instead|reschedule|move it|push it|postpone|see you|talk then"
    r"|speak then|confirmed|it is\b|let'?s go with|in my calendar|calendar invite|sent (?:over )?(?:an? |the )?invite"
    r"|booked|scheduled for|pencil(?:led)? in|let'?s do|can we do|let'?s say|slot)\b",
    _I,
)
_RESCHEDULE = re.compile(
    r"\b(?:instead|reschedul\w*|move (?:it|the \w+|our \w+)|push (?:it|the \w+) (?:back|to)|postpone\w*"
    r"|another time|a different time|something has come up|can'?t make)\b",
    _I,
)
_CONFIRM = re.compile(
    r"\b(?:confirmed|confirming|works for me|it is\b|let'?s go with|see you|talk then|speak then|in my calendar"
    r"|sent (?:over )?(?:an? |the )?(?:calendar )?invite"
    r"|i'?ll send (?:a|the) (?:teams |zoom |calendar )?(?:link|invite)"
    r"|booked|that works|perfect|great,)\b",
    _I,
)
_PAST = re.compile(
    r"\b(?:last (?:week|month|time)|ago|yesterday|was|were|had|did|met|worked|happened|since|used to|earlier today)\b",
    _I,
)
_FUTURE_OR_ASK = re.compile(
    r"\b(?:will|'ll|can|could|would|shall|let'?s|please|are you|is it|free|available|going to|plan|next|tomorrow"
    r"|confirm|works?|suit)\b|\?",
    _I,
)
_TASK_VERB = re.compile(
    r"\b(?:send|sending|share|provide|deliver|submit|sign|signed|review|complete|completed|finish|prepare|confirm"
    r"|get back|follow up|update|fix|deploy|deployed|upload|pay|approve|return|have|get|reply|respond|decide|book"
    r"|order|ship|install|test|report|let me know|let us know|need|needs|expect|arrange|process|file|register)\b",
    _I,
)
_ACTION = re.compile(
    r"\b(?:send|share|provide|deliver|submit|sign|review|complete|finish|prepare|confirm|update|fix|deploy|upload"
    r"|pay|approve|return|reply|ship|install|order|book|file|register|finali[sz]e|circulate|draft|invoice)\b",
    _I,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|could you|can you|would you|will you|would it be possible|we need|i need|need|kindly"
    r"|let me know|let us know|make sure|remember to|don'?t forget|can i ask|i'?d like|we'?d like|would like"
    r"|must|have to|has to|required|asap)\b",
    _I,
)
_PROPOSAL = re.compile(
    r"\b(?:let'?s|can we|could we|shall we|should we|would you|are you|how about|what about|invite|schedule"
    r"|set up|book|arrange|plan to|i'?d like to|we'?d like to|want to|happy to|join us|join me)\b|\?",
    _I,
)
_COMMIT = re.compile(
    r"\b(?:i'?ll|we'?ll|i will|we will|i am going to|we are going to|expect|you'?ll have|you will have)\b", _I
)
_NOT_NAMES = re.compile(
    r"^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july"
    r"|august|september|october|november|december|i|teams|zoom|google|meet|ok|okay|eod|cob|utc|gmt|bst|cest|cet"
    r"|et|pt|ct|ist|jst|aest|uk|us|eu|pm|am|hi|hello|thanks|thank|please|could|would|can|let|great|perfect"
    r"|confirmed|sorry|unfortunately|apologies|happy|sure|yes|no|the|we|our|my|your|if|that|this|are|is)$",
    _I,
)
_ABBREV = re.compile(
    r"(?:\b(?:[ap]\.m|e\.g|i\.e|etc|vs|dr|mr|mrs|ms|st|no|inc|ltd|co|approx|dept|jr|sr|ca)\.|\b[A-Z]\.)$", _I
)


@dataclass
class Activity:
    """One meeting, call or task.

    `start` / `end` / `due` are ISO 8601 strings: a date (``2026-06-19``) when only the day is
    known, a datetime with offset when the time is known too, None when unresolved.
    `span` is the (start, end) character offsets of `text` in the text that was given.
    """

    type: str  # meeting | call | task
    status: str  # proposed | confirmed | rescheduled | requested | committed
    text: str
    span: tuple[int, int] | None
    start: str | None = None
    end: str | None = None
    due: str | None = None
    participants: list[str] = field(default_factory=list)
    confidence: float = 0.5
    time_text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "due": self.due,
            "participants": list(self.participants),
            "confidence": self.confidence,
            "status": self.status,
            "span": list(self.span) if self.span else None,
            "time_text": self.time_text,
        }


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`; wrapped lines of a paragraph are joined."""
    spans: list[tuple[int, int]] = []
    # Units: paragraphs split at blank lines, and at line breaks that end a sentence or start a list item.
    units: list[tuple[int, int]] = []
    pos = 0
    lines = text.split("\n")
    start = 0
    for k, line in enumerate(lines):
        end = pos + len(line)
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        stripped = line.rstrip()
        breaks = (
            not nxt.strip()
            or not stripped
            or stripped.endswith((".", "!", "?", ":", ";"))
            or re.match(r"^\s*(?:[-*•]|\d+[.)])\s", nxt) is not None
            or (nxt[:1].isupper() and len(stripped) < 50)
        )
        if breaks:
            if text[start:end].strip():
                units.append((start, end))
            start = end + 1
        pos = end + 1
    if start < len(text) and text[start:].strip():
        units.append((start, len(text)))
    boundary = re.compile(r"[.!?]+[\"')\]]*\s+(?=[A-Z0-9\"“(])")
    for u_start, u_end in units:
        chunk = text[u_start:u_end]
        s = 0
        for m in boundary.finditer(chunk):
            if _ABBREV.search(chunk[: m.start() + 1]):
                continue
            spans.append((u_start + s, u_start + m.end()))
            s = m.end()
        spans.append((u_start + s, u_end))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _context_type(context: str) -> str | None:
    """The kind of meeting the quoted messages proposed: the newest (topmost) proposal wins."""
    text = re.sub(r"(?m)^[ \t]*>[> \t]*", "", context)
    for a, b in split_sentences(text):
        sentence = text[a:b]
        call, meeting = _CALL.search(sentence), _MEETING.search(sentence)
        if not (call or meeting) or not find_mentions(sentence, None):
            continue
        if call and meeting:
            return "call" if call.start() < meeting.start() else "meeting"
        return "call" if call else "meeting"
    return None


class ActivityExtractor:
    """`extract(body, sent_at, ...)` -> activities. Stateless apart from the optional spaCy helper."""

    version = ACTIVITY_VERSION

    def __init__(self, spacy: SpacyHelper | None = None) -> None:
        self.spacy = spacy

    def extract(
        self,
        body: str,
        sent_at: datetime | None,
        *,
        sender: str | None = None,
        recipients: Sequence[str] = (),
        context: str = "",
    ) -> list[Activity]:
        """Activities in `body` (the new text without signature).

        Args:
            body: what the sender wrote (quotes and signature removed).
            sent_at: the message date in the sender's offset (aware), or None.
            sender: the sender's address; recipients: To and Cc addresses (participants).
            context: the quoted text the message answers (decides call vs meeting for bare
                confirmations).
        """
        sentences = split_sentences(body)
        found: list[Activity] = []
        for k, (a, b) in enumerate(sentences):
            sentence = body[a:b]
            if len(sentence) > 600:
                continue
            mentions = find_mentions(sentence, sent_at)
            if not mentions:
                continue
            activity = self._classify(sentence, mentions, context)
            if activity is None:
                continue
            activity.span = (a, b)
            if activity.type != "task" and activity.start and activity.end is None:
                self._add_duration(activity, sentence, body, sentences[k + 1 : k + 2], mentions)
            activity.participants = self._participants(sentence, sender, recipients)
            found.append(activity)
        return found

    def _classify(self, sentence: str, mentions: list[TimeMention], context: str) -> Activity | None:
        call = _CALL.search(sentence)
        meeting = _MEETING.search(sentence)
        scheduling = _SCHEDULING.search(sentence)
        past = _PAST.search(sentence) and not _FUTURE_OR_ASK.search(sentence)
        if past:
            return None
        points = [m for m in mentions if not m.deadline]
        deadlines = [m for m in mentions if m.deadline]
        proposing = scheduling or _PROPOSAL.search(sentence)
        timed = any(m.has_time for m in points)
        if (call or meeting or scheduling) and points and (timed or proposing):
            if call and meeting:
                kind = "call" if call.start() < meeting.start() else "meeting"
                inherited = False
            elif call or meeting:
                kind = "call" if call else "meeting"
                inherited = False
            else:
                kind = _context_type(context) or "meeting"
                inherited = True
            best = max(points, key=lambda m: (m.resolved, m.has_date, m.has_time, m.span[1] - m.span[0]))
            if _RESCHEDULE.search(sentence):
                status = "rescheduled"
            elif _CONFIRM.search(sentence) and "?" not in sentence:
                status = "confirmed"
            else:
                status = "proposed"
            confidence = 0.55 + (0.0 if inherited else 0.2)
            if best.resolved:
                confidence += 0.15 if best.has_time else 0.1
            if not best.explicit:
                confidence -= 0.15
            return Activity(
                type=kind,
                status=status,
                text=sentence.strip(),
                span=None,
                start=_iso(best.start),
                end=_iso(best.end),
                due=_iso(deadlines[0].start) if deadlines else None,
                confidence=round(min(confidence, 0.95), 2),
                time_text=best.text,
            )
        task_verb = _TASK_VERB.search(sentence)
        asks = _REQUEST.search(sentence) or _COMMIT.search(sentence) or (task_verb and "?" in sentence)
        if deadlines and asks:
            best = max(deadlines, key=lambda m: (m.resolved, m.has_time, m.span[1] - m.span[0]))
        elif points and _ACTION.search(sentence) and (_REQUEST.search(sentence) or _COMMIT.search(sentence)):
            best = max(points, key=lambda m: (m.resolved, m.has_time))
            if not best.has_date:
                return None
        else:
            return None
        status = "committed" if _COMMIT.search(sentence) and not _REQUEST.search(sentence) else "requested"
        confidence = 0.6 + (0.15 if best.deadline else 0.0) + (0.15 if best.resolved else 0.0)
        if not best.explicit:
            confidence -= 0.15
        return Activity(
            type="task",
            status=status,
            text=sentence.strip(),
            span=None,
            due=_iso(best.start),
            confidence=round(min(confidence, 0.95), 2),
            time_text=best.text,
        )

    @staticmethod
    def _add_duration(
        activity: Activity,
        sentence: str,
        body: str,
        following: Sequence[tuple[int, int]],
        mentions: list[TimeMention],
    ) -> None:
        taken = [m.span for m in mentions]
        candidates = [d for d in find_durations(sentence) if all(d.span[1] <= a or d.span[0] >= b for a, b in taken)]
        for a, b in following:
            nxt = body[a:b]
            if not find_mentions(nxt, None):
                candidates += find_durations(nxt)
        if not candidates or activity.start is None or "T" not in activity.start:
            return
        start = datetime.fromisoformat(activity.start)
        activity.end = (start + candidates[0].length).isoformat()

    def _participants(self, sentence: str, sender: str | None, recipients: Sequence[str]) -> list[str]:
        people: list[str] = []
        for value in (sender, *recipients):
            if value and value.lower() not in people:
                people.append(value.lower())
        for m in EMAIL.finditer(sentence):
            if m.group(0).lower() not in people:
                people.append(m.group(0).lower())
        if self.spacy is not None:
            words = re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+\b", sentence)
            if any(not _NOT_NAMES.match(w) for w in words):
                for text, label in self.spacy.entities([sentence])[0]:
                    if label == "PERSON" and not _NOT_NAMES.match(text.split()[0]) and text not in people:
                        people.append(text)
        return people
