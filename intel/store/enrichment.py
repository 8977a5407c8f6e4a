"""Writes of the signature / activity stage: extractions, contact_fields, contacts, activities.

Incremental: `pending_messages` returns only messages that the current extractor versions have
not processed (a version change makes every message pending again, so re-enrichment after a
model upgrade is one run). A batch's rows replace whatever an older version wrote for the same
messages, in one transaction, in bulk through Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa

from intel.store.db import Store

__all__ = [
    "ActivityRow",
    "ContactFieldRow",
    "MessageResult",
    "PendingMessage",
    "count_pending",
    "pending_messages",
    "rebuild_contacts",
    "refresh_thread_ids",
    "write_results",
]

_TS = pa.timestamp("us", tz="UTC")
_PHONE = pa.struct([("number", pa.string()), ("type", pa.string())])


@dataclass(frozen=True)
class PendingMessage:
    message_key: str
    body_text: str
    from_address: str | None
    from_name: str | None
    sent_at: datetime  # aware, in the sender's offset when known (else UTC)
    recipients: tuple[str, ...]
    thread_id: str | None


@dataclass(frozen=True)
class ContactFieldRow:
    field: str
    value: str
    detail: str | None
    confidence: float


@dataclass(frozen=True)
class ActivityRow:
    type: str
    status: str
    text: str
    time_text: str | None
    start: str | None
    end: str | None
    due: str | None
    participants: list[str]
    confidence: float


@dataclass
class MessageResult:
    """What the extractors found in one message."""

    message: PendingMessage
    signature: str | None = None
    signature_confidence: float | None = None
    fields: list[ContactFieldRow] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)


_PENDING_SQL = """
FROM messages m
LEFT JOIN extractions s ON s.message_key = m.message_key AND s.extractor = 'signature'
LEFT JOIN extractions a ON a.message_key = m.message_key AND a.extractor = 'activity'
WHERE s.version IS DISTINCT FROM ? OR a.version IS DISTINCT FROM ?
"""


def count_pending(store: Store, signature_version: str, activity_version: str) -> int:
    row = store.con.execute("SELECT count(*) " + _PENDING_SQL, [signature_version, activity_version]).fetchone()
    return int(row[0]) if row else 0


def pending_messages(store: Store, signature_version: str, activity_version: str, limit: int) -> list[PendingMessage]:
    """Up to `limit` messages not yet processed by these versions, oldest first."""
    rows = store.con.execute(
        "SELECT m.message_key, m.body_text, m.from_address, m.from_name,"
        " epoch_us(m.sent_at), m.sent_at_offset_minutes, m.to_addresses, m.cc_addresses, m.thread_id "
        + _PENDING_SQL
        + " ORDER BY m.sent_at, m.message_key LIMIT ?",
        [signature_version, activity_version, limit],
    ).fetchall()
    out = []
    for key, body, address, name, micros, offset, to, cc, thread in rows:
        utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        sent = utc.astimezone(timezone(timedelta(minutes=offset))) if offset is not None else utc
        out.append(PendingMessage(key, body or "", address, name, sent, tuple([*(to or []), *(cc or [])]), thread))
    return out


def _parse_time(value: str | None) -> tuple[datetime | None, date | None]:
    """(instant, local date) of an ISO date or datetime string."""
    if not value:
        return None, None
    if "T" not in value:
        return None, date.fromisoformat(value)
    dt = datetime.fromisoformat(value)
    return (dt.astimezone(UTC) if dt.tzinfo is not None else None), dt.date()


def write_results(
    store: Store,
    load_id: int,
    results: Sequence[MessageResult],
    signature_version: str,
    activity_version: str,
) -> None:
    """Replace the rows of these messages with `results`, and record them as processed."""
    now = datetime.now(UTC)
    keys = [r.message.message_key for r in results]
    fields: dict[str, list[Any]] = {
        n: [] for n in ("address", "field", "value", "detail", "confidence", "message_key", "sent_at")
    }
    acts: dict[str, list[Any]] = {
        n: []
        for n in (
            "activity_id", "message_key", "position", "thread_id", "type", "status", "text", "time_text",
            "start_at", "end_at", "start_date", "due_at", "due_date", "start_text", "end_text", "due_text",
            "participants", "confidence", "sent_at", "from_address",
        )
    }  # fmt: skip
    ext: dict[str, list[Any]] = {n: [] for n in ("message_key", "extractor", "version", "found")}
    for r in results:
        m = r.message
        sent_utc = m.sent_at.astimezone(UTC)
        if m.from_address:
            for f in r.fields:
                fields["address"].append(m.from_address)
                fields["field"].append(f.field)
                fields["value"].append(f.value)
                fields["detail"].append(f.detail)
                fields["confidence"].append(f.confidence)
                fields["message_key"].append(m.message_key)
                fields["sent_at"].append(sent_utc)
            if r.signature is not None:
                fields["address"].append(m.from_address)
                fields["field"].append("signature")
                fields["value"].append(r.signature)
                fields["detail"].append(None)
                fields["confidence"].append(r.signature_confidence or 0.0)
                fields["message_key"].append(m.message_key)
                fields["sent_at"].append(sent_utc)
        for position, a in enumerate(r.activities):
            start_at, start_date = _parse_time(a.start)
            end_at, _ = _parse_time(a.end)
            due_at, due_date = _parse_time(a.due)
            acts["activity_id"].append(f"{m.message_key}:{position}")
            acts["message_key"].append(m.message_key)
            acts["position"].append(position)
            acts["thread_id"].append(m.thread_id)
            acts["type"].append(a.type)
            acts["status"].append(a.status)
            acts["text"].append(a.text)
            acts["time_text"].append(a.time_text)
            acts["start_at"].append(start_at)
            acts["end_at"].append(end_at)
            acts["start_date"].append(start_date)
            acts["due_at"].append(due_at)
            acts["due_date"].append(due_date)
            acts["start_text"].append(a.start)
            acts["end_text"].append(a.end)
            acts["due_text"].append(a.due)
            acts["participants"].append(a.participants)
            acts["confidence"].append(a.confidence)
            acts["sent_at"].append(sent_utc)
            acts["from_address"].append(m.from_address)
        ext["message_key"] += [m.message_key, m.message_key]
        ext["extractor"] += ["signature", "activity"]
        ext["version"] += [signature_version, activity_version]
        ext["found"] += [int(r.signature is not None), len(r.activities)]

    keys_table = pa.table({"message_key": pa.array(keys, pa.string())})
    fields_table = pa.table(
        {
            "address": pa.array(fields["address"], pa.string()),
            "field": pa.array(fields["field"], pa.string()),
            "value": pa.array(fields["value"], pa.string()),
            "detail": pa.array(fields["detail"], pa.string()),
            "confidence": pa.array(fields["confidence"], pa.float64()),
            "message_key": pa.array(fields["message_key"], pa.string()),
            "sent_at": pa.array(fields["sent_at"], _TS),
        }
    )
    acts_table = pa.table(
        {
            "activity_id": pa.array(acts["activity_id"], pa.string()),
            "message_key": pa.array(acts["message_key"], pa.string()),
            "position": pa.array(acts["position"], pa.int32()),
            "thread_id": pa.array(acts["thread_id"], pa.string()),
            "type": pa.array(acts["type"], pa.string()),
            "status": pa.array(acts["status"], pa.string()),
            "text": pa.array(acts["text"], pa.string()),
            "time_text": pa.array(acts["time_text"], pa.string()),
            "start_at": pa.array(acts["start_at"], _TS),
            "end_at": pa.array(acts["end_at"], _TS),
            "start_date": pa.array(acts["start_date"], pa.date32()),
            "due_at": pa.array(acts["due_at"], _TS),
            "due_date": pa.array(acts["due_date"], pa.date32()),
            "start_text": pa.array(acts["start_text"], pa.string()),
            "end_text": pa.array(acts["end_text"], pa.string()),
            "due_text": pa.array(acts["due_text"], pa.string()),
            "participants": pa.array(acts["participants"], pa.list_(pa.string())),
            "confidence": pa.array(acts["confidence"], pa.float64()),
            "sent_at": pa.array(acts["sent_at"], _TS),
            "from_address": pa.array(acts["from_address"], pa.string()),
        }
    )
    ext_table = pa.table(
        {
            "message_key": pa.array(ext["message_key"], pa.string()),
            "extractor": pa.array(ext["extractor"], pa.string()),
            "version": pa.array(ext["version"], pa.string()),
            "found": pa.array(ext["found"], pa.int32()),
        }
    )
    tables = {"_keys": keys_table, "_fields": fields_table, "_acts": acts_table, "_ext": ext_table}
    with store.transaction(tables) as con:
        con.execute("DELETE FROM contact_fields WHERE message_key IN (SELECT message_key FROM _keys)")
        con.execute("DELETE FROM activities WHERE message_key IN (SELECT message_key FROM _keys)")
        con.execute("DELETE FROM extractions WHERE message_key IN (SELECT message_key FROM _keys)")
        con.execute(
            "INSERT INTO contact_fields SELECT address, field, value, detail, confidence, message_key, sent_at, ?, ?"
            " FROM _fields",
            [signature_version, load_id],
        )
        con.execute(
            "INSERT INTO activities SELECT activity_id, message_key, position, thread_id, type, status, text,"
            " time_text, start_at, end_at, start_date, due_at, due_date, start_text, end_text, due_text,"
            " participants, confidence, sent_at, from_address, ?, ?, ? FROM _acts",
            [activity_version, load_id, now],
        )
        con.execute(
            "INSERT INTO extractions SELECT message_key, extractor, version, found, ?, ? FROM _ext", [load_id, now]
        )


_REBUILD_SQL = """
WITH
f AS (SELECT * FROM contact_fields WHERE address IN (SELECT address FROM _addresses)),
scalar AS (
    -- newest value per field; for names a full name (two words or more) beats a first name
    SELECT address, field, value, confidence, message_key FROM (
        SELECT *, row_number() OVER (
            PARTITION BY address, field
            ORDER BY CASE WHEN field = 'name' AND value LIKE '% %' THEN 0 ELSE 1 END, sent_at DESC, confidence DESC
        ) AS rank
        FROM f WHERE field IN ('name', 'title', 'company', 'postal_address', 'signature')
    ) WHERE rank = 1
),
newest_list AS (
    SELECT address, field, max(sent_at) AS sent_at FROM f
    WHERE field IN ('phone', 'email', 'website', 'social') GROUP BY ALL
),
lists AS (
    SELECT f.address, f.field,
           list(f.value ORDER BY f.value) AS vals,
           list({'number': f.value, 'type': f.detail} ORDER BY f.value) AS phone_vals
    FROM f JOIN newest_list n USING (address, field, sent_at)
    GROUP BY ALL
),
senders AS (
    SELECT m.from_address AS address,
           arg_max(m.from_name, m.sent_at) AS header_name,
           min(m.sent_at) AS first_seen_at,
           max(m.sent_at) AS last_seen_at,
           count(*) AS messages,
           count(*) FILTER (WHERE e.found > 0) AS messages_with_signature,
           any_value(m.from_domain) AS domain
    FROM messages m JOIN extractions e ON e.message_key = m.message_key AND e.extractor = 'signature'
    WHERE m.from_address IN (SELECT address FROM _addresses)
    GROUP BY m.from_address
),
ours AS (
    SELECT address, bool_or(is_identity) AS is_identity FROM message_addresses
    WHERE role = 'from' AND address IN (SELECT address FROM _addresses) GROUP BY address
)
SELECT
    s.address, s.domain, coalesce(o.is_identity, false),
    coalesce(n.value, nullif(s.header_name, '')),
    CASE WHEN n.value IS NOT NULL THEN 'signature' WHEN nullif(s.header_name, '') IS NOT NULL THEN 'header' END,
    t.value, c.value,
    coalesce(p.phone_vals, []), coalesce(e.vals, []), coalesce(w.vals, []), a.value, coalesce(so.vals, []),
    sig.value, sig.confidence,
    s.messages, s.messages_with_signature, s.first_seen_at, s.last_seen_at, sig.message_key,
    ?, ?, ?
