"""Quote stripping: split a reply into what the sender wrote and what they quoted.

Each line is classified once; the rules, in order:

* a *cut* marker ends the new text: everything from it on is quoted. Cut markers are
  ``-----Original Message-----`` in its many languages, forward banners (``---------- Forwarded
  message ---------``, ``Begin forwarded message:``), and an Outlook-style header block (a
  ``From:`` line followed within a few lines by ``Sent:``/``Date:`` and ``To:``/``Subject:``,
  in English, German, French, Spanish, Italian, Dutch, Swedish and Portuguese), together with
  the ``____`` rule that Outlook draws above it.
* an *attribution* (``On <date>, <name> wrote:`` possibly wrapped over three lines, and its
  translations such as ``Am ... schrieb ...:`` or ``Le ... a écrit :``) is quoted. When the
  lines after it are ``>``-quoted, scanning goes on, so inline (bottom-posted) answers between
  quoted blocks stay new text; when they are not, the attribution is a cut marker.
* a line starting with ``>`` is quoted.
* anything else is new text.
"""

from __future__ import annotations

import re

__all__ = ["split_reply"]

_ORIGINAL = re.compile(
    r"^\s*[-=_*]{2,}\s*(?:original message|ursprüngliche nachricht|originalnachricht|message d'origine"
    r"|mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding"
    r"|oprindelig meddelelse|mensagem original|alkuperäinen viesti|reply message|original)\s*[-=_*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^\s*(?:[-=_*]{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado"
    r"|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande|mensagem encaminhada)\s*[-=_*]{2,}"
    r"|begin forwarded message\s*:|anfang der weitergeleiteten nachricht\s*:|début du message réexpédié\s*:)\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|von|de|da|van|från|fra|od|lähettäjä)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_DATE = re.compile(
    r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|enviado|fecha|inviato|data|verzonden|skickat|sendt|wysłano"
    r"|lähetetty)\s*:",
    re.IGNORECASE,
)
_HEADER_TO = re.compile(
    r"^\s*\*?(?:to|an|à|a|para|aan|till|til|do|subject|betreff|objet|asunto|oggetto|onderwerp|ämne|emne"
    r"|assunto|temat|aihe|cc)\s*:",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*[_\-=]{8,}\s*$")
_OPENER = re.compile(r"^\s*(?:on|am|le|el|il|op|em|den|på|w dniu|dne|el día)\s", re.IGNORECASE)
_VERB = re.compile(
    r"(?:wrote|writes|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał|kirjoitti|написал)",
    re.IGNORECASE,
)
_VERB_END = re.compile(_VERB.pattern + r"\s*:\s*$", re.IGNORECASE)
_BLANK_RUN = re.compile(r"\n{3,}")


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines (1-3) an attribution starting at line i spans, or 0 if there is none."""
    first = lines[i]
    if not first.strip() or first.lstrip().startswith(">"):
        return 0
    if _OPENER.match(first):
        joined = ""
        for span in range(1, 4):
            if i + span - 1 >= len(lines):
                break
            joined = (joined + " " + lines[i + span - 1].strip()).strip()
            if len(joined) > 320:
                break
            if joined.endswith(":") and _VERB.search(joined):
                return span
        return 0
    if first.rstrip().endswith(":") and len(first) < 200 and _VERB_END.search(first):
        # "Jane Doe <jane@x.com> wrote:" with no opener counts only when '>' quotes follow.
        return -1
    return 0


def _next_content(lines: list[str], start: int) -> str:
    for line in lines[start:]:
        if line.strip():
            return line.lstrip()
    return ""


def _is_header_block(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    window = [line for line in lines[i + 1 : i + 8] if line.strip()][:5]
    return any(_HEADER_DATE.match(line) for line in window) and any(_HEADER_TO.match(line) for line in window)


def _cut_start(lines: list[str], i: int) -> int:
    """Pull a cut back over the blank lines and the ____ rule that Outlook puts above it."""
    j = i
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    if j > 0 and _RULE.match(lines[j - 1]):
        j -= 1
    return j


# Every marker starts with one of these words or symbols, or ends with a colon: a cheap test that
# lets ordinary prose lines skip the detailed patterns. One match per line tells the cases apart:
# group 1 is set for a ">"-quoted line (tested first, as quoted lines are never markers), a match
# without it is a line that may be a marker, and no match is prose unless it ends with a colon.
_LEADING = re.compile(
    r"\s*(?:(>)|[-=_*]|(?:from|von|de|da|van|från|fra|od|lähettäjä|on|am|le|el|il|op|em|den|på|w|dne"
    r"|begin|anfang|début)\b)",
    re.IGNORECASE,
)


def split_reply(text: str) -> tuple[str, str]:
    """Split an email body into (new_text, quoted_text); both stripped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new: list[str] = []
    quoted: list[str] = []
    leading = _LEADING.match
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        found = leading(line)
        if found is None:
            if not line.rstrip().endswith(":"):
                new.append(line)  # the common case: plain text
                i += 1
                continue
        elif found.start(1) >= 0:
            quoted.append(line)
            i += 1
            continue
        if _ORIGINAL.match(line) or _FORWARD.match(line) or _is_header_block(lines, i):
            start = _cut_start(lines, i)
            drop = len(lines[start:i])
            if drop:
                del new[-drop:]
            quoted.extend(lines[start:])
            break
        span = _attribution_span(lines, i)
        if span:
            width = max(span, 1)
            follows_quotes = _next_content(lines, i + width).startswith(">")
            if follows_quotes:
                quoted.extend(lines[i : i + width])
                i += width
                continue
            if span > 0:
                quoted.extend(lines[i:])
                break
        new.append(line)
        i += 1
    new_text = _BLANK_RUN.sub("\n\n", "\n".join([line.rstrip() for line in new])).strip()
    return new_text, "\n".join(quoted).strip()
