"""The extraction stage on the demo mailbox, checked against the generator's ground truth.

Thresholds: the demo is the development set of the extractors, so today every field and every
activity is right; the tests allow 5% so that a harmless change in one phrasing does not fail
the suite, while a real regression (a layout, a zone or a weekday rule broken) moves far more
than 5% of the ~300 fields and ~140 activities checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from intel import pipeline
from intel.config import Settings, load_settings
from intel.demo import DemoMessage, demo_messages


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, int]]]:
    root = tmp_path_factory.mktemp("enrich")
    config = root / "intel.toml"
    config.write_text(
        f'[storage]\ndatabase = "{root / "intel.duckdb"}"\n'
        '[identity]\naddresses = ["*@harborlight.example"]\n'
        f'[[source]]\nname = "demo"\ntype = "demo"\npath = "{root / "maildir"}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    pipeline.sync_source(settings, "demo")
    pipeline.thread_messages(settings)
    counts = pipeline.extract_contacts_and_activities(settings)
    pipeline.publish(settings)
    yield settings, counts


def query(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.storage.snapshot_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _expected_contacts(truth: list[DemoMessage]) -> dict[str, dict[str, Any]]:
    """Per sender: newest title, company and phones that any of their signatures showed."""
    expected: dict[str, dict[str, Any]] = {}
    for m in sorted(truth, key=lambda t: t.sent_at):
        sig = m.signature
        if sig is None:
            continue
        e = expected.setdefault(m.sender, {"title": None, "company": None, "phones": None})
        if sig.get("title"):
            e["title"] = sig["title"]
        if sig.get("company"):
            e["company"] = sig["company"]
        if sig.get("phones"):
            e["phones"] = sorted(sig["phones"])
    return expected


def test_contacts_hold_titles_companies_and_phones(demo_db: tuple[Settings, dict[str, int]]) -> None:
    settings, counts = demo_db
    truth = demo_messages()
    assert counts["messages"] == len(truth)
    expected = _expected_contacts(truth)
    rows = {
        r[0]: {"title": r[1], "company": r[2], "phones": sorted(p["number"] for p in r[3]) or None, "types": r[3]}
        for r in query(settings, "SELECT address, title, company, phones FROM contacts")
    }
    checked = right = 0
    for address, fields in expected.items():
        for key in ("title", "company", "phones"):
            if fields[key] is None:
                continue
            checked += 1
            right += rows.get(address, {}).get(key) == fields[key]
    assert checked >= 60
    assert right / checked >= 0.95, (right, checked)
    # phone types come from the labels: Marcus Johnson prints "Tel." and "Fax"
    marcus = rows["marcus.johnson@bluefin-retail.example"]["types"]
    assert {p["number"]: p["type"] for p in marcus} == {"+13125550147": "office", "+13125550148": "fax"}


def test_contact_history_keeps_every_message(demo_db: tuple[Settings, dict[str, int]]) -> None:
    settings, _ = demo_db
    ((n_fields, n_messages),) = query(settings, "SELECT count(*), count(DISTINCT message_key) FROM contact_fields")
    with_signature = sum(1 for m in demo_messages() if m.signature is not None)
    assert n_messages >= 0.95 * with_signature
    assert n_fields > n_messages
    ((bad,),) = query(settings, "SELECT count(*) FROM contact_fields WHERE confidence <= 0 OR confidence > 1")
    assert bad == 0


def test_activities_have_the_right_types_and_dates(demo_db: tuple[Settings, dict[str, int]]) -> None:
    settings, _ = demo_db
    rows = query(
        settings,
        "SELECT m.rfc_message_id, a.type, a.text, a.start_text, a.due_text, a.thread_id, m.thread_id"
        " FROM activities a JOIN messages m USING (message_key)",
    )
    by_message: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_message.setdefault(row[0], []).append(row)
        assert row[5] == row[6]  # activities carry their message's thread
    expected = [(m, a) for m in demo_messages() for a in m.activities]
    assert len(expected) >= 100
    right = 0
    for message, activity in expected:
        want = activity["start"] or activity["due"]
        for _, kind, text, start, due, _, _ in by_message.get(message.message_id, []):
            got = start or due
            if kind != activity["type"] or got is None or not (text in activity["text"] or activity["text"] in text):
                continue
            if got[:10] == want[:10] and (
                "T" not in want or datetime.fromisoformat(got) == datetime.fromisoformat(want)
            ):
                right += 1
                break
    assert right / len(expected) >= 0.95, (right, len(expected))
    assert len(rows) <= 1.05 * len(expected)  # few activities the truth does not have


def test_meetings_and_calls_are_in_the_snapshot_with_times(demo_db: tuple[Settings, dict[str, int]]) -> None:
    settings, _ = demo_db
    ((meetings, calls, timed),) = query(
        settings,
        "SELECT count(*) FILTER (WHERE type = 'meeting'), count(*) FILTER (WHERE type = 'call'),"
        " count(*) FILTER (WHERE type <> 'task' AND start_at IS NOT NULL) FROM activities",
    )
    assert meetings >= 20 and calls >= 50 and timed == meetings + calls


def test_rerun_is_incremental_and_a_new_version_reprocesses(
    demo_db: tuple[Settings, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, first = demo_db
    again = pipeline.extract_contacts_and_activities(settings)
    assert again["messages"] == 0
    import intel.nlp.extract

    monkeypatch.setattr(intel.nlp.extract, "CONTACTS_VERSION", "contacts.test")
    redo = pipeline.extract_contacts_and_activities(settings)
    assert redo["messages"] == first["messages"]
    assert redo["activities"] == first["activities"]
    con = duckdb.connect(str(settings.storage.database), read_only=True)
    try:
        ((activities,),) = con.execute("SELECT count(*) FROM activities").fetchall()
        ((versions,),) = con.execute(
            "SELECT count(DISTINCT version) FROM extractions WHERE extractor = 'signature'"
        ).fetchall()
        ((loads,),) = con.execute("SELECT count(*) FROM loads WHERE stage = 'extract' AND status = 'ok'").fetchall()
    finally:
        con.close()
    assert activities == first["activities"]  # replaced, not duplicated
    assert versions == 1
    assert loads == 2  # the no-op run records no load


def test_stage_on_an_empty_database(tmp_path: Path) -> None:
    config = tmp_path / "intel.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "x.duckdb"}"\n', encoding="utf-8")
    counts = pipeline.extract_contacts_and_activities(load_settings(config))
    assert counts["messages"] == 0
