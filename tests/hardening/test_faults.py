"""SIGKILL at random points of sync, enrich and report; a re-run ends where an uninterrupted run ends.

The stages run as the CLI runs them, each in its own process: `intel sync`, `intel enrich`,
`intel report` (not `intel run`: one process for all three leaves no way to aim a kill at a
chosen stage, and a killed `intel run` also leaves its Prefect API server behind; the stage
commands call the same `intel.pipeline` functions the flow's tasks call).

An uninterrupted reference run goes first and records, per stage, how long the stage worked
after start-up and the state it started from. Each trial restores the state a stage starts
from, starts that stage, waits until it has imported its code (and, for enrich, loaded its
models, so that kills land in the work and not in `import torch`), lets it work a random
(seeded) time up to the reference's duration, and kills its process group with SIGKILL. Then
the published snapshot must open as a DuckDB database, and the three commands are run to
completion (in this process, through the typer app). The final tables and report views must
equal the reference's, ignoring load ids, timestamps and now()-relative columns.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from intel.cli import app
from intel.reports.metrics import VIEWS
from tests.hardening.helpers import table_dump, write_config
from tests.hardening.mailgen import IDENTITY, normal_messages, write_maildir, write_mbox

pytestmark = pytest.mark.slow

SEED = 20261122
STAGES = ("sync", "enrich", "report")
# Ten trials spread over the stages: three kills in sync, four in enrich, three in report.
TRIAL_STAGES = ("sync", "enrich", "report", "sync", "enrich", "report", "enrich", "sync", "enrich", "report")

CHILD = """
import os, signal, sys
stage, config = sys.argv[1], sys.argv[2]
import intel.cli
from intel import pipeline
from intel.config import load_settings
settings = load_settings(config)
if stage == "enrich":
    from intel.enrich import load_classifier
    from intel.nlp.extract import Extractor
    load_classifier(settings.models)  # cached: the command's own call finds the models loaded
    Extractor().load()
elif stage == "report":
    import intel.reports.html
if sys.argv[3:] == ["die-before-contacts"]:  # SIGKILL exactly after the extraction batches are committed
    from intel.store import enrichment
    enrichment.rebuild_contacts = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[3:] == ["die-mid-publish"]:  # SIGKILL after 64 KB of the snapshot copy are written
    import shutil
    def torn_copy(source, target, length=0):
        target.write(source.read(1 << 16))
        target.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    shutil.copyfileobj = torn_copy
if sys.argv[3:] == ["die-mid-export"]:  # SIGKILL when the first view's export is written, not yet renamed
    from intel.reports import export
    export.pq.ParquetFile = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
