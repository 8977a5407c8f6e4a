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
    __slots__ = ("hint", "hint_epoch", "id", "key", "parent", "sent_at")

    def __init__(self, container_id: str) -> None:
        self.id = container_id
        self.key: str | None = None
        self.parent: _Container | None = None
        self.sent_at: datetime | None = None
        # A shortcut to an ancestor, trusted only while `hint_epoch` is the forest's epoch.
        self.hint: _Container | None = None
        self.hint_epoch = -1


class _Forest:
    """The containers' parent links, with roots found in near-constant amortized time.

    Walking parent links to a root costs the depth of the tree, and one References header can
    build a chain 40,000 deep: checking for a loop that way at every link is quadratic. So each
    container may cache a shortcut to an ancestor (union-find with path compression). Links
    only ever hang a root under another node, which keeps every shortcut pointing at an
    ancestor; a message re-parenting its own container cuts a subtree loose, which can make
    shortcuts lie, so that starts a new epoch and all older shortcuts are ignored.
    """

    def __init__(self) -> None:
        self._epoch = 0
        self._containers: dict[str, _Container] = {}

    def container(self, container_id: str) -> _Container:
        """The container for `container_id`, created (as a root) on first use."""
        found = self._containers.get(container_id)
        if found is None:
            found = self._containers[container_id] = _Container(container_id)
        return found

    def root(self, node: _Container) -> _Container:
        epoch = self._epoch
        path: list[_Container] = []
        while True:
            up = node.hint if node.hint_epoch == epoch else node.parent
            if up is None:
                break
            path.append(node)
            if len(path) > len(self._containers):  # longer than the forest: the links loop
                raise RuntimeError(f"threading: the parent links of {node.id!r} form a loop")
            node = up
        for passed in path:
            passed.hint = node
            passed.hint_epoch = epoch
        return node

    def is_ancestor(self, node: _Container, other: _Container) -> bool:
        """Whether `node` is `other` or one of its ancestors."""
        if node.parent is None:
            return self.root(other) is node
        if self.root(node) is not self.root(other):
            return False
        # Same tree and `node` is not its root: only the real links tell. Threading asks this
        # once per message at most, for a container that an earlier message had already linked.
        walk: _Container | None = other
        while walk is not None and walk is not node:
            walk = walk.parent
        return walk is node

    def set_parent(self, node: _Container, parent: _Container | None) -> None:
        """Link `node` under `parent` (the caller has ruled out a loop); None makes it a root."""
        if node.parent is parent:
            return
        if node.parent is not None:
            self._epoch += 1  # a cut: shortcuts through `node` may now skip past its new parent
        node.parent = parent


def _thread_id(root_id: str) -> str:
    return hashlib.sha1(root_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def assign_threads(messages: Iterable[ThreadInput]) -> dict[str, ThreadAssignment]:
    """Thread every message; returns message key -> assignment."""
    items = sorted(messages, key=lambda m: (m.sent_at, m.key))
    forest = _Forest()
    container = forest.container
    own: dict[str, _Container] = {}  # message key -> its container
    duplicates: dict[str, _Container] = {}  # key of a message whose Message-ID was taken -> holder

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
        # Link the reference chain parent -> child, never overriding an existing link. A node
        # without a parent is a root, so it would close a loop only if it is `previous`'s root.
        previous: _Container | None = None
        for ref in refs:
            node = container(ref)
            if previous is not None and node.parent is None and forest.root(previous) is not node:
                forest.set_parent(node, previous)
            previous = node
        # The message's own parent is its last reference: this link wins over earlier guesses.
        if previous is None:
            forest.set_parent(c, None)
        elif c.parent is not previous and not forest.is_ancestor(c, previous):
            forest.set_parent(c, previous)

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
            and forest.root(target) is not current
        ):
            forest.set_parent(current, target)
        latest_by_subject[subject] = current

    # Nearest ancestor that is a message we have, shared along runs of empty containers so that
    # many replies under one deep chain of them do not each walk it.
    answered: dict[_Container, _Container | None] = {}

    def answers(c: _Container) -> _Container | None:
        run = [c]
        node = c.parent
        while node is not None and node.key is None and node not in answered:
            run.append(node)
            node = node.parent
        found = answered[node] if node is not None and node.key is None else node
        for passed in run:
            answered[passed] = found
        return found

    result: dict[str, ThreadAssignment] = {}
    for key, c in own.items():
        root = forest.root(c)
        parent = answers(c)
        result[key] = ThreadAssignment(_thread_id(root.id), parent.key if parent else None, root.id)
    for key, c in duplicates.items():
        root = forest.root(c)
        result[key] = ThreadAssignment(_thread_id(root.id), c.key, root.id)
    return result
