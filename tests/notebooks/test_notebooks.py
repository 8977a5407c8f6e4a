"""Every analyst notebook runs top to bottom on the demo snapshot, and is committed without outputs.

Notebooks run with nbclient in a ``python3`` kernel of this interpreter (ipykernel in the venv),
from ``notebooks/`` as Jupyter would start them, with ``INTEL_SNAPSHOT`` pointing at the demo
snapshot that the session fixture builds. A cell that raises fails its notebook's test; so does
anything written to stderr (warnings, deprecations), which would otherwise go unnoticed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell


def _execute(notebook: Any, cwd: Path, snapshot: Path | None) -> Any:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if snapshot is not None:
        env["INTEL_SNAPSHOT"] = str(snapshot)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute(env=env)
    return notebook


def _code_cells(notebook: Any) -> list[Any]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_analysis_stories_are_all_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_mailbox.ipynb",
        "02_customer_health.ipynb",
        "03_responsiveness.ipynb",
        "04_contacts_and_activities.ipynb",
        "05_model_quality.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in _code_cells(notebook):
        assert cell.outputs == [], f"{path.name}: cell {cell.id} has outputs (strip them before committing)"
        assert cell.execution_count is None, f"{path.name}: cell {cell.id} has an execution count"
        assert "execution" not in cell.metadata, f"{path.name}: cell {cell.id} has run metadata"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_demo_snapshot(path: Path, demo_snapshot: Path) -> None:
    notebook = _execute(nbformat.read(path, as_version=4), NOTEBOOK_DIR, demo_snapshot)
    cells = _code_cells(notebook)
    assert cells and all(cell.execution_count is not None for cell in cells)
    for cell in cells:
        stderr = [o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name}: cell {cell.id} wrote to stderr: {''.join(stderr)[:500]}"
        assert all(o.output_type != "error" for o in cell.outputs)
    # Every notebook opens the snapshot it was pointed at and shows what it found.
    first = "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")
    assert f"snapshot: {demo_snapshot}" in first


def test_a_failing_cell_fails_the_run_in_this_interpreter(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"),
        nbformat.v4.new_code_cell("raise ValueError('broken cell')"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    with pytest.raises(CellExecutionError, match="broken cell"):
        _execute(notebook, tmp_path, None)
    # The kernel is this venv's interpreter, not whatever `python3` is first on PATH.
    assert Path(notebook.cells[0].outputs[0]["text"].strip()).resolve() == Path(sys.executable).resolve()
    assert notebook.cells[2].outputs == []
