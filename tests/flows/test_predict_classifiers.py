"""`intel predict sentiment|intent|emotion` as a user runs it: a subprocess on a JSONL file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from intel.nlp.heads import LABELS, default_models_dir

INTEL = [sys.executable, "-m", "intel.cli"]

COMPLAINT = (
    "Hello,\n\nThis is the third time our order has arrived damaged and nobody has called us back. "
    "I am extremely disappointed.\n\nRegards,\nMark Stone\nOps Manager | Fabrikam\n\n"
    "On Mon, Jun 8, 2026 at 9:00 AM Support <help@x.example> wrote:\n> Thanks for your patience!\n"
)
LINES = [
    json.dumps({"id": "a", "text": COMPLAINT, "sender": "Mark Stone <mark@fabrikam.example>", "subject": "Order 4471"}),
    json.dumps({"id": "b", "text": "Could you send me the signed contract by Friday? Thanks!"}),
    "{not json",
    json.dumps({"id": "c", "text": ""}),
    json.dumps({"id": 7, "text": "Thank you so much, the new dashboard looks fantastic!", "subject": None}),
]

pytestmark = pytest.mark.skipif(
    not (default_models_dir() / "sentiment.v1.json").is_file(), reason="no trained heads (run `intel train`)"
)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("INTEL_CONFIG", None)
    return subprocess.run([*INTEL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("task", ["sentiment", "intent", "emotion"])
def test_predict(task: str, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(["predict", task, "--input", str(src), "--output", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "line 3" in result.stderr and "skipped" in result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "7"]
    for row in rows:
        assert row["label"] in LABELS[task]
        assert set(row["scores"]) == set(LABELS[task])
        assert row["score"] == max(row["scores"].values())
        assert row["model"] == f"{task}.v1"
    by_id = {r["id"]: r for r in rows}
    if task == "sentiment":
        assert by_id["a"]["label"] == "negative" and by_id["7"]["label"] == "positive"
    if task == "intent":
        assert by_id["b"]["label"] in ("request", "query")
        assert by_id["a"]["label"] == "complaint"


def test_custom_intent_from_config(tmp_path: Path) -> None:
    (tmp_path / "intel.toml").write_text(
        '[models]\nbf16 = "off"\n\n[[models.custom_intent]]\nname = "cancellation"\n'
        'examples = ["Please cancel my subscription.", "We want to terminate the contract.", "Close my account."]\n',
        encoding="utf-8",
    )
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "x", "text": "Hi, please cancel our subscription from next month."}) + "\n")
    out = tmp_path / "out.jsonl"
    result = run(["predict", "intent", "--input", str(src), "--output", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["label"] == "cancellation" and "cancellation" in row["scores"]


def test_all_lines_bad_fails(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("{oops\n[1, 2]\n", encoding="utf-8")
    result = run(["predict", "emotion", "--input", str(src), "--output", str(tmp_path / "o.jsonl")], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("intel: error:")
