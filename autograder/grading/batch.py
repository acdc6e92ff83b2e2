"""Grade a class: intake, a pool of workers, the merged gradebook, the outputs.

Each submission goes to ``worker.grade_one`` as a task of plain data and comes back as a result
with its files as bytes; the batch writes exactly those files (the graded notebook, the feedback
page, the kernel's log) under the grading folder and nothing else. Results are stored as each one
finishes, so an interrupted run resumes where it stopped, and a stored result is reused only when
its key (submission, master, grader code, limits, device lane) is unchanged.

A folder graded later (late submissions) merges into the class: the outputs show every result
stored so far, this folder's new or changed submissions updating theirs. Ctrl-C never becomes a
result (see ``Stop``): the first stops the run and saves what finished, the second stops at once.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from autograder.settings import REPO_ROOT
from autograder.authoring import masters
from autograder.grading.feedback import ship_mathjax
from autograder.grading.intake import DEFAULT_PATTERN, Intake, collect, collect_records, refuse_unusable, submitted_times
from autograder.authoring.release import assignments as all_assignments
from autograder.grading.course_dir import prepared_template
from autograder.grading.reports import NOT_GRADED, RunCounts, count as _count, progress_bar
from autograder.grading.results import GRADER_ERROR, MISSING, Result, code_version, submission_key
from autograder.grading.worker import AUTOGRADED, FEEDBACK, KERNEL_LOG, grade_one, max_scores


class Grader:
    def __init__(self, out: Path | str = REPO_ROOT / "grading", workers: int | None = None,
                 pattern: str = DEFAULT_PATTERN, progress: bool = True, scheduler: str | None = None):
        self.out = Path(out).resolve()
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pattern = pattern
        self.progress = progress
        self.assignments = all_assignments()
        self.version = code_version()
        self.graded_now = 0
        self.counts = RunCounts()  # what the last run did, for its summary
        self.intake = Intake()
        self.scheduler = scheduler  # a Dask scheduler's address: grade on that cluster instead of a local pool

    # -- set-up ------------------------------------------------------------------------
    def template(self) -> Path:
        """A prepared gradebook (every assignment's cells) that each worker's scratch folder copies."""
        return prepared_template(self.out, self.assignments, self.version)

    def main_workspace(self, template: Path):
        from autograder.grading.course_dir import Workspace
        if not (self.out / "gradebook.db").exists():
            # A first run: the template already records every assignment (6 s of nbgrader saved).
            shutil.copyfile(template / "gradebook.db", self.out / "gradebook.db.new")
            os.replace(self.out / "gradebook.db.new", self.out / "gradebook.db")
            shutil.copytree(template / "release", self.out / "release", dirs_exist_ok=True)
        ws = Workspace(self.out)
        with ws.gradebook() as gb:
            known = {a.name for a in gb.assignments}
        missing = [a for a in self.assignments if a not in known]
        if missing:
            ws.prepare(missing)
        return ws

    # -- the run -------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """A line on the terminal about what the run is doing (none when progress is off)."""
        if self.progress:
            print(text, file=sys.stderr, flush=True)

    def run(self, submissions: Path | str, force: bool = False) -> list[Result]:
        """Grade the folder ``submissions`` into the class; the class's results, sorted."""
        # Refused before anything is written: an empty folder, or one student's folder.
        self.say(f"reading submissions from {submissions} ...")
        intake = self.intake = collect(submissions, self.assignments, self.out / "work", self.pattern)
        try:
            refuse_unusable(intake, self.assignments)
        except ValueError:
            shutil.rmtree(self.out / "work" / "unzipped", ignore_errors=True)
            raise
        self.out.mkdir(parents=True, exist_ok=True)
        log = self.out / GRADER_LOG
        log.write_text("", encoding="utf-8")  # this run's warnings only
        scratch = Path(tempfile.mkdtemp(prefix="grading-scratch-"))  # the workers' folders, gone at the end
        try:
            with warnings_to(log), Stop(self.out) as stop:
                return self._run(intake, force, stop, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.rmtree(self.out / "work" / "unzipped", ignore_errors=True)

    def _run(self, intake: Intake, force: bool, stop: "Stop", scratch: Path) -> list[Result]:
        self.say(f"preparing the gradebook for {len(self.assignments)} assignments "
                 "(slow on a first run and after a master or the grader changed) ...")
        template = self.template()
        main = self.main_workspace(template)
        current: list[Result] = []
        tasks = []
        for (student, assignment), sub in sorted(intake.submissions.items()):
            key = submission_key(sub.path.read_bytes(), masters.master_path(assignment), self.version)
            cached = self.cached(student, assignment)
            if cached and cached.key == key and not force:
                current.append(cached)
                continue
            tasks.append({"student": student, "assignment": assignment, "path": str(sub.path), "key": key,
                          "origin": sub.origin, "template": str(template), "scratch_root": str(scratch),
                          "threads": max(1, (os.cpu_count() or 1) // self.workers)})
        self.say(f"{len(intake.submissions)} submissions: {len(tasks)} to grade"
                 + (f", {len(current)} unchanged since the last run" if current else "")
                 + (f", with {_count(self.workers, 'worker')}" if tasks and not self.scheduler else "") + ".")
        fresh = self._grade(tasks, stop) if tasks and not stop.requested else []
        self.graded_now = len(fresh)
        graded = {(r.student, r.assignment) for r in fresh}
        stopped = [t for t in tasks if (t["student"], t["assignment"]) not in graded]
        self.counts = RunCounts(str(intake.folder), len(intake.submissions), len(fresh), len(current), len(stopped))
        results = self._class(main, intake, current + fresh, stopped, template)
        self.say("writing the gradebook, grades.csv, feedback and the class report ...")
        self._merge(main, results, submitted_times(intake))
        self._refresh_feedback(main, results)
        self._keep_collect_records(current + fresh, collect_records(intake))
        ship_mathjax(self.out / "feedback")  # the pages' maths, opened from disk
        self._write_outputs(main, intake, results)
        return results

    def _grade(self, tasks: list[dict], stop: "Stop") -> list[Result]:
        """Grade ``tasks`` in worker processes, storing each result as it comes, until done or stopped."""
        if self.scheduler:
            from autograder.grading.cluster import grade_on_cluster
            return grade_on_cluster(self, tasks, stop)
        bar = progress_bar(len(tasks), self.progress)
        done: list[Result] = []
        pending = list(reversed(tasks))
        # Every submission is graded in a worker process, even with one worker: there, Ctrl-C is
        # ignored (nbgrader would record it as a crash), and a stopped run can end the process.
        pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_worker_start,
                                   initargs=(str(self.out / GRADER_LOG),))
        stop.at_once.append(lambda: _end_workers(pool, wait=0))
        running = {}
        try:
            while (pending or running) and not stop.requested:
                while pending and len(running) < 2 * self.workers:
                    task = pending.pop()
                    work = task | {"notebook": Path(task["path"]).read_bytes()}  # read when its turn comes
                    with _sigint_ignored():  # a worker process started here inherits it
                        running[pool.submit(grade_one, work)] = task
                finished, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    if stop.requested:
                        break  # what is left is dropped, never recorded: graded at the next run
                    task = running.pop(future)
                    try:
                        result, files = future.result()
                    except Exception as error:  # the worker process itself died: report, never drop
                        result, files = Result(task["student"], task["assignment"], GRADER_ERROR, key="",
                                               origin=task["origin"], message=f"grader worker failed: {error}"), {}
                    done.append(self._collect(task, result, files))
                    bar.update(1)
        finally:
            if running:  # stopped (Ctrl-C) or failed: the submissions in flight are abandoned
                _end_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
        return done

    def _collect(self, task: dict, result: Result, files: dict[str, bytes]) -> Result:
        """Store a finished submission's result and its files (exactly those, written without following links).
        The result is written last, so a run stopped in between leaves no result and grades it again."""
        stored = self.out / "results" / result.student / f"{result.assignment}.json"
        if stored.is_file() and not stored.is_symlink():
            stored.unlink()
        for kind, name in (("autograded", AUTOGRADED), ("feedback", FEEDBACK), ("logs", KERNEL_LOG)):
            folder = self.out / kind / result.student / result.assignment
            shutil.rmtree(folder, ignore_errors=True)
            if name in files:
                suffix = {AUTOGRADED: ".ipynb", FEEDBACK: ".html", KERNEL_LOG: ".log"}[name]
                write_new(folder / f"{result.assignment}{suffix}", files[name], self.out)
        write_new(stored, result.to_json().encode(), self.out)
        return result

    def cached(self, student: str, assignment: str) -> Result | None:
        return _load(self.out / "results" / student / f"{assignment}.json")

    def _class(self, main, intake: Intake, current: list[Result], stopped: list[dict], template: Path) -> list[Result]:
        """The class as the outputs show it: every result stored by earlier runs (other folders, late
        submissions) with this folder's current ones over them; a submission this run did not get to
        is 'not graded yet' (never 'missing', never an older file's grade); every student of the class
        without a result for one of its assignments is missing it."""
        results = {(r.student, r.assignment): r for r in map(_load, sorted((self.out / "results").glob("*/*.json")))
                   if r is not None}
        results |= {(r.student, r.assignment): r for r in current}
        for t in stopped:
            results[t["student"], t["assignment"]] = Result(
                t["student"], t["assignment"], NOT_GRADED, origin=t["origin"],
                message="the run was stopped before this submission was graded; the next run grades it")
        with main.gradebook() as gb:
            students = {s.id for s in gb.students} | intake.students | {s for s, _ in results}
        expected = {a: max_scores(template, a) for a in {a for _, a in results}}  # the assignments graded so far
        results |= {(s, a): Result(s, a, MISSING, cells=dict(cells), message="no submission found")
                    for s in students for a, cells in expected.items() if (s, a) not in results}
        return [results[k] for k in sorted(results)]

    # -- merging into the one gradebook ---------------------------------------------------------
    def _merge(self, main, results: list[Result], submitted: dict | None = None) -> None:
        with main.gradebook() as gb:
            for r in results:
                if r.status == NOT_GRADED:
                    continue  # nothing to record: the gradebook keeps what it had
                gb.update_or_create_student(r.student)
                when = (submitted or {}).get((r.student, r.assignment))
                gb.update_or_create_submission(r.assignment, r.student, **({"timestamp": when} if when else {}))
                notebook = gb.find_submission_notebook(r.assignment, r.assignment, r.student)
                for grade in notebook.grades:
                    cell = r.cells.get(grade.name)
                    if cell is None:
                        continue
                    grade.auto_score = cell.auto
                    if grade.manual_score is None:
                        grade.needs_manual_grade = cell.needs_manual
                gb.db.commit()

    def _refresh_feedback(self, main, results: list[Result]) -> None:
        """Feedback pages of submissions a human has scored are made again from the merged gradebook,
        so they show the manual scores."""
        with main.gradebook() as gb:
            scored = [r for r in results if r.status != NOT_GRADED
                      and (self.out / "autograded" / r.student / r.assignment).is_dir()
                      and any(g.manual_score is not None
                              for g in gb.find_submission_notebook(r.assignment, r.assignment, r.student).grades)]
        for r in scored:
            main.api.generate_feedback(r.assignment, r.student, force=True)

    def _keep_collect_records(self, results: list[Result], records: dict) -> None:
        """nbgrader collect's timestamp.txt and submission_secret.txt of each submission graded now or unchanged,
        beside its graded notebook and feedback page as nbgrader's own autograde would leave them: Formgrader's
        Release Feedback (nbgrader release_feedback) needs both, Generate Feedback copies them along."""
        for r in results:
            for kind in ("autograded", "feedback"):
                folder = self.out / kind / r.student / r.assignment
                if (r.student, r.assignment) in records and folder.is_dir() and not folder.is_symlink():
                    for name, data in records[r.student, r.assignment].items():
                        write_new(folder / name, data, self.out)

    # -- outputs ------------------------------------------------------------------------------
    def _write_outputs(self, main, intake: Intake, results: list[Result]) -> None:
        from autograder.grading.reports import write_class_report, write_grades_csv, write_intake
        write_grades_csv(self.out / "grades.csv", main, results)
        write_class_report(self.out, main, results)
        write_intake(self.out / "intake.txt", intake, results, self.counts)


GRADER_LOG = "grader.log"


def _load(path: Path) -> Result | None:
    try:
        return Result.from_json(path.read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None  # unreadable (a run stopped while writing it): graded again


class Stop:
    """Ctrl-C during a run. A terminal sends it to the whole process group; nbgrader catches every
    exception, KeyboardInterrupt included, and would store it as the submission's crash. So grading
    happens in worker processes that ignore it, and here the first Ctrl-C only asks the run to stop
    (the batch looks between results: nothing more starts, what is in flight is dropped, what
    finished is saved), and a second one ends the process at once, before anything else is written."""

    def __init__(self, out: Path):
        self.out = out
        self.requested = False
        self.at_once: list = []  # what a second Ctrl-C does before exiting: end the grading workers
        self._previous = None

    def __enter__(self) -> "Stop":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _interrupt(self, signum, frame) -> None:
        if not self.requested:
            self.requested = True
            print("\nCtrl-C: stopping. Submissions being graded are dropped (graded at the next run); what "
                  "finished is saved. Press Ctrl-C again to stop at once.", file=sys.stderr, flush=True)
            return
        for end in self.at_once:
            end()
        print(f"\nCtrl-C again: stopped at once. Results finished so far are kept in {self.out}/results; "
              "grades.csv and the reports were not updated. Run the same command again to finish.",
              file=sys.stderr, flush=True)
        os._exit(130)


@contextlib.contextmanager
def _sigint_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_start(log: str) -> None:
    """A grading worker process: Ctrl-C is the batch's to handle (already ignored, inherited from
    the batch while it started this process); SIGTERM from a stopping batch ends the kernels it
    started, which run in sessions of their own, and then the worker, recording nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_worker)
    warnings_to_file(log)


def _end_worker(signum, frame) -> None:
    for task in Path("/proc/self/task").iterdir():
        try:
            children = [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
        for pid in children:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pid:
                    os.killpg(pid, signal.SIGKILL)  # a kernel (or its sandbox) and what it started
                else:
                    os.kill(pid, signal.SIGKILL)
    os._exit(1)


def _end_workers(pool: ProcessPoolExecutor, wait: float = 5.0) -> None:
    """End a pool's worker processes now (Python 3.11 has no public way; ``_processes`` is the pool's
    own): SIGTERM (``_end_worker``), and SIGKILL for one still there after ``wait`` seconds."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.terminate()
    deadline = time.monotonic() + wait
    for process in processes if wait else []:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()


def _append_warning(log: str, message, category, filename, lineno, file=None, line=None) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(warnings.formatwarning(message, category, filename, lineno, line))


def warnings_to_file(log: str) -> None:
    """In a grading worker process: warnings from the grader's libraries (SQLAlchemy's SAWarnings
    from nbgrader's gradebook, deprecations) go to grading/grader.log, not the instructor's terminal,
    where they would break the progress bar."""
    warnings.showwarning = lambda *args, **kwargs: _append_warning(log, *args, **kwargs)


@contextlib.contextmanager
def warnings_to(log: Path):
    """The same in this process, for the length of a run (the previous handler comes back after)."""
    with warnings.catch_warnings():
        warnings_to_file(str(log))
        yield


def write_new(path: Path, data: bytes, root: Path) -> None:
    """Write ``data`` to ``path`` under ``root``: no component may be a symbolic link, and the file
    is created afresh (O_NOFOLLOW), so nothing in the grading folder can redirect a write."""
    root = root.resolve()
    relative = path.relative_to(root)
    current = root
    for part in relative.parts[:-1]:
        current = current / part
        if current.is_symlink():
            raise OSError(f"refusing to write through the symbolic link {current}")
        current.mkdir(exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
