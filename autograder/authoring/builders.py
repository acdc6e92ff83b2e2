"""Cell constructors for writing course notebooks with the right nbgrader metadata.

An instructor can author in JupyterLab with nbgrader's "Create Assignment" toolbar; a
script can use these functions instead. Either way the master notebook in solutions/ is
the source of truth. Conventions (see docs/AUTHORING.md):

- the first code cell is ``setup(...)``: grade_id "setup", locked;
- an exercise is ``answer("ex_NAME", ...)`` then ``tests("test_NAME", points, ...)``;
- the answer holds ``### BEGIN SOLUTION`` / ``### END SOLUTION``; the tests hold the
  visible checks, then ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``;
- ``context(...)`` marks a cheap locked code cell that exercises rely on (definitions
  only); the function-level catalogue runs it before the answer.
"""
from __future__ import annotations

from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CONTEXT_TAG = "catalogue-context"


def _src(text: str) -> str:
    return dedent(text).strip("\n")


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None,
          task: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str):
    return new_markdown_cell(_src(text))


def code(text: str, tags: list[str] | None = None):
    cell = new_code_cell(_src(text))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def setup(text: str):
    cell = new_code_cell(_src(text))
    cell.metadata.update(_meta("setup", grade=False, solution=False, locked=True))
    return cell


def context(grade_id: str, text: str):
    cell = new_code_cell(_src(text))
    cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    cell.metadata["tags"] = [CONTEXT_TAG]
    return cell


def answer(grade_id: str, text: str):
    assert grade_id.startswith("ex_"), "answer cells are named ex_<exercise>"
    cell = new_code_cell(_src(text))
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, points: float, text: str):
    assert grade_id.startswith("test_"), "test cells are named test_<exercise>"
    cell = new_code_cell(_src(text))
    cell.metadata.update(_meta(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


def written(grade_id: str, points: float, prompt: str, model_answer: str):
    """A manually graded answer: a locked prompt cell, then the student's markdown answer cell.

    ``model_answer`` is the mark scheme; nbgrader replaces it with "YOUR ANSWER HERE" on release.
    """
    prompt_cell = new_markdown_cell(_src(prompt))
    prompt_cell.metadata.update(_meta(f"{grade_id}_prompt", grade=False, solution=False, locked=True))
    answer_cell = new_markdown_cell(_src(model_answer))
    answer_cell.metadata.update(_meta(grade_id, grade=True, solution=True, locked=False, points=points))
    return [prompt_cell, answer_cell]


def notebook(cells: list) -> nbformat.NotebookNode:
    flat = []
    for cell in cells:
        flat.extend(cell if isinstance(cell, list) else [cell])
    nb = new_notebook(cells=flat)
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    # Stable cell ids make `make release` and diffs deterministic.
    for i, cell in enumerate(nb.cells):
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{i:03d}").replace("_", "-")
    return nb


def write(nb: nbformat.NotebookNode, path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
