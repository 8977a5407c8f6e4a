"""Folder roles: what a folder is for, from IMAP SPECIAL-USE flags or its name."""

from __future__ import annotations

import re

__all__ = ["ROLES", "folder_role"]

ROLES = ("inbox", "sent", "drafts", "trash", "spam", "archive", "other")

_SPECIAL_USE = {
    "\\sent": "sent",
    "\\drafts": "drafts",
    "\\trash": "trash",
    "\\junk": "spam",
    "\\archive": "archive",
    "\\all": "archive",
}
# Leaf names in the languages and clients we meet most (Gmail, Outlook, Apple, Zoho, Dovecot).
_NAMES = {
    "sent": (
        "sent",
        "sent items",
        "sent mail",
        "sent messages",
        "sent-mail",
        "outbox",
        "gesendet",
        "gesendete elemente",
        "gesendete objekte",
        "envoyés",
        "éléments envoyés",
        "messages envoyés",
        "enviados",
        "elementos enviados",
        "posta inviata",
        "inviata",
        "verzonden items",
        "skickat",
        "sendt",
        "wysłane",
    ),
    "drafts": ("drafts", "draft", "entwürfe", "brouillons", "borradores", "bozze", "concepten", "utkast"),
    "trash": (
        "trash",
        "deleted items",
        "deleted messages",
        "deleted",
        "bin",
        "papierkorb",
        "gelöschte elemente",
        "corbeille",
        "éléments supprimés",
        "papelera",
        "cestino",
        "prullenbak",
        "papperskorg",
    ),
    "spam": ("spam", "junk", "junk e-mail", "junk email", "bulk mail", "junk-e-mail", "spam-verdacht", "indésirables"),
    "archive": ("archive", "archives", "all mail", "archiv", "archivo", "archivio"),
}
_BY_NAME = {name: role for role, names in _NAMES.items() for name in names}
_SEPARATORS = re.compile(r"[/.\\]")


def folder_role(name: str, flags: tuple[str, ...] | list[str] = (), overrides: dict[str, str] | None = None) -> str:
    """The role of a folder.

    Precedence: an explicit override for this folder name, then SPECIAL-USE flags (RFC 6154),
    then the folder's name (``INBOX`` is always the inbox; ``[Gmail]/Sent Mail``,
    ``INBOX.Sent`` and ``Sent Items`` are sent folders), else ``other``.
    """
    if overrides and name in overrides:
        return overrides[name]
    for flag in flags:
        role = _SPECIAL_USE.get(flag.lower())
        if role:
            return role
    if name.upper() == "INBOX":
        return "inbox"
    leaf = _SEPARATORS.split(name.strip())[-1].strip().lower()
    return _BY_NAME.get(leaf, "other")
