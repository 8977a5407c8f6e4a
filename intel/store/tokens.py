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
def open_token_database(path: Path, create_table: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the token database at `path` (created 0600), in one transaction.

    Commits when the block succeeds, rolls back when it raises. `create_table` is the
    store's own constant DDL, run once per open so a new file is usable at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise StoreError(f"token database {path}: cannot open: {str(exc).splitlines()[0]}") from None
    try:
        for name in (path, path.with_name(path.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(name, 0o600)
        try:
            con.execute(create_table)
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
