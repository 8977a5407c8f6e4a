"""Broken MIME is reported once, whenever the stdlib finds it, and never costs the top-level headers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from intel.parse import message as module
from intel.parse import parse_message

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
HEAD = (
    b"From: Tom Rivera <tom@brightwater.example>\n"
    b"To: jane@harborlight.example\n"
    b"Subject: The numbers\n"
    b"Date: Tue, 2 Jun 2026 13:00:00 +0200\n"
    b"Message-ID: <numbers-1@brightwater.example>\n"
    b"MIME-Version: 1.0\n"
)
TEXT = b"The quarterly numbers are below, please check them. " * 20
B64 = base64.encodebytes(TEXT)
CUT_B64 = B64[: len(B64) // 2 + 1]  # mid-line, mid-quantum: 3 characters of the last 4, no padding
# One character of the last 4: no whole byte in it, and the stdlib keeps the text undecoded.
CUT_B64_ODD = B64[: len(B64) // 2 + 3]


def _multipart(*parts: bytes, closed: bool = True) -> bytes:
    body = b"".join(b"--b\n" + part for part in parts) + (b"--b--\n" if closed else b"")
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\n\n' + body


def _deep_multipart(depth: int) -> bytes:
    parts = [HEAD]
    for level in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n' % (level, level))
    parts.append(b"Content-Type: text/plain\n\nthe bottom of the well\n")
    parts.extend(b"--d%d--\n" % level for level in reversed(range(depth)))
    return b"".join(parts)


def _deep_rfc822(depth: int) -> bytes:
    inner = b"From: bottom@attacker.example\nSubject: bottom\n\nbottom text\n"
    for _level in range(depth):
        inner = b"Content-Type: message/rfc822\n\n" + inner
    return HEAD + inner


def _assert_top_level_headers(raw: bytes) -> list[str]:
    parsed = parse_message(raw, ingest_time=NOW)
    assert parsed.subject == "The numbers"
    assert parsed.rfc_message_id == "<numbers-1@brightwater.example>"
    assert parsed.from_ is not None and parsed.from_.address == "tom@brightwater.example"
    assert [a.address for a in parsed.to] == ["jane@harborlight.example"]
    assert parsed.sent_at == datetime(2026, 6, 2, 11, 0, tzinfo=UTC) and parsed.date_source == "header"
    return parsed.problems


def test_truncated_single_part_base64_is_broken_mime() -> None:
    raw = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + CUT_B64
    parsed = parse_message(raw, ingest_time=NOW)
    assert parsed.problems == ["broken_mime"]
    assert parsed.body_text.startswith("The quarterly numbers are below")  # what was there is kept


def test_base64_cut_one_character_into_a_quantum_is_broken_mime() -> None:
    raw = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + CUT_B64_ODD
    assert parse_message(raw, ingest_time=NOW).problems == ["broken_mime"]


def test_base64_with_characters_outside_the_alphabet_is_broken_mime() -> None:
    raw = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + B64.replace(b"\n", b"!\n", 1)
    assert parse_message(raw, ingest_time=NOW).problems == ["broken_mime"]


def test_truncated_base64_attachment_in_a_well_formed_multipart_is_broken_mime() -> None:
    raw = _multipart(
        b"Content-Type: text/plain\n\nSee the attachment.\n",
        b"Content-Type: application/octet-stream; name=cut.bin\nContent-Transfer-Encoding: base64\n\n"
        + CUT_B64
        + b"\n",
    )
    parsed = parse_message(raw, ingest_time=NOW)
    assert parsed.problems == ["broken_mime"]
    assert parsed.body_text == "See the attachment." and [a.filename for a in parsed.attachments] == ["cut.bin"]


def test_broken_structure_and_broken_base64_are_one_problem() -> None:
    raw = _multipart(b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + CUT_B64 + b"\n", closed=False)
    assert parse_message(raw, ingest_time=NOW).problems == ["broken_mime"]


def test_intact_base64_records_no_problem() -> None:
    single = HEAD + b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + B64
    attached = _multipart(
        b"Content-Type: text/plain\n\nSee the attachment.\n",
        b"Content-Type: application/octet-stream; name=a.bin\nContent-Transfer-Encoding: base64\n\n" + B64,
    )
    for raw in (single, attached):
        assert parse_message(raw, ingest_time=NOW).problems == []


def test_nesting_the_stdlib_parser_cannot_take_keeps_the_top_level_headers() -> None:
    raw = _deep_multipart(1000)
    with pytest.raises(RecursionError):
        module._parse_mime(raw)  # the case this is about: the stdlib gives up
    problems = _assert_top_level_headers(raw)
    assert problems == ["broken_mime", "empty_body"]


def test_attached_messages_the_stdlib_parser_cannot_take_keep_the_top_level_headers() -> None:
    raw = _deep_rfc822(1000)
    with pytest.raises(RecursionError):
        module._parse_mime(raw)
    assert _assert_top_level_headers(raw) == ["broken_mime"]
    parsed = parse_message(raw, ingest_time=NOW)
    # The body the parser could not take is the attached message, listed as one.
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("message.eml", "message/rfc822")]
    assert parsed.attachments[0].size == len(raw) - len(HEAD) - len(b"Content-Type: message/rfc822\n\n")


def test_a_parser_that_fails_on_the_headers_too_gives_an_empty_message(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing:
        def parsebytes(self, raw: bytes, headersonly: bool = False) -> None:
            raise RecursionError("hostile")

    monkeypatch.setattr(module, "_PARSER", Failing())
    monkeypatch.setattr(module, "_parse_mime", lambda raw: Failing().parsebytes(raw))
    parsed = parse_message(HEAD + b"\nhello\n", ingest_time=NOW)
    assert parsed.subject == "" and parsed.rfc_message_id is None
    assert {"broken_mime", "missing_message_id", "missing_date", "empty_body"} <= set(parsed.problems)
