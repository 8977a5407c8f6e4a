"""The `intel` command: a thin layer over `intel.pipeline` and the flows."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from intel.cli_auth import auth_app
from intel.cli_predict import predict_command
from intel.cli_serve import serve_command
from intel.cli_train import train_command
from intel.config import Settings, load_settings
from intel.errors import IntelError, StoreError

__all__ = ["app", "main"]

app = typer.Typer(
    name="intel",
    help="Email intelligence: pull mail into DuckDB, enrich it, report on it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _State:
    config: Path | None = None
    database: Path | None = None
    verbose: bool = False


_state = _State()
app.add_typer(auth_app, name="auth")
app.command("predict")(predict_command)
app.command("train")(train_command)
app.command("serve")(serve_command)


def _settings() -> Settings:
    return load_settings(_state.config, database=_state.database)


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _global(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (default ./intel.toml or $INTEL_CONFIG).")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="DuckDB file to use instead of [storage].database.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More logging; tracebacks on errors.")] = False,
) -> None:
    _state.config = config
    _state.database = db
    _state.verbose = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _progress_printer(label: str) -> Any:
    if not sys.stderr.isatty():
        return None
    total = 0

    def progress(n: int) -> None:
        nonlocal total
        total += n
        sys.stderr.write(f"\r{label}: {total} messages")
        sys.stderr.flush()

    return progress


def _print_summary(settings: Settings, summary: Any) -> None:
    typer.echo(f"config:    {settings.origin}")
    typer.echo(f"database:  {summary.database}")
    if summary.snapshot:
        typer.echo(f"snapshot:  {summary.snapshot}  (open this one read-only from notebooks and BI tools)")
    for sync in summary.syncs:
        if sync.error:
            typer.echo(f"source {sync.source}: FAILED: {sync.error}")
        else:
            typer.echo(f"source {sync.source}: {sync.seen} messages read, {sync.new} new")
    c = summary.counts
    if c:
        typer.echo(
            f"messages:  {c.get('messages', 0)} ({c.get('messages_inbound', 0)} inbound, "
            f"{c.get('messages_outbound', 0)} outbound, {c.get('messages_internal', 0)} internal) "
            f"in {c.get('threads', 0)} threads with {c.get('correspondents', 0)} correspondents"
        )
        typer.echo(
            f"enriched:  {c.get('message_insights', 0)} messages scored (sentiment, intent, emotion), "
            f"{c.get('contacts', 0)} contacts, {c.get('activities', 0)} activities (meetings, calls, tasks)"
        )
        typer.echo(f"alerts:    {c.get('alerts_open', 0)} open (table alerts)")
    report = summary.extra.get("report")
    if report:
        typer.echo(f"report:    {report}")
        if c.get("messages_with_problems"):
            typer.echo(
                f"problems:  {c['messages_with_problems']} messages have parse problems (see messages.parse_problems)"
            )


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "intel")
    if not _state.verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@app.command()
def run(
    rebuild: Annotated[bool, typer.Option(help="Re-score every message (after a model upgrade).")] = False,
) -> None:
    """Run the main job as one Prefect flow: sync every source, enrich, alerts, snapshot, report."""
    _quiet_prefect()
    settings = _settings()  # fail fast on a bad config, before Prefect starts
    from flows.pipeline import run_pipeline

    params = _params()
    summary = run_pipeline(params, rebuild)
    _print_summary(settings, summary)
    if any(s.error for s in summary.syncs):
        raise typer.Exit(1)


@app.command()
def sync(
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
) -> None:
    """Sync sources into the database (without Prefect), then thread and publish."""
    from intel import pipeline

    settings = _settings()
    names = [source] if source else [s.name for s in settings.sources if s.enabled]
    if source:
        settings.source(source)  # a clear error for an unknown name
    summary = pipeline.RunSummary(settings.storage.database, None)
    for name in names:
        try:
            summary.syncs.append(pipeline.sync_source(settings, name, _progress_printer(name)))
        except IntelError as exc:
            summary.syncs.append(pipeline.SyncResult(name, 0, error=str(exc)))
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    summary.extra["threads"] = pipeline.thread_messages(settings)
    summary.snapshot = pipeline.publish(settings)
    summary.counts = pipeline.summarize(settings)
    _print_summary(settings, summary)
    failed = [s for s in summary.syncs if s.error]
    for s in failed:
        _echo_err(f"intel: error: {s.error}")
    if failed:
        raise typer.Exit(1)


@app.command()
def enrich(
    rebuild: Annotated[bool, typer.Option(help="Re-score every message (after a model upgrade).")] = False,
) -> None:
    """Contacts, activities, then sentiment / intent / emotion for messages not scored yet."""
    from intel import pipeline
    from intel.enrich import enrich as score_messages

    settings = _settings()
    extracted = pipeline.extract_contacts_and_activities(settings, progress=_progress_printer("extract"))
    if settings.enrich.task_runner == "dask":
        _quiet_prefect()
        from flows.enrich import enrich_with_runner

        result = enrich_with_runner(_params(), rebuild)
        scored, models, rate = result["scored"], result["models"], result["per_second"]
    else:
        done = score_messages(settings, rebuild=rebuild, progress=_progress_printer("enrich"))
        scored, models, rate = done.scored, done.models, done.per_second
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    typer.echo(
        f"extract:   {extracted['messages']} messages read, {extracted['activities']} activities, "
        f"{extracted['contacts']} contacts updated"
    )
    typer.echo(f"enrich:    {scored} messages scored by {models}" + (f" ({rate:.1f}/s)" if scored else ""))


@app.command()
def report(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Directory (default [reports].out).")] = None,
) -> None:
    """Raise alerts, publish the snapshot and write the HTML report plus CSV/Parquet of every view."""
    from intel import pipeline

    settings = _settings()
    if not settings.storage.database.exists():
        raise StoreError(f"no database at {settings.storage.database}: run `intel sync` (or `intel run`) first")
    alerts = pipeline.raise_alerts(settings)
    snapshot = pipeline.publish(settings)
    result = pipeline.report(settings, out)
    typer.echo(f"alerts:    {alerts['raised']} raised, {alerts['resolved']} resolved, {alerts['open']} open")
    typer.echo(f"snapshot:  {snapshot}")
    typer.echo(f"report:    {result.html}")
    typer.echo(f"exports:   {result.csv_dir} (CSV), {result.parquet_dir} (Parquet)")


def _params() -> Any:
    from flows.params import RunParams

    return RunParams(
        config=str(_state.config) if _state.config else None,
        database=str(_state.database) if _state.database else None,
    )


@app.command()
def config() -> None:
    """Validate the configuration and show it (secret references only, never values)."""
    settings = _settings()
    typer.echo(f"# from {settings.origin}")
    typer.echo(settings.model_dump_json(indent=2, by_alias=True))


def main() -> None:
    """Entry point: every failure is one line on stderr and a non-zero exit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        # With standalone_mode=False click returns the code of a typer.Exit instead of raising it.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except IntelError as exc:
        if _state.verbose:
            logging.getLogger("intel").exception("failed")
        _echo_err(f"intel: error: {exc}")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _echo_err("intel: interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors and genuine bugs: still one line
        import click

        if isinstance(exc, click.exceptions.ClickException):
            _echo_err(f"intel: error: {exc.format_message()}")
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        if _state.verbose:
            raise
        _echo_err(f"intel: error: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
