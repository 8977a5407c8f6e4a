"""The sentiment / intent / emotion stage over a small mailbox: complete, incremental, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from intel import pipeline
from intel.config import Settings, load_settings
from intel.enrich import enrich, load_classifier, score_batch
from intel.store.insights import InsightInput, InsightRow

MAILS = [
    ("Invoice 4411 is wrong again", "This is the third time the invoice is wrong. I am really unhappy."),
    ("Quick question", "Could you tell me whether the export supports CSV?"),
    ("Thanks!", "Thank you so much for sorting this out so quickly, great work."),
    ("Pricing for 40 seats", "We are interested in buying 40 seats. What would the annual price be?"),
    ("Please send the contract", "Please send me the signed contract by Friday."),
    ("Refund", "I want a refund for last month. The service was down for three days."),
    ("Lunch", "See you at noon."),
    ("Re: Pricing for 40 seats", "Great, that works for us. Looking forward to getting started!"),
    ("Your password", "Can you reset my password? I am locked out."),
    ("Status", "Any update on ticket 5521?"),
]


def _write_mailbox(root: Path) -> None:
    root.mkdir()
    for n, (subject, body) in enumerate(MAILS):
        (root / f"{n:02d}.eml").write_text(
            f"From: Customer {n} <c{n}@client.example>\nTo: support@ours.example\nSubject: {subject}\n"
            f"Message-ID: <m{n}@client.example>\nDate: Mon, {n + 1} Jun 2026 09:00:00 +0000\n\n{body}\n\n"
            f"Best,\nCustomer {n}\n",
            encoding="utf-8",
        )


def _settings(root: Path, extra: str = "") -> Settings:
    config = root / "intel.toml"
    config.write_text(
        f'[storage]\ndatabase = "{root / "intel.duckdb"}"\n'
        '[identity]\naddresses = ["*@ours.example"]\n'
        "[enrich]\nbatch_size = 4\n"
        f'[[source]]\nname = "mail"\ntype = "eml"\npath = "{root / "mail"}"\n' + extra,
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
def mailbox(tmp_path: Path) -> Settings:
    _write_mailbox(tmp_path / "mail")
    settings = _settings(tmp_path)
    pipeline.sync_source(settings, "mail")
    return settings


def _rows(settings: Settings) -> dict[str, tuple[Any, ...]]:
    con = duckdb.connect(str(settings.storage.database), read_only=True)
    try:
        rows = con.execute(
            "SELECT m.subject, i.sentiment, i.sentiment_scores, i.intent, i.intent_scores, i.emotion,"
            " i.emotion_scores, i.custom_intents, i.models, i.load_id"
            " FROM message_insights i JOIN messages m USING (message_key)"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def test_every_message_is_scored_once_with_the_classifier_outputs(mailbox: Settings) -> None:
    result = enrich(mailbox)
    assert (result.pending, result.scored) == (len(MAILS), len(MAILS))
    rows = _rows(mailbox)
    assert set(rows) == {subject for subject, _ in MAILS}

    # The stored rows are exactly what the classifier says for (subject, new text).
    con = duckdb.connect(str(mailbox.storage.database), read_only=True)
    try:
        stored = con.execute("SELECT message_key, subject, new_text FROM messages ORDER BY message_key").fetchall()
    finally:
        con.close()
    direct = load_classifier(mailbox.models).predict([(s, t) for _, s, t in stored])
    for (_, subject, _), expected in zip(stored, direct, strict=True):
        sentiment, sentiment_scores, intent, intent_scores, emotion, emotion_scores = rows[subject][:6]
        assert (sentiment, intent, emotion) == (
            expected["sentiment"]["label"],
            expected["intent"]["label"],
            expected["emotion"]["label"],
        )
        assert sentiment_scores == pytest.approx(expected["sentiment"]["scores"])
        assert intent_scores == pytest.approx(expected["intent"]["scores"])
        assert emotion_scores == pytest.approx(expected["emotion"]["scores"])

    again = enrich(mailbox)
    assert (again.pending, again.scored, again.load_id) == (0, 0, 0)
    assert _rows(mailbox) == rows


def test_a_custom_intent_rescores_everything_and_shows_beside_the_built_ins(tmp_path: Path) -> None:
    _write_mailbox(tmp_path / "mail")
    settings = _settings(tmp_path)
    pipeline.sync_source(settings, "mail")
    enrich(settings)
    before = _rows(settings)

    custom = (
        '[[models.custom_intent]]\nname = "refund_request"\n'
        'examples = ["I want a refund", "Please refund my payment", "Can I get my money back?",'
        ' "We would like a refund for the outage"]\n'
    )
    with_custom = _settings(tmp_path, custom)
    result = enrich(with_custom)
    assert result.scored == len(MAILS)
    assert "custom=" in result.models
    after = _rows(with_custom)
    assert "refund_request" in after["Refund"][6]  # custom_intents
    assert after["Refund"][2] == "refund_request"  # the best custom match takes the label
    assert all("refund_request" in row[3] for row in after.values())  # its score sits beside the built-ins
    assert "refund_request" not in after["Lunch"][6]
    # The built-in sentiment and emotion do not change with a custom intent.
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}


def test_rebuild_rescores_with_the_same_models(mailbox: Settings) -> None:
    first = enrich(mailbox)
    rebuilt = enrich(mailbox, rebuild=True)
    assert rebuilt.scored == len(MAILS) and rebuilt.load_id > first.load_id
    assert {row[-1] for row in _rows(mailbox).values()} == {rebuilt.load_id}


def test_a_failure_mid_run_keeps_finished_batches_and_the_next_run_completes(mailbox: Settings) -> None:
    calls = 0

    def flaky(batches: list[list[InsightInput]]) -> list[list[InsightRow]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("worker lost")
        return [score_batch(mailbox.models, b) for b in batches]

    with pytest.raises(RuntimeError, match="worker lost"):
        enrich(mailbox, map_batches=flaky)
    assert len(_rows(mailbox)) == 4  # the first batch (batch_size = 4) was written, nothing of the second
    con = duckdb.connect(str(mailbox.storage.database), read_only=True)
    try:
        status = con.execute("SELECT status, error FROM loads WHERE stage = 'enrich'").fetchall()
    finally:
        con.close()
    assert status == [("failed", "RuntimeError: worker lost")]

    rest = enrich(mailbox)
    assert (rest.pending, rest.scored) == (len(MAILS) - 4, len(MAILS) - 4)
    assert len(_rows(mailbox)) == len(MAILS)


def test_duplicates_are_not_scored(tmp_path: Path) -> None:
    _write_mailbox(tmp_path / "mail")
    # Same Message-ID, other bytes (a list footer): stored, marked duplicate_of, not scored.
    original = (tmp_path / "mail" / "01.eml").read_text(encoding="utf-8")
    (tmp_path / "mail" / "01b.eml").write_text(original + "\n-- \nlist footer\n", encoding="utf-8")
    settings = _settings(tmp_path)
    pipeline.sync_source(settings, "mail")
    pipeline.thread_messages(settings)
    result = enrich(settings)
    assert result.scored == len(MAILS)
