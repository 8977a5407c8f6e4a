"""The demo database the notebooks read, built once per session as `intel run` builds it.

The stages run as the plain `intel.pipeline` functions the Prefect flows wrap (no Prefect here),
on the embedded default configuration (no ``intel.toml``: the demo mailbox, its identity and
the Europe/London report time zone), in the order of `run_pipeline`: sync, thread, extract
contacts and activities, score sentiment/intent/emotion, alerts, publish the snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intel import pipeline
from intel.config import load_settings
from intel.enrich import enrich


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published snapshot of the demo mailbox (``<tmp>/data/intel.snapshot.duckdb``)."""
    root = tmp_path_factory.mktemp("notebook-demo")
    with pytest.MonkeyPatch.context() as mp:
        # The embedded default resolves its demo Maildir (data/demo/maildir) from the working
        # directory, as `intel run` does; a developer's INTEL_* settings must not leak in.
        mp.chdir(root)
        for name in list(os.environ):
            if name.startswith("INTEL_"):
                mp.delenv(name)
        mp.setenv("HF_HUB_OFFLINE", "1")
        settings = load_settings(database=root / "data" / "intel.duckdb")
        assert settings.sources[0].type == "demo"
        pipeline.sync_source(settings, "demo")
        pipeline.thread_messages(settings)
        pipeline.extract_contacts_and_activities(settings)
        enrich(settings)
        pipeline.raise_alerts(settings)
        snapshot = pipeline.publish(settings)
    return root / snapshot if not snapshot.is_absolute() else snapshot
