"""What every source yields: raw messages in batches, each batch with the cursor it reaches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = ["Batch", "BatchBuilder", "MailSource", "RawMessage", "SourceState"]

# A batch is flushed at this many bytes even when it has fewer messages than asked for, so
# memory stays bounded with large messages.
MAX_BATCH_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as the source gave it, and where it was."""

    data: bytes
    folder: str
    folder_role: str
    location: str  # unique within (source, folder): file offset, maildir key, path, UID, UIDL
    internal_date: datetime | None = None
    provider_message_id: str | None = None
    provider_thread_id: str | None = None


@dataclass
class Batch:
    """Messages plus the cursor values (scope -> JSON value) that are true once they are stored."""

    messages: list[RawMessage]
    cursors: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceState:
    """What the store knows about a source at the start of a sync.

    `cursors` are the values committed by earlier runs; `known_locations(folder)` returns the
    locations already stored for a folder (the cursor of sources without order, such as
    maildir, a directory of .eml files, or POP3 UIDLs).
    """

    cursors: dict[str, Any]
    known_locations: Callable[[str], set[str]]


class MailSource(Protocol):
    name: str

    def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        """Yield batches of messages not yet stored, in an order the cursors can follow."""
        ...


class BatchBuilder:
    """Collects messages and says when a batch is full (by count or by bytes)."""

    def __init__(self, batch_size: int, max_bytes: int = MAX_BATCH_BYTES) -> None:
        self.batch_size = batch_size
        self.max_bytes = max_bytes
        self.messages: list[RawMessage] = []
        self.bytes = 0

    def add(self, message: RawMessage) -> bool:
        """Add a message; True when the batch should be flushed now."""
        self.messages.append(message)
        self.bytes += len(message.data)
        return len(self.messages) >= self.batch_size or self.bytes >= self.max_bytes

    def take(self, cursors: dict[str, Any] | None = None) -> Batch:
        batch = Batch(self.messages, dict(cursors or {}))
        self.messages = []
        self.bytes = 0
        return batch
