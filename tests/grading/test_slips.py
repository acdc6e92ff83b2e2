"""An instructor's slips never change a grade (issue 26): Ctrl-C as a terminal sends it, an empty
folder, one student's folder, late submissions in a second folder, a cluster without workers."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.settings import REPO_ROOT
from autograder.authoring import masters
from autograder.grading.cluster import Loopback
from autograder.grading.intake import InputError, collect, refuse_unusable
from autograder.authoring.release import assignments

A = "00_getting_started"


def _write(path, solve=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(masters.student_copy(A, solve=solve), str(path))


def _grade(submissions, out, *extra, env=None, **popen):
    """``python -m autograder.grading.cli`` in a session of its own, so a test can Ctrl-C its process group."""
    command = [sys.executable, "-m", "autograder.grading.cli", str(submissions), "--out", str(out), *extra]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"} | (env or {})
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **popen)


def _ctrl_c(process):
    """What a terminal does on Ctrl-C: SIGINT to every process of the foreground process group."""
    os.killpg(process.pid, signal.SIGINT)


def _when(condition, process, timeout=600):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended first ({process.returncode}):\n{out}\n{err[-3000:]}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _stored(out):
    return {p.parent.name: json.loads(p.read_text()) for p in (out / "results").glob("*/*.json")}


def _rows(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _nothing_false(out):
    """No stored result and no grades.csv row says the grader's own interruption happened to a student."""
    for student, result in _stored(out).items():
        assert result["status"] == "graded", (student, result)
        assert "Interrupt" not in result["message"]
    if (out / "grades.csv").exists():
        text = (out / "grades.csv").read_text()
        assert "crashed" not in text and "Interrupt" not in text and "missing" not in text, text


# ---------------------------------------------------------------- refused input (fast: nothing is graded)

@pytest.mark.parametrize("layout", ["empty", "no notebooks"])
def test_an_empty_folder_is_refused_and_the_class_left_as_it_was(tmp_path, layout):
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    submissions.mkdir()
    if layout == "no notebooks":
        (submissions / "alice").mkdir()
        (submissions / "alice" / "essay.docx").write_bytes(b"not a notebook")
    out.mkdir()
    (out / "grades.csv").write_text("student,total\nalice,5\n")
    (out / "report.md").write_text("# Class report\n")
    run = _grade(submissions, out)
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 2, stderr
    assert f"{submissions} holds no submission of this course's notebooks" in stderr
    assert "Nothing was graded" in stderr and "Traceback" not in stderr
    if layout == "no notebooks":
        assert "unknown file: alice/essay.docx" in stderr, "what the folder holds instead is said"
    assert (out / "grades.csv").read_text() == "student,total\nalice,5\n"
    assert (out / "report.md").read_text() == "# Class report\n"
    assert not (out / "intake.txt").exists()


@pytest.mark.parametrize("names", [[f"{A}.ipynb", "01_tensors.ipynb"], [f"{A} (1).ipynb"],
                                   [f"{A}.backup-2026-01-02.ipynb"], [f"{A}/{A}.ipynb"]])
def test_one_students_folder_is_refused_not_graded_as_students_named_00(tmp_path, names):
    folder = tmp_path / "alice"
    for name in names:
        _write(folder / name)
    with pytest.raises(InputError, match="looks like one student's folder") as refused:
        refuse_unusable(collect(folder, assignments(), tmp_path / "work"), assignments())
    assert names[0] in str(refused.value) and "SUBMISSIONS=class" in str(refused.value)

    out = tmp_path / "grading"
    run = _grade(folder, out)
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 2 and "looks like one student's folder" in stderr, stderr
    assert not (out / "grades.csv").exists() and not (out / "results").exists()


def test_a_class_folder_and_a_flat_download_are_not_taken_for_one_student(tmp_path):
    _write(tmp_path / "class" / "alice" / f"{A}.ipynb")
    _write(tmp_path / "flat" / f"smithj_1234_5678_{A}.ipynb")
    _write(tmp_path / "custom" / f"{A}--s123456.ipynb")
    for folder, pattern in (("class", None), ("flat", None), ("custom", r".*--(?P<student>s\d+)")):
        intake = collect(tmp_path / folder, assignments(), tmp_path / "work", *([pattern] if pattern else []))
        refuse_unusable(intake, assignments())
        assert len(intake.submissions) == 1 and not intake.unowned


# ---------------------------------------------------------------- Ctrl-C, late submissions (slow: real grading)

