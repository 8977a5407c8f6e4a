"""CSV and Parquet exports of every report view.

Each view is evaluated once, into Parquet; the CSV is written from that Parquet file, so both
formats (and the HTML report, which reads the Parquet files) hold exactly the same rows even
for views that depend on the time they are queried (``now()``). Files are written under a
temporary name and renamed into place: a reader sees the previous export or the new one.
Paths are passed to DuckDB's relation writers as arguments, never formatted into SQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from intel.errors import BadInputError, StoreError
from intel.locks import process_running
from intel.reports.metrics import LIVE_VIEWS, VIEWS, refresh_report_mail, report_mail_is_current

__all__ = ["ExportResult", "export_views"]

_VIEW_NAME = re.compile(r"^v_[a-z0-9_]{1,60}$")
# The names `_temporary` (and the report page's atomic write) give files while they are written.
_TEMPORARY_NAME = re.compile(r"^\.(?:report\.html|v_[a-z0-9_]{1,60}\.(?:csv|parquet))\.(\d+)\.tmp$")
_PREDATES = "it predates the report views; run `intel sync` (or `intel run`) once to migrate and publish it"


@dataclass
class ExportResult:
    csv_dir: Path
    parquet_dir: Path
    rows: dict[str, int] = field(default_factory=dict)  # view -> rows exported

    def parquet(self, view: str) -> Path:
        return self.parquet_dir / f"{view}.parquet"

    def csv(self, view: str) -> Path:
        return self.csv_dir / f"{view}.csv"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _remove_dead_temporaries(directory: Path) -> None:
    """Delete the temporary files of writers that died between writing and renaming (a kill).

    Their names carry the writer's process id; files of a process that still runs (another
    report being written into the same directory) are left alone.
    """
    for path in directory.glob(".*.tmp"):
        match = _TEMPORARY_NAME.match(path.name)
        if match is not None and not process_running(int(match.group(1))):
            path.unlink(missing_ok=True)


def export_views(con: duckdb.DuckDBPyConnection, out_dir: Path, views: Iterable[str] | None = None) -> ExportResult:
    """Write ``out_dir/csv/<view>.csv`` and ``out_dir/parquet/<view>.parquet`` for each view.

    Args:
        con: a connection to the database (the read-only snapshot is enough).
        out_dir: the report directory; ``csv/`` and ``parquet/`` are created in it.
        views: the views to export; default every view in `intel.reports.metrics.VIEWS`.

    Raises:
        StoreError: a view is missing (the database predates the report views) or fails.
        BadInputError: the output directory cannot be written.
    """
    names = list(VIEWS if views is None else views)
    result = ExportResult(Path(out_dir) / "csv", Path(out_dir) / "parquet")
    try:
        result.csv_dir.mkdir(parents=True, exist_ok=True)
        result.parquet_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"cannot create the report directory {out_dir}: {exc.strerror}") from None
    for directory in (Path(out_dir), result.csv_dir, result.parquet_dir):
        _remove_dead_temporaries(directory)
    for name in names:
        if not _VIEW_NAME.match(name):
            raise StoreError(f"'{name}' is not a report view name")
    if any(name not in LIVE_VIEWS for name in names):
        _ensure_current(con)
    for name in names:
        result.rows[name] = _export_one(con, name, result.parquet(name), result.csv(name))
    return result


def _ensure_current(con: duckdb.DuckDBPyConnection) -> None:
    """The metric views read the materialized `report_mail`: rebuild it, or refuse stale numbers.

    On a write connection it is brought up to date; on a read-only one (the snapshot) an
    out-of-date table is an error, as in `intel.reports.metrics.read_view`.
    """
    try:
        rows = con.execute(
            "SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        if not (rows and rows[0][0]):
            refresh_report_mail(con)
        elif not report_mail_is_current(con):
            raise StoreError(
                "the report tables of this read-only database predate its data or settings (report_mail is"
                " out of date); rebuild them on the write connection (refresh_report_mail) before publishing"
            )
    except duckdb.CatalogException:
        raise StoreError(f"the database has no report tables: {_PREDATES}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot bring the report tables up to date: {exc}") from exc
    finally:
        # Those helpers may leave a partly fetched result open, which blocks the relation
        # writers below on this connection.
        con.complete()


def _export_one(con: duckdb.DuckDBPyConnection, name: str, parquet: Path, csv: Path) -> int:
    parquet_tmp, csv_tmp = _temporary(parquet), _temporary(csv)
    try:
        try:
            # `name` is one of our own view names (checked against _VIEW_NAME), never input.
            con.sql(f"SELECT * FROM {name}").write_parquet(str(parquet_tmp), compression="zstd")  # noqa: S608
            con.read_parquet(str(parquet_tmp)).write_csv(str(csv_tmp), header=True)
        except duckdb.CatalogException:
            raise StoreError(f"the database has no view {name}: {_PREDATES}") from None
        except duckdb.IOException as exc:
            raise BadInputError(f"cannot write the export of {name}: {exc}") from None
        except duckdb.Error as exc:
            raise StoreError(f"view {name} failed: {exc}") from exc
        rows = pq.ParquetFile(parquet_tmp).metadata.num_rows
        try:
            os.replace(parquet_tmp, parquet)
            os.replace(csv_tmp, csv)
        except OSError as exc:
            raise BadInputError(
                f"cannot write the export of {name} in {parquet.parent.parent}: {exc.strerror}"
            ) from None
        return int(rows)
    finally:
        for leftover in (parquet_tmp, csv_tmp):
            leftover.unlink(missing_ok=True)
