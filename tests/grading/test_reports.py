"""What a grading run tells the instructor (terminal, intake.txt, report.md, totals.png) and the
student (feedback), checked in seconds; one slow test runs the real command."""
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.settings import REPO_ROOT
from autograder.authoring import masters
from autograder.grading.preprocessors import ExplainBlankAnswers, HideHiddenTests
from autograder.grading.reports import AWAITING, NOT_GRADED, RunCounts, exercise_rows, run_summary, totals_figure
from autograder.grading.results import CellScore, Result


def test_written_answers_awaiting_a_person_show_as_awaiting_not_as_a_mean():
    columns = ["test_a", "written_a", "written_b"]
    maxima = {"test_a": 2.0, "written_a": 1.0, "written_b": 1.0}
    scored = [{"test_a": 2.0, "written_a": "", "written_b": 1.0},  # "" = waits for a person
              {"test_a": 0.0, "written_a": 0.0, "written_b": 0.5}]  # a blank written answer is scored 0
    rows = dict((row.split(" | ")[0].strip("| "), row) for row in exercise_rows(columns, scored, maxima))
    assert rows["test_a"] == "| test_a | 2 | 1.00 | 50% |"
    assert f"{AWAITING} (1 of 2)" in rows["written_a"] and "0.00" not in rows["written_a"] and "%" not in rows["written_a"]
    assert rows["written_b"] == "| written_b | 1 | 0.75 | 50% |"


def _result(student, status, seconds=1.0):
    return Result(student, "00_getting_started", status, seconds=seconds,
                  cells={"test_a": CellScore(auto=1.0, max=1.0, needs_manual=False)})


def test_the_run_summary_reads_as_english_and_counts_right():
    results = [_result("ann", "graded"), _result("bob", "graded"), _result("cyd", "missing")]
    assert run_summary(results, RunCounts("subs", found=2, kept=2)) == [
        "This run: 2 submissions in subs: 0 run through the grader, 2 unchanged since the last run (results kept).",
        "The class in grades.csv: 3 students; by notebook: 2 graded, 1 missing."]
    # what the run did is never called "graded" beside the statuses, where "graded" is an outcome
    assert run_summary([_result("ann", "crashed"), _result("bob", NOT_GRADED)],
                       RunCounts("late", found=2, graded=1, stopped=1)) == [
        "This run: 2 submissions in late: 1 run through the grader, 0 unchanged since the last run (results kept), "
        "1 not graded yet (stopped by Ctrl-C: run the same command again to grade them).",
        "The class in grades.csv: 2 students; by notebook: 1 crashed, 1 not graded yet."]


def test_totals_plot_counts_whole_students_and_shows_the_maximum():
    fig = totals_figure([4.0, 0.0, 5.0, 3.5, 4.0], course_max=20.0, waiting=True)
    ax = fig.axes[0]
    assert all(float(t).is_integer() for t in ax.get_yticks()), ax.get_yticks()
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 20
    assert any(list(line.get_xdata()) == [20.0, 20.0] for line in ax.get_lines()), "no line at the maximum"
    assert any(t.get_text() == "maximum 20" for t in ax.texts)
    assert "awaiting grading" in ax.get_xlabel()


def test_feedback_explains_a_blank_answer_and_says_nothing_failed_on_a_passed_cell():
    answer = new_code_cell("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()", metadata={
        "nbgrader": {"grade": False, "solution": True, "grade_id": "ex_f", "locked": False, "schema_version": 3}},
        outputs=[new_output("error", ename="NotImplementedError", evalue="",
                            traceback=["Traceback...", "\x1b[31mNotImplementedError\x1b[39m: "])])
    demo = new_code_cell("f(3)", outputs=[new_output("error", ename="NotImplementedError", evalue="",
                                                     traceback=["NotImplementedError: "])])
    own = new_code_cell("g()", outputs=[new_output("error", ename="NotImplementedError", evalue="mine",
                                                   traceback=["NotImplementedError: mine"])])
    passed = new_code_cell("check(f)\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS", metadata={
        "nbgrader": {"grade": True, "solution": False, "grade_id": "test_f", "points": 1, "locked": True,
                     "schema_version": 3}}, outputs=[new_output("stream", name="stdout", text="All checks passed.\n")])
    nb = new_notebook(cells=[answer, demo, own, passed])
    for preprocessor in (HideHiddenTests(), ExplainBlankAnswers()):
        nb, _ = preprocessor.preprocess(nb, {})
    assert nb.cells[0].outputs[0].traceback == [
        "NotImplementedError: this answer is not written yet: replace `raise NotImplementedError()` with your code."]
    assert "an exercise this cell uses is not written yet" in nb.cells[1].outputs[0].evalue
    assert nb.cells[2].outputs[0].evalue == "mine", "a message the student wrote is kept"
    shown = nb.cells[3].source + "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert "fail" not in shown.lower() and "secret" not in shown, shown


@pytest.mark.slow
def test_the_grading_terminal_says_what_happens_and_agrees_with_intake(tmp_path):
    A = "00_getting_started"
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    for student, solve in (("perfect", True), ("blank", False)):
        (submissions / student).mkdir(parents=True)
        nbformat.write(masters.student_copy(A, solve=solve), str(submissions / student / f"{A}.ipynb"))
    command = [sys.executable, "-m", "autograder.grading.cli", str(submissions), "--out", str(out), "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    run = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    stderr = run.stderr
    for stage in ("protection:", "reading submissions from", "preparing the gradebook for",
                  "2 submissions: 2 to grade, with 2 workers.", "grading:", "writing the gradebook"):
        assert stage in stderr, f"{stage!r} missing from the terminal:\n{stderr[-3000:]}"
    assert "Warning" not in stderr, f"a warning reached the terminal:\n{stderr[-3000:]}"
    summary = run.stdout.splitlines()[:2]
    assert summary == [f"This run: 2 submissions in {submissions}: 2 run through the grader, 0 unchanged since "
                       "the last run (results kept).", "The class in grades.csv: 2 students; by notebook: 2 graded."], \
        run.stdout
    intake = (out / "intake.txt").read_text()
    assert "\n".join(summary) in intake, "the terminal and intake.txt say the same"
    report = (out / "report.md").read_text()
    assert f"| written_hidden_tests | 1 | {AWAITING} (1 of 2) | |" in report, report
    blank = (out / "feedback" / "blank" / A / f"{A}.html").read_text()
    assert "to_fahrenheit is not written yet" in blank
