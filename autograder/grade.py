"""Grade a class: import submissions, autograde them in parallel through nbgrader, write grades.

    python -m autograder.grade SUBMISSIONS [--out grading] [--workers N] [--force] [--pattern REGEX]

Each submission is graded by real ``nbgrader autograde`` in a scratch course directory of its
own (a copy of a prepared gradebook), so workers never share a database and one broken
submission cannot disturb another. Results are merged into one gradebook (``grading/gradebook.db``,
the one formgrader uses for manual grading) and written out:

- ``grades.csv``: a row per student; per exercise, per notebook and course totals; statuses;
- ``feedback/<student>/<assignment>/<assignment>.html``: scores and failure messages, no hidden tests;
- ``report.md`` and ``totals.png``: per-exercise means and failure rates, the distribution of totals,
  the slowest submissions; ``intake.txt``: what was found and every problem with the input.

A submission is graded again only when its file, the master notebook or the grader changed
(``--force`` regrades everything); manual scores given in formgrader survive regrading.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from . import REPO_ROOT, exercises
from .intake import DEFAULT_PATTERN, Intake, collect
from .release import assignments as all_assignments

GRADER_VERSION = "1"  # bump to invalidate cached results when grading logic changes

GRADED, MISSING, INVALID, WRONG_ASSIGNMENT, TIMED_OUT, CRASHED, FLAGGED = (
    "graded", "missing", "invalid file", "wrong assignment", "timed out", "crashed", "flagged for review")


@dataclass
class CellScore:
    auto: float | None
    max: float
    needs_manual: bool


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    key: str = ""
    origin: str = ""
    seconds: float = 0.0
    message: str = ""
    cells: dict[str, CellScore] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> "Result":
        raw = json.loads(text)
        raw["cells"] = {k: CellScore(**v) for k, v in raw["cells"].items()}
        return cls(**raw)


def _sha(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def submission_key(path: Path, assignment: str) -> str:
    """Changes when the submission, its master, the grader or the device lane changes."""
    return _sha(path.read_bytes(), exercises.master_path(assignment).read_bytes(),
                GRADER_VERSION.encode(), os.environ.get("COURSE_DEVICE", "auto").encode())


# ----------------------------------------------------------------------------------------
# The worker: one submission, one scratch course directory, real nbgrader.
# ----------------------------------------------------------------------------------------

def _max_scores(template: Path, assignment: str) -> dict[str, CellScore]:
    from nbgrader.api import Gradebook
    from .config import make_config
    config = make_config(REPO_ROOT, grading_dir=template)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        notebook = gb.find_notebook(assignment, assignment)
        return {cell.name: CellScore(0.0, float(cell.max_score), False) for cell in notebook.grade_cells}


def _check_notebook(path: Path, assignment: str) -> tuple[str, str] | None:
    """A status and message when the file is not a gradable notebook of this assignment."""
    import nbformat
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:  # empty file, corrupted JSON, not a notebook at all
        return INVALID, f"not a readable notebook ({type(error).__name__}: {str(error)[:200]})"
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    master = exercises.load(exercises.master_path(assignment))
    expected = {f"test_{name}" for name in master.exercises} | {f"ex_{name}" for name in master.exercises}
    if expected and not (ids & expected):
        return WRONG_ASSIGNMENT, f"none of {assignment}'s exercises is in this notebook (another assignment's file?)"
    return None


def grade_one(task: dict) -> Result:
    """Grade one submission in its own scratch folder (runs in a worker process)."""
    from .workspace import GradingError, Workspace
    student, assignment, template = task["student"], task["assignment"], Path(task["template"])
    # Workers share the cores: more BLAS threads than cores makes every kernel crawl.
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(task.get("threads", 1))
    scratch = Path(task["scratch"])
    start = time.perf_counter()
    result = Result(student, assignment, GRADED, key=task["key"], origin=task["origin"])
    result.cells = _max_scores(template, assignment)
    problem = _check_notebook(Path(task["path"]), assignment)
    if problem:
        result.status, result.message = problem
        result.seconds = time.perf_counter() - start
        return result

    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(template, scratch)
    ws = Workspace(scratch)
    ws.submit(assignment, student, task["path"])
    try:
        grades = ws.autograde(assignment, student)
    except GradingError as error:
        result.status = CRASHED
        result.message = _last_error_line(str(error))
    else:
        graded_nb = ws.autograded_path(assignment, student)
        stopped = _stopped_cells(graded_nb)
        if stopped:
            result.status, result.message = stopped
        earned = any(g.auto_score for g in ws.grades(assignment, student).values() if not g.needs_manual_grade)
        if task.get("recheck", True) and earned:  # only points need confirming
            _confirm_in_clean_process(ws, assignment, student, scratch, result)
        grades = ws.grades(assignment, student)
        result.cells = {gid: CellScore(g.auto_score, g.max_score, g.needs_manual_grade) for gid, g in grades.items()}
        suspicious = _suspicious_code(graded_nb)
        if suspicious and result.status == GRADED:
            result.status = FLAGGED
            result.message = f"uses {', '.join(suspicious)}, which can tamper with grading; review it"
        feedback = ws.api.generate_feedback(assignment, student, force=True)
        if not feedback["success"]:
            result.message += " (feedback could not be generated)"
    result.seconds = time.perf_counter() - start
    return result


def _stopped_cells(path: Path) -> tuple[str, str] | None:
    """A status when a cell hit a time limit or the kernel died, from the autograded notebook."""
    import nbformat
    from .sandbox import KERNEL_DIED, TIME_LIMIT
    nb = nbformat.read(str(path), as_version=4)
    names = {}
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                names.setdefault(output.get("ename"), cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {i}"))
    if KERNEL_DIED in names:
        return CRASHED, f"the kernel died in {names[KERNEL_DIED]}; later cells did not run"
    if TIME_LIMIT in names:
        return TIMED_OUT, f"the notebook ran past its time limit in {names[TIME_LIMIT]}"
    if "CellTimeoutError" in names:
        return TIMED_OUT, f"{names['CellTimeoutError']} stopped at the per-cell time limit"
    return None


# Code that has no business in a course answer but is how grading gets tampered with.
SUSPICIOUS = ("_getframe", "f_locals", "f_back", "tb_frame", "gc.get_objects", "gc.get_referrers", "ctypes",
              "__code__", "showtraceback", "excepthook", "run_cell", "set_custom_exc", "assert_close =",
              "coursekit.checks.", "autograder")


def _suspicious_code(path: Path) -> list[str]:
    import nbformat
    nb = nbformat.read(str(path), as_version=4)
    found = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")) or meta.get("locked"):
            continue  # test cells and locked cells are the instructor's, restored at grading
        found += [token for token in SUSPICIOUS if token in cell.source and token not in found]
    return found


def _confirm_in_clean_process(ws, assignment: str, student: str, scratch: Path, result: Result) -> None:
    """Keep a test cell's points only if a clean re-run (autograder.recheck) passes it too."""
    import secrets
    import subprocess
    from .config import cell_timeout
    from .sandbox import notebook_timeout, sandbox_command, scrubbed_env
    workdir = scratch / "recheck"
    workdir.mkdir(exist_ok=True)
    notebook = workdir / f"{assignment}.ipynb"
    shutil.copyfile(ws.autograded_path(assignment, student), notebook)
    token = secrets.token_hex(16)
    cmd = sandbox_command([sys.executable, "-m", "autograder.recheck", str(notebook), str(workdir / "result.json")],
                          workdir)
    env = scrubbed_env(None) | {"COURSE_CELL_TIMEOUT": str(cell_timeout()), "MPLBACKEND": "Agg"}
    confirmed: dict = {}
    why = "the clean re-run stopped before this test (a crash or os._exit)"
    try:
        subprocess.run(cmd, input=token + "\n", text=True, env=env, cwd=workdir, timeout=notebook_timeout(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        why = "the clean re-run ran past the notebook time limit before this test"
    try:  # results are written after every test cell, so a run cut short still reports what it reached
        payload = json.loads((workdir / "result.json").read_text())
        if payload.get("token") == token:
            confirmed = payload["results"]
        else:
            why = "the clean re-run's result did not carry the grader's token (forged?)"
    except (OSError, ValueError):
        pass
    revoked = []
    with ws.gradebook() as gb:
        notebook_grades = gb.find_submission_notebook(assignment, assignment, student)
        for grade in notebook_grades.grades:
            if grade.needs_manual_grade or not grade.auto_score:
                continue
            check = confirmed.get(grade.name)
            if not check or not check.get("passed"):
                grade.auto_score = 0.0
                revoked.append(f"{grade.name} ({check['message'] if check else why or 'not reached'})")
        gb.db.commit()
    if revoked:
        result.status = FLAGGED
        result.message = ("passed in the notebook's kernel but failed a clean re-run, so scored 0: "
                          + "; ".join(revoked))[:600]


def _last_error_line(log: str) -> str:
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    interesting = [l for l in lines if "Error" in l or "died" in l.lower()]
    return (interesting or lines or ["nbgrader failed"])[-1][:300]


# ----------------------------------------------------------------------------------------
# The batch: intake, cache, pool, merge, outputs.
# ----------------------------------------------------------------------------------------

class Grader:
    def __init__(self, out: Path | str = REPO_ROOT / "grading", workers: int | None = None,
                 pattern: str = DEFAULT_PATTERN, progress: bool = True, recheck: bool = True):
        self.out = Path(out).resolve()
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pattern = pattern
        self.progress = progress
        self.recheck = recheck
        self.assignments = all_assignments()

    # -- set-up ------------------------------------------------------------------------
    def _template(self) -> Path:
        """A prepared gradebook (every assignment's cells) that each scratch folder copies."""
        from .workspace import Workspace
        masters = b"".join(exercises.master_path(a).read_bytes() for a in self.assignments)
        stamp = _sha(masters, GRADER_VERSION.encode())[:16]
        templates = self.out / "templates"
        template = templates / stamp
        if not (template / "gradebook.db").exists():
            shutil.rmtree(templates, ignore_errors=True)  # older masters' templates
            Workspace(template).prepare(self.assignments)
        return template

    def main_workspace(self):
        from .workspace import Workspace
        ws = Workspace(self.out)
        with ws.gradebook() as gb:
            known = {a.name for a in gb.assignments}
        missing = [a for a in self.assignments if a not in known]
        if missing:
            ws.prepare(missing)
        return ws

    # -- the run -------------------------------------------------------------------------
    def run(self, submissions: Path | str, force: bool = False) -> list[Result]:
        self.out.mkdir(parents=True, exist_ok=True)
        intake = collect(submissions, self.assignments, self.out / "work", self.pattern)
        template = self._template()
        main = self.main_workspace()
        results: list[Result] = []
        tasks = []
        for (student, assignment), sub in sorted(intake.submissions.items()):
            key = submission_key(sub.path, assignment)
            cached = self._cached(student, assignment)
            if cached and cached.key == key and not force:
                results.append(cached)
                continue
            tasks.append({"student": student, "assignment": assignment, "path": str(sub.path), "key": key,
                          "origin": sub.origin, "template": str(template),
                          "scratch": str(self.out / "work" / "scratch" / f"{student}__{assignment}"),
                          "recheck": self.recheck, "threads": max(1, (os.cpu_count() or 1) // self.workers)})
        fresh = self._grade(tasks)
        results += fresh
        results += self._missing(intake, results)
        results.sort(key=lambda r: (r.student, r.assignment))
        self._merge(main, results)
        self._write_outputs(main, intake, results, graded_now=len(fresh))
        shutil.rmtree(self.out / "work" / "scratch", ignore_errors=True)
        return results

    def _grade(self, tasks: list[dict]) -> list[Result]:
        if not tasks:
            return []
        bar = _progress(len(tasks), self.progress)
        done: list[Result] = []
        if self.workers == 1:
            for task in tasks:
                done.append(self._collect(task, grade_one(task)))
                bar.update(1)
        else:
            with ProcessPoolExecutor(self.workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(grade_one, task): task for task in tasks}
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        result = future.result()
                    except Exception as error:  # the worker itself died: report, never drop
                        result = Result(task["student"], task["assignment"], CRASHED, key="",  # "": regrade next run
                                        origin=task["origin"], message=f"grader worker failed: {error}")
                    done.append(self._collect(task, result))
                    bar.update(1)
        bar.close()
        return done

    def _collect(self, task: dict, result: Result) -> Result:
        """Keep the result, autograded notebook and feedback of a finished submission.

        Stored as each one finishes, so an interrupted run resumes where it stopped."""
        self._store(result)
        scratch = Path(task["scratch"])
        for kind in ("autograded", "feedback"):
            source = scratch / kind / result.student / result.assignment
            target = self.out / kind / result.student / result.assignment
            shutil.rmtree(target, ignore_errors=True)
            if source.exists():
                shutil.copytree(source, target)
        shutil.rmtree(scratch, ignore_errors=True)
        return result

    def _cached(self, student: str, assignment: str) -> Result | None:
        path = self.out / "results" / student / f"{assignment}.json"
        try:
            return Result.from_json(path.read_text())
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def _store(self, result: Result) -> None:
        path = self.out / "results" / result.student / f"{result.assignment}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(result), indent=1, sort_keys=True))

    def _missing(self, intake: Intake, results: list[Result]) -> list[Result]:
        have = {(r.student, r.assignment) for r in results}
        expected = sorted({r.assignment for r in results})  # the assignments this batch is about
        template = self._template()
        return [Result(s, a, MISSING, cells=_max_scores(template, a),
                       message="no submission found")
                for s in sorted(intake.students) for a in expected if (s, a) not in have]

    # -- merging into the one gradebook ---------------------------------------------------------
    def _merge(self, main, results: list[Result]) -> None:
        with main.gradebook() as gb:
            for r in results:
                gb.update_or_create_student(r.student)
                gb.update_or_create_submission(r.assignment, r.student)
                notebook = gb.find_submission_notebook(r.assignment, r.assignment, r.student)
                for grade in notebook.grades:
                    cell = r.cells.get(grade.name)
                    if cell is None:
                        continue
                    grade.auto_score = cell.auto
                    if grade.manual_score is None:
                        grade.needs_manual_grade = cell.needs_manual
                gb.db.commit()

    # -- outputs ------------------------------------------------------------------------------
    def _write_outputs(self, main, intake: Intake, results: list[Result], graded_now: int) -> None:
        from .reports import write_class_report, write_grades_csv, write_intake
        write_grades_csv(self.out / "grades.csv", main, results)
        write_class_report(self.out, main, results)
        write_intake(self.out / "intake.txt", intake, results, graded_now)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="grading", unit="submission", disable=not enabled, file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade a folder of submissions with nbgrader, in parallel.")
    parser.add_argument("submissions", help="folder: <student_id>/<notebook>.ipynb, or an LMS's flat download")
    parser.add_argument("--out", default=str(REPO_ROOT / "grading"), help="output folder (default: grading/)")
    parser.add_argument("--workers", type=int, default=None, help="parallel graders (default: one per core)")
    parser.add_argument("--force", action="store_true", help="regrade submissions that did not change")
    parser.add_argument("--trust-kernel", action="store_true",
                        help="skip the clean re-run that confirms each passed test (faster; see docs/SECURITY.md)")
    parser.add_argument("--pattern", default=DEFAULT_PATTERN,
                        help="regular expression with a 'student' group, matched on flat file names")
    args = parser.parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    try:
        from .sandbox import describe
        print(f"protection: {describe()}", file=sys.stderr)
        results = Grader(args.out, args.workers, args.pattern, recheck=not args.trust_kernel).run(
            args.submissions, force=args.force)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    print("graded " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f"; see {args.out}/grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
