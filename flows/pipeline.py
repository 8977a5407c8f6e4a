"""The main job as one Prefect flow: sync every source, thread, publish.

Tasks are thin: each calls one `intel.pipeline` function. Syncs run one after another (DuckDB
has one writer); a source that fails fails its own task, and the others still run. Retries
happen only for transient errors (dropped connections, timeouts, throttling).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from pydantic import BaseModel

from intel import pipeline
from intel.config import Settings, load_settings
from intel.errors import TransientError

__all__ = ["RunParams", "run_pipeline"]


class RunParams(BaseModel):
    """Flow parameters: where the configuration is. Secrets never travel as parameters."""

    config: str | None = None
    database: str | None = None


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


@task(name="extract-contacts-activities", cache_policy=NO_CACHE)
def extract_contacts_and_activities(settings: Settings) -> dict[str, int]:
    return pipeline.extract_contacts_and_activities(settings)


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def publish_snapshot(settings: Settings) -> str:
    return str(pipeline.publish(settings))


@task(name="summarize", cache_policy=NO_CACHE)
def summarize(settings: Settings) -> dict[str, int]:
    return pipeline.summarize(settings)


@flow(name="intel-run", log_prints=False)
def run_pipeline(params: RunParams | None = None) -> pipeline.RunSummary:
    """Sync every enabled source, thread new mail, publish the snapshot, summarize."""
    params = params or RunParams()
    settings = load_settings(
        Path(params.config) if params.config else None,
        database=Path(params.database) if params.database else None,
    )
    logger = get_run_logger()
    summary = pipeline.RunSummary(settings.storage.database, None)
    for source in settings.sources:
        if not source.enabled:
            continue
        state = sync_source(settings, source.name, return_state=True)
        if state.is_completed():
            summary.syncs.append(state.result())
        else:
            try:
                state.result()
            except Exception as exc:  # the task failed: report it, go on with the other sources
                message = str(exc) or type(exc).__name__
                logger.error("source %s failed: %s", source.name, message)
                summary.syncs.append(pipeline.SyncResult(source.name, 0, error=message))
    summary.extra["threads"] = thread_messages(settings)
    summary.extra["extract"] = extract_contacts_and_activities(settings)
    summary.snapshot = Path(publish_snapshot(settings))
    summary.counts = summarize(settings)
    return summary
