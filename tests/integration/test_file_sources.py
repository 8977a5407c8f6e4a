"""File sources through the whole sync: DuckDB storage, incremental cursors, threading, snapshot."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from intel import pipeline
from intel.config import Settings, load_settings
from intel.errors import SourceError, StoreError
from intel.sources.base import Batch, RawMessage, SourceState
from intel.store import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "eml"


def message(
    n: int,
    *,
    reply_to: int | None = None,
    sender: str = "alice@customer.example",
    to: str = "support@acme.example",
    body: str = "Hello there.",
) -> bytes:
    headers = [
        f"From: Alice Example <{sender}>",
        f"To: {to}",
        f"Subject: {'Re: ' if reply_to is not None else ''}Order {n if reply_to is None else reply_to}",
        f"Date: Mon, {1 + n % 27} Jun 2026 09:{n % 60:02d}:00 +0200",
        f"Message-ID: <m{n}@customer.example>",
    ]
    if reply_to is not None:
        headers += [f"In-Reply-To: <m{reply_to}@customer.example>", f"References: <m{reply_to}@customer.example>"]
    return ("\n".join(headers) + f"\n\n{body}\nFrom the line that needs escaping.\n").encode()


def mbox_entry(raw: bytes) -> bytes:
    escaped = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in raw.split(b"\n"))
    return b"From alice@customer.example Mon Jun  1 09:00:00 2026\n" + escaped + b"\n"


def config(tmp_path: Path, sources: str, identity: str = '["*@acme.example"]') -> Settings:
    path = tmp_path / "intel.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "db" / "intel.duckdb"}"\nbatch_size = 7\nparse_workers = 2\n'
        f"[identity]\naddresses = {identity}\n{sources}",
        encoding="utf-8",
    )
    return load_settings(path)


def query(settings: Settings, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.storage.database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def sync_all(settings: Settings) -> list[pipeline.SyncResult]:
    results = [pipeline.sync_source(settings, s.name) for s in settings.sources]
    pipeline.thread_messages(settings)
    pipeline.publish(settings)
    return results


@pytest.fixture
def mbox_settings(tmp_path: Path) -> Settings:
    return config(tmp_path, f'[[source]]\nname = "list"\ntype = "mbox"\npath = "{tmp_path / "archive.mbox"}"\n')


def test_mbox_import_is_incremental_and_exact(tmp_path: Path, mbox_settings: Settings) -> None:
    mbox = tmp_path / "archive.mbox"
    originals = [message(n) if n % 3 == 0 else message(n, reply_to=n - n % 3) for n in range(30)]
    mbox.write_bytes(b"".join(mbox_entry(raw) for raw in originals))

    first = sync_all(mbox_settings)[0]
    assert (first.seen, first.new) == (30, 30)
    stored = {row[0] for row in query(mbox_settings, "SELECT raw FROM raw_messages")}
    # The mbox framing and the >From escaping are undone: the exact original bytes are kept.
    assert stored == set(originals)

    again = sync_all(mbox_settings)[0]
    assert (again.seen, again.new) == (0, 0)

    with mbox.open("ab") as handle:
        handle.write(b"".join(mbox_entry(message(n, reply_to=0)) for n in range(30, 35)))
    appended = sync_all(mbox_settings)[0]
    assert (appended.seen, appended.new) == (5, 5)

    # Rewriting the file (new head) makes us read it all again, and content hashes store nothing twice.
    mbox.write_bytes(b"".join(mbox_entry(message(n)) for n in range(35, 37)) + mbox.read_bytes())
    rewritten = sync_all(mbox_settings)[0]
    assert (rewritten.seen, rewritten.new) == (37, 2)
    assert query(mbox_settings, "SELECT count(*) FROM messages") == [(37,)]


def test_replies_share_their_parents_thread(tmp_path: Path, mbox_settings: Settings) -> None:
    raws = [message(0), message(1, reply_to=0), message(2, reply_to=0), message(3)]
    (tmp_path / "archive.mbox").write_bytes(b"".join(mbox_entry(r) for r in raws))
    sync_all(mbox_settings)
    rows = dict(query(mbox_settings, "SELECT rfc_message_id, thread_id FROM messages"))
    assert rows["<m1@customer.example>"] == rows["<m0@customer.example>"] == rows["<m2@customer.example>"]
    assert rows["<m3@customer.example>"] != rows["<m0@customer.example>"]
    threads = dict(query(mbox_settings, "SELECT thread_id, message_count FROM threads"))
    assert threads[rows["<m0@customer.example>"]] == 3
    parent = query(
        mbox_settings,
        "SELECT p.rfc_message_id FROM messages m JOIN messages p ON m.parent_key = p.message_key"
        " WHERE m.rfc_message_id = '<m1@customer.example>'",
    )
    assert parent == [("<m0@customer.example>",)]


def test_identical_messages_are_stored_once_and_same_id_variants_are_marked(
    tmp_path: Path, mbox_settings: Settings
) -> None:
    original = message(1)
    variant = original.replace(b"Hello there.", b"Hello there. [list footer]")
    (tmp_path / "archive.mbox").write_bytes(b"".join(mbox_entry(r) for r in (original, original, variant)))
    sync_all(mbox_settings)
    assert query(mbox_settings, "SELECT count(*) FROM raw_messages") == [(2,)]
    assert query(mbox_settings, "SELECT count(*) FROM message_locations") == [(3,)]
    duplicates = query(mbox_settings, "SELECT count(*) FROM messages WHERE duplicate_of IS NOT NULL")
    assert duplicates == [(1,)]
    assert query(mbox_settings, "SELECT message_count FROM threads") == [(1,)]


def write_maildir(root: Path, folder: str, name: str, raw: bytes, sub: str = "cur") -> Path:
    base = root if folder == "INBOX" else root / f".{folder}"
    for part in ("cur", "new", "tmp"):
        (base / part).mkdir(parents=True, exist_ok=True)
    path = base / sub / name
    path.write_bytes(raw)
    return path


def test_maildir_roles_direction_and_new_mail(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    write_maildir(root, "INBOX", "1.a.host:2,S", message(1))
    write_maildir(
        root, "Sent", "2.a.host:2,S", message(2, reply_to=1, sender="bob@acme.example", to="alice@customer.example")
    )
    write_maildir(root, "Sent", "3.a.host:2,S", message(3, sender="bob@acme.example", to="carol@acme.example"))
    fresh = write_maildir(root, "INBOX", "4.a.host", message(4), sub="new")
    settings = config(tmp_path, f'[[source]]\nname = "box"\ntype = "maildir"\npath = "{root}"\n')
    sync_all(settings)
    rows = {r[0]: r[1:] for r in query(settings, "SELECT rfc_message_id, folder, folder_role, direction FROM messages")}
    assert rows["<m1@customer.example>"] == ("INBOX", "inbox", "inbound")
    assert rows["<m2@customer.example>"] == ("Sent", "sent", "outbound")
    assert rows["<m3@customer.example>"] == ("Sent", "sent", "internal")

    # The client moves the new message to cur/ and adds a flag: same unique name, nothing new.
    fresh.rename(root / "cur" / "4.a.host:2,S")
    write_maildir(root, "INBOX", "5.a.host:2,", message(5))
    result = pipeline.sync_source(settings, "box")
    assert (result.seen, result.new) == (1, 1)


def test_eml_directory_keeps_exact_bytes_and_folders(tmp_path: Path) -> None:
    root = tmp_path / "eml"
    (root / "Archive").mkdir(parents=True)
    first = (FIXTURES / "gmail_reply.eml").read_bytes()
    second = (FIXTURES / "outlook_reply.eml").read_bytes()
    (root / "a.eml").write_bytes(first)
    (root / "Archive" / "b.EML").write_bytes(second)
    settings = config(tmp_path, f'[[source]]\nname = "files"\ntype = "eml"\npath = "{root}"\n')
    sync_all(settings)
    rows = query(
        settings,
        "SELECT m.folder, m.folder_role, r.raw FROM messages m JOIN raw_messages r"
        " ON m.message_key = r.sha256 ORDER BY m.folder",
    )
    assert rows == [("Archive", "archive", second), ("INBOX", "inbox", first)]
    assert pipeline.sync_source(settings, "files").new == 0


def test_a_crash_mid_sync_resumes_without_loss_or_duplicates(
    tmp_path: Path, mbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mbox = tmp_path / "archive.mbox"
    mbox.write_bytes(b"".join(mbox_entry(message(n)) for n in range(40)))
    real_build = pipeline.build_source

    class Crashing:
        def __init__(self, inner: object) -> None:
            self.inner = inner
            self.name = "list"

        def batches(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
            for count, batch in enumerate(self.inner.batches(state, batch_size)):  # type: ignore[attr-defined]
                if count == 3:
                    raise SourceError("source 'list': simulated crash")
                yield batch

    monkeypatch.setattr(pipeline, "build_source", lambda cfg: Crashing(real_build(cfg)))
    with pytest.raises(SourceError):
        pipeline.sync_source(mbox_settings, "list")
    partial = query(mbox_settings, "SELECT count(*) FROM messages")[0][0]
    assert 0 < partial < 40
    assert query(mbox_settings, "SELECT status FROM loads WHERE stage = 'sync'") == [("failed",)]

    monkeypatch.setattr(pipeline, "build_source", real_build)
    resumed = pipeline.sync_source(mbox_settings, "list")
    assert resumed.new == 40 - partial
    assert query(mbox_settings, "SELECT count(*), count(DISTINCT rfc_message_id) FROM messages") == [(40, 40)]
    assert query(mbox_settings, "SELECT count(*) FROM message_addresses WHERE role = 'from'") == [(40,)]


def test_unparseable_messages_are_stored_with_their_problems(tmp_path: Path, mbox_settings: Settings) -> None:
    broken = [b"", b"\x00\x01\x02 not mail at all", b"Subject: no date\n\nbody", b"Date: yesterday\n\nbody"]
    (tmp_path / "archive.mbox").write_bytes(b"".join(mbox_entry(r) for r in broken if r) + b"\n")
    sync_all(mbox_settings)
    rows = query(mbox_settings, "SELECT subject, parse_problems, date_source FROM messages ORDER BY subject")
    assert len(rows) == 3
    assert all(problems for _, problems, _ in rows)
    assert {r[2] for r in rows} == {"internal"}  # the mbox From_ line date is the fallback


def test_migrations_are_checksummed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "m.duckdb"
    with open_store(database) as store:
        applied = store.con.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert applied[0] == (1, "init")
    from intel.store import db

    edited = [db.Migration(m.version, m.name, m.sql + "\n-- edited") for m in db.migrations()]
    monkeypatch.setattr(db, "migrations", lambda: edited)
    with pytest.raises(StoreError, match="forward-only"), open_store(database):
        pass


def test_snapshot_is_readable_by_another_process_while_the_database_is_held(
    tmp_path: Path, mbox_settings: Settings
) -> None:
    (tmp_path / "archive.mbox").write_bytes(b"".join(mbox_entry(message(n)) for n in range(5)))
    sync_all(mbox_settings)
    snapshot = mbox_settings.storage.snapshot_path
    reader = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True);"
        " print(con.execute('SELECT count(*) FROM messages').fetchone()[0])"
    )
    with open_store(mbox_settings.storage.database) as store:
        store.con.execute("DELETE FROM message_addresses")  # a write in progress, not yet published
        out = subprocess.run([sys.executable, "-c", reader, str(snapshot)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "5"


def test_raw_message_dataclass_is_what_sources_yield() -> None:
    raw = RawMessage(b"x", "INBOX", "inbox", "1")
    assert raw.internal_date is None and raw.provider_message_id is None


def test_gzipped_pipermail_archive_with_obfuscated_addresses(tmp_path: Path) -> None:
    import gzip

    archive = tmp_path / "2026-June.txt.gz"
    first = (
        b"From alice at customer.example  Mon Jun  1 09:00:00 2026\n"
        b"From: alice at customer.example (Alice Example)\nDate: Mon, 1 Jun 2026 09:00:00 +0000\n"
        b"Subject: [users] Export fails\nMessage-ID: <p1@customer.example>\n\nThe export fails.\n\n"
    )
    reply = (
        b"From bob at other.example  Mon Jun  1 10:00:00 2026\n"
        b"From: bob at other.example (Bob)\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n"
        b"Subject: [users] Re: Export fails\nMessage-ID: <p2@other.example>\n\nSame here.\n\n"
    )
    archive.write_bytes(gzip.compress(first + reply))
    settings = config(tmp_path, f'[[source]]\nname = "list"\ntype = "mbox"\npath = "{tmp_path}/*.txt.gz"\n')
    sync_all(settings)
    rows = query(settings, "SELECT folder, from_address, from_name, thread_id FROM messages ORDER BY sent_at")
    assert [r[:3] for r in rows] == [
        ("2026-June", "alice@customer.example", "Alice Example"),
        ("2026-June", "bob@other.example", "Bob"),
    ]
    # No References at all: the "[users] Re:" reply joins by subject.
    assert rows[0][3] == rows[1][3]
    assert pipeline.sync_source(settings, "list").seen == 0


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=12))
def test_every_message_is_stored_whatever_its_bytes(
    tmp_path_factory: pytest.TempPathFactory, blobs: list[bytes]
) -> None:
    root = tmp_path_factory.mktemp("hostile")
    mail = root / "mail"
    mail.mkdir()
    for n, blob in enumerate(blobs):
        (mail / f"{n}.eml").write_bytes(blob)
    settings = config(root, f'[[source]]\nname = "hostile"\ntype = "eml"\npath = "{mail}"\n')
    result = pipeline.sync_source(settings, "hostile")
    pipeline.thread_messages(settings)
    assert result.seen == len(blobs)
    assert result.new == len(set(blobs))
    stored = query(
        settings, "SELECT r.raw, m.parse_problems FROM raw_messages r JOIN messages m ON m.message_key = r.sha256"
    )
    assert {raw for raw, _ in stored} == set(blobs)
    # Random bytes are never a well-formed message: every one carries at least one problem.
    assert all(problems for _, problems in stored)


def test_the_same_message_in_consecutive_batches_is_stored_once(tmp_path: Path, mbox_settings: Settings) -> None:
    # batch_size is 7: batch k+1 is parsed while batch k is not yet written, and both hold message 0.
    raws = [message(n) for n in range(7)] + [message(0)] + [message(n) for n in range(7, 10)] + [message(0)]
    (tmp_path / "archive.mbox").write_bytes(b"".join(mbox_entry(r) for r in raws))
    result = sync_all(mbox_settings)[0]
    assert (result.seen, result.new) == (12, 10)
    assert query(mbox_settings, "SELECT count(*), count(DISTINCT message_key) FROM messages") == [(10, 10)]
    assert query(mbox_settings, "SELECT count(*) FROM message_addresses WHERE role = 'from'") == [(10,)]
    assert query(mbox_settings, "SELECT count(*) FROM message_locations") == [(12,)]
