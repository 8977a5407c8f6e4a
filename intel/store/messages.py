"""Writing messages: raw bytes, parsed rows, addresses, locations and cursors, in bulk.

A batch is written in one transaction together with the cursor values it reaches, so a crash
at any point resumes without loss or duplicates. Rows go in as Arrow tables, never one by one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from intel.parse import PARSER_VERSION, Identity, ParsedMessage
from intel.parse.model import Address
from intel.sources.base import RawMessage
from intel.store.db import Store

__all__ = [
    "StoredMessage",
    "existing_keys",
    "known_locations",
    "mark_missing_locations",
    "source_cursors",
    "write_batch",
]

_ATTACHMENT = pa.struct(
    [("filename", pa.string()), ("content_type", pa.string()), ("size", pa.int64()), ("sha256", pa.string())]
)
_STRINGS = pa.list_(pa.string())
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A raw message with its key, and its parse when it is new to the store."""

    key: str
    raw: RawMessage
    parsed: ParsedMessage | None
    direction: str | None


def existing_keys(store: Store, keys: Sequence[str]) -> set[str]:
    """The subset of `keys` already in raw_messages."""
    if not keys:
        return set()
    probe = pa.table({"sha256": pa.array(list(keys), pa.string())})
    store.con.register("_probe_keys", probe)
    try:
        rows = store.con.execute("SELECT p.sha256 FROM _probe_keys p JOIN raw_messages r USING (sha256)").fetchall()
    finally:
        store.con.unregister("_probe_keys")
    return {row[0] for row in rows}


def known_locations(store: Store, source: str, folder: str) -> set[str]:
    rows = store.con.execute(
        "SELECT location FROM message_locations WHERE source = ? AND folder = ?", [source, folder]
    ).fetchall()
    return {row[0] for row in rows}


def source_cursors(store: Store, source: str) -> dict[str, Any]:
    rows = store.con.execute("SELECT scope, value FROM source_cursors WHERE source = ?", [source]).fetchall()
    return {scope: json.loads(value) for scope, value in rows}


def _addresses(values: list[Address]) -> list[str]:
    return [a.address for a in values]


def _message_columns(items: list[StoredMessage], source: str, load_id: int, now: datetime) -> pa.Table:
    # Column by column (one comprehension each) rather than row by row: a batch has a thousand
    # rows and thirty-odd columns, and this runs in the importer's one process.
    parsed: list[ParsedMessage] = []
    for item in items:
        assert item.parsed is not None and item.direction is not None
        parsed.append(item.parsed)
    authors = [p.from_ or p.sender for p in parsed]
    n = len(items)
    cols: dict[str, Any] = {
        "message_key": [i.key for i in items],
        "source": [source] * n,
        "folder": [i.raw.folder for i in items],
        "folder_role": [i.raw.folder_role for i in items],
        "rfc_message_id": [p.rfc_message_id for p in parsed],
        "in_reply_to": [p.in_reply_to for p in parsed],
        "reference_ids": [p.references for p in parsed],
        "subject": [p.subject for p in parsed],
        "normalized_subject": [p.normalized_subject for p in parsed],
        "sent_at": [p.sent_at for p in parsed],
        "sent_at_offset_minutes": [p.sent_at_offset_minutes for p in parsed],
        "date_source": [p.date_source for p in parsed],
        "from_address": [a.address if a else None for a in authors],
        "from_name": [a.name if a else None for a in authors],
        "from_domain": [a.domain if a else None for a in authors],
        "to_addresses": [_addresses(p.to) for p in parsed],
        "cc_addresses": [_addresses(p.cc) for p in parsed],
        "bcc_addresses": [_addresses(p.bcc) for p in parsed],
        "reply_to_addresses": [_addresses(p.reply_to) for p in parsed],
        "direction": [i.direction for i in items],
        "body_text": [p.body_text for p in parsed],
        "body_html": [p.body_html for p in parsed],
        "new_text": [p.new_text for p in parsed],
        "signature": [p.signature for p in parsed],
        "attachments": [
            [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
                for a in p.attachments
            ]
            for p in parsed
        ],
        "attachment_count": [len(p.attachments) for p in parsed],
        "size_bytes": [p.size for p in parsed],
        "headers": [list(p.headers.items()) for p in parsed],
        "parse_problems": [p.problems for p in parsed],
        "parser_version": [PARSER_VERSION] * n,
        "load_id": [load_id] * n,
        "ingested_at": [now] * n,
    }
    return pa.table(cols, schema=_MESSAGE_SCHEMA)


