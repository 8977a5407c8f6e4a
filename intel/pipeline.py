"""The pipeline stages as plain functions: what the Prefect flows and the CLI call.

Each stage opens the database for writing only while it writes and records itself in `loads`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intel.config import (
    DemoSource,
    EmlSource,
    ImapSource,
    MaildirSource,
    MboxSource,
    Pop3Source,
    Settings,
    ZohoSource,
)
from intel.errors import IntelError, SourceError
from intel.parse import Identity, classify_direction
from intel.parse.parallel import ParallelParser
from intel.sources.base import Batch, MailSource, SourceState
from intel.sources.files import EmlDirSource
from intel.sources.files import MaildirSource as MaildirReader
from intel.sources.files import MboxSource as MboxReader
from intel.store import Store, open_store, publish_snapshot
from intel.store.messages import (
    StoredMessage,
    existing_keys,
    known_locations,
    mark_missing_locations,
    source_cursors,
    write_batch,
)
from intel.store.threads import rebuild_threads, threads_are_current

__all__ = [
    "RunSummary",
    "SyncResult",
    "build_source",
    "extract_contacts_and_activities",
    "publish",
    "raise_alerts",
    "report",
    "summarize",
    "sync_source",
    "thread_messages",
]

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


@dataclass
class SyncResult:
    source: str
    load_id: int
    seen: int = 0
    new: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    database: Path
    snapshot: Path | None
    syncs: list[SyncResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def open_settings_store(settings: Settings) -> AbstractContextManager[Store]:
    """The write connection with the storage settings applied (memory limit, checkpoints)."""
    storage = settings.storage
    return open_store(
        storage.database, memory_limit=storage.memory_limit, checkpoint_threshold=storage.checkpoint_threshold
    )


def build_source(config: Any) -> MailSource:
    """The reader for one configured source."""
    if isinstance(config, DemoSource):
        from intel.demo import write_demo_maildir

        if not config.path.exists():
            write_demo_maildir(config.path)
        return MaildirReader(config.name, config.path, config.folder_roles)
    if isinstance(config, MboxSource):
        return MboxReader(config.name, config.path, config.folder_roles)
    if isinstance(config, MaildirSource):
        return MaildirReader(config.name, config.path, config.folder_roles)
    if isinstance(config, EmlSource):
        return EmlDirSource(config.name, config.path, config.folder_roles)
    if isinstance(config, ImapSource):
        from intel.sources.imap import ImapReader

        return ImapReader(config)
    if isinstance(config, Pop3Source):
        from intel.sources.pop3 import Pop3Reader

        return Pop3Reader(config)
    if isinstance(config, ZohoSource):
        from intel.sources.zoho import ZohoReader

        return ZohoReader(config)
    raise SourceError(f"source '{config.name}': type '{config.type}' is not supported yet")


@dataclass
class _Prepared:
    """A batch whose new messages are being parsed (possibly in worker processes)."""

    batch: Batch
    keys: list[str]
    new_positions: list[int]
    parsed: Any  # handle with .result() -> list[ParsedMessage]


def _prepare(store: Store, batch: Batch, parser: ParallelParser, pending: _Prepared | None) -> _Prepared:
    keys = [hashlib.sha256(m.data).hexdigest() for m in batch.messages]
    existing = existing_keys(store, keys)
    if pending is not None:
        # The batch before this one is not written yet: what it will store counts as stored.
        existing |= {pending.keys[i] for i in pending.new_positions}
    new_positions: list[int] = []
    chosen: set[str] = set()
    for position, key in enumerate(keys):
        if key not in existing and key not in chosen:
            chosen.add(key)
            new_positions.append(position)
    items = [(batch.messages[i].data, batch.messages[i].internal_date) for i in new_positions]
    return _Prepared(batch, keys, new_positions, parser.submit(items, datetime.now(UTC)))


def _stored_messages(prepared: _Prepared, identity: Identity) -> list[StoredMessage]:
    parsed_by_position = dict(zip(prepared.new_positions, prepared.parsed.result(), strict=True))
    items: list[StoredMessage] = []
    for position, (raw, key) in enumerate(zip(prepared.batch.messages, prepared.keys, strict=True)):
        parsed = parsed_by_position.get(position)
        if parsed is None:
            items.append(StoredMessage(key, raw, None, None))
            continue
        author = parsed.from_ or parsed.sender
        recipients = [a.address for a in (*parsed.to, *parsed.cc, *parsed.bcc)]
        direction = classify_direction(author.address if author else None, recipients, identity, raw.folder_role)
        items.append(StoredMessage(key, raw, parsed, direction))
    return items


def sync_source(settings: Settings, name: str, progress: Progress | None = None) -> SyncResult:
    """Bring one source up to date: new raw messages stored, parsed, cursors advanced.

    Batch k+1 is read and parsed (on every core) while batch k is written, and each batch is
    committed together with the cursor it reaches.
    """
    config = settings.source(name)
    identity = Identity(settings.identity.addresses)
    source = build_source(config)
    with open_settings_store(settings) as store, ParallelParser(settings.storage.parse_workers) as parser:
        load_id = store.begin_load("sync", name)
        result = SyncResult(name, load_id)
        state = SourceState(
            cursors=source_cursors(store, name),
            known_locations=lambda folder: known_locations(store, name, folder),
        )

        def write(prepared: _Prepared) -> None:
            items = _stored_messages(prepared, identity)
            result.new += write_batch(store, load_id, name, items, prepared.batch.cursors, identity, checked=True)
            listings = getattr(prepared.batch, "listings", None)  # server sources: what each folder still has
            if listings:
                mark_missing_locations(store, name, listings)
            result.seen += len(items)
            if progress is not None:
                progress(len(items))

        try:
            pending: _Prepared | None = None
            for batch in source.batches(state, settings.storage.batch_size):
                prepared = _prepare(store, batch, parser, pending)
                if pending is not None:
                    write(pending)
                pending = prepared
            if pending is not None:
                write(pending)
        except IntelError as exc:
            result.error = str(exc)
            store.finish_load(load_id, "failed", error=result.error, details={"seen": result.seen, "new": result.new})
            raise
        except Exception as exc:
            result.error = f"source '{name}': unexpected error: {type(exc).__name__}: {exc}"
            store.finish_load(load_id, "failed", error=result.error)
            raise
        store.finish_load(load_id, "ok", details={"seen": result.seen, "new": result.new})
    log.info("source %s: %d messages seen, %d new", name, result.seen, result.new)
    return result


def thread_messages(settings: Settings, *, force: bool = False) -> dict[str, int]:
    """Run threading when new messages arrived since the last run (or when forced)."""
    with open_settings_store(settings) as store:
        if not force and threads_are_current(store):
            return {"skipped": 1}
        load_id = store.begin_load("thread")
        counts = rebuild_threads(store, load_id)
        store.finish_load(load_id, "ok", details=counts)
    return counts


def publish(settings: Settings) -> Path:
    """Bring the report tables up to date, then publish the read-only snapshot for BI tools and notebooks.

    The metric views read `report_mail`, which is rebuilt only when the data or the report
    settings changed, so every published snapshot answers every view with current numbers.
    """
    from intel.reports.metrics import refresh_report_mail, write_report_settings

    with open_settings_store(settings) as store:
        write_report_settings(store.con, settings.reports)
        refresh_report_mail(store.con)
    return publish_snapshot(settings.storage.database, settings.storage.snapshot_path)


def raise_alerts(settings: Settings) -> dict[str, Any]:
    """Write the report settings the views read, then raise new alerts and resolve ended ones."""
    from intel.reports.alerts import raise_alerts as run_rules
    from intel.reports.metrics import refresh_report_mail, write_report_settings

    with open_settings_store(settings) as store:
        # The load first: the report tables are refreshed after it, so they are current when
        # this stage ends (the rules read them; the snapshot published next carries them).
        load_id = store.begin_load("alerts")
        try:
            write_report_settings(store.con, settings.reports)
            refresh_report_mail(store.con)
            counts = run_rules(store, settings.alerts, load_id)
        except Exception as exc:
            store.finish_load(load_id, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        result = {"raised": sum(counts.raised.values()), "resolved": counts.resolved, "open": counts.open}
        store.finish_load(load_id, "ok", details={**result, "by_rule": counts.raised})
    log.info("alerts: %s", result)
    return result


def report(settings: Settings, out: Path | None = None) -> Any:
    """Write the HTML report and the CSV/Parquet exports from the published snapshot."""
    from intel.reports.html import build_report
    from intel.store import open_snapshot

    snapshot = settings.storage.snapshot_path
    con = open_snapshot(snapshot)
    try:
        return build_report(con, settings.reports, out or settings.reports.out)
    finally:
        con.close()


def summarize(settings: Settings) -> dict[str, int]:
    """Row counts of the public tables, for the end-of-run summary."""
    counts: dict[str, int] = {}
    with open_settings_store(settings) as store:
        for table in (
            "messages",
            "threads",
            "message_locations",
            "message_addresses",
            "contacts",
            "activities",
            "message_insights",
        ):
            # The table names are constants of ours, never input.
            row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            counts[table] = int(row[0]) if row else 0
        row = store.con.execute(
            "SELECT count(DISTINCT address) FROM message_addresses WHERE NOT is_identity"
        ).fetchone()
        counts["correspondents"] = int(row[0]) if row else 0
        for direction, n in store.con.execute(
            "SELECT direction, count(*) FROM messages GROUP BY direction ORDER BY direction"
        ).fetchall():
            counts[f"messages_{direction}"] = int(n)
        row = store.con.execute("SELECT count(*) FROM alerts WHERE status = 'open'").fetchone()
        counts["alerts_open"] = int(row[0]) if row else 0
        row = store.con.execute("SELECT count(*) FROM messages WHERE len(parse_problems) > 0").fetchone()
        counts["messages_with_problems"] = int(row[0]) if row else 0
    return counts


def extract_contacts_and_activities(
    settings: Settings, *, batch_size: int = 1000, progress: Progress | None = None
) -> dict[str, int]:
    """Signatures -> contacts and activities for every message the current extractors have not seen.

    Incremental: messages already processed by the same signature / activity versions are
    skipped, so a re-run with nothing new only counts; a new model version re-processes all.
    """
    from intel.nlp.extract import Extractor
    from intel.store import enrichment

    extractor = Extractor().load()
    sig_version, act_version = extractor.signature_version, extractor.activity_version
    counts = {"messages": 0, "signatures": 0, "activities": 0, "contacts": 0}
    with open_settings_store(settings) as store:
        counts["thread_ids_refreshed"] = enrichment.refresh_thread_ids(store)
        # Senders whose extractions are newer than their contact: a run that died between its
        # extraction batches and the contacts rebuild left them behind; this run rebuilds them.
        stale = _stale_contacts(store)
        if not stale and not enrichment.count_pending(store, sig_version, act_version):
            return counts
        load_id = store.begin_load("extract")
        addresses: set[str] = set(stale)
        try:
            while batch := enrichment.pending_messages(store, sig_version, act_version, batch_size):
                results = [_extract_one(extractor, message) for message in batch]
                enrichment.write_results(store, load_id, results, sig_version, act_version)
                addresses |= {r.message.from_address for r in results if r.message.from_address}
                counts["messages"] += len(results)
                counts["signatures"] += sum(r.signature is not None for r in results)
                counts["activities"] += sum(len(r.activities) for r in results)
                if progress is not None:
                    progress(len(results))
            counts["contacts"] = enrichment.rebuild_contacts(store, sorted(addresses), load_id, sig_version)
        except Exception as exc:
            store.finish_load(load_id, "failed", error=f"{type(exc).__name__}: {exc}", details=counts)
            raise
        store.finish_load(load_id, "ok", details={**counts, "signature": sig_version, "activity": act_version})
    log.info("extract: %s", counts)
    return counts


def _stale_contacts(store: Store) -> list[str]:
    """Senders with a signature extraction but no contact row, or one older than that extraction."""
    rows = store.con.execute(
        "SELECT DISTINCT m.from_address FROM messages m"
        " JOIN extractions e ON e.message_key = m.message_key AND e.extractor = 'signature'"
        " LEFT JOIN contacts c ON c.address = m.from_address"
        " WHERE m.from_address IS NOT NULL AND (c.address IS NULL OR c.load_id < e.load_id)"
    ).fetchall()
    return [row[0] for row in rows]


def _extract_one(extractor: Any, message: Any) -> Any:
    from intel.store.enrichment import ActivityRow, ContactFieldRow, MessageResult

    sender = f"{message.from_name} <{message.from_address}>" if message.from_name else message.from_address
    found = extractor.extract(message.body_text, sender, sent_at=message.sent_at, recipients=message.recipients)
    result = MessageResult(message)
    contact = found.contact
    if found.signature.found and contact is not None:
        result.signature = found.signature.text
        result.signature_confidence = found.signature.confidence
        conf = contact.confidence
        for name, value in (
            ("name", contact.name),
            ("title", contact.title),
            ("company", contact.company),
            ("postal_address", contact.address),
        ):
            if value:
                key = "address" if name == "postal_address" else name
                result.fields.append(ContactFieldRow(name, value, None, conf.get(key, 0.5)))
        for phone in contact.phones:
            result.fields.append(ContactFieldRow("phone", phone.number, phone.type, conf.get("phones", 0.9)))
        for name, values in (("email", contact.emails), ("website", contact.websites), ("social", contact.social)):
            for value in values:
                result.fields.append(ContactFieldRow(name, value, None, conf.get(name + "s", conf.get(name, 0.9))))
    result.activities = [
        ActivityRow(a.type, a.status, a.text, a.time_text, a.start, a.end, a.due, a.participants, a.confidence)
        for a in found.activities
    ]
    return result
