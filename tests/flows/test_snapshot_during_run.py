"""A BI client reads the published snapshot, read-only from another process, while a run writes.

The reader is a separate Python process (as a BI tool or notebook would be) that opens the
snapshot read-only in a loop and records what it saw. While the flow runs it must never fail
to open the file and must only ever see a complete state: the previous run's counts or, after
the new snapshot is renamed into place, the new run's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from flows.pipeline import RunParams, run_pipeline

READER = r"""
import json, os, sys, time
import duckdb
snapshot, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
seen = []
while not os.path.exists(stop):
    started = time.time()
    try:
        con = duckdb.connect(snapshot, read_only=True)
        row = con.execute(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM threads),"
            " (SELECT count(*) FROM message_insights), (SELECT count(*) FROM v_volume_daily)"
        ).fetchone()
        con.close()
        seen.append({"at": started, "ok": True, "counts": list(row)})
    except Exception as exc:
        seen.append({"at": started, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    time.sleep(0.05)
with open(out, "w") as f:
    json.dump(seen, f)
"""


def _mails(folder: Path, start: int, count: int) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(start, start + count):
        (folder / f"{n:03d}.eml").write_text(
            f"From: Client {n % 7} <c{n % 7}@client.example>\nTo: team@ours.example\n"
            f"Subject: Order {n}\nMessage-ID: <o{n}@client.example>\n"
            f"Date: Tue, {1 + n % 28} Sep 2026 1{n % 10}:00:00 +0000\n\n"
            f"Hello, could you confirm order {n} ships this week? Thanks.\n",
            encoding="utf-8",
        )


def test_a_bi_client_reads_the_snapshot_while_a_run_writes(prefect_harness: None, tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    _mails(mail, 0, 20)
    config = tmp_path / "intel.toml"
    config.write_text(
        f'[storage]\ndatabase = "{tmp_path / "intel.duckdb"}"\n'
        '[identity]\naddresses = ["*@ours.example"]\n'
        f'[reports]\nout = "{tmp_path / "reports"}"\n'
        f'[[source]]\nname = "mail"\ntype = "eml"\npath = "{mail}"\n',
        encoding="utf-8",
    )
    params = RunParams(config=str(config))
    first = run_pipeline(params)
    assert first.snapshot is not None and first.counts["messages"] == 20
    _mails(mail, 20, 15)  # new mail for the second run

    stop, out = tmp_path / "stop", tmp_path / "seen.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(first.snapshot), str(stop), str(out)])
    try:
        time.sleep(0.5)  # the reader is looping before the run starts
        run_started = time.time()
        second = run_pipeline(params)
        run_ended = time.time()
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert reader.returncode == 0
    seen = json.loads(out.read_text())
    during = [s for s in seen if run_started <= s["at"] <= run_ended]
    assert len(during) >= 10, "the reader must have read many times while the run was writing"
    assert all(s["ok"] for s in seen), [s for s in seen if not s["ok"]][:3]
    states = {tuple(s["counts"]) for s in seen}
    old = (20, first.counts["threads"], 20)
    new = (35, second.counts["threads"], 35)
    assert {state[:3] for state in states} <= {old, new}
    assert tuple(seen[0]["counts"][:3]) == old and tuple(seen[-1]["counts"][:3]) == new

    con = duckdb.connect(str(second.snapshot), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM message_insights").fetchone() == (35,)
    finally:
        con.close()
