"""A first, rule-based signature split (the learned line classifier lives in `intel.nlp`).

The signature is looked for only in the last `WINDOW` lines of the new text. Its start is
the earliest of these that applies:

* the line after a ``-- `` delimiter (the delimiter itself belongs to neither part);
* the line after a sign-off phrase (``Best regards,``, ``Thanks,``, ``Cheers``, ``Mit
  freundlichen Grüßen``, ...), when the next line looks like a name: the sign-off stays in the
  body, the name line starts the signature;
* a mobile footer (``Sent from my iPhone``, ``Get Outlook for Android``, ...);
* a line that starts with the sender's display name;
* a last paragraph made of short lines that carries a phone number, an email address or a URL.
"""

from __future__ import annotations

import re

__all__ = ["MOBILE_FOOTER", "SIGN_OFF", "split_signature"]

WINDOW = 20
MAX_SIGNATURE_LINES = 16

_SIGN_OFF_PHRASES = (
    r"(?:best|kind|warm|warmest|many|with)?\s*(?:regards|wishes)|best|all the best|cheers|sincerely",
    r"thanks(?: (?:so much|again|a lot|in advance))?|thank you(?: (?:so much|again|in advance))?|many thanks",
    r"yours(?: (?:truly|sincerely|faithfully))?|(?:very )?truly yours|br|rgds|regds|thx|ta",
    r"talk soon|speak soon|take care|respectfully",
    r"mit freundlichen grü(?:ß|ss)en|freundliche grü(?:ß|ss)e|viele grü(?:ß|ss)e|beste grü(?:ß|ss)e",
    r"liebe grü(?:ß|ss)e|grü(?:ß|ss)e|gru(?:ß|ss)",
    r"cordialement|bien cordialement|bien à vous|salutations|merci|saludos|un saludo|atentamente",
    r"cordiali saluti|saluti|distinti saluti|met vriendelijke groet|vriendelijke groet|groeten",
    r"hälsningar|med vänliga hälsningar|mvh|med venlig hilsen|atenciosamente|abraços",
)
_ANY_SIGN_OFF = "|".join(_SIGN_OFF_PHRASES)
# One sign-off, or two joined by a slash ("Freundliche Grüsse / Kind regards").
SIGN_OFF = re.compile(
    rf"^\s*(?:{_ANY_SIGN_OFF})(?:\s*/\s*(?:{_ANY_SIGN_OFF}))?\s*[,.!\-–—]*\s*$",
    re.IGNORECASE,
)
MOBILE_FOOTER = re.compile(
    r"^\s*(?:sent from my \w+|sent from (?:yahoo mail|mail for windows|outlook|my mobile|proton ?mail)"
    r"|get outlook for (?:ios|android)|sent (?:via|using|with) \w+|von meinem \w+ gesendet"
    r"|envoyé de mon \w+|enviado desde mi \w+|inviato da \w+|verzonden vanaf mijn \w+)\b.*$",
    re.IGNORECASE,
)
_DELIMITER = re.compile(r"^(?:-- ?|—)$")
_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{7,}\d)|(?:[\w.+-]+@[\w-]+\.[\w.-]+)|(?:https?://|www\.)\S+|linkedin\.com", re.IGNORECASE
)


def _looks_like_name(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 5 and len(line) <= 40 and not line.rstrip().endswith(("?", ".", ":"))


def split_signature(text: str, sender_name: str = "") -> tuple[str, str]:
    """Split new text into (body, signature); both stripped, signature "" when none is found."""
    lines = text.split("\n")
    n = len(lines)
    for i in range(n - 1, max(0, n - WINDOW) - 1, -1):
        is_delimiter = _DELIMITER.match(lines[i].rstrip("\r")) and n - i - 1 <= MAX_SIGNATURE_LINES
        if is_delimiter and any(line.strip() for line in lines[i + 1 :]):
            body = "\n".join(lines[:i])
            signature = "\n".join(lines[i + 1 :])
            # A sign-off name just above the delimiter belongs to the signature too.
            rest_body, above = _split_by_rules(body.split("\n"), sender_name, allow_contact=False)
            if above:
                return rest_body.strip(), (above.strip() + "\n" + signature.strip()).strip()
            return body.strip(), signature.strip()

    body, signature = _split_by_rules(lines, sender_name, allow_contact=True)
    if signature:
        return body.strip(), signature.strip()
    return text.strip(), ""


def _split_by_rules(lines: list[str], sender_name: str, *, allow_contact: bool) -> tuple[str, str]:
    n = len(lines)
    first = max(0, n - WINDOW)
    starts: list[int] = []
    content = [i for i in range(first, n) if lines[i].strip()]
    if not content:
        return "\n".join(lines), ""
    last = content[-1]

    for i in content:
        line = lines[i].strip()
        if SIGN_OFF.match(line) and i < last:
            following = [j for j in content if j > i]
            if following and _looks_like_name(lines[following[0]].strip()) and len(following) <= MAX_SIGNATURE_LINES:
                starts.append(following[0])
                break
    for i in content:
        if MOBILE_FOOTER.match(lines[i]):
            starts.append(i)
            break
    name = sender_name.strip().lower()
    if name and len(name) >= 3:
        for i in content:
            line = lines[i].strip().lower()
            is_name = line == name or line.startswith((name + " ", name + ","))
            if is_name and len(line) <= 60 and last - i < MAX_SIGNATURE_LINES:
                starts.append(i)
                break
    if allow_contact:
        paragraph_start = last
        while paragraph_start - 1 >= first and lines[paragraph_start - 1].strip():
            paragraph_start -= 1
        if SIGN_OFF.match(lines[paragraph_start]):
            paragraph_start += 1  # the sign-off phrase stays in the body
        block = [lines[i].strip() for i in range(paragraph_start, last + 1)]
        if (
            paragraph_start > 0
            and 2 <= len(block) <= 8
            and all(len(line) <= 70 for line in block)
            and sum(bool(_CONTACT.search(line)) for line in block) >= 1
            and _looks_like_name(block[0])
        ):
            starts.append(paragraph_start)
    if not starts:
        return "\n".join(lines), ""
    start = min(starts)
    return "\n".join(lines[:start]), "\n".join(lines[start:])
