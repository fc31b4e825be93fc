"""Every notebook in notebooks/ runs headless (nbclient, ipykernel) against the sample store without errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == ["explore.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel inherits this environment: the sample store, and this venv's python first on PATH (the
    # python3 kernelspec runs plain "python")
    monkeypatch.setenv("CCSTATS_DB", str(sample_db))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert str(sample_db) in text  # the notebook opened the store it was pointed at
    charts = [
        o
        for o in outputs
        if "application/vnd.vegalite.v6+json" in o.get("data", {})
        or "text/html" in o.get("data", {})
        and "vega" in str(o["data"]["text/html"])
    ]
    assert len(charts) == 3  # windows, who paid, fallbacks
