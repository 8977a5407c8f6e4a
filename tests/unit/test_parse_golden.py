"""Golden tests for `intel.parse.parse_message`.

Every ``tests/fixtures/eml/*.eml`` is a real-looking message from one mail client, beside a
``.json`` with the fields a careful reader would extract from it. ``tests/fixtures/eml/malformed/``
holds broken mail: parsing must not raise, must report the listed problem codes and must still
get the listed fields right.

Expected-field keys (all optional; only the keys present are checked):

- ``params``: ``internal_date`` / ``ingest_time`` (ISO 8601) passed to `parse_message`
- ``subject``, ``normalized_subject`` (compared case-insensitively), ``subject_contains``
- ``from``: ``{"address", "name"}`` or null; ``to`` / ``cc``: lists of ``{"address", "name"}``
  in header order; ``to_contains``: addresses that must be among ``to``
- ``rfc_message_id``, ``in_reply_to``, ``references`` (compared without the angle brackets, so
  either spelling of a msg-id is accepted)
- ``sent_at`` (ISO 8601, compared as an instant), ``sent_at_offset_minutes``, ``date_source``
- ``attachments``: list of ``{"filename", "content_type", "size", "sha256"}`` in message order;
  ``attachment_filenames``: names that must be among the attachments
- ``body_html``
- ``new_text`` and ``signature``: exact after `_norm` (CRLF -> LF, trailing spaces of each line
  dropped, runs of blank lines collapsed to one, outer whitespace stripped);
  ``new_text_words``: the same, compared word by word (for HTML-only mail, whose line breaks
  depend on the HTML-to-text conversion)
- ``body_contains`` / ``body_not_contains`` (on ``body_text``), ``new_text_not_contains``,
  ``quoted_contains`` (on ``quoted_text``)
- ``problems``: codes of which each must prefix some entry of ``problems``;
  ``problems_absent``: prefixes no entry may start with; ``problems_contains_substring``
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intel.parse import parse_message
from intel.parse.model import ParsedMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eml"
GOLDEN = sorted(FIXTURES.glob("*.eml"))
MALFORMED = sorted((FIXTURES / "malformed").glob("*.eml"))

# Fixed so that parsing is reproducible even when a message has no usable date.
DEFAULT_INGEST = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DATE_SOURCES = {"header", "received", "internal", "ingest"}
# A well-formed golden message must report none of these.
ALL_PROBLEM_PREFIXES = [
    "missing_date",
    "bad_date",
    "bad_charset",
    "undecodable_header",
    "bad_address",
    "broken_mime",
    "missing_message_id",
    "empty_body",
]


def _norm(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _words(text: str) -> list[str]:
    return text.split()


def _msgid(value: str | None) -> str | None:
    return None if value is None else value.strip().strip("<>")


def _load(eml: Path) -> dict[str, Any]:
    return json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))


def _parse(eml: Path, expected: dict[str, Any]) -> ParsedMessage:
    params = expected.get("params", {})
    kwargs: dict[str, datetime] = {"ingest_time": DEFAULT_INGEST}
    for key in ("internal_date", "ingest_time"):
        if key in params:
            kwargs[key] = datetime.fromisoformat(params[key])
    return parse_message(eml.read_bytes(), **kwargs)


def _addr_pairs(addresses: list[Any]) -> list[tuple[str, str]]:
    return [(a.address, a.name) for a in addresses]


def _attachment_field(attachment: Any, key: str) -> Any:
    value = getattr(attachment, key)
    # MIME types and hex digests are case-insensitive.
    return value.lower() if key in ("content_type", "sha256") else value


def _mismatches(m: ParsedMessage, exp: dict[str, Any]) -> list[str]:
    """Every difference between the parsed message and the expected fields."""
    errors: list[str] = []

    def check(name: str, got: Any, want: Any) -> None:
        if got != want:
            errors.append(f"{name}: got {got!r}, expected {want!r}")

    if "subject" in exp:
        check("subject", m.subject, exp["subject"])
    if "normalized_subject" in exp:
        check(
            "normalized_subject",
            m.normalized_subject.casefold(),
            exp["normalized_subject"].casefold(),
        )
    for part in exp.get("subject_contains", []):
        if part not in m.subject:
            errors.append(f"subject {m.subject!r} lacks {part!r}")
    if "from" in exp:
        want = exp["from"]
        got = None if m.from_ is None else {"address": m.from_.address, "name": m.from_.name}
        check("from", got, want)
    for header in ("to", "cc"):
        if header in exp:
            want_pairs = [(a["address"], a["name"]) for a in exp[header]]
            check(header, _addr_pairs(getattr(m, header)), want_pairs)
    for address in exp.get("to_contains", []):
        if address not in [a.address for a in m.to]:
            errors.append(f"to: {address!r} missing from {_addr_pairs(m.to)!r}")
    if "rfc_message_id" in exp:
        check("rfc_message_id", _msgid(m.rfc_message_id), _msgid(exp["rfc_message_id"]))
    if "in_reply_to" in exp:
        check("in_reply_to", _msgid(m.in_reply_to), _msgid(exp["in_reply_to"]))
    if "references" in exp:
        check(
            "references",
            [_msgid(r) for r in m.references],
            [_msgid(r) for r in exp["references"]],
        )
    if "sent_at" in exp:
        check("sent_at", m.sent_at, datetime.fromisoformat(exp["sent_at"]))
    if "sent_at_offset_minutes" in exp:
        check("sent_at_offset_minutes", m.sent_at_offset_minutes, exp["sent_at_offset_minutes"])
    if "date_source" in exp:
        check("date_source", m.date_source, exp["date_source"])
    if "attachments" in exp:
        want_att = exp["attachments"]
        keys = sorted({k for att in want_att for k in att}) or ["filename"]
        got_att = [{k: _attachment_field(a, k) for k in keys} for a in m.attachments]
        check("attachments", got_att, [{k: att.get(k) for k in keys} for att in want_att])
    for name in exp.get("attachment_filenames", []):
        if name not in [a.filename for a in m.attachments]:
            errors.append(f"attachment {name!r} missing from {[a.filename for a in m.attachments]}")
    if "body_html" in exp:
        check("body_html", m.body_html, exp["body_html"])
    if "new_text" in exp:
        check("new_text", _norm(m.new_text), _norm(exp["new_text"]))
    if "new_text_words" in exp:
        check("new_text (words)", _words(m.new_text), _words(exp["new_text_words"]))
    if "signature" in exp:
        check("signature", _norm(m.signature), _norm(exp["signature"]))
    for part in exp.get("body_contains", []):
        if part not in m.body_text:
            errors.append(f"body_text lacks {part!r}")
    for part in exp.get("body_not_contains", []):
        if part in m.body_text:
            errors.append(f"body_text contains {part!r}")
    for part in exp.get("new_text_not_contains", []):
        if part in m.new_text:
            errors.append(f"new_text contains {part!r}")
    for part in exp.get("quoted_contains", []):
        if part not in m.quoted_text:
            errors.append(f"quoted_text lacks {part!r}")
    for code in exp.get("problems", []):
        if not any(p.startswith(code) for p in m.problems):
            errors.append(f"problems {m.problems!r} lack {code!r}")
    for code in exp.get("problems_absent", []):
        if any(p.startswith(code) for p in m.problems):
            errors.append(f"problems {m.problems!r} must not include {code!r}")
    for part in exp.get("problems_contains_substring", []):
        if not any(part in p for p in m.problems):
            errors.append(f"no problem mentions {part!r}: {m.problems!r}")
    return errors


def _invariants(m: ParsedMessage) -> list[str]:
    """What holds for every parsed message, well-formed or not."""
    errors: list[str] = []
    if not isinstance(m, ParsedMessage):
        return [f"parse_message returned {type(m).__name__}"]
    if m.sent_at.tzinfo is None or m.sent_at.utcoffset() != timedelta(0):
        errors.append(f"sent_at {m.sent_at!r} is not timezone-aware UTC")
    if m.date_source not in DATE_SOURCES:
        errors.append(f"date_source {m.date_source!r} not in {sorted(DATE_SOURCES)}")
    if m.date_source != "header" and not m.problems:
        errors.append(f"date_source {m.date_source!r} but no problem listed")
    if not all(isinstance(p, str) and p for p in m.problems):
        errors.append(f"problems must be non-empty strings: {m.problems!r}")
    for text_field in ("body_text", "new_text", "quoted_text", "signature", "subject"):
        if not isinstance(getattr(m, text_field), str):
            errors.append(f"{text_field} is not a str")
    return errors


def _id(path: Path) -> str:
    return path.relative_to(FIXTURES).with_suffix("").as_posix()


def test_fixture_sets_are_complete() -> None:
    for eml in GOLDEN + MALFORMED:
        assert eml.with_suffix(".json").is_file(), f"{eml.name} has no .json beside it"
    for js in list(FIXTURES.glob("*.json")) + list((FIXTURES / "malformed").glob("*.json")):
        assert js.with_suffix(".eml").is_file(), f"{js.name} has no .eml beside it"
    assert len(GOLDEN) >= 15
    assert len(MALFORMED) >= 10


@pytest.mark.parametrize("eml", GOLDEN, ids=_id)
def test_golden(eml: Path) -> None:
    expected = _load(eml)
    expected.setdefault("problems_absent", ALL_PROBLEM_PREFIXES)
    m = _parse(eml, expected)
    errors = _invariants(m) + _mismatches(m, expected)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("eml", MALFORMED, ids=_id)
def test_malformed(eml: Path) -> None:
    expected = _load(eml)
    # Without any fallback date from the caller it must not raise either.
    bare = parse_message(eml.read_bytes())
    assert bare.sent_at.tzinfo is not None
    m = _parse(eml, expected)
    errors = _invariants(m) + _mismatches(m, expected)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("eml", GOLDEN + MALFORMED, ids=_id)
def test_parse_is_deterministic(eml: Path) -> None:
    expected = _load(eml)
    assert _parse(eml, expected) == _parse(eml, expected)
