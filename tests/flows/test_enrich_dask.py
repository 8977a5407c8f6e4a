"""Enrichment on a local Dask cluster (prefect-dask) gives exactly the rows of the in-process run."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import duckdb

from flows.enrich import enrich_with_runner
from flows.params import RunParams
from intel import enrich as enrichment
from intel import pipeline
from intel.config import load_settings

BODIES = [
    "The replacement arrived damaged again. This is the third time and I am really frustrated.",
    "Could you send me the invoice for March? I cannot find it in the portal.",
    "Can we meet on Tuesday at 10am to go through the proposal?",
    "Thank you so much for the quick fix, the whole team is delighted.",
    "We are interested in buying 50 licences. What would the price be per seat?",
    "I am not sure I understand the new billing. Which plan are we on now?",
    "Please update our shipping address to 12 High Street, Bristol BS1 4DJ.",
    "Your support has been excellent and we trust you with the rollout.",
    "Nobody answered my last two emails. This is unacceptable.",
    "Just confirming our call tomorrow at 3pm with the finance team.",
    "Great news: the pilot went live and the users love it!",
    "Could you please reset the password for the shared account by Friday?",
]
SUBJECTS = ["Order 1042", "Invoice question", "Proposal", "Delivery", "Pricing", "Account"]
MESSAGES = 36
BATCH = 8


def write_mbox(path: Path) -> None:
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    entries = []
    for i in range(MESSAGES):
        body = BODIES[i % len(BODIES)]
        if i >= len(BODIES):  # later messages mix two bodies, so no two texts are the same
            body += f" Also, ticket {1000 + i}: " + BODIES[(i * 5 + 1) % len(BODIES)]
        sender = f"client{i % 7}@customer{i % 3}.example"
        entries.append(
            f"From {sender} Mon May  4 09:00:00 2026\n"
            f"From: Client {i % 7} <{sender}>\nTo: support@acme.example\n"
            f"Subject: {SUBJECTS[i % len(SUBJECTS)]}\nDate: {format_datetime(start + timedelta(hours=5 * i))}\n"
            f"Message-ID: <dask{i}@customer.example>\n\n{body}\n\nBest regards,\nClient {i % 7}\n\n"
        )
    path.write_text("".join(entries), encoding="utf-8")


INSIGHTS = """
SELECT message_key, sentiment, sentiment_score, sentiment_scores, intent, intent_score, intent_scores,
       custom_intents, emotion, emotion_score, emotion_scores, models, text_chars
FROM message_insights ORDER BY message_key
"""


def insights(database: Path) -> tuple[list[tuple[object, ...]], int]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(INSIGHTS).fetchall()
        missing = con.execute(
            "SELECT count(*) FROM messages m LEFT JOIN message_insights i USING (message_key)"
            " WHERE i.message_key IS NULL"
        ).fetchone()
    finally:
        con.close()
    return rows, int(missing[0]) if missing else -1


def test_dask_enrichment_matches_the_in_process_run(prefect_harness: None, tmp_path: Path) -> None:
    write_mbox(tmp_path / "mail.mbox")
    config = tmp_path / "intel.toml"
    # One torch thread in both runs, so the only difference between them is where batches run.
    config.write_text(
        f'[storage]\ndatabase = "{tmp_path / "dask" / "intel.duckdb"}"\n'
        '[identity]\naddresses = ["*@acme.example"]\n'
        "[models]\nthreads = 1\n"
        f'[enrich]\nbatch_size = {BATCH}\ntask_runner = "dask"\ndask_workers = 2\ndask_threads_per_worker = 1\n'
        f'[[source]]\nname = "mail"\ntype = "mbox"\npath = "{tmp_path / "mail.mbox"}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert pipeline.sync_source(settings, "mail").new == MESSAGES

    # The same database, scored in this process without Prefect or Dask.
    (tmp_path / "local").mkdir()
    for file in (tmp_path / "dask").glob("intel.duckdb*"):
        shutil.copy2(file, tmp_path / "local" / file.name)
    local = enrichment.enrich(load_settings(config, database=tmp_path / "local" / "intel.duckdb"))
    assert local.scored == MESSAGES

    result = enrich_with_runner(RunParams(config=str(config)))

    assert (result["scored"], result["pending"]) == (MESSAGES, MESSAGES)
    # Both workers took batches; neither is this process; each loaded the models once for all its batches.
    workers = result["workers"]
    pids = {int(name.rsplit(":", 1)[1]) for name in workers}
    assert len(pids) == 2 and os.getpid() not in pids, workers
    assert sum(w["batches"] for w in workers.values()) == -(-MESSAGES // BATCH)
    assert all(w["model_loads"] == 1 for w in workers.values()), workers

    on_dask, missing = insights(tmp_path / "dask" / "intel.duckdb")
    in_process, _ = insights(tmp_path / "local" / "intel.duckdb")
    assert missing == 0 and len(on_dask) == MESSAGES
    assert on_dask == in_process
    assert len({row[1] for row in on_dask}) > 1 and len({row[4] for row in on_dask}) > 1  # not all one label

    # Nothing is pending any more: a second run scores nothing and starts no batch.
    again = enrich_with_runner(RunParams(config=str(config)))
    assert (again["scored"], again["workers"]) == (0, {})
