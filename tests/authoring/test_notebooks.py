"""Every notebook through real nbgrader: the master scores full marks, the release scores 0.

Autograding the master executes it top to bottom in a fresh kernel with every test cell,
visible and hidden (restored from the gradebook), on the device COURSE_DEVICE selects.
"""
import html
import shutil
import time

import markupsafe
import nbformat
import pytest

from autograder.authoring import cells, masters
from autograder.lab import check
from autograder.authoring.release import assignments
from autograder.grading.course_dir import Workspace


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_master_full_marks_release_zero(assignment, tmp_path):
    ws = Workspace(tmp_path / "grading")
    ws.prepare([assignment])
    ws.submit(assignment, "solution", masters.master_path(assignment))
    ws.submit(assignment, "blank", masters.released_path(assignment))

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
    _feedback_keeps_own_outputs(ws, assignment)

    blank = ws.autograde(assignment, "blank")
    assert {gid: g.score for gid, g in blank.items() if g.score} == {}, "the blank release earns points"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", assignments())
def test_run_all_on_blank_release(assignment, tmp_path):
    """A student who opens the blank notebook and presses Run All sees every figure and widget:
    only exercise test cells fail, and they are tagged so that Run All goes on past them."""
    released = masters.released_path(assignment)
    untagged = [cells.grade_id(c) for c in nbformat.read(str(released), as_version=4).cells
                if cells.is_test(c) and "raises-exception" not in c.metadata.get("tags", [])]
    assert not untagged, f"test cells that would stop Run All: {untagged} (run make release)"
    copy = tmp_path / released.name
    shutil.copy(released, copy)
    nb, seconds = check.execute(copy)
    print(f"{assignment}: blank release ran in {seconds:.1f} s")
    assert check.first_error_outside_tests(nb) is None, (
        f"Run All on the blank {assignment} fails outside a test cell: {check.first_error_outside_tests(nb)}")
    assert any(not r.passed for r in check.checks(nb)), "the blank release passes its own visible checks"


def _feedback_keeps_own_outputs(ws, assignment):
    """The solved notebook's feedback page shows every output of the student's own cells (issue 25:
    they run before any test input reaches the kernel), its plots included, and no hidden test."""
    assert ws.api.generate_feedback(assignment, "solution", force=True)["success"]
    page = (ws.folder / "feedback" / "solution" / assignment / f"{assignment}.html").read_text()
    graded = nbformat.read(str(ws.autograded_path(assignment, "solution")), as_version=4)
    own = [o for c in graded.cells if c.cell_type == "code" and not cells.is_test(c) for o in c.outputs]
    images = sum("image/png" in o.get("data", {}) for o in own)
    assert "output not kept" not in page and "Hidden tests ran here" in page
    assert page.count("data:image/png;base64") >= images, "a plot of the student's cells is missing from feedback"
    for output in own:
        if output.output_type == "stream" and output.name == "stdout" and output.text.strip():  # print() alone shows nothing
            last = output.text.strip().splitlines()[-1]
            assert _shown(last, page), f"missing from feedback: {last!r}"
    master = masters.load(masters.master_path(assignment))
    # Hidden lines that the released notebook also shows (a probe's comment, `optimizer.zero_grad()`) are no secret.
    released = "\n".join(c.source for c in nbformat.read(str(masters.released_path(assignment)), as_version=4).cells)
    hidden = [line.strip() for e in master.exercises.values() if "### BEGIN HIDDEN TESTS" in e.tests
              for line in e.tests.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if len(line.strip()) > 20 and line.strip() not in released]
    assert not [line for line in hidden if _shown(line, page)]
    if assignment == "06_mnist_cnn":  # the student's own training run, accuracy and figures
        assert "batches in" in page and "final model: test loss" in page and images >= 5, images


def _shown(text, page):
    return any(form in page for form in (text, html.escape(text), html.escape(text, quote=False), str(markupsafe.escape(text))))
