"""The judge's rule, tested as a property of the whole course (issue 24).

Every value a check compares against is computed by the judge from data it created and never handed
out; what the kernel reports is evidence, never an input to a reference. So a kernel that does not
know the answers cannot pass a test cell, however it lies about its arguments and observations:
for every test cell with hidden tests of every master, each generic hostile kernel of
``tests/attacks/hostile.py`` must score 0, not even the share of points a method check leaves when
only it fails. The honest master keeps full marks through the same machinery
(``test_catalogue.py::test_solution_passes``). In-process, no kernel: seconds a notebook.
"""
from __future__ import annotations

import contextlib
import io

import pytest

from autograder.authoring import masters
from autograder.judging.judge import HIDDEN_BEGIN, InProcess, judge_for
from autograder.authoring.release import assignments
from tests.attacks.hostile import ATTACKS, Hostile

# Test cells some hostile kernels may pass, and why. The replaying kernels copy the master's bools,
# strings and Python ints, which are observations in most tests; in these exercises they are the
# answer itself, so copying them for the hidden inputs means knowing the answers: no forgery.
_REPLAYING = {"replay", "degenerate", "visible"}
EXCEPTIONS: dict[tuple[str, str], tuple[set[str], str]] = {
    ("03_custom_functions", "check_gradients"): (_REPLAYING, "the answer is a bool (does gradcheck pass?)"),
    ("04_nn", "conv_output_size"): (_REPLAYING, "the answer is a Python int (an output size)"),
    ("04_nn", "count_trainable"): (_REPLAYING | {"echo", "constant"},
                                   "the answer is a Python int (a count); its probe takes no arguments to echo"),
    ("04_nn", "captured_calls"): (_REPLAYING, "the answer is a list of module names"),
}


def _namespace(book, name: str) -> dict:
    namespace: dict = {"__name__": "__main__"}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        exec(compile(book.setup, "<setup>", "exec"), namespace)
        for i, source in enumerate(book.context):
            exec(compile(source, f"<context {i}>", "exec"), namespace)
        exec(compile(book.exercises[name].answer, f"<ex_{name}>", "exec"), namespace)
    return namespace


def _cases():
    for assignment in assignments():
        book = masters.load(masters.master_path(assignment))
        for name, exercise in book.exercises.items():
            if HIDDEN_BEGIN in exercise.tests:
                yield assignment, name


CASES = list(_cases())


@pytest.mark.parametrize("assignment,name", CASES, ids=[f"{a}::{n}" for a, n in CASES])
def test_no_hostile_kernel_scores_on_a_test_cell_with_hidden_tests(assignment, name):
    path = masters.master_path(assignment)
    book = masters.load(path)
    judge = judge_for(path)
    namespace = _namespace(book, name)
    grade_id = f"test_{name}"
    # What the visible tests ask: a student can learn the master's answers for exactly these inputs.
    recorder = Hostile("visible", namespace)
    judge.tests["visible part"] = judge.tests[grade_id].split(HIDDEN_BEGIN)[0]
    try:
        judge.run_test("visible part", recorder)
    finally:
        del judge.tests["visible part"]
    passed = []
    for attack in ATTACKS:
        verdict = judge.run_test(grade_id, Hostile(attack, namespace, visible=recorder.seen))
        if verdict.share > 0 and attack not in EXCEPTIONS.get((assignment, name), (set(), ""))[0]:
            passed.append(attack)
    assert not passed, f"{assignment} {grade_id} gives its points to hostile kernels: {', '.join(passed)}"


def test_the_honest_kernel_passes_through_the_same_transport():
    # The hostile kernels' plumbing is sound: with nothing garbled, the master passes.
    book = masters.load(masters.master_path("00_getting_started"))
    name = next(n for n, e in book.exercises.items() if HIDDEN_BEGIN in e.tests)
    namespace = _namespace(book, name)
    judge = judge_for(book.path)
    assert judge.run_test(f"test_{name}", InProcess(namespace)).passed
    recorder = Hostile("visible", namespace)
    recorder.visible = _AllSeen()
    assert judge.run_test(f"test_{name}", recorder).passed


class _AllSeen(set):
    def __contains__(self, item) -> bool:
        return True
