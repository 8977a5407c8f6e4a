"""`intel serve`: the main job (`run_pipeline`) on the ``[schedule]`` of intel.toml, served by Prefect.

The deployment is ``intel-run/<[schedule].name>``; its parameters are two paths, the config
file and the database override (never a secret: sources resolve their secret references when
they connect), so a changed intel.toml applies from the next run on. Each run executes in a
fresh process started by the runner.

Where the schedule lives:

* ``PREFECT_API_URL`` set (``prefect server start``, or any Prefect server): the deployment,
  its schedule and every run are on that server and show in its UI.
* Not set: Prefect's ephemeral mode has no scheduler, so a served flow would never run.
  `intel serve` then runs a Prefect API server of its own, with the scheduler, on 127.0.0.1 in
  a thread of its process and on the database in ``PREFECT_HOME``; it stops with `intel serve`.

A scheduled run that comes due while the previous one is still running is cancelled (a
deployment concurrency limit of 1 with ``CANCEL_NEW``): the database has one writer, and a
queue of late runs would only repeat the same work.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.params import RunParams
from intel.config import DEFAULT_CONFIG_PATH, ScheduleSettings
from intel.errors import ConfigError, TransientError

__all__ = ["ServeSchedule", "local_prefect_api", "run_parameters", "serve_pipeline", "serve_schedule"]


@dataclass(frozen=True)
class ServeSchedule:
    """The Prefect schedule for ``[schedule]``, how to say it, and when it next fires."""

    schedule: Any  # prefect.schedules.Schedule
    description: str
    next_run: datetime


def serve_schedule(settings: ScheduleSettings, now: datetime | None = None) -> ServeSchedule:
    """`[schedule]` as a Prefect schedule: ``interval_seconds`` if set, else ``cron``, in ``timezone``."""
    from prefect.schedules import Cron, Interval
    from prefect.server.schemas.schedules import CronSchedule, IntervalSchedule
    from prefect.utilities.asyncutils import run_coro_as_sync

    now = now or datetime.now(UTC)
    if settings.interval_seconds is not None:
        if "cron" in settings.model_fields_set and settings.cron is not None:
            raise ConfigError("[schedule]: set either cron or interval_seconds, not both")
        every = timedelta(seconds=settings.interval_seconds)
        # Anchored at the start of this second: runs fall on whole seconds, the first one
        # interval from now.
        anchor = now.replace(microsecond=0)
        schedule = Interval(every, anchor_date=anchor, timezone=settings.timezone)
        timetable: Any = IntervalSchedule(interval=every, anchor_date=anchor, timezone=settings.timezone)
        description = f"every {_seconds(settings.interval_seconds)}"
    elif settings.cron is not None:
        schedule = Cron(settings.cron, timezone=settings.timezone)
        timetable = CronSchedule(cron=settings.cron, timezone=settings.timezone)
        description = f'on cron "{settings.cron}" ({settings.timezone})'
    else:
        raise ConfigError("[schedule]: set cron (five fields) or interval_seconds")
    dates: list[Any] = run_coro_as_sync(timetable.get_dates(n=1, start=now + timedelta(microseconds=1))) or []
    if not dates:
        raise ConfigError(f"[schedule]: {description} never fires")
    return ServeSchedule(schedule, description, _as_datetime(dates[0]).astimezone(_zone(settings.timezone)))


def _seconds(total: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if total >= size and total % size == 0:
            return f"{total // size} {unit}"
    return f"{total} s"


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _as_datetime(value: Any) -> datetime:
    # Prefect returns its own DateTime (a datetime subclass); keep a plain stdlib datetime.
    return datetime.fromtimestamp(value.timestamp(), UTC)


def run_parameters(params: RunParams) -> dict[str, Any]:
    """The deployment's parameters: the config file and database override as absolute paths.

    Runs start in new processes, possibly in another working directory; absolute paths keep
    them on the same files. Without any config file (the embedded default) `config` stays None.
    """
    config: Path | None = Path(params.config) if params.config else None
    if config is None and os.environ.get("INTEL_CONFIG"):
        config = Path(os.environ["INTEL_CONFIG"])
    if config is None and DEFAULT_CONFIG_PATH.is_file():
        config = DEFAULT_CONFIG_PATH
    resolved = RunParams(
        config=str(config.resolve()) if config else None,
        database=str(Path(params.database).resolve()) if params.database else None,
    )
    return {"params": resolved.model_dump()}


@contextmanager
def local_prefect_api(startup_timeout: float = 180.0) -> Iterator[str]:
    """A Prefect API server with its scheduler on 127.0.0.1, in a thread, for as long as the block runs.

    It uses the database in ``PREFECT_HOME`` (run history stays there for a later
    ``prefect server start``) and serves no UI. Yields the API URL.
    """
    import httpx
    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import PREFECT_UI_ENABLED, temporary_settings

    with temporary_settings(updates={PREFECT_UI_ENABLED: False}):
        app = create_app(final=True, ignore_cache=True)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # a free port, held from here on: nothing can take it meanwhile
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="intel-prefect-api", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise TransientError("the local Prefect API server did not start (run with --verbose for its log)")
            if time.monotonic() > deadline:
                raise TransientError(f"the local Prefect API server did not start within {startup_timeout:.0f} s")
            time.sleep(0.1)
        httpx.get(f"{url}/health", timeout=30).raise_for_status()
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@contextmanager
def _prefect_api() -> Iterator[tuple[str, bool]]:
    """The configured Prefect API (checked), or a local one for the duration: (url, local)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        with get_client(sync_client=True) as client:
            problem = client.api_healthcheck()
        if problem is not None:
            reason = str(problem) or type(problem).__name__
            raise TransientError(f"the Prefect API at {configured} does not answer: {reason}")
        yield str(configured), False
        return
    with local_prefect_api() as url:
        # Runs start in processes of their own: they find the API through the environment.
        os.environ["PREFECT_API_URL"] = url
        try:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                yield url, True
        finally:
            os.environ.pop("PREFECT_API_URL", None)


