"""The four notebooks run top to bottom in a real kernel and pass their own checks, and
they are stored in git without outputs."""

from __future__ import annotations

import json

import pytest

from tests.notebooks.conftest import NOTEBOOKS

NAMES = ["01_explore_preferences.ipynb", "02_train_reward_model.ipynb", "03_export_dataset.ipynb",
         "04_improve_contender.ipynb"]


def test_the_four_notebooks_are_there():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name):
    """Outputs and execution counts stay out of git: `python -m studio.tools.strip_notebooks`
    removes them."""
    from studio.tools.strip_notebooks import strip_file

    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    dirty = [cell.get("id", index) for index, cell in enumerate(notebook["cells"])
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert dirty == [], f"{name}: cells {dirty} carry outputs; run `python -m studio.tools.strip_notebooks`"
    assert not strip_file(NOTEBOOKS / name, check=True), f"{name}: run `python -m studio.tools.strip_notebooks`"


def test_strip_notebooks_removes_outputs_and_keeps_the_cells(tmp_path, capsys):
    from studio.tools.strip_notebooks import main

    source = json.loads((NOTEBOOKS / NAMES[0]).read_text(encoding="utf-8"))
    run = json.loads(json.dumps(source))
    for number, cell in enumerate(run["cells"]):
        if cell["cell_type"] == "code":
            cell.update(execution_count=number, outputs=[{"output_type": "stream", "name": "stdout", "text": "hi"}])
            cell["metadata"]["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00Z"}
    path = tmp_path / "run.ipynb"
    path.write_text(json.dumps(run), encoding="utf-8")

    assert main([str(path), "--check"]) == 1 and "has outputs" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == source
    assert main([str(path), "--check"]) == 0


@pytest.mark.parametrize("name", NAMES)
def test_notebook_has_one_parameters_cell_reading_data_dir(name):
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    tagged = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    assert "data_dir = None" in "".join(tagged[0]["source"])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_the_demo_studio(run_notebook, name):
    executed = run_notebook(name)
    last = executed.cells[-1]
    printed = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    assert "all checks passed" in printed


@pytest.mark.slow
def test_notebook_reads_the_data_dir_it_is_given(run_notebook, tmp_path):
    """With `data_dir` set, the notebook opens that studio (no demo) and its checks hold on
    data it has never seen: three raters on ten prompts, one of them contrary."""
    from tests.notebooks.helpers import text_studio

    studio, items, _ = text_studio(tmp_path / "given", [(f"Question {i}?", f"a long answer {i}", "short")
                                                       for i in range(10)], votes_wanted=3)
    from tests.shown import show

    for n, item in enumerate(items):
        show(studio, item, "ana", "ben", "cy")
        for rater in ("ana", "ben"):
            studio.vote(item, outcome="left", rater=rater)
        studio.vote(item, outcome="right" if n % 2 else "left", rater="cy")
    expected = studio.export(tmp_path / "expected.jsonl", format="trl", aggregate="majority", raters=["ana", "ben"])
    studio.close()

    executed = run_notebook("03_export_dataset.ipynb", data_dir=str(tmp_path / "given"), out_dir=str(tmp_path / "out"))
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.output_type == "stream")
    assert "all checks passed" in printed and "left out: ['cy']" in printed
    written = [(tmp_path / "out" / "trl-majority" / f"{split}.jsonl") for split in ("train", "test")]
    assert sum(len(p.read_text().splitlines()) for p in written) == expected.total_rows
