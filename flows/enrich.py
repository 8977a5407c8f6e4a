"""The enrichment flow: contacts and activities, then sentiment, intent and emotion.

Both parts are incremental: only messages that the current extractor and model versions have
not processed are read.

The flow process owns the database (one DuckDB writer); batches of messages are scored by
`score-batch` tasks. With ``[enrich] task_runner = "dask"`` those tasks run on a Dask cluster
through prefect-dask (an existing one at ``dask_address``, or a local cluster of
``dask_workers`` processes started for the run); by default they run in the flow's own
process, one after another, which is fastest on a single machine because torch already uses
every core for one batch.

On Dask, each worker process loads the models once (`intel.enrich.load_classifier` caches per
process) and scores one batch at a time with ``dask_threads_per_worker`` torch threads: the
tokenizer and the model are shared by the worker's threads, and a fast tokenizer must not be
used by two threads at once.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from flows.params import RunParams
from intel import enrich as enrichment
from intel import pipeline
from intel.config import EnrichSettings, ModelsSettings, Settings
from intel.errors import ConfigError
from intel.store.insights import InsightInput, InsightRow

__all__ = [
    "ScoredBatch",
    "enrich_flow",
    "enrich_with_runner",
    "score_batch_task",
    "score_in_this_process",
    "task_runner_for",
]

# One batch at a time per process: the models are shared by every thread of a Dask worker.
_SCORING = threading.Lock()
# The loaded classifiers this process has scored with (by id): one means loaded once, reused since.
_CLASSIFIERS: set[int] = set()


@dataclass(frozen=True)
class ScoredBatch:
    """A batch's rows, where they were computed (host:pid), and how many classifiers that process loaded."""

    rows: list[InsightRow]
    worker: str
    model_loads: int


@task(name="extract-contacts-activities", cache_policy=NO_CACHE)
def extract_contacts_and_activities(settings: Settings) -> dict[str, int]:
    return pipeline.extract_contacts_and_activities(settings)


def score_in_this_process(models: ModelsSettings, batch: list[InsightInput]) -> ScoredBatch:
    """Score one batch with this process's models (loaded by the first batch, then reused)."""
    with _SCORING:
        _CLASSIFIERS.add(id(enrichment.load_classifier(models)))
        rows = enrichment.score_batch(models, batch)
        loads = len(_CLASSIFIERS)
    return ScoredBatch(rows, f"{socket.gethostname()}:{os.getpid()}", loads)


@task(name="score-batch", cache_policy=NO_CACHE)
def score_batch_task(models: ModelsSettings, batch: list[InsightInput]) -> ScoredBatch:
    """Score one batch wherever the task runner puts it."""
    # The task reaches this module's state only through a module-level function: Dask ships the
    # task's own function by value, and that one would carry copies of the lock and the set.
    return score_in_this_process(models, batch)


def task_runner_for(enrich: EnrichSettings) -> Any:
    """The task runner that `[enrich]` asks for: None (in-process) or a prefect-dask DaskTaskRunner."""
    if enrich.task_runner != "dask":
        return None
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError('[enrich] task_runner = "dask" needs prefect-dask: pip install "email-intel[dask]"') from None

    if enrich.dask_address:
        return DaskTaskRunner(address=enrich.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": enrich.dask_workers,
            "threads_per_worker": enrich.dask_threads_per_worker,
            "processes": True,
            # Loopback only, on a free port: two runs (or a notebook's cluster) never collide on 8787.
            "host": "127.0.0.1",
            "dashboard_address": "127.0.0.1:0",
        },
    )


class _DaskBatches:
    """Submits each round's batches as `score-batch` tasks and remembers which workers ran them."""

    def __init__(self, models: ModelsSettings) -> None:
        self.models = models
        self.batches: dict[str, int] = {}
        self.model_loads: dict[str, int] = {}

    def __call__(self, batches: list[list[InsightInput]]) -> list[list[InsightRow]]:
        futures = [score_batch_task.submit(self.models, batch) for batch in batches]
        results: list[list[InsightRow]] = []
        for future in futures:
            scored: ScoredBatch = future.result()
            self.batches[scored.worker] = self.batches.get(scored.worker, 0) + 1
            self.model_loads[scored.worker] = scored.model_loads
            results.append(scored.rows)
        return results


def _dask_workers(enrich: EnrichSettings) -> int:
    """How many workers score batches: ours for a local cluster, else asked of the scheduler."""
    if not enrich.dask_address:
        return enrich.dask_workers  # known without starting the cluster (nothing pending: none starts)
    context = FlowRunContext.get()
    client = getattr(context.task_runner, "client", None) if context else None
    if client is None:
        return 1
    return max(1, len(client.nthreads()))


@contextmanager
def _api_for_workers() -> Iterator[None]:
    """Make the flow's Prefect API address explicit, so Dask workers report their task runs to it.

    Workers read the API address from the settings the flow serializes with each task. Without
    ``PREFECT_API_URL`` (Prefect's ephemeral mode) that address is unset, and every worker
    process would start a temporary Prefect server of its own.
    """
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    with get_client(sync_client=True) as client:
        url = str(client.api_url).rstrip("/")
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


@flow(name="intel-enrich", log_prints=False)
def enrich_flow(params: RunParams | None = None, rebuild: bool = False) -> dict[str, Any]:
    """Extract contacts and activities, then score pending messages (batches on the task runner)."""
    settings = (params or RunParams()).settings()
    logger = get_run_logger()
    extracted = extract_contacts_and_activities(settings)
    if settings.enrich.task_runner != "dask":
        result = enrichment.enrich(settings, rebuild=rebuild)
        placement = "in the flow's process"
        workers: dict[str, Any] = {}
    else:
        # Each worker's torch gets its own threads; tell the models so (not the flow's count).
        models = settings.models.model_copy(update={"threads": settings.enrich.dask_threads_per_worker})
        submit = _DaskBatches(models)
        with _api_for_workers():
            n_workers = _dask_workers(settings.enrich)
            # Two batches per worker in flight: one scoring, the next one already queued.
            result = enrichment.enrich(settings, rebuild=rebuild, map_batches=submit, batches_per_round=2 * n_workers)
        placement = f"on {len(submit.batches)} of {n_workers} Dask workers"
        workers = {w: {"batches": n, "model_loads": submit.model_loads[w]} for w, n in sorted(submit.batches.items())}
    logger.info(
        "enrich: %d of %d pending messages scored by %s %s (%.1f messages/s)",
        result.scored,
        result.pending,
        result.models,
        placement,
        result.per_second,
    )
    return {
        "extract": extracted,
        "scored": result.scored,
        "pending": result.pending,
        "models": result.models,
        "per_second": round(result.per_second, 1),
        "workers": workers,
    }


def enrich_with_runner(params: RunParams | None = None, rebuild: bool = False) -> dict[str, Any]:
    """Run `enrich_flow` with the task runner from config (as a subflow when called inside a flow)."""
    params = params or RunParams()
    settings = params.settings()
    runner = task_runner_for(settings.enrich)
    chosen = enrich_flow.with_options(task_runner=runner) if runner is not None else enrich_flow
    result: dict[str, Any] = chosen(params, rebuild)
    return result
