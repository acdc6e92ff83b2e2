"""Statuses, cache keys and output caps: the grading modules' decisions, in seconds."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.grading import results
from autograder.authoring.masters import master_path
from autograder.grading.preprocessors import CapOutputs, ForgetUnknownCells, HideHiddenTests
from autograder.grading.results import CRASHED, GRADED, GRADER_ERROR, INVALID, TIMED_OUT, decide_status


def test_status_precedence_is_explicit():
    assert decide_status([]) == (GRADED, "")
    assert decide_status([(CRASHED, "died"), (TIMED_OUT, "slow")]) == (TIMED_OUT, "slow")
    assert decide_status([(TIMED_OUT, "a"), (GRADER_ERROR, "bug")])[0] == GRADER_ERROR
    assert decide_status([(INVALID, "x"), (CRASHED, "y")])[0] == INVALID
    assert decide_status([(CRASHED, "one"), (CRASHED, "two")]) == (CRASHED, "one; two")
    with pytest.raises(ValueError):
        decide_status([("flagged", "?")])


def test_the_cache_key_covers_everything_that_changes_a_verdict(monkeypatch, tmp_path):
    master = master_path("00_getting_started")
    other = tmp_path / "master.ipynb"
    other.write_bytes(master.read_bytes() + b" ")
    base = results.submission_key(b"nb", master, "v1")
    assert base == results.submission_key(b"nb", master, "v1")
    changed = {
        "submission": results.submission_key(b"nb2", master, "v1"),
        "master": results.submission_key(b"nb", other, "v1"),
        "grader code": results.submission_key(b"nb", master, "v2"),
    }
    for variable, value in (("COURSE_CELL_TIMEOUT", "17"), ("COURSE_NOTEBOOK_TIMEOUT", "99"),
                            ("COURSE_GRADE_MEMORY_GB", "3"), ("COURSE_DEVICE", "cpu")):
        with monkeypatch.context() as m:
            m.setenv(variable, value)
            changed[variable] = results.submission_key(b"nb", master, "v1")
    assert all(key != base for key in changed.values()), [k for k, v in changed.items() if v == base]
    assert len(results.code_version()) == 64


def _run(preprocessor, nb, notebook="00_getting_started"):
    return preprocessor.preprocess(nb, {"nbgrader": {"notebook": notebook}})[0]


def test_every_kind_of_output_is_capped():
    cell = new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text="x" * 100_000),
        new_output("error", ename="E", evalue="y" * 50_000, traceback=["z" * 50_000] * 100),
        new_output("display_data", data={"text/html": "<p>" + "w" * 2_000_000}),
        new_output("execute_result", data={"text/plain": "v" * 2_000_000}, execution_count=1)])
    nb = _run(CapOutputs(), new_notebook(cells=[cell] + [new_code_cell("y", outputs=[
        new_output("stream", name="stdout", text="u" * 19_000)]) for _ in range(400)]))
    total = len(nbformat.writes(nb))
    assert total < 6_000_000, total
    first = nb.cells[0].outputs
    assert len(first[0].text) < 21_000 and len(first[1].evalue) < 2_100 and len(first[1].traceback) == 20
    assert "removed by the grader" in first[2].text and "removed by the grader" in first[3].text
    assert "reached the grader's limit" in nb.cells[-1].outputs[0].text


def test_unknown_grade_ids_become_ordinary_cells():
    renamed = new_code_cell("def to_fahrenheit(c):\n    return c", metadata={
        "nbgrader": {"grade": False, "solution": True, "grade_id": "ex_renamed", "locked": False, "schema_version": 3}})
    known = new_code_cell("pass", metadata={
        "nbgrader": {"grade": True, "solution": False, "grade_id": "test_fahrenheit", "points": 2,
                     "locked": True, "schema_version": 3}})
    nb = _run(ForgetUnknownCells(), new_notebook(cells=[renamed, known]))
    assert "nbgrader" not in nb.cells[0].metadata and nb.cells[1].metadata.nbgrader["grade_id"] == "test_fahrenheit"


def test_feedback_hides_the_hidden_region():
    cell = new_code_cell("visible()\n### BEGIN HIDDEN TESTS\nsecret_check()\n### END HIDDEN TESTS\nafter()", metadata={
        "nbgrader": {"grade": True, "solution": False, "grade_id": "test_x", "points": 1}})
    source = _run(HideHiddenTests(), new_notebook(cells=[cell])).cells[0].source
    assert "secret_check" not in source and "visible()" in source and "after()" in source