print("ready", flush=True)
sys.argv = ["intel", "--config", config, stage]
intel.cli.main()
"""

# Columns that record when or by which load something was written, or depend on now().
NOT_COMPARED = {
    "load_id",
    "ingested_at",
    "seen_at",
    "stored_at",
    "processed_at",
    "extracted_at",
    "scored_at",
    "updated_at",
    "raised_at",
    "resolved_at",
    "refreshed_at",
    "waiting_hours",
    "waiting_business_hours",
}
TABLES: dict[str, set[str] | None] = {  # table -> the columns compared (None: all but NOT_COMPARED)
    "raw_messages": {"sha256", "size"},
    "messages": None,
    "message_locations": None,
    "message_addresses": None,
    "source_cursors": {"source", "scope", "value"},
    "threads": None,
    "message_insights": {"message_key", "sentiment", "intent", "emotion", "custom_intents", "models"},
    "extractions": None,
    "contact_fields": None,
    "contacts": None,
    "activities": None,
    "alerts": {"alert_key", "rule", "subject_type", "subject", "status", "message_keys"},
}
# The scores in v_mail come from the classifier; the labels are compared, as in message_insights.
# An alert's details record the waiting time when it was raised.
VIEW_NOT_COMPARED = NOT_COMPARED | {"sentiment_score", "intent_score", "emotion_score", "details"}


def dump(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The canonical contents of the tables (database) and the report views (published snapshot)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(root / "db" / "intel.duckdb"), read_only=True) as con:
        for table, keep in TABLES.items():
            out[table] = table_dump(con, table, drop=NOT_COMPARED, keep=keep)
    with duckdb.connect(str(root / "db" / "intel.snapshot.duckdb"), read_only=True) as con:
        for view in VIEWS:
            out[view] = table_dump(con, view, drop=VIEW_NOT_COMPARED)
    return out


@dataclass
class Corpus:
    root: Path  # the mailboxes, shared read-only by every run

    def config(self, run: Path) -> Path:
        return write_config(
            run / "intel.toml",
            {
                "storage": {"database": str(run / "db" / "intel.duckdb"), "batch_size": 20, "parse_workers": 2},
                "identity": {"addresses": [IDENTITY]},
                "enrich": {"batch_size": 32},
                "reports": {"out": str(run / "report"), "timezone": "Europe/London"},
                "alerts": {"negative_streak": 2},
            },
            [
                {"name": "archive", "type": "mbox", "path": str(self.root / "archive.mbox")},
                {"name": "box", "type": "maildir", "path": str(self.root / "Maildir")},
            ],
        )


@dataclass
class Stage:
    killed: bool
    work_seconds: float  # from "ready" to the end (or to the kill)
    returncode: int | None
    stderr: str


def run_stage(stage: str, config: Path, kill_after: float | None = None, *, die: str | None = None) -> Stage:
    """One CLI stage in its own process group; SIGKILLed `kill_after` seconds into its work.

    `die` names a point where the child kills itself instead (see CHILD).
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, stage, str(config), *([die] if die else [])],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes any parse workers along
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "ready", process.communicate()[1]
        ready = time.monotonic()
        killed = False
        if kill_after is not None:
            try:
                process.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                killed = True
        _out, err = process.communicate(timeout=600)
        return Stage(killed, time.monotonic() - ready, process.returncode, err)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def rerun(config: Path) -> None:
    """The three commands to completion, in this process (the classifier stays loaded between runs)."""
    runner = CliRunner()
    for stage in STAGES:
        result = runner.invoke(app, ["--config", str(config), stage])
        assert result.exit_code == 0, (stage, result.output, result.exception)


def save(run: Path, to: Path) -> None:
    shutil.copytree(run / "db", to / "db")


def restore(saved: Path | None, run: Path) -> None:
    run.mkdir(parents=True)
    if saved is not None:
        shutil.copytree(saved / "db", run / "db")


@dataclass
class Reference:
    corpus: Corpus
    root: Path
    work: dict[str, float]  # stage -> seconds of work after start-up
    before: dict[str, Path | None]  # stage -> the saved state it starts from
    tables: dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("faults")
    corpus = Corpus(root / "mail")
    corpus.root.mkdir()
    messages = normal_messages(200, SEED)
    write_mbox(corpus.root / "archive.mbox", messages[:120])
    ours = [m for m in messages[120:] if m.split(b"\n", 1)[0].endswith(b"@acme.example>")]
    write_maildir(corpus.root / "Maildir", "INBOX", [m for m in messages[120:] if m not in ours])
    write_maildir(corpus.root / "Maildir", "Sent", ours)

    run = root / "reference"
    run.mkdir()
    config = corpus.config(run)
    work: dict[str, float] = {}
    before: dict[str, Path | None] = {"sync": None}
    for stage in STAGES:
        done = run_stage(stage, config)
        assert done.returncode == 0, done.stderr
        work[stage] = done.work_seconds
        following = STAGES.index(stage) + 1
        if following < len(STAGES):
            saved = root / f"after-{stage}"
            save(run, saved)
            before[STAGES[following]] = saved
    tables = dump(run)
    # The reference has something in every table the comparison relies on.
    for table in ("messages", "threads", "message_insights", "contacts", "activities", "alerts", "v_unanswered"):
        assert tables[table], table
    return Reference(corpus, root, work, before, tables)


@dataclass
class Trial:
    stage: str
    kill_after: float
    killed: bool
    snapshot_checked: bool
    leftovers: list[str]  # temporary files a killed writer left behind (and the re-run did not remove)
    differing: list[str]