def serve_pipeline(params: RunParams, announce: Callable[[str], None]) -> None:
    """Serve `run_pipeline` on the configured schedule until Ctrl-C or SIGTERM.

    `announce` gets one line: the deployment, its schedule, the next run and the API it is on.
    Returns normally when stopped; a bad config or an unreachable API raises before serving.
    """
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.runner import Runner

    from flows.pipeline import run_pipeline

    settings = params.settings()  # a bad config fails here, before anything starts
    planned = serve_schedule(settings.schedule)
    name = settings.schedule.name
    with _prefect_api() as (url, local):
        # What `run_pipeline.serve(...)` does, with the runner driven from here (see `_run_until_stopped`).
        runner = Runner(name=name, pause_on_shutdown=True)
        runner.add_flow(
            run_pipeline,
            name=name,
            schedule=planned.schedule,
            parameters=run_parameters(params),
            description=f"intel run on the [schedule] of {settings.origin}",
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        where = f"{url} (local, stops with intel serve)" if local else url
        announce(
            f"intel serve: {run_pipeline.name}/{name} runs {planned.description}; "
            f"next run {planned.next_run.isoformat(sep=' ')}; Prefect API {where}; Ctrl-C to stop"
        )
        _run_until_stopped(runner)


def _run_until_stopped(runner: Any, stop_timeout: float = 120.0) -> None:
    """Run a Prefect `Runner` on a thread until SIGINT or SIGTERM, then stop it the way Prefect means to.

    Stopping cancels a run in progress (its process gets SIGTERM and the run is marked
    Cancelled), pauses the schedule and returns. `flow.serve` runs the runner on the main
    thread, where Prefect 3.8's own SIGTERM handler calls `sys.exit` without stopping it: the
    run in progress is left behind and the process waits for it at exit, after the local API
    it reports to has gone. Off the main thread, the runner installs no signal handler.
    """
    stop = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    failures: list[BaseException] = []

    async def start() -> None:
        loops.append(asyncio.get_running_loop())
        await runner.start()

    def target() -> None:
        try:
            asyncio.run(start())
        except BaseException as exc:  # handed to the main thread, raised there
            failures.append(exc)
        finally:
            stop.set()

    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    # The thread runs in this thread's context: the Prefect settings in force here (the API URL)
    # are the runner's too. A bare thread would start from Prefect's import-time settings.
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,), name="intel-serve-runner")
    try:
        thread.start()
        while not stop.wait(0.5):
            pass
        if thread.is_alive():
            deadline = time.monotonic() + stop_timeout
            while not runner.started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.1)  # a signal during start-up: let it finish starting, then stop it
            if runner.started:
                asyncio.run_coroutine_threadsafe(runner.astop(), loops[0]).result(stop_timeout)
            thread.join(stop_timeout)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if failures:
        raise failures[0]
    if thread.is_alive():
        raise TransientError(f"the Prefect runner did not stop within {stop_timeout:.0f} s")
