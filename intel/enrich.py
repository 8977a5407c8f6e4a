"""The enrichment stage: sentiment, intent and emotion for every stored message, incrementally.

`enrich` reads pending messages from the database in rounds, has them scored, and writes each
round's rows before reading the next. Scoring is a pure function of a batch (`score_batch`), so
it can run here, in threads, or on Dask workers (the Prefect flow passes a `map_batches` that
submits each batch as a task); the database stays one writer in this process.

Incremental: only messages without insights from the current models are scored. The `models`
key (`models_key`) names the three model versions and a hash of the custom intents, so a model
upgrade or a changed custom intent re-scores everything on the next run; `rebuild=True` does
the same on demand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from intel.store.insights import InsightInput, InsightRow, count_pending, pending_inputs, write_insights

if TYPE_CHECKING:
    from intel.config import ModelsSettings, Settings
    from intel.nlp.heads import Classifier

__all__ = ["EnrichResult", "MapBatches", "enrich", "load_classifier", "models_key", "score_batch"]

log = logging.getLogger(__name__)

# Scores a list of batches, returning each batch's rows in the same order.
MapBatches = Callable[[list[list[InsightInput]]], list[list[InsightRow]]]
Progress = Callable[[int], None]


@dataclass
class EnrichResult:
    load_id: int = 0
    scored: int = 0
    pending: int = 0
    models: str = ""
    model_names: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0


def models_key(model_names: dict[str, str], models: ModelsSettings) -> str:
    """The value stored in `message_insights.models`: model versions plus the custom intents."""
    key = "|".join(f"{task}={model_names[task]}" for task in ("sentiment", "intent", "emotion"))
    if models.custom_intents:
        custom = json.dumps([c.model_dump() for c in models.custom_intents], sort_keys=True)
        key += "|custom=" + hashlib.sha256(custom.encode("utf-8")).hexdigest()[:12]
    return key


@lru_cache(maxsize=2)
def _cached_classifier(models_json: str) -> Classifier:
    from intel.config import ModelsSettings
    from intel.nlp.heads import Classifier

    return Classifier(ModelsSettings.model_validate_json(models_json)).load()


def load_classifier(models: ModelsSettings) -> Classifier:
    """The loaded classifier for these settings, once per process (workers reuse it across batches)."""
    return _cached_classifier(models.model_dump_json(by_alias=True))


def score_batch(models: ModelsSettings, batch: Sequence[InsightInput]) -> list[InsightRow]:
    """Sentiment, intent and emotion of a batch in one encoder pass (pure: no database)."""
    from intel.nlp.encoder import email_text

    if not batch:
        return []
    classifier = load_classifier(models)
    custom = {c.name for c in models.custom_intents}
    results = classifier.predict([(item.subject, item.new_text) for item in batch])
    rows = []
    for item, result in zip(batch, results, strict=True):
        matched = tuple(sorted(name for name, p in result["intent"]["scores"].items() if name in custom and p >= 0.5))
        rows.append(
            InsightRow(
                item.message_key,
                result["sentiment"],
                result["intent"],
                result["emotion"],
                matched,
                len(email_text(item.subject, item.new_text)),
            )
        )
    return rows


def enrich(
    settings: Settings,
    *,
    rebuild: bool = False,
    map_batches: MapBatches | None = None,
    batches_per_round: int = 1,
    progress: Progress | None = None,
) -> EnrichResult:
    """Score every pending message and store the rows; returns what was done.

    Args:
        rebuild: re-score every message, also those already scored by the current models.
        map_batches: how a round of batches is scored (default: here, one after another).
        batches_per_round: batches read per round (set to the number of parallel workers).
        progress: called with the number of messages stored after each round.
    """
    from intel.pipeline import open_settings_store

    batch_size = settings.enrich.batch_size
    models = settings.models
    result = EnrichResult()
    started = time.perf_counter()
    classifier = load_classifier(models)  # fails fast on missing model files, before any write
    result.model_names = classifier.model_names()
    result.models = models_key(result.model_names, models)

    def score_here(batches: list[list[InsightInput]]) -> list[list[InsightRow]]:
        return [score_batch(models, b) for b in batches]

    run = map_batches or score_here
    with open_settings_store(settings) as store:
        rebuild_before = 0
        if rebuild:
            row = store.con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchone()
            rebuild_before = int(row[0]) if row else 0
        result.pending = count_pending(store, result.models, rebuild_before)
        if not result.pending:
            result.seconds = time.perf_counter() - started
            return result
        result.load_id = store.begin_load("enrich")
        try:
            while True:
                inputs = pending_inputs(store, result.models, batch_size * batches_per_round, rebuild_before)
                if not inputs:
                    break
                batches = [inputs[i : i + batch_size] for i in range(0, len(inputs), batch_size)]
                scored = run(batches)
                rows = [row for batch_rows in scored for row in batch_rows]
                if len(rows) != len(inputs):
                    raise RuntimeError(f"scoring returned {len(rows)} rows for {len(inputs)} messages")
                write_insights(store, result.load_id, rows, result.model_names, result.models)
                result.scored += len(rows)
                if progress is not None:
                    progress(len(rows))
        except BaseException as exc:
            details: dict[str, Any] = {"scored": result.scored, "models": result.models}
            store.finish_load(result.load_id, "failed", error=f"{type(exc).__name__}: {exc}", details=details)
            raise
        result.seconds = time.perf_counter() - started
        store.finish_load(
            result.load_id,
            "ok",
            details={"scored": result.scored, "models": result.models, "per_second": round(result.per_second, 1)},
        )
    log.info("enrich: %d messages scored by %s in %.1f s", result.scored, result.models, result.seconds)
    return result
