"""Grade a class: intake, a pool of workers, the merged gradebook, the outputs.

Each submission goes to ``worker.grade_one`` as a task of plain data and comes back as a result
with its files as bytes; the batch writes exactly those files (the graded notebook, the feedback
page, the kernel's log) under the grading folder and nothing else. Results are stored as each one
finishes, so an interrupted run resumes where it stopped, and a stored result is reused only when
its key (submission, master, grader code, limits, device lane) is unchanged.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from . import REPO_ROOT, exercises
from .feedback import ship_mathjax
from .intake import DEFAULT_PATTERN, Intake, collect, submitted_times
from .release import assignments as all_assignments
from .reports import count as _count
from .results import GRADER_ERROR, MISSING, Result, _sha, code_version, submission_key
from .worker import AUTOGRADED, FEEDBACK, KERNEL_LOG, grade_one, max_scores


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
        self.scheduler = scheduler  # a Dask scheduler's address: grade on that cluster instead of a local pool

    # -- set-up ------------------------------------------------------------------------
    def template(self) -> Path:
        """A prepared gradebook (every assignment's cells) that each worker's scratch folder copies."""
        from .workspace import Workspace
        masters = b"".join(exercises.master_path(a).read_bytes() for a in self.assignments)
        template = self.out / "templates" / _sha(masters, self.version.encode())[:16]
        if not (template / "gradebook.db").exists():
            shutil.rmtree(self.out / "templates", ignore_errors=True)  # older masters' templates
            Workspace(template).prepare(self.assignments)
        return template

    def main_workspace(self, template: Path):
        from .workspace import Workspace
        if not (self.out / "gradebook.db").exists():
            # A first run: the template already records every assignment (6 s of nbgrader saved).
            shutil.copyfile(template / "gradebook.db", self.out / "gradebook.db")
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
        self.out.mkdir(parents=True, exist_ok=True)
        log = self.out / GRADER_LOG
        log.write_text("", encoding="utf-8")  # this run's warnings only
        with warnings_to(log):
            return self._run(submissions, force)

    def _run(self, submissions: Path | str, force: bool) -> list[Result]:
        self.say(f"reading submissions from {submissions} ...")
        intake = collect(submissions, self.assignments, self.out / "work", self.pattern)
        self.say(f"preparing the gradebook for {len(self.assignments)} assignments "
                 "(slow on a first run and after a master or the grader changed) ...")
        template = self.template()
        main = self.main_workspace(template)
        results: list[Result] = []
        tasks = []
        for (student, assignment), sub in sorted(intake.submissions.items()):
            key = submission_key(sub.path.read_bytes(), exercises.master_path(assignment), self.version)
            cached = self.cached(student, assignment)
            if cached and cached.key == key and not force:
                results.append(cached)
                continue
            tasks.append({"student": student, "assignment": assignment, "path": str(sub.path), "key": key,
                          "origin": sub.origin, "template": str(template),
                          "threads": max(1, (os.cpu_count() or 1) // self.workers)})
        self.say(f"{len(intake.submissions)} submissions: {len(tasks)} to grade"
                 + (f", {len(results)} unchanged since the last run" if results else "")
                 + (f", with {_count(self.workers, 'worker')}" if tasks and not self.scheduler else "") + ".")
        fresh = self._grade(tasks)
        self.graded_now = len(fresh)
        results += fresh
        results += self._missing(intake, results, template)
        results.sort(key=lambda r: (r.student, r.assignment))
        self.say("writing the gradebook, grades.csv, feedback and the class report ...")
        self._merge(main, results, submitted_times(intake))
        self._refresh_feedback(main, results)
        ship_mathjax(self.out / "feedback")  # the pages' maths, opened from disk
        self._write_outputs(main, intake, results, graded_now=len(fresh))
        shutil.rmtree(self.out / "work" / "unzipped", ignore_errors=True)
        return results

    def _grade(self, tasks: list[dict]) -> list[Result]:
        if not tasks:
            return []
        if self.scheduler:
            from .cluster import grade_on_cluster
            return grade_on_cluster(self, tasks)
        bar = _progress(len(tasks), self.progress)
        done: list[Result] = []

        def with_bytes(task: dict) -> dict:  # read each file only when its turn comes
            return task | {"notebook": Path(task["path"]).read_bytes()}

        if self.workers == 1:
            for task in tasks:
                done.append(self._collect(task, *grade_one(with_bytes(task))))
                bar.update(1)
        else:
            pending = list(reversed(tasks))
            with ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=warnings_to_file,
                                     initargs=(str(self.out / GRADER_LOG),)) as pool:
                running = {}
                while pending or running:
                    while pending and len(running) < 2 * self.workers:
                        task = pending.pop()
                        running[pool.submit(grade_one, with_bytes(task))] = task
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        task = running.pop(future)
                        try:
                            result, files = future.result()
                        except Exception as error:  # the worker process itself died: report, never drop
                            result, files = Result(task["student"], task["assignment"], GRADER_ERROR, key="",
                                                   origin=task["origin"], message=f"grader worker failed: {error}"), {}
                        done.append(self._collect(task, result, files))
                        bar.update(1)
        bar.close()
        return done

    def _collect(self, task: dict, result: Result, files: dict[str, bytes]) -> Result:
        """Store a finished submission's result and its files (exactly those, written without following links)."""
        for kind, name in (("autograded", AUTOGRADED), ("feedback", FEEDBACK), ("logs", KERNEL_LOG)):
            folder = self.out / kind / result.student / result.assignment
            shutil.rmtree(folder, ignore_errors=True)
            if name in files:
                suffix = {AUTOGRADED: ".ipynb", FEEDBACK: ".html", KERNEL_LOG: ".log"}[name]
                write_new(folder / f"{result.assignment}{suffix}", files[name], self.out)
        write_new(self.out / "results" / result.student / f"{result.assignment}.json", result.to_json().encode(),
                  self.out)
        return result

    def cached(self, student: str, assignment: str) -> Result | None:
        path = self.out / "results" / student / f"{assignment}.json"
        try:
            return Result.from_json(path.read_text())
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def _missing(self, intake: Intake, results: list[Result], template: Path) -> list[Result]:
        have = {(r.student, r.assignment) for r in results}
        expected = sorted({r.assignment for r in results})  # the assignments this batch is about
        return [Result(s, a, MISSING, cells=max_scores(template, a), message="no submission found")
                for s in sorted(intake.students) for a in expected if (s, a) not in have]

    # -- merging into the one gradebook ---------------------------------------------------------
    def _merge(self, main, results: list[Result], submitted: dict | None = None) -> None:
        with main.gradebook() as gb:
            for r in results:
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
            scored = [r for r in results if (self.out / "autograded" / r.student / r.assignment).is_dir()
                      and any(g.manual_score is not None
                              for g in gb.find_submission_notebook(r.assignment, r.assignment, r.student).grades)]
        for r in scored:
            main.api.generate_feedback(r.assignment, r.student, force=True)

    # -- outputs ------------------------------------------------------------------------------
    def _write_outputs(self, main, intake: Intake, results: list[Result], graded_now: int) -> None:
        from .reports import write_class_report, write_grades_csv, write_intake
        write_grades_csv(self.out / "grades.csv", main, results)
        write_class_report(self.out, main, results)
        write_intake(self.out / "intake.txt", intake, results, graded_now)


GRADER_LOG = "grader.log"


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


def _progress(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="grading", unit="submission", disable=not enabled, file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")
