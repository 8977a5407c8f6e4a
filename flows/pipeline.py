"""The main job and its stages as Prefect flows: sync -> enrich -> report.

Tasks are thin: each calls one `intel.pipeline` function. Syncs run one after another (DuckDB
has one writer); a source that fails fails its own task, and the others still run. Retries
happen only for transient errors (dropped connections, timeouts, throttling).

* `sync_flow`: one task per enabled source, then threading.
* `enrich_flow` (flows/enrich.py): contacts and activities from signatures and bodies, then
  sentiment, intent and emotion for messages not scored by the current models.
* `report_flow`: alerts, the read-only snapshot for BI tools, and the HTML/CSV/Parquet report.
* `run_pipeline`: the three in order; what `intel run` and `intel serve` run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows.enrich import enrich_with_runner
from flows.params import RunParams
from intel import pipeline
from intel.config import Settings
from intel.errors import TransientError

__all__ = ["RunParams", "report_flow", "run_pipeline", "sync_flow"]


def _transient_only(task: Any, task_run: Any, state: State) -> bool:
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


@task(
    name="sync-source",
    retries=3,
    retry_delay_seconds=[5, 30, 120],
    retry_condition_fn=_transient_only,
    cache_policy=NO_CACHE,
)
def sync_source(settings: Settings, name: str) -> pipeline.SyncResult:
    result = pipeline.sync_source(settings, name)
    get_run_logger().info("source %s: %d messages seen, %d new", name, result.seen, result.new)
    return result


@task(name="thread-messages", cache_policy=NO_CACHE)
def thread_messages(settings: Settings) -> dict[str, int]:
    return pipeline.thread_messages(settings)


@task(name="raise-alerts", cache_policy=NO_CACHE)
def raise_alerts(settings: Settings) -> dict[str, Any]:
    return pipeline.raise_alerts(settings)


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def publish_snapshot(settings: Settings) -> str:
    return str(pipeline.publish(settings))


@task(name="write-report", cache_policy=NO_CACHE)
def write_report(settings: Settings, out: str | None) -> str:
    result = pipeline.report(settings, Path(out) if out else None)
    get_run_logger().info("report written to %s", result.html)
    return str(result.html)


@task(name="summarize", cache_policy=NO_CACHE)
def summarize(settings: Settings) -> dict[str, int]:
    return pipeline.summarize(settings)


@flow(name="intel-sync", log_prints=False)
def sync_flow(params: RunParams | None = None, source: str | None = None) -> dict[str, Any]:
    """Sync every enabled source (or one), then thread new mail: ``{"syncs": [...], "threads": {...}}``."""
    settings = (params or RunParams()).settings()
    logger = get_run_logger()
    names = [source] if source else [s.name for s in settings.sources if s.enabled]
    if source:
        settings.source(source)  # a clear error for an unknown name
    results: list[pipeline.SyncResult] = []
    for name in names:
        state = sync_source(settings, name, return_state=True)
        if state.is_completed():
            results.append(state.result())
            continue
        try:
            state.result()
        except Exception as exc:  # the task failed: report it, go on with the other sources
            message = str(exc) or type(exc).__name__
            logger.error("source %s failed: %s", name, message)
            results.append(pipeline.SyncResult(name, 0, error=message))
    return {"syncs": results, "threads": thread_messages(settings)}


@flow(name="intel-report", log_prints=False)
def report_flow(params: RunParams | None = None, out: str | None = None) -> dict[str, Any]:
    """Raise alerts, publish the snapshot, write the report from it."""
    settings = (params or RunParams()).settings()
    alerts = raise_alerts(settings)
    snapshot = publish_snapshot(settings)
    html = write_report(settings, out)
    return {"alerts": alerts, "snapshot": snapshot, "report": html}


@flow(name="intel-run", log_prints=False)
def run_pipeline(params: RunParams | None = None, rebuild: bool = False) -> pipeline.RunSummary:
    """The main job: sync every source, enrich, raise alerts, publish, report, summarize."""
    params = params or RunParams()
    settings = params.settings()
    summary = pipeline.RunSummary(settings.storage.database, None)
    synced = sync_flow(params)
    summary.syncs = synced["syncs"]
    summary.extra["threads"] = synced["threads"]
    summary.extra["enrich"] = enrich_with_runner(params, rebuild)
    reported = report_flow(params)
    summary.extra["alerts"] = reported["alerts"]
    summary.extra["report"] = reported["report"]
    summary.snapshot = Path(reported["snapshot"])
    summary.counts = summarize(settings)
    return summary
