"""Publishing the snapshot removes the temporary copies of publishes that died before the rename."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from intel.locks import process_running
from intel.store import publish_snapshot


@pytest.fixture
def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(child.stdout)


@pytest.fixture
def live_pid() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "intel.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE messages AS SELECT range AS id FROM range(10)")
    return path


def test_process_running(dead_pid: int, live_pid: int) -> None:
    assert process_running(os.getpid())
    assert process_running(live_pid)
    assert not process_running(dead_pid)


def test_publish_removes_the_torn_copies_of_dead_publishes_only(
    tmp_path: Path, database: Path, dead_pid: int, live_pid: int
) -> None:
    snapshot = tmp_path / "snap" / "intel.snapshot.duckdb"
    snapshot.parent.mkdir()
    dead = snapshot.with_name(f".{snapshot.name}.{dead_pid}.tmp")
    live = snapshot.with_name(f".{snapshot.name}.{live_pid}.tmp")
    other = snapshot.with_name(f".other.duckdb.{dead_pid}.tmp")  # not a copy of this snapshot
    for path in (dead, live, other):
        path.write_bytes(b"torn")

    publish_snapshot(database, snapshot)

    assert not dead.exists()
    assert live.read_bytes() == b"torn"  # a sibling publish still writing it
    assert other.exists()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (10,)
