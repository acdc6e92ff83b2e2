"""nbgrader's Validate (JupyterLab's button, `nbgrader validate`) says "k of n checks passed"."""
import logging
import os
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils

from autograder import REPO_ROOT, exercises
from autograder.validation import CourseValidator, Tally, summary, tally


def _graded(cell, grade_id, points, solution=False):
    cell.metadata["nbgrader"] = {"grade": True, "solution": solution, "grade_id": grade_id, "points": points,
                                 "locked": not solution, "schema_version": 3}
    return cell


def test_tally_counts_checks_and_blank_written_answers():
    failed = _graded(new_code_cell("check()", outputs=[new_output("error", ename="CheckFailed", evalue="no",
                                                                  traceback=["CheckFailed: no"])]), "test_a", 2)
    passed = _graded(new_code_cell("check()", outputs=[new_output("stream", name="stdout", text="ok\n")]), "test_b", 1)
    noisy = _graded(new_code_cell("check()", outputs=[new_output("stream", name="stderr", text="warn\n")]), "test_c", 1)
    blank = _graded(new_markdown_cell("YOUR ANSWER HERE"), "written_a", 1, solution=True)
    blank.metadata.nbgrader["checksum"] = utils.compute_checksum(blank)
    answered = _graded(new_markdown_cell("An answer."), "written_b", 1, solution=True)
    answered.metadata.nbgrader["checksum"] = "released-stub"
    plain = new_code_cell("x = 1")
    counts = tally(new_notebook(cells=[plain, failed, passed, noisy, blank, answered]))
    assert counts == Tally(passed=1, checks=3, blank_written=1)  # nbgrader fails a test cell that writes to stderr
    assert summary(counts, 95.4) == "1 of 3 checks passed in 95 s; 1 written answer is still empty."
    assert summary(Tally(11, 11, 0), 3) == "11 of 11 checks passed in 3 s."


def _validate_like_the_lab(folder, notebook):
    """What JupyterLab's Validate button runs on the server: nbgrader's own handler code, which reads
    nbgrader_config.py from the server's working folder (the repository, as `make lab` starts it)."""
    from nbgrader.server_extensions.validate_assignment import handlers
    handler = SimpleNamespace(root_dir=str(folder), log=logging.getLogger("validate"),
                              load_config=lambda: handlers.ValidateAssignmentHandler.load_config(None))
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        return handlers.ValidateAssignmentHandler.validate_notebook(handler, notebook), handlers.Validator
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_the_lab_validate_button_says_how_many_checks_passed(tmp_path):
    A = "00_getting_started"
    partial = exercises.student_copy(A, {"digit_counts": "def digit_counts(labels):\n    return torch.zeros(10)"})
    nbformat.write(partial, str(tmp_path / f"{A}.ipynb"))
    answer, validator = _validate_like_the_lab(tmp_path, f"{A}.ipynb")
    assert validator is CourseValidator, "nbgrader_config.py did not install the course's validator"
    assert answer["success"], answer
    failed = answer["value"]["failed"]
    assert len(failed) == 1 and "digit_counts" in failed[0]["source"]
    first_line = failed[0]["source"].splitlines()[0]
    assert first_line.startswith("# 1 of 2 checks passed in ") and "this cell failed" in first_line, first_line
    error = failed[0]["error"]  # the check's own line, without a traceback through the checks' code
    assert error.count("\n") == 0 and "CheckFailed" in error and "expected dtype torch.int64" in error, error
