"""Finding the signature of the newest message: a line classifier in the spirit of Carvalho & Cohen.

Carvalho and Cohen (2004, "Learning to Extract Signature and Reply Lines from Email") classify
each of the last lines of a message from features of the line and of its neighbours: where it
is counted from the end, its length, capitalised words, phone / email / URL patterns, the
sender's name, separators, punctuation. We do the same with three labels:

* ``B`` body (including the sign-off phrase "Best regards,", which belongs to the text),
* ``S`` signature (the sign-off name line, name, title, company, phones, address, links...),
* ``F`` footer (mobile footers such as "Sent from my iPhone", legal disclaimers, banners),

a multinomial logistic regression (trained by `intel.nlp.train_signature`, stored as JSON
coefficients: no pickle), and a Viterbi pass that only allows the order body, then signature,
then footer (``B* S* F*``), so the signature is one block at the end of the new text.

Only the new text is classified: `split_reply` (intel.parse.quotes) removes quoted replies and
forwarded messages first, and each line of the new text is mapped back to its line number in the
input, so `lines` can point into the original text. Only the last `window` non-blank lines are
looked at.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from intel.parse.quotes import split_reply
from intel.parse.signature import MOBILE_FOOTER, SIGN_OFF

__all__ = [
    "LABELS",
    "Sender",
    "SignatureModel",
    "SignatureResult",
    "default_model_path",
    "line_features",
    "new_text_lines",
    "reply_parts",
]

LABELS = ("B", "S", "F")
WINDOW = 30
MODEL_NAME = "signature"


def default_model_path() -> Path:
    """`models/signature/model.json` of the repository this package is installed from."""
    return Path(__file__).resolve().parents[2] / "models" / "signature" / "model.json"


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>|,;]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|de|uk|nl|fr|ch"
    r"|example|ai|app|dev|biz|info|eu|us|ca|au|in|jp|no|se|es|it|be|at|ma|ng|co\.uk|com\.au)(?:/[^\s<>|,;]*)?\b",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?:(?<![\w.])\+\s?\d|(?<![\w.+])\(?\d)[\d\s().\-/]{6,}\d(?![\w])")
PHONE_LABEL = re.compile(
    r"^\s*(?:t|p|m|c|f|o|d|e|w|h|tel|tél|tlf|telf|ph|phone|mobile|mob|mobil|cell|cel|handy|fax|direct|office|main"
    r"|work|desk|switchboard|whatsapp|telefon|téléphone|teléfono|portable|móvil|celular|phone number)\.?\s*[:.]",
    re.IGNORECASE,
)
SOCIAL = re.compile(
    r"(?:linkedin\.com|twitter\.com|x\.com/|github\.com|facebook\.com|instagram\.com|xing\.com|mastodon|"
    r"bsky\.app|youtube\.com|medium\.com/@|@\w+\s*\(twitter\))",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^\s*(?:--+|__+|==+|\*\*+|~~+|━+|─+|-\s?-\s?-|•+|#+)\s*$")
DASHDASH = re.compile(r"^-- ?$")
GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hallo|bonjour|hola|ciao|hej|hoi"
    r"|guten tag|liebe|lieber|sehr geehrte)\b",
    re.IGNORECASE,
)
DASH_NAME = re.compile(r"^\s*[-–—~]\s?[A-Z][\w.'-]{0,20}(?:\s[A-Z][\w.'-]*)?\s*$")
TITLE_WORDS = frozenset(
    [
        "manager",
        "director",
        "engineer",
        "developer",
        "lead",
        "head",
        "officer",
        "analyst",
        "specialist",
        "coordinator",
        "consultant",
        "president",
        "vp",
        "svp",
        "evp",
        "avp",
        "vice",
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cio",
        "cmo",
        "ciso",
        "founder",
        "co-founder",
        "cofounder",
        "partner",
        "associate",
        "assistant",
        "executive",
        "administrator",
        "architect",
        "designer",
        "producer",
        "editor",
        "advisor",
        "adviser",
        "counsel",
        "attorney",
        "lawyer",
        "accountant",
        "controller",
        "representative",
        "rep",
        "supervisor",
        "principal",
        "chief",
        "owner",
        "intern",
        "scientist",
        "researcher",
        "professor",
        "lecturer",
        "nurse",
        "physician",
        "recruiter",
        "buyer",
        "planner",
        "strategist",
        "secretary",
        "chair",
        "chairman",
        "chairwoman",
        "technician",
        "agent",
        "broker",
        "evangelist",
        "advocate",
        "marketer",
        "writer",
        "translator",
        "paralegal",
        "treasurer",
        "auditor",
        "inspector",
        "superintendent",
        "geschäftsführer",
        "leiter",
        "leiterin",
        "directeur",
        "directrice",
        "gerente",
        "responsable",
        "ingénieur",
        "ingeniero",
        "jefe",
        "direttore",
        "sachbearbeiter",
        "referent",
        "projektleiter",
        "commercial",
        "chargé",
        "chargée",
    ]
)
DEPARTMENT_WORDS = frozenset(
    [
        "sales",
        "marketing",
        "operations",
        "procurement",
        "success",
        "support",
        "hr",
        "finance",
        "it",
        "engineering",
        "product",
        "project",
        "program",
        "customer",
        "account",
        "accounts",
        "legal",
        "compliance",
        "security",
        "purchasing",
        "logistics",
        "business",
        "development",
        "talent",
        "people",
        "data",
        "platform",
        "infrastructure",
        "research",
        "communications",
        "partnerships",
        "services",
    ]
)
COMPANY_SUFFIX = re.compile(
    r"(?:\b(?:inc|incorporated|ltd|limited|llc|llp|plc|gmbh|ag|kg|se|sa|sas|sarl|srl|spa|bv|nv|oy|ab|as|asa|aps"
    r"|pty|pvt|corp|corporation|company|group|holdings|partners|associates|technologies|solutions|labs|systems"
    r"|software|consulting|services|ltda|bhd|kk|s\.?a\.?s|s\.?r\.?l|s\.?p\.?a|b\.?v|n\.?v|a/s|s\.?l|k\.?k)\b\.?"
    r"|\bco\.(?:,?\s*ltd\.?)?|\bs\.a\.(?:s\.)?|&\s*co\b)",
    re.IGNORECASE,
)
STREET = re.compile(
    r"\b(?:street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|way|place|pl\.?"
    r"|square|sq\.?|court|suite|ste\.?|floor|fl\.?|level|building|bldg\.?|unit|p\.?\s?o\.?\s?box|parkway|pkwy"
    r"|highway|hwy|plaza|tower|house|park|strasse|straße|str\.|weg|gasse|platz|allee|ring|rue|chemin|calle|carrera"
    r"|avenida|via|viale|piazza|plein|laan|gracht|kade|straat|gate|gatan|vägen|vej|chome|kita-ku|-ku|-shi)\b"
    r"|\w(?:straße|strasse|str\.|gasse|weg|platz|allee|gatan|vägen|vej|gate|laan|straat|gracht|kade)(?=\s|,|$)",
    re.IGNORECASE,
)
POSTAL = re.compile(
    r"\b(?:[A-Z]{2}\s\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d{4}\s?[A-Z]{2}"
    r"|\d{3}-\d{4}|\d{4,6}\s+[A-ZÀ-Þ][a-zà-ÿ]+)\b"
)
COUNTRIES = re.compile(
    r"\b(?:usa|u\.s\.a\.|united states|united kingdom|uk|england|scotland|ireland|germany|deutschland|france"
    r"|spain|españa|italy|italia|netherlands|the netherlands|belgium|switzerland|schweiz|suisse|austria|österreich"
    r"|sweden|norway|denmark|finland|poland|portugal|canada|mexico|méxico|brazil|brasil|argentina|colombia|chile"
    r"|peru|india|japan|china|singapore|australia|new zealand|south africa|nigeria|kenya|morocco|egypt|israel"
    r"|uae|united arab emirates|turkey|greece|czech republic|hungary|romania)\b",
    re.IGNORECASE,
)
DISCLAIMER = re.compile(
    r"\b(?:confidential|confidentiality|intended recipient|privileged|disclaimer|unauthori[sz]ed|notify the sender"
    r"|e-?mail (?:and any attachments )?(?:may|is|contains)|this (?:e-?mail|message|communication)|virus|"
    r"environment before printing|legally binding|registered (?:in|office)|company (?:no|number|registration)"
    r"|vertraulich|confidentiel|confidencial|riservat|we'?re hiring|unsubscribe|please consider)\b",
    re.IGNORECASE,
)
STOPWORDS = frozenset(
    [
        "the",
        "to",
        "and",
        "a",
        "of",
        "in",
        "is",
        "it",
        "that",
        "for",
        "on",
        "with",
        "we",
        "i",
        "you",
        "this",
        "be",
        "are",
        "have",
        "has",
        "will",
        "can",
        "could",
        "would",
        "our",
        "your",
        "please",
        "if",
        "as",
        "at",
        "but",
        "not",
        "so",
        "me",
        "my",
        "do",
        "was",
        "just",
        "about",
        "from",
        "there",
        "they",
        "them",
        "let",
        "know",
        "what",
        "when",
        "how",
        "which",
        "been",
        "were",
        "am",
        "get",
        "got",
        "any",
        "some",
        "all",
        "out",
        "up",
        "an",
        "or",
        "by",
        "us",
        "it's",
        "i'm",
        "i've",
        "we're",
        "we've",
        "you're",
        "don't",
        "can't",
        "i'll",
        "we'll",
        "ich",
        "wir",
        "sie",
        "und",
        "der",
        "die",
        "das",
        "ist",
        "nicht",
        "je",
        "nous",
        "vous",
        "le",
        "les",
        "est",
        "pour",
        "que",
        "et",
        "el",
        "los",
        "las",
        "para",
        "por",
        "es",
        "y",
    ]
)
PRONOUN = re.compile(r"\b(?:i|we|you|me|us|my|our|your)\b", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Sender:
    """What the classifier knows of the sender: name tokens from the display name and the address."""

    name: str = ""
    address: str = ""
    tokens: frozenset[str] = field(default_factory=frozenset)
    first: str = ""

    @classmethod
    def parse(cls, sender: str | None, name: str | None = None) -> Sender:
        """From ``"Jane Doe <jane@x.com>"``, a bare address, or a display name and an address."""
        return _parse_sender(sender, name)

    @classmethod
    def _parse(cls, sender: str | None, name: str | None = None) -> Sender:
        display, address = parseaddr(sender or "")
        if "@" not in address:
            display, address = (sender or "").strip(), ""
        if name:
            display = name
        tokens = {t.lower().strip(".,'") for t in WORD.findall(display)}
        local = address.partition("@")[0].lower()
        tokens |= {t for t in re.split(r"[._\-+0-9]+", local) if len(t) >= 3}
        tokens = {t for t in tokens if len(t) >= 2}
        words = WORD.findall(display)
        first = words[0].lower() if words else ""
        return cls(display, address.lower(), frozenset(tokens), first)


@lru_cache(maxsize=1024)
def _parse_sender(sender: str | None, name: str | None) -> Sender:
    return Sender._parse(sender, name)


@lru_cache(maxsize=4)
def reply_parts(text: str) -> tuple[str, str]:
    """`split_reply(text)`, remembered for the last few texts (each extractor asks for it)."""
    return split_reply(text)


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


def _bucket(value: int, edges: Sequence[int]) -> int:
    for i, edge in enumerate(edges):
        if value <= edge:
            return i
    return len(edges)


def _line_base(line: str, sender: Sender) -> dict[str, float]:
    s = line.strip()
    words = WORD.findall(s)
    n_words = len(words)
    lower_words = [w.lower().strip(".,:;'’") for w in words]
    f: dict[str, float] = {}
    f[f"len_{_bucket(len(s), (3, 12, 25, 40, 60, 80))}"] = 1.0
    f[f"words_{_bucket(n_words, (0, 1, 2, 3, 5, 8, 12))}"] = 1.0
    caps = sum(1 for w in words if w[0].isupper())
    f["cap_ratio"] = caps / n_words if n_words else 0.0
    f["all_caps"] = 1.0 if n_words and all(w[0].isupper() for w in words) else 0.0
    f["upper_word"] = 1.0 if any(len(w) >= 3 and w.isupper() for w in words) else 0.0
    f["starts_upper"] = 1.0 if s[:1].isupper() else 0.0
    f["starts_lower"] = 1.0 if s[:1].islower() else 0.0
    f["starts_digit"] = 1.0 if s[:1].isdigit() else 0.0
    f["starts_symbol"] = 1.0 if s[:1] and not s[:1].isalnum() else 0.0
    last = s[-1:] if s else ""
    f["ends_period"] = (
        1.0 if last == "." and not re.search(r"\b[A-Z][a-z]?\.$|\b(?:inc|ltd|co|corp|jr|sr)\.$", s, re.I) else 0.0
    )
    f["ends_q"] = 1.0 if last in "?!" and last else 0.0
    f["ends_colon"] = 1.0 if last == ":" else 0.0
    f["ends_comma"] = 1.0 if last == "," else 0.0
    f["email"] = 1.0 if EMAIL.search(s) else 0.0
    f["url"] = 1.0 if URL.search(EMAIL.sub(" ", s)) else 0.0
    phone = PHONE.search(s)
    f["phone"] = 1.0 if phone and len(DIGIT.findall(phone.group(0))) >= 7 else 0.0
    f["phone_label"] = (
        1.0 if PHONE_LABEL.match(s) or re.search(r"\|\s*(?:[TMFPCOD]|Tel|Fax|Mob|Cell)\.?\s*:?\s*\+?\d", s) else 0.0
    )
    f["social"] = 1.0 if SOCIAL.search(s) else 0.0
    f["separator"] = 1.0 if SEPARATOR.match(s) else 0.0
    f["dashdash"] = 1.0 if DASHDASH.match(line.rstrip("\r")) else 0.0
    f["signoff"] = 1.0 if SIGN_OFF.match(s) else 0.0
    signoff_prefix = re.match(r"^(.{2,40}?)[,!]?\s+[-–—]?\s*\S", s)
    f["signoff_name"] = (
        1.0 if signoff_prefix and SIGN_OFF.match(signoff_prefix.group(1)) and n_words <= 6 and not f["signoff"] else 0.0
    )
    f["mobile_footer"] = 1.0 if MOBILE_FOOTER.match(s) else 0.0
    f["greeting"] = 1.0 if GREETING.match(s) and n_words <= 6 else 0.0
    f["pipe"] = 1.0 if "|" in s or " • " in s or " · " in s else 0.0
    f["commas"] = min(s.count(","), 4) / 4
    f["title_word"] = 1.0 if any(w in TITLE_WORDS for w in lower_words) else 0.0
    f["dept_word"] = 1.0 if any(w in DEPARTMENT_WORDS for w in lower_words) else 0.0
    f["company_suffix"] = 1.0 if COMPANY_SUFFIX.search(s) else 0.0
    f["street"] = 1.0 if STREET.search(s) and DIGIT.search(s) else 0.0
    f["postal"] = 1.0 if POSTAL.search(s) else 0.0
    f["country"] = 1.0 if COUNTRIES.search(s) else 0.0
    f["disclaimer"] = 1.0 if DISCLAIMER.search(s) else 0.0
    stop = sum(1 for w in lower_words if w in STOPWORDS)
    f["stop_ratio"] = stop / n_words if n_words else 0.0
    f["stop_any"] = 1.0 if stop else 0.0
    f["pronoun"] = 1.0 if PRONOUN.search(s) else 0.0
    chars = max(len(s), 1)
    f["digit_ratio"] = len(DIGIT.findall(s)) / chars
    f["punct_ratio"] = len(PUNCT.findall(s)) / chars
    f["non_ascii"] = 1.0 if any(ord(c) > 127 for c in s) else 0.0
    sender_hits = sum(1 for w in lower_words if w in sender.tokens)
    f["sender_token"] = 1.0 if sender_hits else 0.0
    f["sender_frac"] = sender_hits / n_words if n_words else 0.0
    bare = re.sub(r"^[-–—~\s]+|[\s,.!]+$", "", s).lower()
    f["sender_first"] = 1.0 if sender.first and bare == sender.first else 0.0
    f["sender_full"] = 1.0 if sender.name and bare == sender.name.lower() else 0.0
    f["name_like"] = (
        1.0
        if 1 <= n_words <= 4
        and len(s) <= 40
        and caps == n_words
        and not DIGIT.search(s)
        and not f["signoff"]
        and not any(w in TITLE_WORDS for w in lower_words)
        and not COMPANY_SUFFIX.search(s)
        and last not in ".?!:"
        else 0.0
    )
    f["dash_name"] = 1.0 if DASH_NAME.match(s) else 0.0
    f["initials"] = 1.0 if re.fullmatch(r"[-–—~]?\s?[A-Z]{1,3}\.?", s) else 0.0
    f["bullet"] = 1.0 if re.match(r"^\s*(?:[-*•]\s|\d+[.)]\s|[a-z][.)]\s)", line) else 0.0
    f["quote_char"] = 1.0 if s.startswith(">") else 0.0
    return f


# Per-line features copied to the neighbours as context (prefix p_ for the line above, n_ below).
_CONTEXT = (
    "signoff",
    "signoff_name",
    "name_like",
    "sender_token",
    "email",
    "url",
    "phone",
    "phone_label",
    "title_word",
    "company_suffix",
    "stop_ratio",
    "pronoun",
    "ends_period",
    "ends_q",
    "greeting",
    "separator",
    "dashdash",
    "mobile_footer",
    "disclaimer",
    "street",
    "postal",
    "pipe",
    "bullet",
    "ends_colon",
    "social",
)
_CONTACTISH = ("email", "url", "phone", "phone_label", "social", "street", "postal")


def line_features(lines: Sequence[str], sender: Sender) -> list[dict[str, float]]:
    """Features of each non-blank line of `lines` (the window at the end of the new text).

    `lines` may contain blank lines; the result has one dict per non-blank line, in order.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    n = len(content)
    if not n:
        return []
    base = [_line_base(lines[i], sender) for i in content]
    # Paragraphs: runs of non-blank lines.
    paragraph = []
    p = 0
    for k, i in enumerate(content):
        if k and i - content[k - 1] > 1:
            p += 1
        paragraph.append(p)
    n_par = paragraph[-1] + 1
    par_sizes = [paragraph.count(q) for q in range(n_par)]
    par_start: dict[int, int] = {}
    for k, q in enumerate(paragraph):
        par_start.setdefault(q, k)
    # Running facts from above and from below.
    signoff_at = [-1] * n
    last_signoff = -1
    delim_at = [-1] * n
    last_delim = -1
    name_above = [0.0] * n
    seen_name = 0.0
    for k in range(n):
        signoff_at[k] = last_signoff
        delim_at[k] = last_delim
        name_above[k] = seen_name
        b = base[k]
        if b["signoff"] or b["signoff_name"]:
            last_signoff = k
        if b["dashdash"] or b["separator"]:
            last_delim = k
        if b["sender_token"] and b["name_like"]:
            seen_name = 1.0
    contact_below = [0] * n
    body_below = [0] * n
    running_contact = 0
    running_body = 0
    for k in range(n - 1, -1, -1):
        contact_below[k] = running_contact
        body_below[k] = running_body
        b = base[k]
        if any(b[c] for c in _CONTACTISH):
            running_contact += 1
        if b["stop_ratio"] >= 0.3 and b["ends_period"] + b["ends_q"] and not b["disclaimer"]:
            running_body += 1
    out = []
    for k in range(n):
        f = dict(base[k])
        from_end = n - 1 - k
        f[f"from_end_{_bucket(from_end, (0, 1, 2, 3, 4, 6, 9, 14, 20))}"] = 1.0
        f["rel_pos"] = k / max(n - 1, 1)
        f["first_line"] = 1.0 if k == 0 else 0.0
        q = paragraph[k]
        f[f"par_from_end_{min(n_par - 1 - q, 3)}"] = 1.0
        f[f"par_size_{_bucket(par_sizes[q], (1, 2, 3, 5, 8))}"] = 1.0
        f[f"in_par_{_bucket(k - par_start[q], (0, 1, 2, 4))}"] = 1.0
        f["blank_above"] = 1.0 if k == 0 or content[k] - content[k - 1] > 1 else 0.0
        f["blank_below"] = 1.0 if k == n - 1 or content[k + 1] - content[k] > 1 else 0.0
        d = k - signoff_at[k] if signoff_at[k] >= 0 else 0
        f[f"signoff_above_{_bucket(d, (0, 1, 2, 4, 8)) if signoff_at[k] >= 0 else 'none'}"] = 1.0
        f["delim_above"] = 1.0 if delim_at[k] >= 0 else 0.0
        f["name_above"] = name_above[k]
        f[f"contact_below_{_bucket(contact_below[k], (0, 1, 2, 4))}"] = 1.0
        f[f"body_below_{_bucket(body_below[k], (0, 1, 3))}"] = 1.0
        for prefix, j in (("p_", k - 1), ("n_", k + 1), ("p2_", k - 2), ("n2_", k + 2)):
            if 0 <= j < n:
                nb = base[j]
                for name in _CONTEXT if len(prefix) == 2 else _CONTEXT[:12]:
                    if nb[name]:
                        f[prefix + name] = nb[name]
            else:
                f[prefix + "none"] = 1.0
        out.append(f)
    return out


