"""The grader's own work is bounded (issue 25 items 3 and 4): caps on what a submission may make it
read, run and render, checked before any costly step; a limit on everything one submission costs;
sockets reached without following the kernel's links. tests/attacks/bounds.py holds the submissions."""
import csv
import time

import pytest

from autograder.judging import sandbox
from autograder.grading import worker
from autograder.grading.batch import Grader
from autograder.grading.results import GRADER_ERROR, INVALID, TIMED_OUT, TOO_LARGE, WRONG_ASSIGNMENT, decide_status
from tests.attacks import bounds
from tests.attacks.catalogue import A, _nb


def test_too_large_comes_after_the_graders_own_failures_and_before_grading():
    assert decide_status([(TIMED_OUT, "slow"), (TOO_LARGE, "150,020 cells")]) == (TOO_LARGE, "150,020 cells")
    assert decide_status([(TOO_LARGE, "a"), (WRONG_ASSIGNMENT, "b")])[0] == TOO_LARGE
    assert decide_status([(TOO_LARGE, "a"), (INVALID, "b")])[0] == INVALID
    assert decide_status([(TOO_LARGE, "a"), (GRADER_ERROR, "b")])[0] == GRADER_ERROR


@pytest.mark.parametrize("case, cap", [("many-cells", "cells"), ("dense-source", "characters of source")])
def test_a_notebook_over_a_cap_is_refused_from_plain_json_in_seconds(tmp_path, case, cap):
    path = tmp_path / "submission.ipynb"
    bounds.CASES[case][0](path, {})
    data = path.read_bytes()
    start = time.perf_counter()
    with pytest.raises(worker.TooLarge, match=f"{cap}, over the grader's cap"):
        worker.check_size(data)
    assert time.perf_counter() - start < 10


def test_every_master_and_a_blank_copy_fit_the_caps():
    import nbformat
    from autograder.authoring import masters
    for assignment in ("00_getting_started", "04_nn", "06_mnist_cnn"):
        worker.check_size(masters.master_path(assignment).read_bytes())
    worker.check_size(nbformat.writes(_nb(solve=False)).encode())


@pytest.mark.slow
@pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap is not installed: `make sandbox` installs it as root")
def test_batch_of_bounds_attacks(tmp_path, canary_socket, monkeypatch):
    canary, connections = canary_socket
    submissions = tmp_path / "submissions"
    ctx = {"canary_socket": str(canary)}
    cases = {**bounds.CASES, "honest": (lambda path, ctx: path.write_text(__import__("nbformat").writes(_nb())),
                                        2, 2, "graded")}
    for student, (build, *_expected) in cases.items():
        (submissions / student).mkdir(parents=True)
        build(submissions / student / f"{A}.ipynb", ctx)
    monkeypatch.setenv("COURSE_CELL_TIMEOUT", "60")
    monkeypatch.setenv("COURSE_NOTEBOOK_TIMEOUT", "120")
    out = tmp_path / "grading"
    grader = Grader(out, workers=1, progress=False)
    results = {r.student: r for r in grader.run(submissions)}

    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    got = {s: (float(r[f"{A}:test_fahrenheit"]), float(r[f"{A}:test_digit_counts"]), r[f"{A} status"])
           for s, r in rows.items()}
    expected = {s: (float(f), float(d), status) for s, (_, f, d, status) in cases.items()}
    assert got == expected, {s: results[s].message for s in got if got[s] != expected.get(s)}

    assert not connections, f"the grader connected {len(connections)} times to the socket the student's links named"
    for student in ("many-cells", "dense-source"):
        result = results[student]
        print(f"{student}: {result.status} in {result.seconds:.2f} s: {result.message}")
        assert result.seconds < 15, f"{student} cost the grader {result.seconds:.0f} s"
        assert "over the grader's cap" in result.message and result.key
        assert not (out / "feedback" / student).exists()
    widget = results["huge-widget-state"]
    assert "widget state" in widget.message and widget.key, widget.message
    assert not (out / "autograded" / "huge-widget-state" / A).exists(), "the 20 MB widget state was kept"
    assert max(p.stat().st_size for p in out.glob("feedback/*/*/*.html")) < worker.MAX_PAGE_BYTES

    # stored with their keys: the next run grades none of them again
    again = Grader(out, workers=1, progress=False)
    again.run(submissions)
    assert again.graded_now == 0


@pytest.mark.slow
def test_the_per_submission_limit_covers_more_than_the_kernel(tmp_path, monkeypatch):
    """The limit stops grading wherever it is (here: starting the kernel, judging or rendering), kills
    the submission's sandbox, and the result says so, with its key."""
    import nbformat
    monkeypatch.setenv("COURSE_NOTEBOOK_TIMEOUT", "60")
    monkeypatch.setattr(worker, "submission_timeout", lambda: 3)  # 3 s for everything: an honest 00 takes longer
    template = Grader(tmp_path / "grading", workers=1, progress=False).template()
    task = {"student": "slow", "assignment": A, "notebook": nbformat.writes(_nb()).encode(), "key": "k",
            "template": str(template), "scratch_root": str(tmp_path)}
    result, files = worker.grade_one(task)
    assert result.status == TIMED_OUT and "per submission" in result.message, (result.status, result.message)
    assert result.key == "k" and result.seconds < 3 + 10, result.seconds
    assert worker.AUTOGRADED not in files and worker.FEEDBACK not in files
    assert not _running_sandboxes(), "the submission's sandbox was left running"


def _running_sandboxes() -> list[str]:
    """bubblewrap processes this test process started that are still running (not zombies)."""
    from pathlib import Path
    children = {pid for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()}
    running = []
    for pid in children:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if comm == "bwrap" and state != "Z":
            running.append(pid)
    return running
