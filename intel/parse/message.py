"""`parse_message`: raw RFC 822 bytes -> `ParsedMessage`. Pure, never raises."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import errors as email_errors
from email import feedparser
from email.message import Message
from email.parser import BytesParser, Parser
from email.policy import compat32

from intel.parse.body import extract_body
from intel.parse.dates import is_plausible, parse_date, received_date
from intel.parse.headers import decode_header_value, normalize_subject, parse_addresses
from intel.parse.model import Address, ParsedMessage
from intel.parse.quotes import split_reply
from intel.parse.signature import split_signature

__all__ = ["PARSER_VERSION", "parse_message"]

# Bump when parsing changes what it produces, so stored rows can be re-parsed from raw.
PARSER_VERSION = "1"

_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_MSGID = re.compile(r"^\s*([^<>\s]+@[^<>\s]+)\s*$")
# Headers kept verbatim (decoded) in `ParsedMessage.headers` because analyses use them.
_KEPT_HEADERS = (
    "list-id",
    "auto-submitted",
    "precedence",
    "x-mailer",
    "user-agent",
    "x-auto-response-suppress",
    "importance",
    "x-priority",
    "return-path",
    "content-language",
)
# Defects that mean the MIME structure itself is broken (as opposed to cosmetic issues).
_STRUCTURE_DEFECTS = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.CloseBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.FirstHeaderLineIsContinuationDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
    email_errors.InvalidBase64PaddingDefect,
    email_errors.InvalidBase64CharactersDefect,
    email_errors.InvalidBase64LengthDefect,
)
_PARSER = BytesParser(policy=compat32)
_TEXT_PARSER = Parser(policy=compat32)
# The header block as the stdlib feed parser delimits it: lines (ended by CRLF, CR or LF) that
# its header pattern accepts (a From_ line, a field name and colon, or a continuation).
_HEADER_BLOCK = re.compile(r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\r\n]*(?:\r\n|\r|\n))*")


def _parse_mime(raw: bytes) -> Message:
    """``BytesParser(policy=compat32).parsebytes(raw)``, faster for single-part messages.

    The feed parser copies a single-part body into the payload line by line, which costs as
    much as parsing all the headers. Here it parses only the header block, and the rest of the
    text (decoded as the parser decodes it) becomes the payload in one piece: the same Message,
    headers, defects and payload. Anything else (multipart and message/* types, a header block
    not ended by a blank line) is left to the parser as a whole.
    """
    text = raw.decode("ascii", "surrogateescape")
    block = _HEADER_BLOCK.match(text)
    end = block.end() if block is not None else 0  # it always matches, if only ""
    if text.startswith("\r\n", end):
        body = end + 2
    elif text.startswith(("\n", "\r"), end):
        body = end + 1
    else:  # no blank line after the headers: the parser records a defect
        return _PARSER.parsebytes(raw)
    head = text[:end].lower()
    # A From_ line after the first header line is either dropped as misplaced or, as the last
    # one, pushed back into the body: the parser as a whole handles both. The type test on
    # the text is a cheap pre-check; the parsed type decides.
    if "multipart/" in head or "message/" in head or "\nfrom " in head or "\rfrom " in head:
        return _PARSER.parsebytes(raw)
    message = _TEXT_PARSER.parsestr(text[:body], headersonly=True)
    if message.get_content_maintype() in ("multipart", "message"):
        return _PARSER.parsebytes(raw)
    message.set_payload(text[body:])
    return message


# --- multipart boundaries without a regex compile each ------------------------------------------
#
# For every multipart part the stdlib feed parser compiles a pattern for its boundary line,
#     (?P<sep>ESCAPED-BOUNDARY)(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$
# and boundaries are unique, so each one is a cache miss: the compile (in pure Python) costs
# about 100 us, as much as parsing the rest of such a message. `use_fast_boundaries` gives the
# feed parser a stand-in for `re` whose `compile` returns, for exactly that pattern, a matcher
# that tests the boundary with `str.startswith` and the rest with one pattern per boundary
# length; its matches have the same groups (names, numbers, values) as the compiled pattern's.
# Any other pattern is compiled as usual.
_BOUNDARY_HEAD = "(?P<sep>"
_BOUNDARY_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_ESCAPED_CHAR = re.compile(r"\\(.)", re.DOTALL)
_MAX_FAST_BOUNDARY = 200  # longer boundaries (never seen in real mail) get the stdlib's pattern
_TAIL_BY_LENGTH: dict[int, re.Pattern[str]] = {}


class _BoundaryMatcher:
    __slots__ = ("_pattern", "_separator")

    def __init__(self, separator: str) -> None:
        self._separator = separator
        pattern = _TAIL_BY_LENGTH.get(len(separator))
        if pattern is None:
            pattern = re.compile(f"(?P<sep>(?s:.{{{len(separator)}}})){_BOUNDARY_TAIL[1:]}")
            _TAIL_BY_LENGTH[len(separator)] = pattern
        self._pattern = pattern

    def match(self, line: str) -> re.Match[str] | None:
        return self._pattern.match(line) if line.startswith(self._separator) else None


class _FeedparserRe:
    """`re` as `email.feedparser` uses it, with `compile` knowing the boundary pattern."""

    def __getattr__(self, name: str) -> object:
        return getattr(re, name)

    @staticmethod
    def compile(pattern: str, flags: int = 0) -> object:
        if (
            isinstance(pattern, str)
            and flags == 0
            and pattern.startswith(_BOUNDARY_HEAD)
            and pattern.endswith(_BOUNDARY_TAIL)
        ):
            escaped = pattern[len(_BOUNDARY_HEAD) : -len(_BOUNDARY_TAIL)]
            separator = _ESCAPED_CHAR.sub(r"\1", escaped)
            if len(separator) <= _MAX_FAST_BOUNDARY and re.escape(separator) == escaped:
                return _BoundaryMatcher(separator)
        return re.compile(pattern, flags)


def use_fast_boundaries() -> None:
    """Let the stdlib feed parser match multipart boundaries without compiling a pattern each.

    This changes `email.feedparser` for the whole process, so only our parse worker processes
    call it. Parse results are the same with or without it.
    """
    feedparser.re = _FeedparserRe()  # type: ignore[attr-defined]  # its module global, not in the stubs


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = [f"<{m}>" for m in _MSGID.findall(value)]
    if not found:
        bare = _BARE_MSGID.match(value)
        if bare:
            found = [f"<{bare.group(1)}>"]
    return found


def _header_map(message: Message) -> dict[str, list[str]]:
    """Lower-cased header name -> values in order (one pass instead of a scan per lookup)."""
    headers: dict[str, list[str]] = {}
    # raw_items keeps raw 8-bit bytes as surrogate escapes (items() would turn them into U+FFFD),
    # so decode_header_value can recover undeclared UTF-8.
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def _collect_defects(message: Message, problems: list[str]) -> None:
    stack = [message]
    seen = 0
    while stack and seen < 1000:
        part = stack.pop()
        seen += 1
        if any(isinstance(defect, _STRUCTURE_DEFECTS) for defect in getattr(part, "defects", [])):
            if "broken_mime" not in problems:
                problems.append("broken_mime")
            return
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))


def _parse_top_level(raw: bytes) -> Message:
    """The top-level headers of a message the parser cannot take as a whole, or no headers.

    What makes the parser fail is hostile structure (a RecursionError about 1,000 multipart or
    message/rfc822 levels down), not the top-level header block, so the headers are parsed
    alone and the rest stays one opaque payload. A message/* body is then listed as an
    attachment as usual; a multipart body, whose parts could not be parsed, is dropped rather
    than read as text.
    """
    try:
        message = _PARSER.parsebytes(raw, headersonly=True)
        if message.get_content_maintype() == "multipart":
            message.set_payload("")
    except Exception:  # hostile headers after all: keep nothing rather than raise
        message = Message()
    return message


def parse_message(
    raw: bytes,
    *,
    internal_date: datetime | None = None,
    ingest_time: datetime | None = None,
) -> ParsedMessage:
    """Parse one raw message. Every problem found is recorded in `problems`; nothing raises.

    Args:
        raw: the exact bytes of the message.
        internal_date: the date the source knows for it (mbox From_ line, IMAP INTERNALDATE),
            used when the message has no usable Date or Received header.
        ingest_time: when we read it; the last fallback for the date. Defaults to now.
    """
    problems: list[str] = []
    now = ingest_time or datetime.now(UTC)
    if not raw.strip():
        problems.append("empty_message")
    try:
        message = _parse_mime(raw)
    except Exception:  # the stdlib parser is lenient; anything it raises means hostile input
        problems.append("broken_mime")
        message = _parse_top_level(raw)
    header_map = _header_map(message)

    def first(name: str) -> str | None:
        values = header_map.get(name)
        return values[0] if values else None

    subject = decode_header_value(first("subject"), problems)
    from_list = parse_addresses(header_map.get("from", []), "from", problems)
    sender_list = parse_addresses(header_map.get("sender", []), "sender", problems)
    to = parse_addresses(header_map.get("to", []), "to", problems)
    cc = parse_addresses(header_map.get("cc", []), "cc", problems)
    bcc = parse_addresses(header_map.get("bcc", []), "bcc", problems)
    reply_to = parse_addresses(header_map.get("reply-to", []), "reply-to", problems)

    message_ids = _message_ids(first("message-id"))
    rfc_message_id = message_ids[0] if message_ids else None
    if rfc_message_id is None:
        problems.append("missing_message_id")
    in_reply_to_ids = _message_ids(first("in-reply-to"))
    references = _message_ids(" ".join(header_map.get("references", [])))
    # Some clients put only In-Reply-To; JWZ treats it as the last reference.
    in_reply_to = in_reply_to_ids[0] if in_reply_to_ids else None
    references = [r for r in dict.fromkeys(references) if r != rfc_message_id]

    sent_at, offset, date_source = _resolve_date(header_map, internal_date, now, problems)

    body_text, body_html, attachments = extract_body(message, problems)
    # After the body is decoded: decoding a base64 part registers its defects (bad padding,
    # characters or length) on the part then, not while the message is parsed.
    if "broken_mime" not in problems:
        _collect_defects(message, problems)
    if not body_text and not attachments:
        problems.append("empty_body")
    reply_text, quoted_text = split_reply(body_text)
    sender_name = from_list[0].name if from_list else ""
    new_text, signature = split_signature(reply_text, sender_name)

    headers = {}
    for name in _KEPT_HEADERS:
        value = first(name)
        if value is not None:
            headers[name] = decode_header_value(value)[:1000]

    return ParsedMessage(
        rfc_message_id=rfc_message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        normalized_subject=normalize_subject(subject),
        from_=from_list[0] if from_list else None,
        sender=sender_list[0] if sender_list else None,
        reply_to=reply_to,
        to=to,
        cc=cc,
        bcc=bcc,
        sent_at=sent_at,
        sent_at_offset_minutes=offset,
        date_source=date_source,
        body_text=body_text,
        body_html=body_html,
        new_text=new_text,
        quoted_text=quoted_text,
        signature=signature,
        attachments=attachments,
        headers=headers,
        size=len(raw),
        problems=problems,
    )


def _resolve_date(
    header_map: dict[str, list[str]], internal_date: datetime | None, now: datetime, problems: list[str]
) -> tuple[datetime, int | None, str]:
    dates = header_map.get("date")
    header = dates[0] if dates else None
    if header is None:
        problems.append("missing_date")
    else:
        parsed = parse_date(decode_header_value(header))
        if parsed is not None and is_plausible(parsed[0], now):
            return parsed[0], parsed[1], "header"
        problems.append("bad_date")
    received = received_date(header_map.get("received", []))
    if received is not None and is_plausible(received[0], now):
        return received[0], received[1], "received"
    if internal_date is not None:
        when = internal_date if internal_date.tzinfo else internal_date.replace(tzinfo=UTC)
        offset = when.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else None
        return when.astimezone(UTC), minutes, "internal"
    return now.astimezone(UTC), None, "ingest"


def primary_sender(parsed: ParsedMessage) -> Address | None:
    """The author: From, else Sender (mailing lists sometimes strip From)."""
    return parsed.from_ or parsed.sender
