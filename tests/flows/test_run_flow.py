"""The main flow end to end on the embedded default (the demo mailbox), and source failures."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.pipeline import RunParams, run_pipeline
from intel.demo import demo_messages


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTEL_CONFIG", raising=False)
    return tmp_path


def test_run_on_the_embedded_default(prefect_harness: None, workdir: Path) -> None:
    summary = run_pipeline(RunParams())
    truth = demo_messages()
    assert [(s.source, s.new, s.error) for s in summary.syncs] == [("demo", len(truth), None)]
    assert summary.snapshot == Path("data/intel.snapshot.duckdb")
    con = duckdb.connect(str(workdir / summary.snapshot), read_only=True)
    try:
        counts = con.execute(
            "SELECT count(*), count(DISTINCT thread_id), count(*) FILTER (WHERE direction = 'outbound'),"
            " count(*) FILTER (WHERE len(parse_problems) > 0) FROM messages"
        ).fetchone()
        stored = dict(con.execute("SELECT rfc_message_id, thread_id FROM messages").fetchall())
        thread_rows = con.execute("SELECT sum(message_count) FROM threads").fetchone()
    finally:
        con.close()
    assert counts == (len(truth), len({m.thread_key for m in truth}), sum(m.direction == "outbound" for m in truth), 0)
    # Threading reproduces the generator's conversations exactly.
    by_key: dict[str, set[str]] = {}
    for m in truth:
        by_key.setdefault(m.thread_key, set()).add(stored[m.message_id])
    assert all(len(ids) == 1 for ids in by_key.values())
    assert thread_rows == (len(truth),)

    assert summary.extra["enrich"]["scored"] == len(truth)
    assert summary.counts["message_insights"] == len(truth)
    assert Path(summary.extra["report"]).is_file()

    again = run_pipeline(RunParams())
    assert [(s.new, s.seen) for s in again.syncs] == [(0, 0)]
    assert again.extra["threads"] == {"skipped": 1}
    assert again.extra["enrich"]["scored"] == 0
    assert again.extra["enrich"]["extract"]["messages"] == 0


def test_a_failing_source_fails_its_task_not_the_run(prefect_harness: None, workdir: Path) -> None:
    good = workdir / "good"
    good.mkdir()
    (good / "a.eml").write_bytes(b"From: a@x.example\nSubject: hi\nDate: Mon, 1 Jun 2026 09:00:00 +0000\n\nhello\n")
    config = workdir / "intel.toml"
    config.write_text(
        '[[source]]\nname = "missing"\ntype = "maildir"\npath = "does/not/exist"\n'
        f'[[source]]\nname = "good"\ntype = "eml"\npath = "{good}"\n'
    )
    summary = run_pipeline(RunParams(config=str(config)))
    results = {s.source: s for s in summary.syncs}
    assert results["missing"].error is not None and "missing" in results["missing"].error
    assert results["good"].error is None and results["good"].new == 1
    assert summary.counts["messages"] == 1
