"""JWZ-style threading (https://www.jwz.org/doc/threading.html), pure and deterministic.

Messages are linked through Message-ID, In-Reply-To and References into a forest of
containers; a container can stand for a message we never saw (a reference to it is all we
have). Each message's thread is the root of its tree. The subject is used only for messages
that carry no references at all and whose subject says they are a reply or forward: such a
message joins the latest earlier thread with the same normalized subject.

Every message gets a `thread_id` (a hash of its root's Message-ID, so it is stable across
runs unless an older ancestor arrives later) and a `parent_key`: the key of the nearest
ancestor that is a message we have, which is what response-time metrics call "the message
this one answers".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ThreadAssignment", "ThreadInput", "assign_threads"]

# A reply or forward prefix, possibly after list tags such as "[users] Re: ...".
_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)*(?:re|aw|sv|vs|antw|ref|rif|r|res|fw|fwd|wg|tr|rv|enc)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ThreadInput:
    key: str  # the message's own key in the store (its sha256)
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    normalized_subject: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadAssignment:
    thread_id: str
    parent_key: str | None
    root_message_id: str


class _Container:
    __slots__ = ("id", "key", "parent", "sent_at")

    def __init__(self, container_id: str) -> None:
        self.id = container_id
        self.key: str | None = None
        self.parent: _Container | None = None
        self.sent_at: datetime | None = None

    def is_ancestor_of(self, other: _Container) -> bool:
        node: _Container | None = other
        steps = 0
        while node is not None and steps < 100_000:
            if node is self:
                return True
            node = node.parent
            steps += 1
        return False

    def root(self) -> _Container:
        node = self
        while node.parent is not None:
            node = node.parent
        return node


def _thread_id(root_id: str) -> str:
    return hashlib.sha1(root_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def assign_threads(messages: Iterable[ThreadInput]) -> dict[str, ThreadAssignment]:
    """Thread every message; returns message key -> assignment."""
    items = sorted(messages, key=lambda m: (m.sent_at, m.key))
    containers: dict[str, _Container] = {}
    own: dict[str, _Container] = {}  # message key -> its container
    duplicates: dict[str, _Container] = {}  # key of a message whose Message-ID was taken -> holder

    def container(container_id: str) -> _Container:
        found = containers.get(container_id)
        if found is None:
            found = containers[container_id] = _Container(container_id)
        return found

    for item in items:
        msg_id = item.message_id or f"<no-id:{item.key}>"
        c = container(msg_id)
        if c.key is not None:
            # Same Message-ID, different bytes: threaded exactly like the first one.
            duplicates[item.key] = c
            continue
        c.key = item.key
        c.sent_at = item.sent_at
        own[item.key] = c

        refs = list(item.references)
        if item.in_reply_to and (not refs or refs[-1] != item.in_reply_to):
            refs.append(item.in_reply_to)
        refs = [r for r in refs if r != msg_id]
        # Link the reference chain parent -> child, never overriding an existing link.
        previous: _Container | None = None
        for ref in refs:
            node = container(ref)
            if (
                previous is not None
                and node.parent is None
                and node is not previous
                and not node.is_ancestor_of(previous)
            ):
                node.parent = previous
            previous = node
        # The message's own parent is its last reference: this link wins over earlier guesses.
        if previous is not None and not c.is_ancestor_of(previous):
            c.parent = previous
        elif previous is None:
            c.parent = None

    # Subject fallback for reference-less replies: hang them under the latest earlier message
    # with the same normalized subject.
    latest_by_subject: dict[str, _Container] = {}
    for item in items:
        current = own.get(item.key)
        if current is None:
            continue
        subject = item.normalized_subject
        if not subject:
            continue
        has_refs = bool(item.references or item.in_reply_to)
        target = latest_by_subject.get(subject)
        if (
            not has_refs
            and current.parent is None
            and target is not None
            and _REPLY_PREFIX.match(item.subject)
            and not current.is_ancestor_of(target)
        ):
            current.parent = target
        latest_by_subject[subject] = current

    result: dict[str, ThreadAssignment] = {}
    for key, c in own.items():
        root = c.root()
        parent = c.parent
        while parent is not None and parent.key is None:
            parent = parent.parent
        result[key] = ThreadAssignment(_thread_id(root.id), parent.key if parent else None, root.id)
    for key, c in duplicates.items():
        root = c.root()
        result[key] = ThreadAssignment(_thread_id(root.id), c.key, root.id)
    return result
