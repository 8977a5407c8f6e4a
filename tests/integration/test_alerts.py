"""Alert rules on a small mailbox whose labels the test sets: raised once, resolved, thresholds.

Mail goes through the real path (eml files -> sync -> threading); the classifier labels are
written with the stage's own writer (`write_insights`) so each message carries the sentiment
and intent the scenario needs, independent of what the models would say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from intel import pipeline
from intel.config import Settings, load_settings
from intel.pipeline import open_settings_store
from intel.store.insights import InsightRow, write_insights

OURS = "team@ours.example"


@dataclass(frozen=True)
class Mail:
    n: int  # Message-ID <n@test> and file name
    sender: str
    day: int  # of September 2026, 10:00 UTC
    sentiment: str = "neutral"
    intent: str = "other"
    reply_to: int | None = None  # Message-ID number this one answers
    hour: int = 10


def _write(root: Path, mails: list[Mail]) -> None:
    root.mkdir(exist_ok=True)
    for m in mails:
        to = OURS if m.sender != OURS else "someone@client.example"
        refs = f"In-Reply-To: <{m.reply_to}@test>\nReferences: <{m.reply_to}@test>\n" if m.reply_to else ""
        (root / f"{m.n:04d}.eml").write_text(
            f"From: {m.sender}\nTo: {to}\nSubject: Mail {m.n}\nMessage-ID: <{m.n}@test>\n{refs}"
            f"Date: {m.day:02d} Sep 2026 {m.hour:02d}:00:00 +0000\n\nBody of mail {m.n}.\n",
            encoding="utf-8",
        )


def _settings(root: Path, alerts: str = "") -> Settings:
    config = root / "intel.toml"
    config.write_text(
        f'[storage]\ndatabase = "{root / "intel.duckdb"}"\n[identity]\naddresses = ["*@ours.example"]\n'
        f"[alerts]\n{alerts}\n"
        f'[[source]]\nname = "mail"\ntype = "eml"\npath = "{root / "mail"}"\n',
        encoding="utf-8",
    )
    return load_settings(config)


def _label(settings: Settings, mails: list[Mail]) -> None:
    """Sync and thread the mail, then store the scenario's labels as the enrichment stage would."""
    pipeline.sync_source(settings, "mail")
    pipeline.thread_messages(settings, force=True)
    with open_settings_store(settings) as store:
        keys = dict(store.con.execute("SELECT rfc_message_id, message_key FROM messages").fetchall())
        rows = []
        for m in mails:

            def scored(label: str) -> dict[str, object]:
                return {"label": label, "score": 0.9, "scores": {label: 0.9}}

            rows.append(
                InsightRow(keys[f"<{m.n}@test>"], scored(m.sentiment), scored(m.intent), scored("neutral"), (), 10)
            )
        load = store.begin_load("enrich")
        names = {"sentiment": "s.test", "intent": "i.test", "emotion": "e.test"}
        write_insights(store, load, rows, names, "test")
        store.finish_load(load, "ok")


def _alerts(settings: Settings) -> list[tuple[str, str, str, int, str]]:
    con = duckdb.connect(str(settings.storage.database), read_only=True)
    try:
        rows = con.execute(
            "SELECT a.rule, a.subject, a.status, len(a.message_keys),"
            " (SELECT rfc_message_id FROM messages WHERE message_key = a.message_keys[1])"
            " FROM alerts a ORDER BY a.rule, a.subject, a.first_at"
        ).fetchall()
    finally:
        con.close()
    return [tuple(r) for r in rows]


A, B, C = "a@client.example", "b@client.example", "c@other.example"