_MESSAGE_SCHEMA = pa.schema(
    [
        ("message_key", pa.string()),
        ("source", pa.string()),
        ("folder", pa.string()),
        ("folder_role", pa.string()),
        ("rfc_message_id", pa.string()),
        ("in_reply_to", pa.string()),
        ("reference_ids", _STRINGS),
        ("subject", pa.string()),
        ("normalized_subject", pa.string()),
        ("sent_at", _TS),
        ("sent_at_offset_minutes", pa.int32()),
        ("date_source", pa.string()),
        ("from_address", pa.string()),
        ("from_name", pa.string()),
        ("from_domain", pa.string()),
        ("to_addresses", _STRINGS),
        ("cc_addresses", _STRINGS),
        ("bcc_addresses", _STRINGS),
        ("reply_to_addresses", _STRINGS),
        ("direction", pa.string()),
        ("body_text", pa.string()),
        ("body_html", pa.bool_()),
        ("new_text", pa.string()),
        ("signature", pa.string()),
        ("attachments", pa.list_(_ATTACHMENT)),
        ("attachment_count", pa.int32()),
        ("size_bytes", pa.int64()),
        ("headers", pa.map_(pa.string(), pa.string())),
        ("parse_problems", _STRINGS),
        ("parser_version", pa.string()),
        ("load_id", pa.int64()),
        ("ingested_at", _TS),
    ]
)
_MESSAGE_COLUMNS = ", ".join(_MESSAGE_SCHEMA.names)


def _address_columns(items: list[StoredMessage], identity: Identity) -> pa.Table:
    keys: list[str] = []
    roles: list[str] = []
    positions: list[int] = []
    addresses: list[str] = []
    names: list[str] = []
    domains: list[str] = []
    ours: list[bool] = []
    matched: dict[str, bool] = {}  # a batch names the same few correspondents over and over
    for item in items:
        p = item.parsed
        assert p is not None
        groups: list[tuple[str, list[Address]]] = [
            ("from", [p.from_] if p.from_ else []),
            ("sender", [p.sender] if p.sender else []),
            ("to", p.to),
            ("cc", p.cc),
            ("bcc", p.bcc),
            ("reply_to", p.reply_to),
        ]
        for role, values in groups:
            for position, address in enumerate(values):
                value = address.address
                keys.append(item.key)
                roles.append(role)
                positions.append(position)
                addresses.append(value)
                names.append(address.name)
                domains.append(address.domain)
                is_ours = matched.get(value)
                if is_ours is None:
                    is_ours = matched[value] = identity.matches(value)
                ours.append(is_ours)
    return pa.table(
        {
            "message_key": keys,
            "role": roles,
            "position": pa.array(positions, pa.int32()),
            "address": addresses,
            "name": names,
            "domain": domains,
            "is_identity": pa.array(ours, pa.bool_()),
        }
    )


