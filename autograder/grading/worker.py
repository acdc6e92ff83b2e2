"""Grade one submission: a task in, a result and files out, as plain data.

A task carries what a worker needs (the submission's bytes, its student and assignment, the
prepared gradebook to start from); the result comes back with the graded notebook, the feedback
page and the kernel's log as bytes. The worker shares nothing with other workers: each submission
is graded by real ``nbgrader autograde`` in a scratch course folder of its own, which is removed
afterwards. Whatever goes wrong ends as a status on this submission, never as an exception that
could stop the batch.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from autograder.settings import REPO_ROOT
from autograder.authoring import cells, masters
from autograder.grading.results import CRASHED, GRADER_ERROR, INVALID, TIMED_OUT, TOO_LARGE, WRONG_ASSIGNMENT, CellScore, Result, decide_status

# The files a result carries, by name; the batch writes exactly these and nothing else.
AUTOGRADED, FEEDBACK, KERNEL_LOG = "autograded.ipynb", "feedback.html", "kernel.log"

# The grader's own caps, checked on the submitted file before any costly step (nbformat, nbgrader, a
# kernel), and on what grading made before it is kept. The course's largest master has 106 cells and
# 111,000 characters of source. Over a cap, the submission's status is `too large`, naming the cap.
MAX_FILE_BYTES = 64 * 2**20          # the submitted notebook, and each file a result carries
MAX_CELLS = 1_000
MAX_SOURCE_CHARS = 1_000_000         # all cells' source together (feedback highlights it: ~16 bytes a character)
MAX_FIELD_BYTES = 5_000_000          # each submitted output; metadata with widget state; attachments
MAX_PAGE_BYTES = 16_000_000          # the rendered feedback page
# Everything one submission costs the grader (intake of its bytes, nbgrader's steps, the kernels, the
# judge, feedback) stops at twice the notebook's time limit plus this much (submission_timeout).
SUBMISSION_GRACE = 120


class TooLarge(Exception):
    """A submission over one of the grader's caps; the message names the cap."""


class SubmissionTimeLimit(BaseException):
    """Raised in the grading thread at the per-submission limit. A BaseException, so that the usual
    ``except Exception`` lets it through; a bare ``except`` (nbgrader's around each of its steps) meets
    it again 2 s later (``time_limit``)."""


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
    guard = time_limit(submission_timeout())
    try:
        with guard:
            template = Path(task["template"])
            result.cells = max_scores(template, assignment)
            check_size(task["notebook"])
            import torch
            torch.set_num_threads(int(threads))
            submission = scratch / f"{assignment}.ipynb"
            submission.write_bytes(task["notebook"])
            problem = check_notebook(submission, assignment)
            if problem:
                findings.append(problem)
            else:
                findings += _autograde(scratch, template, submission, student, assignment, result, files)
    except TooLarge as error:  # kept with its key: the same file is as large next run
        findings.append((TOO_LARGE, str(error)))
        _drop_pages(files)
    except SubmissionTimeLimit:
        pass  # below: nbgrader swallows the first one it meets, so the guard says whether it fired
    except Exception as error:  # the grader's own failure: reported, and graded again next run
        findings.append((GRADER_ERROR, f"{type(error).__name__}: {str(error)[:300]}"))
        result.key = ""
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if guard.fired:  # kept with its key, like a notebook that runs past its own limit
        findings = [(TIMED_OUT, f"grading this submission took longer than the grader's limit of {guard.seconds} s "
                                "per submission (the notebook's time limit plus reading and feedback)")]
        _drop_pages(files)
    result.status, result.message = decide_status(findings)
    result.seconds = time.perf_counter() - start
    return result, files


def _autograde(scratch: Path, template: Path, submission: Path, student: str, assignment: str,
               result: Result, files: dict[str, bytes]) -> list[tuple[str, str]]:
    from autograder.grading.course_dir import GradingError, Workspace
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
        check_graded(files[AUTOGRADED])
        feedback = ws.api.generate_feedback(assignment, student, force=True)
        page = course / "feedback" / student / assignment / f"{assignment}.html"
        if feedback["success"] and page.is_file():
            files[FEEDBACK] = _read(page, MAX_PAGE_BYTES, "feedback page")
        else:
            result.message = "feedback could not be generated"
    if log.is_file():
        files[KERNEL_LOG] = _read(log)
    return findings


def _drop_pages(files: dict[str, bytes]) -> None:
    for name in (AUTOGRADED, FEEDBACK):
        files.pop(name, None)


def _read(path: Path, cap: int = MAX_FILE_BYTES, what: str = "") -> bytes:
    size = path.stat().st_size
    if size > cap:
        raise TooLarge(f"its {what or path.name} would be {size:,} bytes, over the grader's cap of {cap:,} bytes")
    return path.read_bytes()


