"""Shared by the hardening tests: config files, process-tree memory, table dumps, HTML checks."""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from tests.report_pages import ALLOWED_TAGS, page_problems

__all__ = [
    "ALLOWED_TAGS",
    "TreePeak",
    "csv_cells",
    "page_problems",
    "table_dump",
    "toml_value",
    "write_config",
]


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, number, list or inline table of those (strings as basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def write_config(path: Path, tables: Mapping[str, Mapping[str, Any]], sources: Sequence[Mapping[str, Any]]) -> Path:
    """An intel.toml with the given top-level tables and ``[[source]]`` entries."""
    lines: list[str] = []
    nested: list[tuple[str, Mapping[str, Any]]] = []
    for name, values in tables.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            if isinstance(value, Mapping):
                nested.append((f"{name}.{key}", value))
            elif isinstance(value, list) and value and isinstance(value[0], Mapping):
                for item in value:
                    nested.append((f"[{name}.{key}]", item))
            else:
                lines.append(f"{key} = {toml_value(value)}")
    for header, values in nested:
        lines.append(f"[{header}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    for source in sources:
        lines.append("[[source]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in source.items() if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- memory of a process tree -----------------------------------------------------------------


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (from /proc/<pid>/stat)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    return parents


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreePeak:
    """Samples a process and its descendants from /proc until stopped.

    Records each process's own peak RSS (VmHWM, which the kernel keeps exactly; a sample only
    has to see the process once, late in its life) and the peak of the summed current RSS of
    the tree. ``ru_maxrss`` of RUSAGE_CHILDREN is not used: Python starts children with vfork,
    and Linux then reports the parent's peak as the child's whenever the parent was larger.
    """

    def __init__(self, root: int, interval: float = 0.05) -> None:
        self.root = root
        self.interval = interval
        self.hwm_kb: dict[int, int] = {}
        self.peak_sum_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tick(self) -> None:
        parents = _parents()
        tree, frontier = {self.root}, [self.root]
        while frontier:
            pid = frontier.pop()
            children = [child for child, parent in parents.items() if parent == pid and child not in tree]
            tree.update(children)
            frontier += children
        total = 0
        for pid in tree:
            hwm = _status_kb(pid, "VmHWM")
            if hwm:
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
            total += _status_kb(pid, "VmRSS")
        self.peak_sum_kb = max(self.peak_sum_kb, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._tick()

    def __enter__(self) -> TreePeak:
        self._tick()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def bound_kb(self, root_hwm_kb: int) -> int:
        """An upper bound of the tree's peak: the sum of every process's own peak."""
        others = sum(kb for pid, kb in self.hwm_kb.items() if pid != self.root)
        return max(root_hwm_kb, self.hwm_kb.get(self.root, 0)) + others


# -- canonical dumps --------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return round(float(value), 6)
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def table_dump(
    con: duckdb.DuckDBPyConnection, relation: str, *, drop: Iterable[str] = (), keep: Iterable[str] | None = None
) -> list[tuple[Any, ...]]:
    """Every row of a table or view as sorted tuples of canonical values, minus `drop` columns."""
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    dropped = set(drop)
    chosen = [c for c in columns if c not in dropped and (keep is None or c in set(keep))]
    rows = con.execute(f"SELECT {', '.join(chosen)} FROM {relation}").fetchall()
    return sorted((tuple(_canonical(v) for v in row) for row in rows), key=repr)


# -- report checks (the page itself: tests/report_pages.py) ---------------------------------


def csv_cells(directory: Path) -> dict[str, set[str]]:
    """Every cell value of every CSV file in `directory`, per file stem."""
    cells: dict[str, set[str]] = {}
    csv.field_size_limit(1 << 30)  # a subject of a megabyte is one cell
    for path in sorted(directory.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            cells[path.stem] = {cell for row in csv.reader(handle) for cell in row}
    return cells
