"""One email in, its signature, contact fields and activities out: what the pipeline stage and
`intel predict signature|activity` run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from intel.nlp.activities import ACTIVITY_VERSION, Activity, ActivityExtractor
from intel.nlp.contacts import CONTACTS_VERSION, Contact, SpacyHelper, parse_signature
from intel.nlp.signature import Sender, SignatureModel, SignatureResult, new_text_lines, reply_parts

__all__ = ["EmailExtraction", "Extractor"]


@dataclass
class EmailExtraction:
    signature: SignatureResult
    contact: Contact | None
    activities: list[Activity] = field(default_factory=list)


class Extractor:
    """The signature model, the contact parser and the activity rules, loaded once.

    `use_spacy` False keeps everything rule-based (no spaCy load at all).
    """

    def __init__(self, model_path: Path | None = None, *, use_spacy: bool = True) -> None:
        self.model = SignatureModel(model_path)
        self.spacy = SpacyHelper() if use_spacy else None
        self.activities = ActivityExtractor(self.spacy)

    def load(self) -> Extractor:
        self.model.load()
        return self

    @property
    def signature_version(self) -> str:
        """What made a contact row: the classifier version plus the field rules' version."""
        return f"{self.model.version_}+{CONTACTS_VERSION}"

    @property
    def activity_version(self) -> str:
        return f"{ACTIVITY_VERSION}+{self.model.version_}"

    def signature(
        self, text: str, sender: str | None = None, *, sender_name: str | None = None, sent_at: datetime | None = None
    ) -> tuple[SignatureResult, Contact | None]:
        result = self.model.extract(text, sender, sender_name)
        if not result.found:
            return result, None
        offset = _offset_minutes(sent_at)
        contact = parse_signature(
            result.signature_lines_text, Sender.parse(sender, sender_name), offset_minutes=offset, spacy=self.spacy
        )
        return result, contact

    def extract(
        self,
        text: str,
        sender: str | None = None,
        *,
        sender_name: str | None = None,
        sent_at: datetime | None = None,
        recipients: tuple[str, ...] = (),
        activities: bool = True,
    ) -> EmailExtraction:
        """Signature, contact and (optionally) activities of one email body (quotes included)."""
        result, contact = self.signature(text, sender, sender_name=sender_name, sent_at=sent_at)
        found: list[Activity] = []
        if activities:
            found = self.activities_of(text, result, sender=sender, sent_at=sent_at, recipients=recipients)
        return EmailExtraction(result, contact, found)

    def activities_of(
        self,
        text: str,
        signature: SignatureResult | None = None,
        *,
        sender: str | None = None,
        sent_at: datetime | None = None,
        recipients: tuple[str, ...] = (),
    ) -> list[Activity]:
        """Activities of the new text without its signature; spans point into `text`."""
        if signature is None:
            signature = self.model.extract(text, sender)
        body_numbers = set(signature.body_lines)
        numbered = [(i, line) for i, line in new_text_lines(text) if i in body_numbers]
        if not numbered:
            return []
        original = text.split("\n")
        line_offsets = [0]
        for line in original[:-1]:
            line_offsets.append(line_offsets[-1] + len(line) + 1)
        body_starts: list[int] = []
        pos = 0
        for _, line in numbered:
            body_starts.append(pos)
            pos += len(line) + 1
        body = "\n".join(line for _, line in numbered)
        _new, quoted = reply_parts(text)
        address = Sender.parse(sender).address or None
        found = self.activities.extract(body, sent_at, sender=address, recipients=recipients, context=quoted)

        def to_text(p: int) -> int:
            k = max(bisect.bisect_right(body_starts, p) - 1, 0)
            return line_offsets[numbered[k][0]] + (p - body_starts[k])

        for activity in found:
            if activity.span is not None:
                a, b = activity.span
                activity.span = (to_text(a), to_text(b))
        return found


def _offset_minutes(sent_at: datetime | None) -> int | None:
    if sent_at is None:
        return None
    offset = sent_at.utcoffset()
    return None if offset is None else int(offset / timedelta(minutes=1))
