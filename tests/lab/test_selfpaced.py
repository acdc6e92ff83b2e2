"""Learners working alone: `make feedback` grades a work/ notebook exactly as `make autograde` does,
and `make answers` writes the master's answers into work/answers/ (autograder/lab/selfpaced.py)."""
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.settings import COURSE, REPO_ROOT
from autograder.authoring import cells, masters
from autograder.lab import selfpaced
from autograder.lab import workspace as ws
from autograder.grading.results import Result

A = "00_getting_started"
MINE = f"{A}/{A}.ipynb"


@pytest.fixture
def work(tmp_path):
    """A learner's workspace, made as `make lab` makes it (a copy of course/)."""
    folder = tmp_path / "work"
    ws.sync(COURSE, folder)
    return folder


def _run(*args, env=None, cwd=REPO_ROOT):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_feedback_gives_the_class_graders_scores_and_page_and_leaves_the_notebook_alone(work, tmp_path):
    # the learner answered: fahrenheit right, digit_counts without minlength (lost to a hidden input)
    answer = "def digit_counts(labels):\n    return torch.bincount(labels)"
    nbformat.write(masters.student_copy(A, {"digit_counts": answer}), str(work / MINE))
    before, stat = (work / MINE).read_bytes(), (work / MINE).stat()
    # the instructor grades the same file with `make autograde`'s command, at the same time (2 cores)
    klass = tmp_path / "class" / "student1"
    klass.mkdir(parents=True)
    shutil.copyfile(work / MINE, klass / f"{A}.ipynb")
    log = tmp_path / "autograde.log"
    with open(log, "w") as sink:
        instructor = subprocess.Popen([sys.executable, "-m", "autograder.grading.cli", str(klass.parent), "--out",
                                       str(tmp_path / "grading")], cwd=REPO_ROOT, stdout=sink, stderr=sink)
        learner = _run(sys.executable, "-m", "autograder.lab.selfpaced", "feedback", A, "--work", str(work),
                       env={"BROWSER": "none"})
        assert instructor.wait(timeout=600) == 0, log.read_text()
    assert learner.returncode == 0, learner.stdout + learner.stderr

    mine = Result.from_json((work / ".grading" / "results" / "you" / f"{A}.json").read_text())
    theirs = Result.from_json((tmp_path / "grading" / "results" / "student1" / f"{A}.json").read_text())
    assert (mine.status, mine.cells) == (theirs.status, theirs.cells), "scores per cell differ from make autograde"
    full, lost = mine.cells["test_fahrenheit"].max, mine.cells["test_digit_counts"].max
    assert {g: c.auto for g, c in mine.cells.items()} == {
        "test_fahrenheit": full, "test_digit_counts": 0.0, "written_hidden_tests": None}
    page = selfpaced.feedback_page(work / ".grading", A)
    assert page.read_bytes() == (tmp_path / "grading" / "feedback" / "student1" / A / f"{A}.html").read_bytes()
    assert (page.parent.parent.parent / "mathjax" / "MathJax.js").is_file(), "the page's maths, offline"

    out = learner.stdout
    assert f"{full:g} of {full + lost:g} autograded points" in out and f"LOST test_digit_counts: 0 of {lost:g}" in out
    assert f"ok   test_fahrenheit: {full:g} of {full:g}" in out
    assert "written_hidden_tests: a written answer (" in out and "scored by a person" in out
    assert page.as_uri() in out and "opened in your browser" not in out  # BROWSER=none: only the path
    assert f"make answers NB={A}" in out
    # the learner's file is exactly as it was, and nothing was added beside it
    assert (work / MINE).read_bytes() == before and (work / MINE).stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in (work / A).iterdir()) == [f"{A}.ipynb"]


