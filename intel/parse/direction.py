"""Direction of a message relative to the mailbox owner, from the `[identity]` patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import translate

__all__ = ["Identity", "classify_direction"]


class Identity:
    """The addresses that are "us": exact addresses or shell-style patterns (``*@example.com``)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.strip().lower() for p in patterns if p.strip())
        self._exact = frozenset(p for p in self.patterns if not any(c in p for c in "*?["))
        globs = [p for p in self.patterns if p not in self._exact]
        # One compiled pattern for all globs: this runs for every address of every message.
        self._glob = re.compile("|".join(f"(?:{translate(g)})" for g in globs)) if globs else None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, address: str | None) -> bool:
        if not address:
            return False
        address = address.lower()
        return address in self._exact or (self._glob is not None and self._glob.match(address) is not None)


def classify_direction(sender: str | None, recipients: Sequence[str], identity: Identity, folder_role: str) -> str:
    """``inbound``, ``outbound`` or ``internal``.

    With identity patterns: mail from us to anyone outside is outbound, mail from us only to us
    (or to nobody) is internal, everything else is inbound. With no identity configured, the
    folder decides: mail in sent, drafts or outbox folders is outbound, the rest inbound.
    """
    if not identity:
        return "outbound" if folder_role in ("sent", "drafts") else "inbound"
    if not identity.matches(sender):
        return "inbound"
    if any(not identity.matches(r) for r in recipients):
        return "outbound"
    return "internal"
