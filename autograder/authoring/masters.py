"""The masters in solutions/ as exercises: an answer cell ``ex_NAME`` and its test cell ``test_NAME``
(hidden tests included), the setup cell and the context cells (tag ``catalogue-context``).

judging/harness.py runs one exercise in-process; the grader, the catalogue and the tests read
masters, released notebooks and students' copies through here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.authoring import cells
from autograder.authoring.builders import CONTEXT_TAG
from autograder.settings import REPO_ROOT


@dataclass
class Exercise:
    name: str
    answer: str
    tests: str
    points: float


@dataclass
class Notebook:
    path: Path
    setup: str
    context: list[str]
    exercises: dict[str, Exercise] = field(default_factory=dict)


def _grade_id(cell) -> str:
    return cells.grade_id(cell)


def master_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    return root / "solutions" / assignment / f"{assignment}.ipynb"


def released_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    return root / "course" / assignment / f"{assignment}.ipynb"


def load(path: Path) -> Notebook:
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = [c.source for c in code if _grade_id(c) == "setup"]
    answers = {_grade_id(c)[3:]: c for c in code if _grade_id(c).startswith("ex_")}
    tests = {_grade_id(c)[5:]: c for c in code if _grade_id(c).startswith("test_")}
    book = Notebook(path=Path(path), setup="\n".join(setup),
                    context=[c.source for c in code if CONTEXT_TAG in c.metadata.get("tags", [])])
    for name, answer in answers.items():
        if name in tests:
            book.exercises[name] = Exercise(name, answer.source, tests[name].source,
                                            float(tests[name].metadata["nbgrader"].get("points", 0)))
    return book


def blank_answer(assignment: str, name: str, root: Path = REPO_ROOT) -> str:
    """The stub a student starts from, read from the released notebook in course/."""
    nb = nbformat.read(str(released_path(assignment, root)), as_version=4)
    for cell in nb.cells:
        if _grade_id(cell) == f"ex_{name}":
            return cell.source
    raise KeyError(f"{released_path(assignment, root)} has no answer cell ex_{name}; run `make release`.")


def student_copy(assignment: str, answers: dict[str, str] | None = None, solve: bool = True,
                 root: Path = REPO_ROOT) -> nbformat.NotebookNode:
    """The released notebook as a student would hand it in.

    Answer cells get ``answers[name]`` when given, else the master's solution (``solve``) or the
    blank stub. Used to build synthetic submissions for tests and benchmarks.
    """
    answers = answers or {}
    nb = nbformat.read(str(released_path(assignment, root)), as_version=4)
    master = {_grade_id(c): c.source for c in nbformat.read(str(master_path(assignment, root)), as_version=4).cells}
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid.startswith("ex_"):
            name = gid[3:]
            if name in answers:
                cell.source = answers[name]
            elif solve:
                cell.source = master[gid]
        elif cells.is_written(cell) and solve:
            cell.source = master.get(gid, cell.source)
    return nb
