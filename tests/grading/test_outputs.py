"""What the graded notebook shows (issue 25, items 2 and 5): the student's own outputs are all kept,
no hidden-test input reaches the graded notebook or the feedback page by any route, and a status
comes from what the grader saw, never from a name the student chose.

The attacks (tests/attacks/outputs.py) are graded by the real grader, in one batch, next to honest
students. Needs the bubblewrap sandbox.
"""
import csv

import nbformat
import pytest

from autograder.judging import sandbox
from autograder.grading.feedback import MATHJAX
from autograder.grading.batch import Grader
from autograder.grading.results import CRASHED, GRADER_ERROR, TIMED_OUT, execution_finding
from autograder.judging.executor import GRADING_KEY
from tests.attacks import outputs
from tests.attacks.boundary import HIDDEN_MARKERS
from tests.attacks.catalogue import A
from tests.attacks.outputs import CELL_LIMIT, NOTEBOOK_LIMIT

needs_sandbox = pytest.mark.skipif(sandbox.bwrap() is None,
                                   reason="bubblewrap is not installed: `make sandbox` installs it as root")

OLD_NOTE = "output not kept"  # what the filter this design replaced wrote over the student's outputs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    submissions, out = root / "submissions", root / "grading"
    for student, (build, *_expected) in outputs.CASES.items():
        (submissions / student).mkdir(parents=True)
        build(submissions / student / f"{A}.ipynb", {})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_CELL_TIMEOUT", str(CELL_LIMIT))
        patch.setenv("COURSE_NOTEBOOK_TIMEOUT", str(NOTEBOOK_LIMIT))
        results = {r.student: r for r in Grader(out, workers=2, progress=False).run(submissions)}
    return out, results


def _graded_nb(out, student):
    return nbformat.read(str(out / "autograded" / student / A / f"{A}.ipynb"), as_version=4)


def _feedback(out, student):
    return (out / "feedback" / student / A / f"{A}.html").read_text()


@pytest.mark.slow
@needs_sandbox
def test_scores_and_statuses(graded):
    out, results = graded
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    got = {s: (float(r[f"{A}:test_fahrenheit"]), float(r[f"{A}:test_digit_counts"]), r[f"{A} status"])
           for s, r in rows.items()}
    expected = {s: (float(f), float(d), status) for s, (_, f, d, status) in outputs.CASES.items()}
    wrong = {s: {"got": got.get(s), "expected": expected[s], "message": results[s].message}
             for s in expected if got.get(s) != expected[s]}
    assert not wrong, f"misgraded: {wrong}"
    assert "per-cell time limit" in results["cell-time-limit"].message
    assert "test_fahrenheit" in results["kernel-dies-while-judged"].message


@pytest.mark.slow
@needs_sandbox
def test_no_hidden_input_reaches_what_the_grader_writes(graded):
    out, _ = graded
    # every graded notebook and feedback page (feedback/mathjax/ is the course's own copy of MathJax)
    files = [p for kind in ("autograded", "feedback") for p in (out / kind).glob("*/*/*")
             if p.is_file() and p.relative_to(out / kind).parts[0] != MATHJAX]
    assert len(files) == 2 * len(outputs.CASES), sorted(str(p.relative_to(out)) for p in files)
    for path in files:
        text = path.read_text(errors="replace")
        leaked = [m for m in (*outputs.LEAKS, *HIDDEN_MARKERS) if m in text]
        assert not leaked, f"hidden input {leaked} in {path.relative_to(out)}"
        assert OLD_NOTE not in text, f"a student's output was thrown away in {path.relative_to(out)}"
    # the attacks ran: what the student's cells showed is there, as the student's cells left it
    page = _feedback(out, "update-display-after-tests")
    assert "nothing seen yet" in page and "seen: []" in page
    widgets = _graded_nb(out, "widget-after-tests").metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    values = [s["state"].get("value") for s in widgets["state"].values() if s["model_name"] == "TextModel"]
    assert values == ["nothing seen yet"], values
    # an exception named like a status is the student's own output, shown as such, and nothing more
    nb = _graded_nb(out, "exception-named-kernel-died")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [(o.ename, o.evalue) for o in errors] == [("KernelDied", "the grader said so")]


@pytest.mark.slow
@needs_sandbox
def test_status_comes_from_the_grader_record(graded):
    out, _ = graded
    seen = {s: _graded_nb(out, s).metadata[GRADING_KEY] for s in outputs.CASES}
    assert seen["exception-named-kernel-died"] == {"died": None, "time_limit": None, "cell_timeouts": []}
    assert seen["kernel-exit-after-first-test"]["died"] and seen["time-limit-after-first-test"]["time_limit"]
    looping = next(i for i, c in enumerate(_graded_nb(out, "cell-time-limit").cells) if c.source.startswith("while True"))
    assert seen["cell-time-limit"]["cell_timeouts"] == [f"cell {looping}"], seen["cell-time-limit"]
    # the tests before the stop were judged in a fresh kernel; the cells after it were not run
    nb = _graded_nb(out, "kernel-exit-after-first-test")
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    assert [o.text for o in by_id["test_fahrenheit"].outputs] == ["All checks passed.\n"]
    assert [o.ename for o in by_id["test_digit_counts"].outputs] == [sandbox.NOT_RUN]
    # a kernel lost while judging costs the later tests, not the outputs the student's cells made
    nb = _graded_nb(out, "kernel-dies-while-judged")
    own = [o for c in nb.cells if c.cell_type == "code" and "nbgrader" not in c.metadata for o in c.outputs]
    assert own and not [o for o in own if o.get("ename") == sandbox.NOT_RUN]
    tests = {c.metadata["nbgrader"]["grade_id"]: [o.ename for o in c.outputs] for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")}
    assert tests == {"test_fahrenheit": [sandbox.KERNEL_DIED], "test_digit_counts": [sandbox.NOT_RUN]}, tests


@pytest.mark.slow
@needs_sandbox
def test_honest_outputs_after_the_tests_are_kept(graded):
    out, _ = graded
    page = _feedback(out, "honest-plots-after-tests")
    assert "my accuracy: 97.0%" in page and "data:image/png;base64" in page
    nb = _graded_nb(out, "honest-plots-after-tests")
    assert any("image/png" in o.get("data", {}) for o in nb.cells[-1].outputs)
    assert nb.metadata[GRADING_KEY] == {"died": None, "time_limit": None, "cell_timeouts": []}


def test_status_comes_only_from_the_executor_record():
    """The record the executor writes decides; a notebook without one (the executor did not run, or
    the record was not a dict) is the grader's error, never a silent "graded"."""
    clean = {"died": None, "time_limit": None, "cell_timeouts": []}
    assert execution_finding(clean) is None
    assert execution_finding({**clean, "died": "test_fahrenheit"})[0] == CRASHED
    assert execution_finding({**clean, "time_limit": "cell 4"})[0] == TIMED_OUT
    assert execution_finding({**clean, "cell_timeouts": ["cell 3"]}) == (TIMED_OUT, "cell 3 stopped at the per-cell time limit")
    assert execution_finding(None)[0] == GRADER_ERROR and execution_finding("crashed")[0] == GRADER_ERROR
