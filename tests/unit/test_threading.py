"""JWZ threading: references, missing parents, loops, subject fallback, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from intel.parse.headers import normalize_subject
from intel.parse.threading import ThreadInput, assign_threads

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def msg(
    key: str,
    message_id: str | None,
    *,
    refs: tuple[str, ...] = (),
    reply_to: str | None = None,
    subject: str = "Hello",
    minutes: int = 0,
) -> ThreadInput:
    return ThreadInput(
        key=key,
        message_id=message_id,
        in_reply_to=reply_to,
        references=refs,
        subject=subject,
        normalized_subject=normalize_subject(subject),
        sent_at=T0 + timedelta(minutes=minutes),
    )


def threads_of(result: dict, *keys: str) -> set[str]:
    return {result[k].thread_id for k in keys}


def test_reply_chain_is_one_thread_with_parents() -> None:
    result = assign_threads(
        [
            msg("a", "<a@x>"),
            msg("b", "<b@x>", refs=("<a@x>",), reply_to="<a@x>", subject="Re: Hello", minutes=5),
            msg("c", "<c@x>", refs=("<a@x>", "<b@x>"), reply_to="<b@x>", subject="Re: Hello", minutes=9),
        ]
    )
    assert len(threads_of(result, "a", "b", "c")) == 1
    assert result["a"].parent_key is None
    assert result["b"].parent_key == "a"
    assert result["c"].parent_key == "b"
    assert result["c"].root_message_id == "<a@x>"


def test_missing_parent_still_joins_siblings() -> None:
    # Both replies reference a message we never received: they share its (empty) container.
    result = assign_threads(
        [
            msg("b", "<b@x>", refs=("<lost@x>",), subject="Re: Plan"),
            msg("c", "<c@x>", refs=("<lost@x>",), subject="Re: Plan", minutes=1),
        ]
    )
    assert len(threads_of(result, "b", "c")) == 1
    assert result["b"].parent_key is None and result["c"].parent_key is None


def test_in_reply_to_alone_is_enough() -> None:
    result = assign_threads([msg("a", "<a@x>"), msg("b", "<b@x>", reply_to="<a@x>", minutes=3)])
    assert result["b"].parent_key == "a"
    assert len(threads_of(result, "a", "b")) == 1


def test_out_of_order_arrival_gives_the_same_threads() -> None:
    items = [
        msg("a", "<a@x>"),
        msg("b", "<b@x>", refs=("<a@x>",), minutes=5),
        msg("c", "<c@x>", refs=("<a@x>", "<b@x>"), minutes=9),
        msg("z", "<z@x>", subject="Other", minutes=2),
    ]
    forward = assign_threads(items)
    backward = assign_threads(list(reversed(items)))
    assert forward == backward


def test_reference_loop_does_not_hang_or_merge_wrongly() -> None:
    result = assign_threads(
        [
            msg("a", "<a@x>", refs=("<b@x>",)),
            msg("b", "<b@x>", refs=("<a@x>",), minutes=1),
        ]
    )
    assert set(result) == {"a", "b"}


def test_subject_fallback_only_for_reference_less_replies() -> None:
    result = assign_threads(
        [
            msg("a", "<a@x>", subject="Invoice 42"),
            msg("b", "<b@x>", subject="RE: Invoice 42", minutes=60),  # client dropped References
            msg("c", "<c@x>", subject="Invoice 42", minutes=120),  # new message, same subject: new thread
            msg("d", "<d@x>", subject="AW: invoice 42", minutes=180),  # joins the latest earlier one
        ]
    )
    assert result["b"].thread_id == result["a"].thread_id
    assert result["b"].parent_key == "a"
    assert result["c"].thread_id != result["a"].thread_id
    assert result["d"].thread_id == result["c"].thread_id


def test_replies_with_references_never_use_the_subject() -> None:
    result = assign_threads(
        [
            msg("a", "<a@x>", subject="Status"),
            msg("b", "<b@x>", refs=("<other@x>",), subject="Re: Status", minutes=1),
        ]
    )
    assert result["a"].thread_id != result["b"].thread_id


def test_same_message_id_different_bytes_share_the_thread() -> None:
    result = assign_threads(
        [
            msg("a", "<a@x>"),
            msg("a2", "<a@x>", minutes=1),
            msg("b", "<b@x>", refs=("<a@x>",), minutes=2),
        ]
    )
    assert len(threads_of(result, "a", "a2", "b")) == 1
    assert result["a2"].parent_key == "a"


def test_messages_without_message_id_are_their_own_threads() -> None:
    result = assign_threads([msg("a", None, subject="x"), msg("b", None, subject="y")])
    assert result["a"].thread_id != result["b"].thread_id


@st.composite
def reply_forests(draw: st.DrawFn) -> list[ThreadInput]:
    """Random reply trees: each message answers an earlier one (or none), headers in varied styles."""
    count = draw(st.integers(1, 60))
    items: list[ThreadInput] = []
    chains: list[tuple[str, ...]] = []
    for n in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, n - 1))) if n else None
        chain: tuple[str, ...] = () if parent is None else (*chains[parent], f"<{parent}@x>")
        chains.append(chain)
        style = draw(st.sampled_from(["full", "in-reply-to", "last-ref", "truncated"]))
        refs = {"full": chain, "in-reply-to": (), "last-ref": chain[-1:], "truncated": chain[-2:]}[style]
        reply_to = chain[-1] if chain and style != "last-ref" else None
        items.append(msg(f"k{n}", f"<{n}@x>", refs=refs, reply_to=reply_to, subject=f"S{n}", minutes=n))
    # Some messages never arrive (their replies still thread through the gap), arrival order is random.
    missing = draw(st.sets(st.integers(0, count - 1), max_size=count // 3))
    kept = [item for n, item in enumerate(items) if n not in missing]
    return draw(st.permutations(kept))


@settings(max_examples=200, deadline=None)
@given(reply_forests())
def test_every_reply_lands_in_its_parents_thread(items: list[ThreadInput]) -> None:
    result = assign_threads(items)
    by_id = {item.message_id: item.key for item in items}
    for item in items:
        parent_id = item.in_reply_to or (item.references[-1] if item.references else None)
        if parent_id in by_id:
            assert result[item.key].thread_id == result[by_id[parent_id]].thread_id
            assert result[item.key].parent_key == by_id[parent_id]
    assert assign_threads(list(reversed(items))) == result