def _main(capsys, *args):
    status = selfpaced.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_slips_get_one_paragraph_that_says_what_to_do(work, tmp_path, capsys):
    status, _, err = _main(capsys, "feedback", "07_gans", "--work", str(work))
    assert status == 2 and "No single notebook named '07_gans'" in err and "01_tensors" in err
    assert err.count("\n") == 1, "one paragraph"
    status, _, err = _main(capsys, "feedback", str(tmp_path / "x" / f"{A}.ipynb"))
    assert status == 2 and "does not exist" in err
    renamed = tmp_path / "my notebook.ipynb"
    shutil.copyfile(work / MINE, renamed)
    status, _, err = _main(capsys, "feedback", str(renamed))
    assert status == 2 and "not named like one of the course's notebooks" in err
    usage = _run("make", "-s", "feedback", "NB=")
    assert usage.returncode == 2 and "usage: make feedback NB=01_tensors" in usage.stdout


def test_an_unwritten_notebook_is_graded_anyway_and_said_so(work):
    note = selfpaced.notes(work / MINE, A, "10:00")
    assert any("no answer written yet" in n and "graded anyway" in n for n in note)
    nbformat.write(masters.student_copy(A, {"digit_counts": "def digit_counts(labels):\n    return labels"},
                                          solve=False), str(work / MINE))
    assert not any("no answer written yet" in n for n in selfpaced.notes(work / MINE, A, "10:00"))


def test_a_missing_sandbox_points_to_make_sandbox(work, monkeypatch):
    import autograder.judging.sandbox
    monkeypatch.setattr(autograder.judging.sandbox, "bwrap", lambda: None)  # this machine has bubblewrap
    assert any("`make sandbox`" in n for n in selfpaced.notes(work / MINE, A, "10:00"))
    monkeypatch.undo()
    if shutil.which("bwrap"):
        assert not any("sandbox" in n for n in selfpaced.notes(work / MINE, A, "10:00"))


def test_the_page_opens_in_the_browser_only_where_there_is_one(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>feedback</p>")
    seen = tmp_path / "seen.txt"
    browser = tmp_path / "browser"  # a stand-in browser: records what it was asked to open
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n")
    browser.chmod(0o755)
    probe = f"from pathlib import Path; from autograder.lab.selfpaced import open_in_browser; " \
            f"print(open_in_browser(Path({str(page)!r})))"
    opened = _run(sys.executable, "-c", probe, env={"BROWSER": str(browser), "DISPLAY": ":0"})
    assert opened.stdout.strip() == "True" and seen.read_text().strip() == page.as_uri()
    seen.unlink()
    for env in ({"BROWSER": "none", "DISPLAY": ":0"}, {"BROWSER": str(browser), "DISPLAY": "", "WAYLAND_DISPLAY": ""}):
        shut = _run(sys.executable, "-c", probe, env=env)
        assert shut.stdout.strip() == "False" and not seen.exists(), env


def test_answers_are_the_masters_written_into_work_never_course(work, capsys):
    course_before = {p: p.read_bytes() for p in COURSE.rglob("*") if p.is_file()}
    status, out, _ = _main(capsys, "answers", A, "--work", str(work))
    assert status == 0
    target = work / "answers" / f"{A}_answers.ipynb"
    assert str(target) in out and "best read after trying" in out
    assert f"make feedback NB={A}" in out, "no feedback yet: the output says to get it first"
    book = nbformat.read(str(target), as_version=4)
    text = "\n".join(c.source for c in book.cells)
    master = nbformat.read(str(masters.master_path(A)), as_version=4)
    answers = [c for c in master.cells if cells.kind(c) == cells.ANSWER]
    assert answers
    for cell in answers:
        body = "\n".join(l for l in cell.source.splitlines() if "### BEGIN SOLUTION" not in l
                         and "### END SOLUTION" not in l)
        assert body.strip() in text, f"{cells.grade_id(cell)}'s model answer is missing"
    assert "SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert not any(c.metadata.get("nbgrader") for c in book.cells), "a page to read, not a gradable notebook"
    assert {p: p.read_bytes() for p in COURSE.rglob("*") if p.is_file()} == course_before
    # a notebook the learner has not started (no file in the workspace): its name is enough
    empty = work.parent / "empty"
    assert _main(capsys, "answers", "01_tensors", "--work", str(empty))[0] == 0
    assert (empty / "answers" / "01_tensors_answers.ipynb").is_file()
