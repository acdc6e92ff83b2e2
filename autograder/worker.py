"""Grade one submission: a task in, a result and files out, as plain data.

A task carries what a worker needs (the submission's bytes, its student and assignment, the
prepared gradebook to start from); the result comes back with the graded notebook, the feedback
page and the kernel's log as bytes. The worker shares nothing with other workers: each submission
is graded by real ``nbgrader autograde`` in a scratch course folder of its own, which is removed
afterwards. Whatever goes wrong ends as a status on this submission, never as an exception that
could stop the batch.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from . import REPO_ROOT, cells, exercises
from .results import (CRASHED, GRADER_ERROR, INVALID, TIMED_OUT, WRONG_ASSIGNMENT, CellScore, Result,
                      decide_status)

# The files a result carries, by name; the batch writes exactly these and nothing else.
AUTOGRADED, FEEDBACK, KERNEL_LOG = "autograded.ipynb", "feedback.html", "kernel.log"
MAX_FILE_BYTES = 64 * 2**20


def grade_one(task: dict) -> tuple[Result, dict[str, bytes]]:
    """Grade ``task`` (student, assignment, notebook bytes, key, origin, template, threads)."""
    student, assignment = task["student"], task["assignment"]
    threads = str(task.get("threads", 1))
    # Workers share the cores: more BLAS threads than cores makes every kernel crawl.
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = threads
    start = time.perf_counter()
    result = Result(student, assignment, "graded", key=task["key"], origin=task.get("origin", ""))
    findings: list[tuple[str, str]] = []
    files: dict[str, bytes] = {}
    scratch = Path(tempfile.mkdtemp(prefix="grade-", dir=task.get("scratch_root")))
    try:
        import torch
        torch.set_num_threads(int(threads))
        template = Path(task["template"])
        result.cells = max_scores(template, assignment)
        submission = scratch / f"{assignment}.ipynb"
        submission.write_bytes(task["notebook"])
        problem = check_notebook(submission, assignment)
        if problem:
            findings.append(problem)
        else:
            findings += _autograde(scratch, template, submission, student, assignment, result, files)
    except Exception as error:  # the grader's own failure: reported, and graded again next run
        findings.append((GRADER_ERROR, f"{type(error).__name__}: {str(error)[:300]}"))
        result.key = ""
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.status, result.message = decide_status(findings)
    result.seconds = time.perf_counter() - start
    return result, files


def _autograde(scratch: Path, template: Path, submission: Path, student: str, assignment: str,
               result: Result, files: dict[str, bytes]) -> list[tuple[str, str]]:
    from .workspace import GradingError, Workspace
    course = scratch / "course"
    shutil.copytree(template, course)
    log = scratch / KERNEL_LOG
    ws = Workspace(course)
    ws.config.SandboxedKernelManager.stderr_log = str(log)
    ws.submit(assignment, student, submission)
    findings = []
    try:
        ws.autograde(assignment, student)
    except GradingError as error:
        findings.append((CRASHED, _last_error_line(str(error))))
    else:
        graded = ws.autograded_path(assignment, student)
        stopped = stopped_cells(graded)
        if stopped:
            findings.append(stopped)
        result.cells = {gid: CellScore(g.auto_score, g.max_score, g.needs_manual_grade)
                        for gid, g in ws.grades(assignment, student).items()}
        files[AUTOGRADED] = _read(graded)
        feedback = ws.api.generate_feedback(assignment, student, force=True)
        page = course / "feedback" / student / assignment / f"{assignment}.html"
        if feedback["success"] and page.is_file():
            files[FEEDBACK] = _read(page)
        else:
            result.message = "feedback could not be generated"
    if log.is_file():
        files[KERNEL_LOG] = _read(log)
    return findings


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is {size:,} bytes, over the grader's limit")
    return path.read_bytes()


def max_scores(template: Path, assignment: str) -> dict[str, CellScore]:
    from nbgrader.api import Gradebook
    from .config import make_config
    config = make_config(REPO_ROOT, grading_dir=template)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        notebook = gb.find_notebook(assignment, assignment)
        return {cell.name: CellScore(0.0, float(cell.max_score), False) for cell in notebook.grade_cells}


def check_notebook(path: Path, assignment: str) -> tuple[str, str] | None:
    """A finding when the file is not a gradable notebook of this assignment."""
    import nbformat
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:  # empty file, corrupted JSON, not a notebook at all
        return INVALID, f"not a readable notebook ({type(error).__name__}: {str(error)[:200]})"
    ids = {cells.grade_id(c) for c in nb.cells}
    master = exercises.load(exercises.master_path(assignment))
    expected = {f"test_{name}" for name in master.exercises} | {f"ex_{name}" for name in master.exercises}
    if expected and not (ids & expected):
        return WRONG_ASSIGNMENT, f"none of {assignment}'s exercises is in this notebook (another assignment's file?)"
    return None


def stopped_cells(path: Path) -> tuple[str, str] | None:
    """A finding when a cell hit a time limit or the kernel died, from the executor's own record."""
    import nbformat
    from .results import GRADING_KEY, execution_finding
    return execution_finding(nbformat.read(str(path), as_version=4).metadata.get(GRADING_KEY))


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    interesting = [line for line in lines if "Error" in line or "died" in line.lower()]
    return (interesting or lines or ["nbgrader failed"])[-1][:300]
