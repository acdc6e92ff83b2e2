"""One exercise of a master, run in-process the way grading judges it: the catalogue's and the tests' harness.

``run_exercise`` executes, in a fresh namespace, the notebook's setup cell, its context cells, an
answer (the solution, the released blank stub, or any source you pass) and then the test cell, in
the judge as grading does (or, ``judged=False``, in the same namespace as a student's own kernel).
"""
from __future__ import annotations

import contextlib
import io
import traceback
from dataclasses import dataclass

from autograder.authoring.masters import Notebook
from autograder.judging.judge import InProcess, judge_for


@dataclass
class Outcome:
    passed: bool
    stage: str  # "tests" when the test cell decided; "answer" when the answer itself raised
    message: str = ""
    share: float = 0.0  # of the points: 1 when passed; the values' share when only method checks failed

    def __post_init__(self):
        if self.passed:
            self.share = 1.0

    def __bool__(self) -> bool:
        return self.passed


def _exec(source: str, label: str, namespace: dict) -> None:
    exec(compile(source, f"<{label}>", "exec"), namespace)


def prepared(book: Notebook) -> dict:
    """A fresh namespace in which the notebook's setup cell and context cells have run (their output dropped)."""
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        _exec(book.setup, f"{book.path.stem}:setup", namespace)
        for i, source in enumerate(book.context):
            _exec(source, f"{book.path.stem}:context{i}", namespace)
    return namespace


def answer_and_test(book: Notebook, name: str, answer: str, namespace: dict, judged: bool = True) -> Outcome:
    """Run ``answer`` in ``namespace`` (see ``prepared``), then the tests of exercise ``name``."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            _exec(answer, f"ex_{name}", namespace)
        except Exception:
            return Outcome(False, "answer", traceback.format_exc(limit=1))
        if judged:
            verdict = judge_for(book.path).run_test(f"test_{name}", InProcess(namespace))
            return Outcome(verdict.passed, "tests", verdict.message, verdict.share)
        try:
            _exec(book.exercises[name].tests, f"test_{name}", namespace)
        except Exception as error:
            return Outcome(False, "tests", f"{type(error).__name__}: {error}")
    return Outcome(True, "tests")


def run_exercise(book: Notebook, name: str, answer: str | None = None, judged: bool = True) -> Outcome:
    """Run setup, context, ``answer`` (default: the solution) and the tests of exercise ``name``.

    ``judged`` (the default) runs the tests as grading does: in the judge, with the student's
    namespace behind the plain-data boundary (``autograder.judging.judge``). ``judged=False`` runs them in
    the same namespace, as in the student's own kernel."""
    answer = book.exercises[name].answer if answer is None else answer
    return answer_and_test(book, name, answer, prepared(book), judged)