FROM senders s
LEFT JOIN ours o USING (address)
LEFT JOIN scalar n ON n.address = s.address AND n.field = 'name'
LEFT JOIN scalar t ON t.address = s.address AND t.field = 'title'
LEFT JOIN scalar c ON c.address = s.address AND c.field = 'company'
LEFT JOIN scalar a ON a.address = s.address AND a.field = 'postal_address'
LEFT JOIN scalar sig ON sig.address = s.address AND sig.field = 'signature'
LEFT JOIN lists p ON p.address = s.address AND p.field = 'phone'
LEFT JOIN lists e ON e.address = s.address AND e.field = 'email'
LEFT JOIN lists w ON w.address = s.address AND w.field = 'website'
LEFT JOIN lists so ON so.address = s.address AND so.field = 'social'
"""


def rebuild_contacts(store: Store, addresses: Sequence[str], load_id: int, model_version: str) -> int:
    """Recompute the `contacts` rows of `addresses` from their whole history; returns rows written."""
    if not addresses:
        return 0
    addresses_table = pa.table({"address": pa.array(sorted(set(addresses)), pa.string())})
    with store.transaction({"_addresses": addresses_table}) as con:
        con.execute("DELETE FROM contacts WHERE address IN (SELECT address FROM _addresses)")
        con.execute("INSERT INTO contacts " + _REBUILD_SQL, [model_version, load_id, datetime.now(UTC)])
        row = con.execute("SELECT count(*) FROM contacts WHERE address IN (SELECT address FROM _addresses)").fetchone()
    return int(row[0]) if row else 0


def refresh_thread_ids(store: Store) -> int:
    """Threading may regroup messages after extraction: keep activities.thread_id in step."""
    rows = store.con.execute(
        "UPDATE activities SET thread_id = m.thread_id FROM messages m"
        " WHERE activities.message_key = m.message_key AND activities.thread_id IS DISTINCT FROM m.thread_id"
        " RETURNING activity_id"
    ).fetchall()
    return len(rows)
