"""Reads and writes of the enrichment stage: `message_insights`.

A message is pending when it has no insights row, or its row was made by other models (the
`models` key changes with any model version or custom-intent change), or, during a rebuild, by
an earlier load. Rows are replaced in bulk through Arrow, one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from intel.store.db import Store

__all__ = ["InsightInput", "InsightRow", "count_pending", "pending_inputs", "write_insights"]

_SCORES = pa.map_(pa.string(), pa.float64())


@dataclass(frozen=True)
class InsightInput:
    """What the classifiers read of one message."""

    message_key: str
    subject: str
    new_text: str


@dataclass(frozen=True)
class InsightRow:
    """The classifiers' answer for one message, ready to store."""

    message_key: str
    sentiment: dict[str, Any]  # {"label", "score", "scores"}
    intent: dict[str, Any]
    emotion: dict[str, Any]
    custom_intents: tuple[str, ...]
    text_chars: int


# Duplicates (same Message-ID, other bytes) are left out: metrics use the canonical message.
_PENDING = """
FROM messages m
LEFT JOIN message_insights i ON i.message_key = m.message_key
WHERE m.duplicate_of IS NULL
  AND (i.message_key IS NULL OR i.models <> $models OR i.load_id < $rebuild_before)
"""


def count_pending(store: Store, models: str, rebuild_before: int = 0) -> int:
    """Messages that need scoring by `models` (and, with `rebuild_before`, every older row)."""
    row = store.con.execute(
        "SELECT count(*) " + _PENDING, {"models": models, "rebuild_before": rebuild_before}
    ).fetchone()
    return int(row[0]) if row else 0


def pending_inputs(store: Store, models: str, limit: int, rebuild_before: int = 0) -> list[InsightInput]:
    """Up to `limit` pending messages, oldest first (rows written since drop out of the next call)."""
    rows = store.con.execute(
        "SELECT m.message_key, m.subject, m.new_text " + _PENDING + " ORDER BY m.sent_at, m.message_key LIMIT $limit",
        {"models": models, "rebuild_before": rebuild_before, "limit": limit},
    ).fetchall()
    return [InsightInput(key, subject or "", text or "") for key, subject, text in rows]


def _scores(rows: Sequence[InsightRow], task: str) -> pa.Array:
    return pa.array([list(getattr(r, task)["scores"].items()) for r in rows], _SCORES)


def write_insights(
    store: Store, load_id: int, rows: Sequence[InsightRow], model_names: dict[str, str], models: str
) -> None:
    """Replace the insights of these messages with `rows`, in one transaction."""
    if not rows:
        return
    now = datetime.now(UTC)
    n = len(rows)
    table = pa.table(
        {
            "message_key": pa.array([r.message_key for r in rows], pa.string()),
            "sentiment": pa.array([r.sentiment["label"] for r in rows], pa.string()),
            "sentiment_score": pa.array([float(r.sentiment["score"]) for r in rows], pa.float64()),
            "sentiment_scores": _scores(rows, "sentiment"),
            "intent": pa.array([r.intent["label"] for r in rows], pa.string()),
            "intent_score": pa.array([float(r.intent["score"]) for r in rows], pa.float64()),
            "intent_scores": _scores(rows, "intent"),
            "custom_intents": pa.array([list(r.custom_intents) for r in rows], pa.list_(pa.string())),
            "emotion": pa.array([r.emotion["label"] for r in rows], pa.string()),
            "emotion_score": pa.array([float(r.emotion["score"]) for r in rows], pa.float64()),
            "emotion_scores": _scores(rows, "emotion"),
            "sentiment_model": pa.array([model_names["sentiment"]] * n, pa.string()),
            "intent_model": pa.array([model_names["intent"]] * n, pa.string()),
            "emotion_model": pa.array([model_names["emotion"]] * n, pa.string()),
            "models": pa.array([models] * n, pa.string()),
            "text_chars": pa.array([r.text_chars for r in rows], pa.int32()),
            "load_id": pa.array([load_id] * n, pa.int64()),
            "scored_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    with store.transaction({"new_insights": table}) as con:
        con.execute("DELETE FROM message_insights WHERE message_key IN (SELECT message_key FROM new_insights)")
        con.execute("INSERT INTO message_insights BY NAME SELECT * FROM new_insights")
