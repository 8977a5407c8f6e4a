"""Opening the database: the writer lock, migrations with checksums, the load log.

DuckDB allows one process to hold a file for writing, and while it does nobody else may open
it. We take an advisory lock file beside the database first, so a second `intel` process
waits (or fails with a clear message) instead of failing deep inside DuckDB.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from intel.errors import StoreError
from intel.locks import exclusive_lock

__all__ = ["Migration", "Store", "migrations", "open_store", "writer_lock"]

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def migrations() -> list[Migration]:
    """The packaged migrations, in order."""
    found = []
    for entry in resources.files("intel.store.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations are not numbered 1..n without gaps: {versions}")
    return found


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def writer_lock(database: Path, timeout: float = 120.0) -> Iterator[None]:
    """Hold the advisory writer lock of `database` (waits up to `timeout` seconds)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_name(database.name + ".lock")

    def busy() -> StoreError:
        return StoreError(f"{database} is being written by another intel process; try again when it finishes")

    with exclusive_lock(lock_path, timeout, busy, mode=0o644):
        yield


class Store:
    """A write connection to the database. Use `open_store` to get one."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path

    # -- migrations -------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply pending migrations; refuse to run if an applied one was edited."""
        con = self.con
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied = {row[0]: row[1] for row in con.execute("SELECT version, checksum FROM schema_migrations").fetchall()}
        done: list[int] = []
        for migration in migrations():
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise StoreError(
                        f"migration {migration.version:04d}_{migration.name} differs from the one applied to "
                        f"{self.path}; migrations are forward-only: add a new one instead of editing it"
                    )
                continue
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(migration.sql)
                con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                    [migration.version, migration.name, migration.checksum, _now()],
                )
                con.execute("COMMIT")
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise StoreError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
            done.append(migration.version)
        return done

    # -- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self, tables: dict[str, Any] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction, with Arrow tables registered under the given names while it lasts.

        Commits when the block ends, rolls back if it raises; the tables are unregistered either way.
        """
        con = self.con
        names = list(tables or {})
        for name, table in (tables or {}).items():
            con.register(name, table)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            for name in names:
                con.unregister(name)

    # -- the load log -----------------------------------------------------------------------

    def begin_load(self, stage: str, source: str | None = None) -> int:
        row = self.con.execute(
            "INSERT INTO loads (load_id, stage, source, started_at, status)"
            " VALUES (nextval('load_id_seq'), ?, ?, ?, 'running') RETURNING load_id",
            [stage, source, _now()],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def finish_load(
        self, load_id: int, status: str, *, error: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        self.con.execute(
            "UPDATE loads SET finished_at = ?, status = ?, error = ?, details = ? WHERE load_id = ?",
            [_now(), status, error, json.dumps(details) if details is not None else None, load_id],
        )

    def mark_interrupted_loads(self) -> int:
        """Loads left 'running' by a process that died are marked 'interrupted'."""
        row = self.con.execute(
            "UPDATE loads SET status = 'interrupted', finished_at = ? WHERE status = 'running' RETURNING load_id",
            [_now()],
        ).fetchall()
        return len(row)

    def last_load_id(self, stage: str, *, status: str = "ok") -> int:
        row = self.con.execute(
            "SELECT coalesce(max(load_id), 0) FROM loads WHERE stage = ? AND status = ?", [stage, status]
        ).fetchone()
        return int(row[0]) if row else 0

    def checkpoint(self) -> None:
        self.con.execute("CHECKPOINT")


@contextmanager
def open_store(
    database: Path,
    *,
    lock_timeout: float = 120.0,
    memory_limit: str = "256MB",
    checkpoint_threshold: str = "1GB",
) -> Iterator[Store]:
    """Open `database` for writing (creating and migrating it), holding the writer lock."""
    database = Path(database)
    with writer_lock(database, lock_timeout):
        try:
            con = duckdb.connect(
                str(database),
                config={"memory_limit": memory_limit, "checkpoint_threshold": checkpoint_threshold},
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot open {database}: {str(exc).splitlines()[0]}") from None
        try:
            store = Store(con, database)
            store.migrate()
            store.mark_interrupted_loads()
            yield store
            store.checkpoint()
        finally:
            con.close()
