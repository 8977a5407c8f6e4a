"""Threading's loop checks: same threads as the plain parent-walking JWZ, at any depth.

`reference_threads` is the threading as it was before roots were cached: it walks parent links
for every loop check, which is quadratic on long References chains but easy to trust. The
cached version must agree with it on any input, loops and duplicates included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intel.parse.headers import normalize_subject
from intel.parse.threading import _REPLY_PREFIX, ThreadAssignment, ThreadInput, _thread_id, assign_threads

# A linking bug that closes a loop makes the root walk spin forever: fail instead of hanging.
pytestmark = pytest.mark.timeout(120)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class _Node:
    def __init__(self, node_id: str) -> None:
        self.id = node_id
        self.key: str | None = None
        self.parent: _Node | None = None

    def is_ancestor_of(self, other: _Node) -> bool:
        node: _Node | None = other
        while node is not None:
            if node is self:
                return True
            node = node.parent
        return False

    def root(self) -> _Node:
        node = self
        while node.parent is not None:
            node = node.parent
        return node


def reference_threads(messages: list[ThreadInput]) -> dict[str, ThreadAssignment]:
    items = sorted(messages, key=lambda m: (m.sent_at, m.key))
    nodes: dict[str, _Node] = {}
    own: dict[str, _Node] = {}
    duplicates: dict[str, _Node] = {}

    def node_for(node_id: str) -> _Node:
        return nodes.setdefault(node_id, _Node(node_id))

    for item in items:
        msg_id = item.message_id or f"<no-id:{item.key}>"
        c = node_for(msg_id)
        if c.key is not None:
            duplicates[item.key] = c
            continue
        c.key = item.key
        own[item.key] = c
        refs = list(item.references)
        if item.in_reply_to and (not refs or refs[-1] != item.in_reply_to):
            refs.append(item.in_reply_to)
        previous: _Node | None = None
        for ref in (r for r in refs if r != msg_id):
            node = node_for(ref)
            if previous is not None and node.parent is None and not node.is_ancestor_of(previous):
                node.parent = previous
            previous = node
        if previous is not None and not c.is_ancestor_of(previous):
            c.parent = previous
        elif previous is None:
            c.parent = None

    latest: dict[str, _Node] = {}
    for item in items:
        current = own.get(item.key)
        if current is None or not item.normalized_subject:
            continue
        target = latest.get(item.normalized_subject)
        if (
            not (item.references or item.in_reply_to)
            and current.parent is None
            and target is not None
            and _REPLY_PREFIX.match(item.subject)
            and not current.is_ancestor_of(target)
        ):
            current.parent = target
        latest[item.normalized_subject] = current

    result: dict[str, ThreadAssignment] = {}
    for key, c in own.items():
        parent = c.parent
        while parent is not None and parent.key is None:
            parent = parent.parent
        result[key] = ThreadAssignment(_thread_id(c.root().id), parent.key if parent else None, c.root().id)
    for key, c in duplicates.items():
        result[key] = ThreadAssignment(_thread_id(c.root().id), c.key, c.root().id)
    return result


def message(
    key: str, message_id: str | None, refs: tuple[str, ...], reply_to: str | None, subject: str, minutes: int
) -> ThreadInput:
    return ThreadInput(
        key, message_id, reply_to, refs, subject, normalize_subject(subject), T0 + timedelta(minutes=minutes)
    )


@st.composite
def tangled_mail(draw: st.DrawFn) -> list[ThreadInput]:
    """Few ids, many messages: shared, repeated, self-referencing and looping References."""
    ids = [f"<{i}@x>" for i in range(draw(st.integers(1, 12)))]
    an_id = st.sampled_from(ids)
    return [
        message(
            f"k{n}",
            draw(st.one_of(st.none(), an_id)),
            tuple(draw(st.lists(an_id, max_size=8))),
            draw(st.one_of(st.none(), an_id)),
            draw(st.sampled_from(["Plan", "Re: Plan", "AW: plan", "Other", "Fwd: Other", ""])),
            draw(st.integers(0, 6)),  # ties are common: the key breaks them
        )
        for n in range(draw(st.integers(1, 25)))
    ]


@settings(max_examples=400, deadline=None)
@given(tangled_mail())
def test_same_threads_as_walking_the_parent_links(items: list[ThreadInput]) -> None:
    assert assign_threads(items) == reference_threads(items)


def test_reversed_and_shuffled_chains_of_one_thread_agree() -> None:
    chain = tuple(f"<r{i}@x>" for i in range(300))
    items = [
        message("a", "<a@x>", chain, None, "s", 0),
        message("b", "<b@x>", chain[::-1], None, "s", 1),  # every reference already has a parent
        message("c", "<r150@x>", chain[200:], "<r10@x>", "s", 2),  # claims a linked placeholder
        message("d", "<r20@x>", (), chain[-1], "s", 3),  # would close a loop: keeps its parent
        message("e", "<r0@x>", (), "<a@x>", "s", 4),  # the root re-parented below its own tree
    ]
    assert assign_threads(items) == reference_threads(items)


def test_a_chain_deeper_than_any_step_limit_cannot_loop() -> None:
    # The loop check once gave up after 100,000 steps and then linked anyway, closing a loop
    # that made finding the root spin forever.
    chain = tuple(f"<r{i}@x>" for i in range(120_000))
    found = assign_threads([message("a", "<a@x>", chain, None, "s", 0), message("b", "<r0@x>", (), chain[-1], "s", 1)])
    assert found["b"] == ThreadAssignment(_thread_id("<r0@x>"), None, "<r0@x>")
    assert found["a"].root_message_id == "<r0@x>"
    assert found["a"].parent_key == "b"  # past 119,999 empty containers
