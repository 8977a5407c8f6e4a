"""`intel predict signature|activity` as a user runs it: a subprocess on JSONL files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INTEL = [sys.executable, "-m", "intel.cli"]

EMAIL = (
    "Hi Tom,\n\nCould we have a call next Tuesday at 3pm ET to go through the contract? "
    "Please send the redlines by Friday.\n\nBest regards,\nJane Doe\nHead of Legal | Acme Inc.\n"
    "M: +1 415 555 0199\njane@acme.example\n\n"
    "On Mon, Jun 8, 2026 at 9:00 AM Tom <tom@x.example> wrote:\n> Any news?\n> Tom\n"
)
ROWS = [
    {"id": "a", "text": EMAIL, "sender": "Jane Doe <jane@acme.example>", "sent_at": "2026-06-10T09:00:00-04:00"},
    {"id": "b", "text": "thanks!\n\nSent from my iPhone"},
    {"id": "c", "text": "", "sender": None, "subject": "empty"},
    {"id": "d", "text": "Can we meet on Monday at 10?"},  # no sent_at: nothing to resolve against
]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("INTEL_CONFIG", None)
    return subprocess.run([*INTEL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def good_input(tmp_path: Path) -> Path:
    return write(tmp_path / "in.jsonl", [json.dumps(r) for r in ROWS])


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_signature(tmp_path: Path, good_input: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run(["predict", "signature", "--input", str(good_input), "--output", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = read(out)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    a = rows[0]
    assert a["signature"] == "Jane Doe\nHead of Legal | Acme Inc.\nM: +1 415 555 0199\njane@acme.example"
    lines = EMAIL.split("\n")
    assert [lines[i] for i in a["lines"]] == a["signature"].split("\n")
    contact = a["contact"]
    assert contact["name"] == "Jane Doe" and contact["title"] == "Head of Legal" and contact["company"] == "Acme Inc."
    assert contact["phones"] == ["+14155550199"] and contact["emails"] == ["jane@acme.example"]
    assert set(contact) >= {"name", "title", "company", "phones", "emails", "websites", "address", "social"}
    assert rows[1]["signature"] is None and rows[1]["lines"] == []
    assert rows[2]["signature"] is None


def test_activity(tmp_path: Path, good_input: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run(["predict", "activity", "-i", str(good_input), "-o", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = read(out)
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    call, task = rows[0]["activities"]
    assert (call["type"], call["start"]) == ("call", "2026-06-16T15:00:00-04:00")
    assert (task["type"], task["due"]) == ("task", "2026-06-12")
    for activity in (call, task):
        assert set(activity) >= {"type", "text", "start", "end", "due", "participants", "confidence"}
        assert "jane@acme.example" in activity["participants"]
        start, end = activity["span"]
        assert EMAIL[start:end] == activity["text"]
    assert rows[1]["activities"] == [] and rows[2]["activities"] == []
    (unresolved,) = rows[3]["activities"]
    assert unresolved["type"] == "meeting" and unresolved["start"] is None  # never a made-up date


def test_bad_lines_are_reported_by_number_and_skipped(tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.jsonl",
        [json.dumps(ROWS[1]), "{not json", json.dumps({"id": "x"}), "", json.dumps({**ROWS[3], "sent_at": "soon"})],
    )
    out = tmp_path / "out.jsonl"
    result = run(["predict", "signature", "-i", str(source), "-o", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in read(out)] == ["b"]
    assert "line 2: not valid JSON" in result.stderr
    assert 'line 3: "text" must be a string' in result.stderr
    assert "line 5:" in result.stderr and "sent_at" in result.stderr


def test_no_valid_line_fails_with_one_line(tmp_path: Path) -> None:
    source = write(tmp_path / "in.jsonl", ["nope", "[1, 2]"])
    out = tmp_path / "out.jsonl"
    result = run(["predict", "activity", "-i", str(source), "-o", str(out)], tmp_path)
    assert result.returncode == 1
    assert "no valid input line" in result.stderr.splitlines()[-1]
    assert not out.exists()


def test_unknown_task_and_missing_file(tmp_path: Path, good_input: Path) -> None:
    unknown = run(["predict", "horoscope", "-i", str(good_input), "-o", str(tmp_path / "o.jsonl")], tmp_path)
    assert unknown.returncode == 1 and "unknown task 'horoscope'" in unknown.stderr
    missing = run(
        ["predict", "signature", "-i", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "o.jsonl")], tmp_path
    )
    assert missing.returncode == 1 and "cannot read" in missing.stderr
