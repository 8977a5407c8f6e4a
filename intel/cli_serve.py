"""`intel serve`: scheduled runs of the main job, a thin layer over `flows.serve`."""

from __future__ import annotations

import typer

__all__ = ["serve_command"]


def serve_command() -> None:
    """Run the main job on the [schedule] of intel.toml until Ctrl-C or SIGTERM (Prefect serve).

    With PREFECT_API_URL set, the schedule and its runs live on that Prefect server (and show in
    its UI); without it, intel serve runs a local Prefect API with a scheduler while it runs.
    """
    # The global --config / --db / --verbose options live in intel.cli; read them when the command runs.
    from intel.cli import _params, _quiet_prefect

    _quiet_prefect()  # before Prefect is imported: runs inherit the same settings
    from flows.serve import serve_pipeline

    serve_pipeline(_params(), announce=typer.echo)
    typer.echo("intel serve: stopped")