# --------------------------------------------------------------------------------------------
# New text and line numbers
# --------------------------------------------------------------------------------------------


def new_text_lines(text: str) -> list[tuple[int, str]]:
    """The lines of the newest message (quotes and forwards removed), with their line numbers in `text`.

    Line numbers count ``\\n``-separated lines of `text` from 0 (a ``\\r`` before ``\\n`` is ignored).
    """
    original = [line.rstrip("\r").rstrip() for line in text.split("\n")]
    new_text, _quoted = reply_parts(text)
    if not new_text:
        return []
    out: list[tuple[int, str]] = []
    k = 0
    for line in new_text.split("\n"):
        target = line.rstrip()
        j = k
        while j < len(original) and original[j] != target:
            j += 1
        if j == len(original):
            continue  # not found verbatim (unusual line breaks): skip it, keep the position
        out.append((j, original[j]))
        k = j + 1
    return out


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class SignatureResult:
    """The signature of one email.

    `lines` are 0-based line numbers of the input text labelled signature; `text` is the block
    from the first to the last of them (blank lines inside kept), None when there is none.
    `footer_lines` are mobile footers and disclaimers after it; `body_end` is the line number
    where the body (new text without signature and footer) ends, exclusive.
    """

    lines: list[int]
    text: str | None
    confidence: float
    footer_lines: list[int] = field(default_factory=list)
    body_lines: list[int] = field(default_factory=list)
    signature_lines_text: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.lines)


