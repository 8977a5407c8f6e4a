"""Header decoding: RFC 2047 encoded words, folding, charsets, address lists."""

from __future__ import annotations

import codecs
import re
from contextlib import suppress
from email.header import decode_header
from email.utils import getaddresses

from intel.parse.model import Address

__all__ = ["decode_bytes", "decode_header_value", "normalize_subject", "parse_addresses", "unfold"]

_FOLD = re.compile(r"\r?\n[ \t]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Reply and forward prefixes in the languages we meet most, possibly repeated or counted ("Re[2]:").
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|ref|rif|r|res|fw|fwd|wg|tr|rv|enc|doorst)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
# Labels that mail software writes but Python does not know, mapped to what they mean.
_CHARSET_ALIASES = {
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "windows-874": "cp874",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
}


def unfold(value: str) -> str:
    """Join folded header lines into one line."""
    return _FOLD.sub(" ", value).replace("\r", "").replace("\n", " ")


def _codec(charset: str | None) -> str | None:
    """The Python codec name for a declared charset, or None if it is unknown."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # unknown, or not even a valid name (NUL bytes)
        return None
    # Only text encodings: "base64" or "rot13" are codecs too, but not charsets.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, charset: str | None, problems: list[str] | None = None) -> str:
    """Decode text in a declared charset, falling back when the label is unknown or wrong.

    Order: the declared charset, then UTF-8, then windows-1252 (a superset of latin-1 for
    printable text, which is what mislabelled mail usually is), finally latin-1, which cannot
    fail. A fallback adds ``bad_charset:<label>`` to `problems`.
    """
    codec = _codec(charset)
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError, ValueError):
            pass
    elif charset is None or charset.strip() == "":
        # No label at all: ASCII or UTF-8 are the sane guesses and not a problem in themselves.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    label = _CONTROL.sub("", (charset or "none").strip().lower())[:40] or "none"
    if problems is not None and f"bad_charset:{label}" not in problems:
        problems.append(f"bad_charset:{label}")
    for fallback in ("utf-8", "cp1252"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def decode_header_value(value: object, problems: list[str] | None = None) -> str:
    """Decode one header value (encoded words, folding, raw 8-bit) into clean text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        # compat32 hands us email.header.Header objects for 8-bit headers.
        value = str(value)
    text = unfold(value)
    if "=?" in text:
        try:
            parts = decode_header(text)
        except Exception:  # the stdlib raises several types on malformed encoded words
            if problems is not None:
                problems.append("undecodable_header")
            parts = [(text, None)]
        pieces: list[str] = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                pieces.append(decode_bytes(chunk, charset, problems))
            else:
                pieces.append(chunk)
        text = "".join(pieces)
    elif max(text, default="\x00") >= "\udc80":
        # compat32 surrogate-escapes raw 8-bit bytes; they are almost always UTF-8.
        raw = text.encode("utf-8", "surrogateescape")
        text = decode_bytes(raw, None, problems)
    return _CONTROL.sub("", text).strip()


def _normalize_address(address: str) -> str:
    address = address.strip().strip("<>").strip().lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    if "xn--" in domain:
        with suppress(UnicodeError, ValueError):
            domain = domain.encode("ascii").decode("idna")
    return f"{local}@{domain}"


_OBFUSCATED = re.compile(r"([\w.+-]+) at ([\w-]+(?:\.[\w-]+)+)")
_SIMPLE_NAMED = re.compile(r"^\s*([^<>\"]*?)\s*<\s*([^<>\s@]+@[^<>\s@]+)\s*>\s*$")
_SIMPLE_BARE = re.compile(r"^\s*<?([^<>\s@\"]+@[^<>\s@\"]+?)>?\s*$")


def _fast_pairs(value: str) -> list[tuple[str, str]] | None:
    """(name, address) pairs for the common simple forms, or None to use the full parser."""
    if any(c in value for c in '"():;\\'):
        return None
    pairs = []
    for piece in value.split(","):
        if not piece.strip():
            continue
        match = _SIMPLE_NAMED.match(piece) or _SIMPLE_BARE.match(piece)
        if match is None:
            return None
        pairs.append((match.group(1), match.group(2)) if match.re is _SIMPLE_NAMED else ("", match.group(1)))
    return pairs


def parse_addresses(values: list[str], header: str, problems: list[str] | None = None) -> list[Address]:
    """Parse address headers into `Address`es: display names decoded, groups flattened.

    Group syntax (``Team: a@x, b@y;``) yields its members; an empty group such as
    ``undisclosed-recipients:;`` yields nothing. Entries without an ``@`` are dropped and
    reported as ``bad_address:<header>``.
    """
    decoded: list[str] = []
    for value in values:
        if value is None:
            continue
        raw = unfold(str(value))
        if max(raw, default="\x00") >= "\udc80":
            raw = decode_bytes(raw.encode("utf-8", "surrogateescape"), None, problems)
        decoded.append(raw)
    result: list[Address] = []
    seen: set[str] = set()
    bad = False
    pairs: list[tuple[str, str]] = []
    for value in decoded:
        if "@" not in value and _OBFUSCATED.search(value):
            # Mailing-list archives (pipermail) write "user at example.com (Name)".
            value = _OBFUSCATED.sub(r"\1@\2", value, count=1)
        fast = _fast_pairs(value)
        pairs.extend(fast if fast is not None else getaddresses([value]))
    for name, address in pairs:
        if not address:
            continue
        if "@" not in address:
            bad = True
            continue
        normalized = _normalize_address(address)
        if " " in normalized or normalized.startswith("@") or normalized.endswith("@"):
            bad = True
            continue
        if normalized in seen:
            continue
        seen.add(normalized)
        result.append(Address(normalized, decode_header_value(name, problems).strip("\"' ")))
    if bad and problems is not None:
        problems.append(f"bad_address:{header}")
    return result


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and list tags, case-folded, spaces collapsed."""
    stripped = _SUBJECT_PREFIX.sub("", subject)
    return " ".join(stripped.split()).casefold()