def one_trial(reference: Reference, n: int, stage: str) -> Trial:
    # Up to 80% of the reference's work time, so that the stage is still working when killed.
    kill_after = random.Random(SEED * 100 + n).uniform(0.0, 0.8 * reference.work[stage])
    run = reference.root / f"trial-{n}"
    restore(reference.before[stage], run)
    config = reference.corpus.config(run)

    done = run_stage(stage, config, kill_after=kill_after)
    assert done.killed or done.returncode == 0, done.stderr
    snapshot = run / "db" / "intel.snapshot.duckdb"
    checked = snapshot.exists()
    if checked:  # what BI tools open: always a whole database, never a torn copy
        with duckdb.connect(str(snapshot), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM messages").fetchone() is not None

    rerun(config)
    tables = dump(run)
    differing = [name for name in reference.tables if tables[name] != reference.tables[name]]
    leftovers = sorted(str(p.relative_to(run)) for p in run.rglob("*.tmp"))
    return Trial(stage, round(kill_after, 2), done.killed, checked, leftovers, differing)


def test_sigkill_then_rerun_ends_like_an_uninterrupted_run(reference: Reference) -> None:
    trials = [one_trial(reference, n, stage) for n, stage in enumerate(TRIAL_STAGES)]
    if os.environ.get("INTEL_HARDENING_TIMINGS"):
        print("\nreference work seconds:", {k: round(v, 2) for k, v in reference.work.items()})
        for n, t in enumerate(trials):
            print(f"trial {n}: {t}")
    assert [(n, t) for n, t in enumerate(trials) if t.differing] == []
    # The kills landed in the work: most trials' stage was still running, in every stage.
    assert sum(t.killed for t in trials) >= 7, trials
    assert {t.stage for t in trials if t.killed} == set(STAGES), trials
    # Every kill in enrich or report happened with a published snapshot in place, and it opened.
    assert all(t.snapshot_checked for t in trials if t.stage != "sync"), trials


def test_a_kill_between_extraction_and_contacts_loses_no_contact(reference: Reference) -> None:
    """The one window a random kill rarely hits: extraction rows committed, contacts not yet rebuilt."""
    run = reference.root / "die-before-contacts"
    restore(reference.before["enrich"], run)
    config = reference.corpus.config(run)
    done = run_stage("enrich", config, die="die-before-contacts")
    assert done.returncode == -signal.SIGKILL, done.stderr
    with duckdb.connect(str(run / "db" / "intel.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM extractions").fetchone() == (400,)  # committed before the kill
        assert con.execute("SELECT count(*) FROM contacts").fetchone() == (0,)
    rerun(config)
    tables = dump(run)
    assert [name for name in reference.tables if tables[name] != reference.tables[name]] == []


def _kill_mid_publish(reference: Reference, name: str) -> tuple[Path, Path, bytes]:
    """`intel report` SIGKILLed in the middle of copying the snapshot; returns (run, config, old snapshot)."""
    run = reference.root / name
    restore(reference.before["report"], run)
    snapshot = run / "db" / "intel.snapshot.duckdb"
    old = snapshot.read_bytes()  # published by `intel sync`
    config = reference.corpus.config(run)
    done = run_stage("report", config, die="die-mid-publish")
    assert done.returncode == -signal.SIGKILL, done.stderr
    return run, config, old


def test_a_kill_mid_publish_leaves_the_previous_snapshot_whole(reference: Reference) -> None:
    run, _config, old = _kill_mid_publish(reference, "die-mid-publish")
    snapshot = run / "db" / "intel.snapshot.duckdb"
    assert snapshot.read_bytes() == old
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (200,)
    assert len(list((run / "db").glob(".intel.snapshot.duckdb.*.tmp"))) == 1  # the torn copy, beside it


def test_a_kill_mid_publish_leaves_no_temporary_file_for_good(reference: Reference) -> None:
    run, config, _old = _kill_mid_publish(reference, "die-mid-publish-rerun")
    rerun(config)
    assert sorted(p.name for p in run.rglob("*.tmp")) == []


def test_a_kill_mid_export_leaves_no_temporary_file_for_good(reference: Reference) -> None:
    run = reference.root / "die-mid-export"
    restore(reference.before["report"], run)
    config = reference.corpus.config(run)
    done = run_stage("report", config, die="die-mid-export")
    assert done.returncode == -signal.SIGKILL, done.stderr
    torn = sorted(p.name for p in (run / "report").rglob("*.tmp"))
    assert len(torn) == 2, torn  # the first view's Parquet and CSV, written under temporary names
    rerun(config)
    assert sorted(p.name for p in run.rglob("*.tmp")) == []
    assert dump(run) == reference.tables
