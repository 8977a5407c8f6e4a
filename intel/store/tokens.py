"""The DuckDB file behind `intel.auth.stores.DuckDBTokenStore` (this package is the only one importing duckdb).

Tokens live in a DuckDB file of their own, never in the pipeline's database: the pipeline's
writer holds that file for a whole sync, and a token refresh must not wait for it. The caller
holds a lock file around each use, as DuckDB admits one process per file at a time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from intel.errors import StoreError

__all__ = ["open_token_database"]


@contextmanager
def open_token_database(path: Path, create_table: str, *, write: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the token database at `path` (created 0600), in one transaction.

    Commits when the block succeeds, rolls back when it raises. `create_table` is the
    store's own constant DDL, run when opening for writing so a new file is usable at once.
    Reads of an existing file open it read-only (no checkpoint on close: faster).
    """
    read_only = not write and path.exists()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"token database {path}: cannot open: {str(exc).splitlines()[0]}") from None
    try:
        if not read_only:
            for name in (path, path.with_name(path.name + ".wal")):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(name, 0o600)
        try:
            if not read_only:
                con.execute(create_table)
            elif not con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'oauth_tokens'"
            ).fetchall()[0][0]:
                raise StoreError(f"token database {path}: it has no oauth_tokens table (is it a token store?)")
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except duckdb.Error as exc:
            raise StoreError(f"token database {path}: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