class SignatureModel:
    """Line classifier + B*S*F* decoding. `load()` reads the JSON coefficients."""

    def __init__(self, path: Path | None = None, window: int = WINDOW) -> None:
        self.path = path or default_model_path()
        self.window = window
        self.version_: str = ""
        self.features_: list[str] = []
        self.index_: dict[str, int] = {}
        self.coef_: np.ndarray = np.zeros((0, 0))
        self.intercept_: np.ndarray = np.zeros(0)
        self.meta_: dict[str, Any] = {}

    # -- persistence ------------------------------------------------------------------------

    def load(self) -> SignatureModel:
        from intel.errors import IntelError

        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IntelError(f"cannot read the signature model {self.path}: {exc}") from None
        self.set_params(data)
        return self

    def set_params(self, data: dict[str, Any]) -> None:
        if list(data["labels"]) != list(LABELS):
            raise ValueError(f"unexpected labels {data['labels']}")
        self.features_ = list(data["features"])
        self.index_ = {name: i for i, name in enumerate(self.features_)}
        self.coef_ = np.asarray(data["coef"], dtype=np.float64)
        self.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
        self.version_ = str(data["version"])
        self.window = int(data.get("window", self.window))
        self.meta_ = {k: v for k, v in data.items() if k not in ("coef", "intercept", "features")}

    def save(self, path: Path | None = None, **meta: Any) -> Path:
        path = path or self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "name": MODEL_NAME,
            "version": self.version_,
            "labels": list(LABELS),
            "window": self.window,
            **meta,
            "features": self.features_,
            "coef": [[round(float(v), 6) for v in row] for row in self.coef_],
            "intercept": [round(float(v), 6) for v in self.intercept_],
        }
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    # -- inference --------------------------------------------------------------------------

    def vectorize(self, feats: Sequence[dict[str, float]]) -> np.ndarray:
        x = np.zeros((len(feats), len(self.features_)))
        index = self.index_
        for row, f in enumerate(feats):
            for name, value in f.items():
                col = index.get(name)
                if col is not None:
                    x[row, col] = value
        return x

    def line_probabilities(self, lines: Sequence[str], sender: Sender) -> np.ndarray:
        """P(label) for each non-blank line of `lines`; shape (n_nonblank, 3)."""
        feats = line_features(lines, sender)
        if not feats:
            return np.zeros((0, len(LABELS)))
        z = self.vectorize(feats) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    @staticmethod
    def decode(probs: np.ndarray) -> list[int]:
        """The best label sequence in the order B* S* F* (Viterbi over log-probabilities)."""
        n = len(probs)
        if not n:
            return []
        logp = np.log(np.clip(probs, 1e-9, 1.0))
        allowed = ((0, 1, 2), (1, 2), (2,))  # from state -> to states
        score = np.full((n, 3), -math.inf)
        back = np.zeros((n, 3), dtype=np.int64)
        score[0] = logp[0]
        for t in range(1, n):
            for prev in range(3):
                if score[t - 1, prev] == -math.inf:
                    continue
                for nxt in allowed[prev]:
                    value = score[t - 1, prev] + logp[t, nxt]
                    if value > score[t, nxt]:
                        score[t, nxt] = value
                        back[t, nxt] = prev
        state = int(np.argmax(score[-1]))
        path = [state]
        for t in range(n - 1, 0, -1):
            state = int(back[t, state])
            path.append(state)
        return path[::-1]

    def predict_lines(self, lines: Sequence[str], sender: Sender) -> tuple[list[str], np.ndarray]:
        """Labels of every line of `lines` (blank lines get the label of the line above, B first)."""
        content = [i for i, line in enumerate(lines) if line.strip()]
        labels = ["B"] * len(lines)
        if not content:
            return labels, np.zeros((0, 3))
        window = content[-self.window :]
        start = window[0]
        probs = self.line_probabilities(lines[start:], sender)
        path = self.decode(probs)
        for i, state in zip(window, path, strict=True):
            labels[i] = LABELS[state]
        current = "B"
        for i in range(len(lines)):
            if lines[i].strip():
                current = labels[i]
            else:
                labels[i] = current
        return labels, probs

    def extract(self, text: str, sender: str | None = None, sender_name: str | None = None) -> SignatureResult:
        """The signature of the newest message in `text` (a whole email body, quotes included)."""
        numbered = new_text_lines(text)
        who = Sender.parse(sender, sender_name)
        lines = [line for _, line in numbered]
        labels, probs = self.predict_lines(lines, who)
        content_labels = [labels[i] for i, line in enumerate(lines) if line.strip()]
        sig_probs = [
            float(p[1])
            for p, label in zip(probs, content_labels[-len(probs) :] if len(probs) else [], strict=True)
            if label == "S"
        ]
        sig = [numbered[i][0] for i, line in enumerate(lines) if line.strip() and labels[i] == "S"]
        footer = [numbered[i][0] for i, line in enumerate(lines) if line.strip() and labels[i] == "F"]
        body = [numbered[i][0] for i in range(len(lines)) if labels[i] == "B"]
        if not sig:
            none_prob = 1.0 - max((float(p[1]) for p in probs), default=0.0)
            return SignatureResult([], None, round(none_prob, 4), footer, body)
        original = text.split("\n")
        block = [line.rstrip("\r").rstrip() for line in original[sig[0] : sig[-1] + 1]]
        return SignatureResult(
            lines=sig,
            text="\n".join(block).strip(),
            confidence=round(sum(sig_probs) / len(sig_probs), 4) if sig_probs else 0.0,
            footer_lines=footer,
            body_lines=body,
            signature_lines_text=[original[i].rstrip("\r").strip() for i in sig],
        )
