"""Publishing the read-only snapshot that BI tools and notebooks open.

The working database is locked while a run writes to it, so readers use a copy. The copy is
taken while we hold the writer lock and no connection is open (the file is then complete and
checkpointed), written beside the target under a temporary name, flushed, and renamed over
the previous snapshot: a reader sees the old snapshot or the new one, never a partial file.
A publish killed mid-copy leaves its temporary behind; the next publish removes it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from intel.errors import StoreError
from intel.locks import process_running
from intel.store.db import writer_lock

__all__ = ["open_snapshot", "publish_snapshot"]


def publish_snapshot(database: Path, snapshot: Path, *, lock_timeout: float = 120.0) -> Path:
    """Copy `database` to `snapshot` atomically. The database must not be open in this process."""
    database = Path(database)
    snapshot = Path(snapshot)
    if not database.exists():
        raise StoreError(f"cannot publish {database}: it does not exist yet (run `intel sync` first)")
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    temporary = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    with writer_lock(database, lock_timeout):
        wal = database.with_name(database.name + ".wal")
        if wal.exists() and wal.stat().st_size > 0:
            # A writer died before its checkpoint: let DuckDB replay the WAL into the file first.
            duckdb.connect(str(database)).close()
        _remove_dead_temporaries(snapshot)
        try:
            with open(database, "rb") as src, open(temporary, "wb") as dst:
                shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, snapshot)
        finally:
            if temporary.exists():
                temporary.unlink()
    return snapshot


def _remove_dead_temporaries(snapshot: Path) -> None:
    """Delete the temporary copies of `snapshot` left by publishes that died before the rename.

    Their names carry the writer's process id; the copy of a process that still runs (a
    sibling publish) is left alone.
    """
    name = re.compile(rf"^\.{re.escape(snapshot.name)}\.(\d+)\.tmp$")
    for path in snapshot.parent.glob(".*.tmp"):
        match = name.match(path.name)
        if match is not None and not process_running(int(match.group(1))):
            path.unlink(missing_ok=True)


def open_snapshot(snapshot: Path) -> duckdb.DuckDBPyConnection:
    """Open the published snapshot read-only (what notebooks and BI tools should do)."""
    if not Path(snapshot).exists():
        raise StoreError(f"no snapshot at {snapshot}: run `intel run` (or `intel sync`) first")
    return duckdb.connect(str(snapshot), read_only=True)
