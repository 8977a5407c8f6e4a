"""MIME bodies: pick the readable text, turn HTML into text, list attachments."""

from __future__ import annotations

import hashlib
import html
import re
from email.message import Message
from html.parser import HTMLParser

from intel.parse.headers import decode_bytes, decode_header_value
from intel.parse.model import Attachment

__all__ = ["extract_body", "html_to_text"]

# Deeper nesting than this is hostile, not mail: we stop descending and say so.
MAX_DEPTH = 50
MAX_PARTS = 1000

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    ]
)
_SKIP_TAGS = frozenset(["script", "style", "head", "title", "template", "noscript", "svg", "object"])
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """HTML -> text: block elements become line breaks, quotes in <blockquote> get "> "."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "blockquote":
            self._quote += 1
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "td" or tag == "th":
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr", "p", "div"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote":
            self._quote = max(0, self._quote - 1)
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._quote:
            prefix = "> " * self._quote
            data = data.replace("\n", " ")
            if not self.parts or self.parts[-1].endswith("\n"):
                data = prefix + data.lstrip()
            self.parts.append(data.replace("\n", "\n" + prefix))
        else:
            self.parts.append(data.replace("\r", "").replace("\n", " "))


def html_to_text(markup: str) -> str:
    """Readable text from HTML: no script/style, entities decoded, paragraphs kept as lines."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient, but hostile input can still trip it
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.parts)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    quoted_lines = []
    for line in lines:
        # "> " prefixes were added per text node; keep the quote markers tidy.
        quoted_lines.append(re.sub(r"^(>\s?)+", lambda m: "> " * m.group(0).count(">"), line).rstrip())
    return _BLANK_LINES.sub("\n\n", "\n".join(quoted_lines)).strip()


def _payload_bytes(part: Message, problems: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        if "broken_mime" not in problems:
            problems.append("broken_mime")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _content_params(part: Message) -> dict[str, str]:
    """Content-Type parameters, parsed once (each `get_param` call re-parses the header)."""
    params: dict[str, str] = {}
    try:
        found = part.get_params() or []
    except Exception:  # a hostile header can trip the stdlib's parameter parser
        return params
    for key, value in found[1:]:
        if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
            value = value[2]
        params[str(key).lower()] = str(value)
    return params


def _part_text(part: Message, params: dict[str, str], problems: list[str]) -> str:
    data = _payload_bytes(part, problems)
    text = decode_bytes(data, params.get("charset"), problems)
    if "\x00" in text:
        problems.append("nul_bytes")
        text = text.replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if params.get("format", "").lower() == "flowed":
        text = _unflow(text, params.get("delsp", "").lower() == "yes")
    return text


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks, quote depth by quote depth (section 4.5)."""
    out: list[str] = []
    buffer = ""
    buffer_depth = -1
    for line in text.split("\n"):
        stripped = line.lstrip(">")
        depth = len(line) - len(stripped)
        if stripped.startswith(" "):  # space-stuffing
            stripped = stripped[1:]
        if buffer_depth >= 0 and depth != buffer_depth:
            # A flowed line followed by a different quote depth ends its paragraph.
            out.append(_quoted(buffer, buffer_depth))
            buffer, buffer_depth = "", -1
        if stripped.endswith(" ") and stripped.rstrip() != "--":
            buffer += stripped[:-1] if delsp else stripped
            buffer_depth = depth
            continue
        out.append(_quoted(buffer + stripped, depth))
        buffer, buffer_depth = "", -1
    if buffer_depth >= 0:
        out.append(_quoted(buffer, buffer_depth))
    return "\n".join(out)


def _quoted(text: str, depth: int) -> str:
    return ">" * depth + (" " if depth and text else "") + text


def _attached_message_bytes(part: Message, problems: list[str]) -> bytes:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        try:
            return inner[0].as_bytes()
        except Exception:  # re-serializing a hostile message can fail in many ways; keep its metadata
            if "broken_mime" not in problems:
                problems.append("broken_mime")
            return b""
    return _payload_bytes(part, problems)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return decode_header_value(name) if name else ""


def extract_body(message: Message, problems: list[str]) -> tuple[str, bool, list[Attachment]]:
    """The body text, whether an HTML part was present, and attachment metadata.

    Plain text wins over HTML when both are offered (multipart/alternative); HTML is
    converted only when there is no plain part. Parts that are attachments (a filename, or
    `Content-Disposition: attachment`, or a non-text type) are listed with name, type, decoded
    size and sha256, and their bytes are dropped.
    """
    plain: list[str] = []
    html_parts: list[str] = []
    attachments: list[Attachment] = []
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            problems.append("too_many_parts")
            break
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            # A forwarded message as attachment: metadata only, its text is not this message's.
            body = _attached_message_bytes(part, problems)
            attachments.append(
                Attachment(
                    filename=_filename(part) or "message.eml",
                    content_type="message/rfc822",
                    size=len(body),
                    sha256=hashlib.sha256(body).hexdigest(),
                )
            )
            continue
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                if "too_deep" not in problems:
                    problems.append("too_deep")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        params = _content_params(part)
        if content_type.startswith("multipart/"):
            # Multipart in name only (its boundary never appears): the payload is plain text.
            if "broken_mime" not in problems:
                problems.append("broken_mime")
            plain.append(_part_text(part, params, problems))
            continue
        raw_disposition = part.get("Content-Disposition")
        disposition = str(raw_disposition or "").split(";")[0].strip().lower()
        # A file name comes from Content-Disposition or the Content-Type "name" parameter.
        filename = _filename(part) if raw_disposition is not None or "name" in params else ""
        is_text = content_type in ("text/plain", "text/html")
        if disposition == "attachment" or filename or not is_text:
            data = _payload_bytes(part, problems)
            if not data and not filename:
                continue
            attachments.append(
                Attachment(
                    filename=filename,
                    content_type=content_type,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            )
            continue
        if content_type == "text/html":
            html_parts.append(_part_text(part, params, problems))
        else:
            plain.append(_part_text(part, params, problems))
    has_html = bool(html_parts)
    if any(p.strip() for p in plain):
        text = "\n\n".join(p.strip("\n") for p in plain)
    elif html_parts:
        text = "\n\n".join(html_to_text(h) for h in html_parts)
    else:
        text = ""
    return text.strip(), has_html, attachments
