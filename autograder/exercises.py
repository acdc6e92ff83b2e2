"""Exercises of a master notebook, runnable one at a time in-process.

An exercise is an answer cell ``ex_NAME`` and its test cell ``test_NAME`` (hidden tests
included). ``run_exercise`` executes, in a fresh namespace, the notebook's setup cell, its
context cells (tag ``catalogue-context``), an answer (the solution, the released blank
stub, or any source you pass) and then the test cell. It is how the wrong-answer
catalogue shows, in seconds, that each plausible mistake loses the points.
"""
from __future__ import annotations

import contextlib
import io
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import cells
from .authoring import CONTEXT_TAG
from . import REPO_ROOT


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


@dataclass
class Outcome:
    passed: bool
    stage: str  # "tests" when the test cell decided; "answer" when the answer itself raised
    message: str = ""

    def __bool__(self) -> bool:
        return self.passed


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


def _exec(source: str, label: str, namespace: dict) -> None:
    exec(compile(source, f"<{label}>", "exec"), namespace)


def run_exercise(book: Notebook, name: str, answer: str | None = None, judged: bool = True) -> Outcome:
    """Run setup, context, ``answer`` (default: the solution) and the tests of exercise ``name``.

    ``judged`` (the default) runs the tests as grading does: in the judge, with the student's
    namespace behind the plain-data boundary (``autograder.judge``). ``judged=False`` runs them in
    the same namespace, as in the student's own kernel."""
    exercise = book.exercises[name]
    namespace: dict = {"__name__": "__main__"}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        _exec(book.setup, f"{book.path.stem}:setup", namespace)
        for i, source in enumerate(book.context):
            _exec(source, f"{book.path.stem}:context{i}", namespace)
        try:
            _exec(exercise.answer if answer is None else answer, f"ex_{name}", namespace)
        except Exception:
            return Outcome(False, "answer", traceback.format_exc(limit=1))
        if judged:
            from .judge import InProcess, judge_for
            verdict = judge_for(book.path).run_test(f"test_{name}", InProcess(namespace))
            return Outcome(verdict.passed, "tests", verdict.message)
        try:
            _exec(exercise.tests, f"test_{name}", namespace)
        except Exception as error:
            return Outcome(False, "tests", f"{type(error).__name__}: {error}")
    return Outcome(True, "tests")


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