def test_negative_streaks_are_raised_once_and_resolved_by_a_positive_mail(tmp_path: Path) -> None:
    mails = [
        # A: negative, neutral, negative, negative -> a streak of 3 (neutral neither counts nor breaks).
        Mail(1, A, 1, "negative"),
        Mail(2, A, 2, "neutral"),
        Mail(3, A, 3, "negative"),
        Mail(4, A, 4, "negative"),
        # B: negative, negative, positive, negative -> the positive breaks it: no alert.
        Mail(5, B, 1, "negative"),
        Mail(6, B, 2, "negative"),
        Mail(7, B, 3, "positive"),
        Mail(8, B, 4, "negative"),
    ]
    _write(tmp_path / "mail", mails)
    settings = _settings(tmp_path, "complaint_unanswered_hours = 0\nrequest_unanswered_hours = 0")
    _label(settings, mails)

    first = pipeline.raise_alerts(settings)
    assert first["raised"] == 1
    assert _alerts(settings) == [("negative_streak", A, "open", 3, "<1@test>")]
    # Raised once: a second run finds the same situation and adds nothing.
    assert pipeline.raise_alerts(settings)["raised"] == 0

    # A fourth negative mail continues the same streak: still one alert.
    more = [Mail(9, A, 5, "negative")]
    _write(tmp_path / "mail", more)
    _label(settings, more)
    assert pipeline.raise_alerts(settings)["raised"] == 0

    # A positive mail ends the situation; three new negatives make a new one.
    later = [Mail(10, A, 6, "positive"), Mail(11, A, 7, "negative"), Mail(12, A, 8, "negative")]
    _write(tmp_path / "mail", later)
    _label(settings, later)
    result = pipeline.raise_alerts(settings)
    assert (result["raised"], result["resolved"], result["open"]) == (0, 1, 0)
    last = [Mail(13, A, 9, "negative")]
    _write(tmp_path / "mail", last)
    _label(settings, last)
    assert pipeline.raise_alerts(settings)["raised"] == 1
    assert _alerts(settings) == [
        ("negative_streak", A, "resolved", 3, "<1@test>"),
        ("negative_streak", A, "open", 3, "<11@test>"),
    ]


def test_domain_streaks_count_everyone_at_the_organisation(tmp_path: Path) -> None:
    mails = [
        Mail(1, A, 1, "negative"),
        Mail(2, B, 2, "negative"),
        Mail(3, A, 3, "negative"),
        Mail(4, C, 4, "negative"),  # another domain
    ]
    _write(tmp_path / "mail", mails)
    settings = _settings(
        tmp_path, "domain_negative_streak = 3\ncomplaint_unanswered_hours = 0\nrequest_unanswered_hours = 0"
    )
    _label(settings, mails)
    pipeline.raise_alerts(settings)
    assert _alerts(settings) == [("domain_negative_streak", "client.example", "open", 3, "<1@test>")]


def test_unanswered_complaints_and_requests(tmp_path: Path) -> None:
    mails = [
        # A complains and never gets a reply: complaint alert (not also a request alert).
        Mail(1, A, 1, "negative", "complaint"),
        Mail(2, A, 1, "negative", "request", reply_to=1, hour=11),
        # B complains and we answer two hours later: nothing.
        Mail(3, B, 2, "negative", "complaint"),
        Mail(4, OURS, 2, reply_to=3, hour=12),
        # C asks a question and waits: request alert. A thank-you note needs no reply: nothing.
        Mail(5, C, 3, "neutral", "query"),
        Mail(6, C, 4, "positive", "other", hour=9),
    ]
    _write(tmp_path / "mail", mails)
    settings = _settings(tmp_path, "negative_streak = 0")
    _label(settings, mails)
    pipeline.raise_alerts(settings)
    assert _alerts(settings) == [
        ("complaint_unanswered", A, "open", 1, "<1@test>"),
        ("request_unanswered", C, "open", 1, "<5@test>"),
    ]
    # Our reply to C resolves that alert on the next run.
    reply = [Mail(7, OURS, 5, reply_to=5)]
    _write(tmp_path / "mail", reply)
    _label(settings, reply)
    assert pipeline.raise_alerts(settings)["resolved"] == 1
    assert [a[2] for a in _alerts(settings)] == ["open", "resolved"]


def test_old_mail_outside_the_lookback_raises_nothing(tmp_path: Path) -> None:
    mails = [Mail(1, A, 1, "negative"), Mail(2, A, 2, "negative"), Mail(3, A, 3, "negative"), Mail(4, B, 30)]
    _write(tmp_path / "mail", mails)
    settings = _settings(tmp_path, "lookback_days = 20\ncomplaint_unanswered_hours = 0\nrequest_unanswered_hours = 0")
    _label(settings, mails)
    assert pipeline.raise_alerts(settings)["raised"] == 0
