"""`intel serve` as a real process: it runs the pipeline on its schedule and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from flows.params import RunParams
from flows.serve import run_parameters, serve_schedule
from intel.config import ScheduleSettings
from intel.errors import ConfigError

WAIT = 180.0  # seconds: a fresh Prefect database, then one run that loads the models


def write_mbox(path: Path, count: int) -> None:
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    path.write_text(
        "".join(
            f"From c{i}@customer.example Mon Jun  1 09:00:00 2026\n"
            f"From: Customer {i} <c{i}@customer.example>\nTo: support@acme.example\n"
            f"Subject: Question {i}\nDate: {format_datetime(start + timedelta(hours=i))}\n"
            f"Message-ID: <serve{i}@customer.example>\n\n"
            f"Could you tell me when order {100 + i} ships? Thanks.\n\nBest,\nCustomer {i}\n\n"
            for i in range(count)
        ),
        encoding="utf-8",
    )


class Output:
    """Collects a process's output lines on a thread (so its pipe never fills up)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


def completed_runs(api: str, deployment: str) -> list[dict[str, object]]:
    response = httpx.post(
        f"{api}/flow_runs/filter",
        json={
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
            "deployments": {"name": {"any_": [deployment]}},
        },
        timeout=30,
    )
    response.raise_for_status()
    runs: list[dict[str, object]] = response.json()
    return runs


def finished_syncs(snapshot: Path) -> list[tuple[object, ...]]:
    if not snapshot.exists():
        return []
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(
            "SELECT source, status, messages_new FROM loads WHERE stage = 'sync' AND finished_at IS NOT NULL"
        ).fetchall()
    finally:
        con.close()


def test_intel_serve_runs_on_schedule_and_stops_on_sigterm(tmp_path: Path) -> None:
    write_mbox(tmp_path / "mail.mbox", 5)
    config = tmp_path / "intel.toml"
    config.write_text(
        f'[storage]\ndatabase = "{tmp_path / "data" / "intel.duckdb"}"\n'
        '[identity]\naddresses = ["*@acme.example"]\n'
        f'[reports]\nout = "{tmp_path / "reports"}"\n'
        '[schedule]\ninterval_seconds = 2\nname = "serve-test"\n'
        f'[[source]]\nname = "mail"\ntype = "mbox"\npath = "{tmp_path / "mail.mbox"}"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INTEL_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),  # its own Prefect database, no server configured
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="2",  # the runner looks for due runs every 2 s (default 10)
        HF_HUB_OFFLINE="1",
    )
    intel = Path(sys.executable).with_name("intel")
    process = subprocess.Popen(
        [str(intel), "--config", str(config), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    try:
        api, runs, syncs = None, [], []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(1)
            if api is None:
                announced = [line for line in output.lines if line.startswith("intel serve: ")]
                if announced:
                    found = re.search(r"Prefect API (http://127\.0\.0\.1:\d+/api) \(local", announced[0])
                    assert found, announced[0]
                    api = found.group(1)
                continue
            runs = completed_runs(api, "serve-test")
            if runs:
                syncs = finished_syncs(tmp_path / "data" / "intel.snapshot.duckdb")
                break
        if not runs:
            pytest.fail(f"no scheduled run completed within {WAIT:.0f} s; intel serve said:\n{output.text()}")
    except BaseException:
        process.kill()
        process.wait(30)
        raise

    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(30)
        pytest.fail(f"intel serve did not stop within 60 s of SIGTERM; it said:\n{output.text()}")
    output.thread.join(10)
    said = output.text()
    assert code == 0, said

    first = output.lines[0]
    assert first.startswith("intel serve: intel-run/serve-test runs every 2 s; next run "), said
    assert output.lines[-1] == "intel serve: stopped", said
    # The served run read this config (paths only as parameters), synced all five messages and
    # published the snapshot.
    assert runs[0]["parameters"] == {"params": {"config": str(config), "database": None}}
    assert ("mail", "ok", 5) in syncs, syncs
    # The local Prefect API stopped with intel serve.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{api}/health", timeout=5)


def test_schedule_from_config() -> None:
    now = datetime(2026, 3, 28, 23, 10, 30, 500, tzinfo=UTC)
    cron = serve_schedule(ScheduleSettings(cron="0 9 * * *", timezone="Europe/London"), now)
    # London's clocks go forward in the night to 29 March 2026: 09:00 there is 08:00 UTC that day.
    assert cron.next_run == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert cron.next_run.utcoffset() == timedelta(hours=1)  # shown in the schedule's zone
    assert cron.description == 'on cron "0 9 * * *" (Europe/London)'
    assert cron.schedule.cron == "0 9 * * *" and cron.schedule.timezone == "Europe/London"

    every = serve_schedule(ScheduleSettings(interval_seconds=900), now)
    assert every.description == "every 15 min"
    assert every.next_run == datetime(2026, 3, 28, 23, 25, 30, tzinfo=UTC)  # anchored on the whole second
    assert every.schedule.interval == timedelta(minutes=15)

    with pytest.raises(ConfigError, match="not both"):
        serve_schedule(ScheduleSettings(cron="0 * * * *", interval_seconds=60), now)


def test_parameters_are_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTEL_CONFIG", raising=False)
    assert run_parameters(RunParams()) == {"params": {"config": None, "database": None}}  # the embedded default
    (tmp_path / "intel.toml").write_text("", encoding="utf-8")
    assert run_parameters(RunParams(database="data/x.duckdb")) == {
        "params": {"config": str(tmp_path / "intel.toml"), "database": str(tmp_path / "data" / "x.duckdb")}
    }