@pytest.mark.slow
def test_ctrl_c_records_nothing_false_and_late_submissions_merge_into_the_class(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    for student in ("ann", "bob", "cyd"):
        _write(submissions / student / f"{A}.ipynb")

    # Ctrl-C twice: stops at once, once one submission is stored and the next is being graded
    run = _grade(submissions, out, "--workers", "1")
    _when(lambda: len(_stored(out)) == 1, run)
    _ctrl_c(run)
    time.sleep(0.5)
    _ctrl_c(run)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr[-3000:]
    assert "Ctrl-C again: stopped at once" in stderr and "Traceback" not in stderr, stderr[-3000:]
    assert not (out / "grades.csv").exists(), "stopped at once: no outputs written"
    _nothing_false(out)
    assert len(_stored(out)) == 1

    # Ctrl-C once: the submission in flight is dropped, what finished is saved and the summary says so
    run = _grade(submissions, out, "--workers", "1")
    _when(lambda: len(_stored(out)) == 2, run)
    _ctrl_c(run)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr[-3000:]
    assert "Ctrl-C: stopping." in stderr and "Traceback" not in stderr, stderr[-3000:]
    assert (f"This run: 3 submissions in {submissions}: 1 run through the grader, 1 unchanged since the last run "
            "(results kept), 1 not graded yet (stopped by Ctrl-C: run the same command again to grade them).") in stdout
    _nothing_false(out)
    rows = _rows(out)
    statuses = sorted(row[f"{A} status"] for row in rows.values())
    assert statuses == ["graded", "graded", "not graded yet"], rows
    [waiting] = [s for s, row in rows.items() if row[f"{A} status"] == "not graded yet"]
    assert rows[waiting][f"{A}:test_fahrenheit"] == "", "no score is shown for what was not graded"
    assert "1 submission not graded yet" in (out / "report.md").read_text()

    # the next run grades the interrupted submission
    run = _grade(submissions, out, "--workers", "1")
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-3000:]
    assert "1 run through the grader, 2 unchanged" in stdout
    _nothing_false(out)
    assert sorted(_stored(out)) == ["ann", "bob", "cyd"]
    assert {row[f"{A} status"] for row in _rows(out).values()} == {"graded"}

    # late submissions in another folder: a new student and a changed one update their rows, no one disappears
    late = tmp_path / "late"
    _write(late / "dan" / f"{A}.ipynb", solve=True)
    _write(late / "ann" / f"{A}.ipynb", solve=True)
    (late / "ann" / "notes.txt").write_text("a stray file")
    run = _grade(late, out, "--workers", "2")
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-3000:]
    rows = _rows(out)
    assert sorted(rows) == ["ann", "bob", "cyd", "dan"]
    assert rows["ann"]["total"] == rows["dan"]["total"] == "4" and rows["bob"]["total"] == "0"
    assert f"This run: 2 submissions in {late}: 2 run through the grader, 0 unchanged" in stdout
    assert "The class in grades.csv: 4 students; by notebook: 4 graded." in stdout
    assert "1 problem with the input" in stdout and "unknown file: ann/notes.txt" in stdout, "problems on the terminal"
    assert "4 students, 4 submissions graded" in (out / "report.md").read_text()


@pytest.mark.slow
def test_cluster_without_workers_says_so_and_ctrl_c_stops_cleanly(tmp_path, tmp_path_factory):
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    for student in ("ann", "bob"):
        _write(submissions / student / f"{A}.ipynb")
    with Loopback(tmp_path / "cluster", env={"TMPDIR": str(tmp_path_factory.mktemp("worker-tmp"))}).start(0) as c:
        # no worker connected: a stated wait, then a clear message, exit 3, nothing recorded
        run = _grade(submissions, out, "--scheduler", c.address, env={"COURSE_WORKER_WAIT": "3"})
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 3, stderr[-3000:]
        assert "waiting up to 3 s for one" in stderr and "no grader worker connected" in stderr
        assert "Nothing was graded" in stderr and "Traceback" not in stderr
        assert not _stored(out) and not (out / "grades.csv").exists()

        # Ctrl-C while the cluster grades: the task in flight is cancelled, what finished is saved
        c.add_worker()
        c.wait_for_workers(1)
        run = _grade(submissions, out, "--scheduler", c.address)
        _when(lambda: len(_stored(out)) == 1, run)
        _ctrl_c(run)
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 130, stderr[-3000:]
        assert "Ctrl-C: stopping." in stderr and "Traceback" not in stderr, stderr[-3000:]
        assert "1 run through the grader, 0 unchanged since the last run (results kept), 1 not graded yet" in stdout
        _nothing_false(out)
        assert sorted(row[f"{A} status"] for row in _rows(out).values()) == ["graded", "not graded yet"]

        run = _grade(submissions, out, "--scheduler", c.address)
        stdout, stderr = run.communicate(timeout=900)
        assert run.returncode == 0, stderr[-3000:]
        assert "1 run through the grader, 1 unchanged" in stdout
        _nothing_false(out)
        assert {row[f"{A} status"] for row in _rows(out).values()} == {"graded"} and len(_stored(out)) == 2
