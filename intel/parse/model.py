"""The parsed form of one email: what `intel.parse.parse_message` returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any

__all__ = ["Address", "Attachment", "ParsedMessage"]


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from an address header.

    `address` is lower-cased with an IDN domain decoded to Unicode (``xn--`` labels turned
    back into their characters); `name` is the decoded display name, or "" when there is none.
    """

    address: str
    name: str = ""

    def __reduce__(self) -> tuple[type[Address], tuple[str, str]]:
        # Pickled by constructor call (parse results travel from the worker processes): the
        # dataclass default for a frozen class with slots runs __getstate__/__setstate__ in Python.
        return (Address, (self.address, self.name))

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata of one attachment; its bytes are never kept in `messages`."""

    filename: str
    content_type: str
    size: int
    sha256: str

    def __reduce__(self) -> tuple[type[Attachment], tuple[str, str, int, str]]:
        return (Attachment, (self.filename, self.content_type, self.size, self.sha256))


@dataclass(slots=True)
class ParsedMessage:
    """Everything the pipeline reads from one raw RFC 822 message.

    Dates: `sent_at` is always set and timezone-aware in UTC. `sent_at_offset_minutes` is the
    offset the sender wrote (``+0200`` -> 120), or None when it is unknown. `date_source` says
    where the date came from: ``header`` (the Date header), ``received`` (the newest Received
    header), ``internal`` (the date the source gave, such as the mbox From_ line or IMAP
    INTERNALDATE) or ``ingest`` (the time we read it). Anything but ``header`` is also listed in
    `problems`.

    Text: `body_text` is the whole readable body (text/plain preferred, else text/html turned
    into text). `new_text` is what this message adds: quoted replies, forwarded messages and
    the signature removed. `quoted_text` is what was cut as quotes, `signature` the signature
    block cut from the end of the new text ("" when none was found).

    `problems` lists machine-readable codes of everything that was wrong with the message
    (``missing_date``, ``bad_charset:x-unknown``, ...); parsing never raises.
    """

    rfc_message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    normalized_subject: str
    from_: Address | None
    sender: Address | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    sent_at: datetime
    sent_at_offset_minutes: int | None
    date_source: str
    body_text: str
    body_html: bool
    new_text: str
    quoted_text: str
    signature: str
    attachments: list[Attachment]
    headers: dict[str, str]
    size: int
    problems: list[str] = field(default_factory=list)

    def __reduce__(self) -> tuple[type[ParsedMessage], tuple[Any, ...]]:
        # By constructor call with the field values in order: no per-object state dict to build
        # and read back, which the default pickling of a class with slots does.
        return (ParsedMessage, _field_values(self))


# All fields of a ParsedMessage as one tuple, in declaration (= __init__) order.
_field_values = attrgetter(*(f.name for f in fields(ParsedMessage)))