def check_size(notebook: bytes) -> None:
    """Raise TooLarge when the submitted file is over one of the grader's caps. Plain JSON only:
    nothing here costs more than reading the file once."""
    if len(notebook) > MAX_FILE_BYTES:
        raise TooLarge(f"the file is {len(notebook):,} bytes, over the grader's cap of {MAX_FILE_BYTES:,} bytes")
    try:
        nb = json.loads(notebook)
    except (ValueError, RecursionError):
        return  # not JSON at all: check_notebook says so (`invalid file`)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return
    _over("cells", len(nb["cells"]), MAX_CELLS)
    source = attachments = 0
    metadata = _bytes(nb.get("metadata"))
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            continue
        text = cell.get("source", "")
        source += sum(len(str(line)) for line in text) if isinstance(text, list) else len(str(text))
        metadata += _bytes(cell.get("metadata"))
        attachments += _bytes(cell.get("attachments"))
        outputs = cell.get("outputs")
        for output in outputs if isinstance(outputs, list) else []:
            _over("bytes in one output", _bytes(output), MAX_FIELD_BYTES)
    _over("characters of source", source, MAX_SOURCE_CHARS)
    _over("bytes of metadata", metadata, MAX_FIELD_BYTES)
    _over("bytes of attachments", attachments, MAX_FIELD_BYTES)


def check_graded(notebook: bytes) -> None:
    """Raise TooLarge when the graded notebook's metadata (the widget state the kernel left) is over the cap."""
    nb = json.loads(notebook)
    size = _bytes(nb.get("metadata")) + sum(_bytes(c.get("metadata")) for c in nb.get("cells", []))
    if size > MAX_FIELD_BYTES:
        raise TooLarge(f"its graded notebook's metadata (widget state) would be {size:,} bytes, over the "
                       f"grader's cap of {MAX_FIELD_BYTES:,} bytes")


def _bytes(value) -> int:
    return 0 if value is None else len(json.dumps(value, default=str))


def _over(what: str, count: int, cap: int) -> None:
    if count > cap:
        raise TooLarge(f"the notebook has {count:,} {what}, over the grader's cap of {cap:,}")


def submission_timeout() -> int:
    """Twice the notebook's limit (a kernel stopped in the student's phase is started again to judge the
    tests before the stop: autograder/judging/executor.py) plus the grace for reading, nbgrader and feedback."""
    from autograder.settings import notebook_timeout
    return 2 * notebook_timeout() + SUBMISSION_GRACE


class time_limit:
    """Stop the grading thread after ``seconds``: its sandboxes are killed and SubmissionTimeLimit is
    raised in it, again every 2 s until it leaves the block (nbgrader swallows every exception of a
    step it runs; ``fired`` says whether the limit was reached)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False

    def __enter__(self):
        self._thread = threading.get_ident()
        self._armed = threading.Event()
        self._armed.set()
        self._lock = threading.Lock()
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._watch.start()
        return self

    def _watchdog(self) -> None:
        from autograder.judging.sandbox import kill_sandboxes_of
        deadline = time.monotonic() + self.seconds
        while self._armed.is_set():
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            kill_sandboxes_of(self._thread)
            with self._lock:
                if self._armed.is_set():
                    self.fired = True
                    _raise_in(self._thread, SubmissionTimeLimit)
            deadline = time.monotonic() + 2

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._armed.clear()
            _raise_in(self._thread, None)  # one the thread has not raised yet is cancelled


def _raise_in(thread: int, exception) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None)


def max_scores(template: Path, assignment: str) -> dict[str, CellScore]:
    from nbgrader.api import Gradebook
    from autograder.grading.nbgrader_config import make_config
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
    master = masters.load(masters.master_path(assignment))
    expected = {f"test_{name}" for name in master.exercises} | {f"ex_{name}" for name in master.exercises}
    if expected and not (ids & expected):
        return WRONG_ASSIGNMENT, f"none of {assignment}'s exercises is in this notebook (another assignment's file?)"
    return None


def stopped_cells(path: Path) -> tuple[str, str] | None:
    """A finding when a cell hit a time limit or the kernel died, from the executor's own record."""
    import nbformat
    from autograder.judging.executor import GRADING_KEY
    from autograder.grading.results import execution_finding
    return execution_finding(nbformat.read(str(path), as_version=4).metadata.get(GRADING_KEY))


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    interesting = [line for line in lines if "Error" in line or "died" in line.lower()]
    return (interesting or lines or ["nbgrader failed"])[-1][:300]
