"""The threading stage: assign thread ids and parents, mark duplicate Message-IDs, rebuild `threads`."""

from __future__ import annotations

import pyarrow as pa

from intel.parse.threading import ThreadInput, assign_threads
from intel.store.db import Store

__all__ = ["rebuild_threads", "threads_are_current"]


def threads_are_current(store: Store) -> bool:
    """True when no sync has stored new messages since the last threading run."""
    row = store.con.execute(
        "SELECT coalesce(max(load_id), 0) FROM loads WHERE stage = 'sync' AND messages_new > 0"
    ).fetchone()
    last_new = int(row[0]) if row else 0
    return store.last_load_id("thread") > last_new


def rebuild_threads(store: Store, load_id: int) -> dict[str, int]:
    """Thread every message (JWZ over the whole table) and rebuild the `threads` table.

    Returns counts: messages threaded, threads, rows whose thread or parent changed.
    """
    con = store.con
    rows = con.execute(
        "SELECT message_key, rfc_message_id, in_reply_to, reference_ids, subject, normalized_subject, sent_at"
        " FROM messages"
    ).fetchall()
    inputs = [
        ThreadInput(
            key=r[0],
            message_id=r[1],
            in_reply_to=r[2],
            references=tuple(r[3] or ()),
            subject=r[4],
            normalized_subject=r[5],
            sent_at=r[6],
        )
        for r in rows
    ]
    assigned = assign_threads(inputs)
    table = pa.table(
        {
            "message_key": list(assigned.keys()),
            "thread_id": [a.thread_id for a in assigned.values()],
            "parent_key": [a.parent_key for a in assigned.values()],
            "root_message_id": [a.root_message_id for a in assigned.values()],
        }
    )
    with store.transaction({"_threading": table}):
        changed_row = con.execute(
            "UPDATE messages AS m SET thread_id = t.thread_id, parent_key = t.parent_key"
            " FROM _threading t WHERE m.message_key = t.message_key"
            " AND (m.thread_id IS DISTINCT FROM t.thread_id OR m.parent_key IS DISTINCT FROM t.parent_key)"
        ).fetchone()
        # The first stored message with a Message-ID is canonical; later ones with the same id point to it.
        con.execute(
            "UPDATE messages AS m SET duplicate_of = d.canonical FROM ("
            "  SELECT message_key, first_value(message_key) OVER ("
            "    PARTITION BY rfc_message_id ORDER BY ingested_at, load_id, message_key) AS canonical"
            "  FROM messages WHERE rfc_message_id IS NOT NULL) d"
            " WHERE m.message_key = d.message_key AND d.canonical <> d.message_key"
            " AND m.duplicate_of IS DISTINCT FROM d.canonical"
        )
        con.execute("DELETE FROM threads")
        con.execute(
            """
            INSERT INTO threads
            WITH t AS (SELECT DISTINCT thread_id, root_message_id FROM _threading),
            m AS (SELECT * FROM messages WHERE duplicate_of IS NULL AND thread_id IS NOT NULL),
            people AS (
                SELECT m.thread_id, list(DISTINCT a.address ORDER BY a.address) AS participants
                FROM m JOIN message_addresses a USING (message_key)
                WHERE a.role IN ('from', 'to', 'cc')
                GROUP BY m.thread_id
            )
            SELECT
                m.thread_id,
                any_value(t.root_message_id),
                arg_min(m.subject, (m.sent_at, m.message_key)),
                arg_min(m.message_key, (m.sent_at, m.message_key)),
                arg_max(m.message_key, (m.sent_at, m.message_key)),
                min(m.sent_at),
                max(m.sent_at),
                count(*),
                count(*) FILTER (WHERE m.direction = 'inbound'),
                count(*) FILTER (WHERE m.direction = 'outbound'),
                count(*) FILTER (WHERE m.direction = 'internal'),
                coalesce(any_value(p.participants), []),
                coalesce(len(any_value(p.participants)), 0),
                ?
            FROM m JOIN t USING (thread_id) LEFT JOIN people p USING (thread_id)
            GROUP BY m.thread_id
            """,
            [load_id],
        )
    thread_count = con.execute("SELECT count(*) FROM threads").fetchone()
    return {
        "messages": len(assigned),
        "threads": int(thread_count[0]) if thread_count else 0,
        "changed": int(changed_row[0]) if changed_row else 0,
    }
