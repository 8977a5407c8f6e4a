"""Property tests: the parser never raises, whatever bytes it is given."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intel.parse import parse_message

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "eml").rglob("*.eml"))
SEEDS = [p.read_bytes() for p in FIXTURES]
NOW = datetime(2026, 11, 21, tzinfo=UTC)
# Raise it locally for a deeper search: INTEL_PROPERTY_EXAMPLES=20000 pytest tests/unit/test_parse_property.py
PROPERTY_EXAMPLES = int(os.environ.get("INTEL_PROPERTY_EXAMPLES", "300"))

HEADER_NAMES = st.sampled_from(
    [
        b"From",
        b"To",
        b"Cc",
        b"Subject",
        b"Date",
        b"Message-ID",
        b"References",
        b"In-Reply-To",
        b"Content-Type",
        b"Content-Transfer-Encoding",
        b"Content-Disposition",
        b"Received",
        b"X-Junk",
    ]
)
HEADER_VALUES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"=?utf-8?B?w7w=?=",
            b"=?bogus?Q?=FF=FE?=",
            b"multipart/mixed; boundary=",
            b"text/plain; charset=x-nope",
            b"base64",
            b"quoted-printable",
            b"<a@b> <c@d",
            b"Group: a@b, ;",
            b"Mon, 32 Foo 99999 25:61:61 +9999",
            b'"unterminated <x@y>',
            b"\x00\x01\x02",
            b"attachment; filename*=utf-8''%FF%FE.pdf",
        ]
    ),
)


@st.composite
def mime_like(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12))
    body = draw(st.binary(max_size=2000))
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    head = newline.join(name + b": " + value for name, value in headers)
    return head + newline + newline + body


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        kind = draw(st.sampled_from(["delete", "insert", "flip", "truncate", "duplicate"]))
        i = draw(st.integers(0, len(data) - 1))
        j = min(len(data), i + draw(st.integers(1, 200)))
        if kind == "delete":
            del data[i:j]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=50))
        elif kind == "flip":
            data[i] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[i:]
        else:
            data[i:i] = data[i:j]
    return bytes(data)


def check(raw: bytes) -> None:
    parsed = parse_message(raw, ingest_time=NOW)
    assert parsed.sent_at.tzinfo is not None
    assert parsed.date_source in ("header", "received", "internal", "ingest")
    if parsed.date_source != "header":
        assert {"missing_date", "bad_date"} & set(parsed.problems)
    assert parsed.size == len(raw)
    assert isinstance(parsed.new_text, str) and isinstance(parsed.body_text, str)
    assert "\x00" not in parsed.body_text
    for address in (*parsed.to, *parsed.cc):
        assert "@" in address.address


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    check(raw)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime_like())
def test_mime_shaped_garbage_never_raises(raw: bytes) -> None:
    check(raw)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_fixture())
def test_mutated_real_messages_never_raise(raw: bytes) -> None:
    check(raw)


def test_deep_nesting_is_cut_and_reported() -> None:
    depth = 300
    parts = [b"From: a@b.example\nSubject: deep\nDate: Mon, 1 Jun 2026 09:00:00 +0000\n"]
    for level in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level))
    parts.append(b"Content-Type: text/plain\n\nhello\n")
    for level in reversed(range(depth)):
        parts.append(b"--b%d--\n" % level)
    parsed = parse_message(b"".join(parts), ingest_time=NOW)
    assert "too_deep" in parsed.problems or "broken_mime" in parsed.problems
