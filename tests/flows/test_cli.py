"""The `intel` command as a user runs it: a subprocess, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from intel.demo import demo_messages

INTEL = [sys.executable, "-m", "intel.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **env}
    environment.pop("INTEL_CONFIG", None)
    return subprocess.run([*INTEL, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)


def test_intel_run_on_a_fresh_directory_prints_the_summary(tmp_path: Path) -> None:
    result = run(["run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "embedded default" in result.stdout
    assert "data/intel.duckdb" in result.stdout
    total = len(demo_messages())
    assert f"source demo: {total} messages read, {total} new" in result.stdout
    assert (tmp_path / "data" / "intel.snapshot.duckdb").exists()


def test_bad_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "intel.toml").write_text('[storage]\ndatabse = "x.duckdb"\n')
    result = run(["sync"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "unknown key 'storage.databse'" in result.stderr


def test_literal_password_is_refused_and_not_echoed(tmp_path: Path) -> None:
    (tmp_path / "intel.toml").write_text(
        '[[source]]\nname = "box"\ntype = "imap"\nhost = "h.example"\nusername = "u"\npassword = "Tr0ub4dor&3"\n'
    )
    result = run(["run"], tmp_path)
    assert result.returncode == 1
    assert "Tr0ub4dor" not in result.stderr + result.stdout
    assert 'password = "env:BOX_PASSWORD"' in result.stderr


def test_unknown_source_name_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "intel.toml").write_text('[[source]]\nname = "files"\ntype = "eml"\npath = "nowhere"\n')
    unknown = run(["sync", "--source", "nope"], tmp_path)
    assert unknown.returncode == 1 and "no source named 'nope'" in unknown.stderr
    missing = run(["sync"], tmp_path)
    assert missing.returncode == 1
    assert "source 'files': directory nowhere does not exist" in missing.stderr


def test_sync_an_mbox_then_nothing_new(tmp_path: Path) -> None:
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(
        b"From a@x.example Mon Jun  1 09:00:00 2026\nFrom: a@x.example\nSubject: one\n"
        b"Message-ID: <1@x.example>\nDate: Mon, 1 Jun 2026 09:00:00 +0000\n\nfirst\n\n"
    )
    (tmp_path / "intel.toml").write_text(f'[[source]]\nname = "mine"\ntype = "mbox"\npath = "{mbox}"\n')
    first = run(["--db", "x.duckdb", "sync"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "source mine: 1 messages read, 1 new" in first.stdout
    second = run(["--db", "x.duckdb", "sync"], tmp_path)
    assert "source mine: 0 messages read, 0 new" in second.stdout
    assert (tmp_path / "x.snapshot.duckdb").exists()