def write_batch(
    store: Store,
    load_id: int,
    source: str,
    items: list[StoredMessage],
    cursors: dict[str, Any],
    identity: Identity,
    *,
    checked: bool = False,
) -> int:
    """Store one batch and its cursors atomically; returns how many messages were new.

    With `checked`, the caller guarantees that no parsed item is stored already (it asked
    `existing_keys` and keeps batches from overlapping), which saves a query per batch.

    Items whose `parsed` is None are already stored: only their location is recorded.
    """
    now = datetime.now(UTC)
    # Unless the caller checked: a batch prepared ahead may share messages with the one before.
    already = set() if checked else existing_keys(store, [i.key for i in items if i.parsed is not None])
    new_items: list[StoredMessage] = []
    seen: set[str] = set()
    for item in items:
        if item.parsed is not None and item.key not in seen and item.key not in already:
            seen.add(item.key)
            new_items.append(item)

    raw_table = pa.table(
        {
            "sha256": pa.array([i.key for i in new_items], pa.string()),
            "raw": pa.array([i.raw.data for i in new_items], pa.large_binary()),
            "size": pa.array([len(i.raw.data) for i in new_items], pa.int64()),
        }
    )
    locations = pa.table(
        {
            "source": pa.array([source] * len(items), pa.string()),
            "folder": [i.raw.folder for i in items],
            "location": [i.raw.location for i in items],
            "sha256": [i.key for i in items],
            "folder_role": [i.raw.folder_role for i in items],
            "internal_date": pa.array([i.raw.internal_date for i in items], _TS),
            "provider_message_id": pa.array([i.raw.provider_message_id for i in items], pa.string()),
            "provider_thread_id": pa.array([i.raw.provider_thread_id for i in items], pa.string()),
        }
    )
    message_table = _message_columns(new_items, source, load_id, now)
    address_table = _address_columns(new_items, identity)

    tables = {
        "_raw_batch": raw_table,
        "_msg_batch": message_table,
        "_addr_batch": address_table,
        "_loc_batch": locations,
    }
    with store.transaction(tables) as con:
        # A plain INSERT: every key in _raw_batch is new (checked above, or by the caller) and
        # unique. OR IGNORE would cost a conflict check per row, about as much as the insert
        # itself, and if the promise were ever broken a constraint error is what we want.
        con.execute(
            "INSERT INTO raw_messages (sha256, raw, size, load_id, stored_at)"
            " SELECT sha256, raw, size, ?, ? FROM _raw_batch",
            [load_id, now],
        )
        # _MESSAGE_COLUMNS is the constant column list of our own schema, never input.
        con.execute(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) SELECT {_MESSAGE_COLUMNS} FROM _msg_batch"  # noqa: S608
        )
        con.execute("INSERT INTO message_addresses SELECT * FROM _addr_batch")
        con.execute(
            "INSERT OR IGNORE INTO message_locations (source, folder, location, sha256, folder_role, internal_date,"
            " provider_message_id, provider_thread_id, load_id, seen_at)"
            " SELECT DISTINCT ON (source, folder, location) source, folder, location, sha256, folder_role,"
            " internal_date, provider_message_id, provider_thread_id, ?, ? FROM _loc_batch",
            [load_id, now],
        )
        for scope, value in cursors.items():
            # Update, else insert: an upsert (INSERT OR REPLACE) costs DuckDB several times more.
            updated = con.execute(
                "UPDATE source_cursors SET value = ?, load_id = ?, updated_at = ? WHERE source = ? AND scope = ?",
                [json.dumps(value), load_id, now, source, scope],
            ).fetchone()
            if not updated or not updated[0]:
                con.execute(
                    "INSERT INTO source_cursors (source, scope, value, load_id, updated_at) VALUES (?, ?, ?, ?, ?)",
                    [source, scope, json.dumps(value), load_id, now],
                )
        con.execute(
            "UPDATE loads SET messages_seen = messages_seen + ?, messages_new = messages_new + ? WHERE load_id = ?",
            [len(items), len(new_items), load_id],
        )
    return len(new_items)


def mark_missing_locations(store: Store, source: str, listings: dict[str, set[str]]) -> int:
    """Mark stored locations the server no longer has as deleted; returns how many were marked.

    `listings` maps a folder to every location it has on the server now. Rows are never
    removed: a location that is gone gets ``deleted_at``, one that is back loses it.
    """
    now = datetime.now(UTC)
    marked = 0
    for folder, present in listings.items():
        present_table = pa.table({"location": pa.array(sorted(present), pa.string())})
        with store.transaction({"_present": present_table}) as con:
            row = con.execute(
                "UPDATE message_locations SET deleted_at = ? WHERE source = ? AND folder = ? AND deleted_at IS NULL"
                " AND location NOT IN (SELECT location FROM _present) RETURNING location",
                [now, source, folder],
            ).fetchall()
            marked += len(row)
            con.execute(
                "UPDATE message_locations SET deleted_at = NULL WHERE source = ? AND folder = ?"
                " AND deleted_at IS NOT NULL AND location IN (SELECT location FROM _present)",
                [source, folder],
            )
    return marked
