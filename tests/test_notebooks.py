"""Every notebook through real nbgrader: the master scores full marks, the release scores 0.

Autograding the master executes it top to bottom in a fresh kernel with every test cell,
visible and hidden (restored from the gradebook), on the device COURSE_DEVICE selects.
"""
import shutil
import time

import nbformat
import pytest

from autograder import cells, exercises, run
from autograder.release import assignments
from autograder.workspace import Workspace


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_master_full_marks_release_zero(assignment, tmp_path):
    ws = Workspace(tmp_path / "grading")
    ws.prepare([assignment])
    ws.submit(assignment, "solution", exercises.master_path(assignment))
    ws.submit(assignment, "blank", exercises.released_path(assignment))

    start = time.perf_counter()
    solution = ws.autograde(assignment, "solution")
    seconds = time.perf_counter() - start
    print(f"{assignment}: master autograded in {seconds:.1f} s")
    auto = {gid: g for gid, g in solution.items() if not g.needs_manual_grade}
    assert auto, "no autograded cells"
    lost = {gid: (g.auto_score, g.max_score) for gid, g in auto.items() if g.auto_score != g.max_score}
    if lost:
        graded = nbformat.read(str(ws.autograded_path(assignment, "solution")), as_version=4)
        errors = [f"{c.metadata['nbgrader']['grade_id']}: {o.get('ename')}: {o.get('evalue')}"
                  for c in graded.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        pytest.fail(f"the master lost points {lost}; errors: {errors}")
    written = [gid for gid, g in solution.items() if g.needs_manual_grade]
    assert written, "the written answers wait for a human grader"

    blank = ws.autograde(assignment, "blank")
    assert {gid: g.score for gid, g in blank.items() if g.score} == {}, "the blank release earns points"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_run_all_on_blank_release(assignment, tmp_path):
    """A student who opens the blank notebook and presses Run All sees every figure and widget:
    only exercise test cells fail, and they are tagged so that Run All goes on past them."""
    released = exercises.released_path(assignment)
    untagged = [cells.grade_id(c) for c in nbformat.read(str(released), as_version=4).cells
                if cells.is_test(c) and "raises-exception" not in c.metadata.get("tags", [])]
    assert not untagged, f"test cells that would stop Run All: {untagged} (run make release)"
    copy = tmp_path / released.name
    shutil.copy(released, copy)
    nb, seconds = run.execute(copy)
    print(f"{assignment}: blank release ran in {seconds:.1f} s")
    assert run.first_error_outside_tests(nb) is None, (
        f"Run All on the blank {assignment} fails outside a test cell: {run.first_error_outside_tests(nb)}")
    assert any(not r.passed for r in run.checks(nb)), "the blank release passes its own visible checks"
