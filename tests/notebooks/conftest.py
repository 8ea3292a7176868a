"""Running the notebooks for real: a Jupyter kernel on this test run's own Python (the
project's venv), registered in a temporary directory only, never in the user's Jupyter."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = "studio-tests"
CELL_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def kernel_dirs(tmp_path_factory) -> list[str]:
    """A kernelspec for `sys.executable`, in a directory only these tests look at."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Feedback Studio (tests)", "language": "python"}))
    return [str(root)]


def parameterised(notebook, **values):
    """Papermill's convention: a cell after the one tagged `parameters` overrides its values."""
    from nbformat.v4 import new_code_cell

    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook has exactly one cell tagged 'parameters'"
    if values:
        cell = new_code_cell("\n".join(f"{name} = {value!r}" for name, value in values.items()))
        cell.metadata["tags"] = ["injected-parameters"]
        notebook.cells.insert(tagged[0] + 1, cell)
    return notebook


@pytest.fixture
def run_notebook(kernel_dirs, tmp_path):
    """Execute a notebook top to bottom in a fresh kernel (cwd and TMPDIR in tmp_path);
    returns the executed notebook. A failing cell raises `CellExecutionError`."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    def run(name: str, **parameters):
        notebook = parameterised(nbformat.read(NOTEBOOKS / name, as_version=4), **parameters)
        scratch = tmp_path / "tmp"
        scratch.mkdir(exist_ok=True)
        manager = KernelManager(kernel_name=KERNEL_NAME,
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
        client = NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT_S, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": str(tmp_path)}})
        env = {**os.environ, "TMPDIR": str(scratch), "HF_HOME": str(tmp_path / "hf-home"),
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        client.execute(env=env)
        return notebook

    return run
