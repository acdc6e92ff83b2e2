"""Grade a class on a Dask cluster: ``make autograde SUBMISSIONS=<dir> SCHEDULER=tcp://host:8786``.

The batch (intake, gradebook merge, outputs) stays on the instructor's machine; each submission goes
to the cluster through Dask's own executor interface (``Client.submit``, ``as_completed``) as a task
of plain data (student, assignment, the notebook's bytes) and comes back as a result with its files
as bytes, stored as soon as it arrives. Workers share no file system with the instructor: each one
runs from a checkout of the same course version (``make grade-worker SCHEDULER=...``) and prepares
its own gradebook template once per process.

Before grading, a worker compares what the task expects with what it has (the grader's and
coursekit's code, the assignment's master, the grading limits, the sandbox) and refuses on any
difference, so a class is never graded by a mix of versions; the refusal names the difference and
the submission's status is ``grader error`` (graded again at the next run).

Faults: a worker that dies mid-submission has its task retried on another by the scheduler (results
are keyed by student and assignment and stored once); a submission whose grading kills workers
again and again ends as ``crashed`` after the scheduler's ``allowed-failures`` (default 3); a lost
worker is said in one line; with no worker connected the run waits ``COURSE_WORKER_WAIT`` seconds
(60), then ends with :class:`NoWorkers`; a lost scheduler ends the run with :class:`SchedulerLost`,
everything graded so far kept for the re-run. Ctrl-C cancels the tasks left and records nothing more.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.settings import REPO_ROOT, worker_wait
from autograder.authoring import masters
from autograder.grading.reports import count
from autograder.grading.results import CRASHED, GRADER_ERROR, Result, _sha

CONNECT_TIMEOUT = 30  # seconds to reach the scheduler, and to reconnect after losing it


class ClusterError(RuntimeError):
    """The cluster cannot grade: the run stops, everything graded so far kept for the next run."""


class SchedulerLost(ClusterError):
    """The Dask scheduler could not be reached, or went away during the run."""


class NoWorkers(ClusterError):
    """No grader worker was connected for ``worker_wait()`` seconds."""


# ---------------------------------------------------------------- what a task expects of its worker

def fingerprint(version: str, assignment: str) -> dict:
    """What makes a grade: the code's digest, the assignment's master, the limits, the protection."""
    from autograder.settings import cell_timeout
    from autograder.judging.sandbox import bwrap
    from autograder.settings import memory_gb, notebook_timeout
    return {"code": version, "master": _sha(masters.master_path(assignment).read_bytes()),
            "limits": [cell_timeout(), notebook_timeout(), memory_gb()],
            "protection": {"bubblewrap": bool(bwrap()), "prlimit": bool(shutil.which("prlimit"))}}


def difference(expected: dict, here: dict, assignment: str) -> str | None:
    """Why a worker with ``here`` must not grade a task that expects ``expected``; None when it may."""
    if expected["code"] != here["code"]:
        return (f"its grader/coursekit code (autograder/, coursekit/: version {here['code'][:12]}) differs "
                f"from the instructor's ({expected['code'][:12]})")
    if expected["master"] != here["master"]:
        return f"its master of {assignment} (solutions/{assignment}/{assignment}.ipynb) differs from the instructor's"
    if expected["limits"] != here["limits"]:
        return (f"its grading limits (COURSE_CELL_TIMEOUT, COURSE_NOTEBOOK_TIMEOUT, COURSE_GRADE_MEMORY_GB: "
                f"{here['limits']}) differ from the instructor's ({expected['limits']})")
    missing = [name for name, present in expected["protection"].items() if present and not here["protection"].get(name)]
    if missing:
        return f"it lacks {' and '.join(missing)}, which the instructor's machine grades with (run `make sandbox` there)"
    return None


# ---------------------------------------------------------------- the worker's side

def grade_remote(task: dict) -> tuple[Result, dict[str, bytes]]:
    """Run on a Dask worker: check the versions, then grade as the local pool does (``grade_one``)."""
    from autograder.grading.results import code_version
    from autograder.grading.worker import grade_one
    why = difference(task["expect"], fingerprint(code_version(), task["assignment"]), task["assignment"])
    if why:
        return Result(task["student"], task["assignment"], GRADER_ERROR, origin=task.get("origin", ""),
                      message=f"grader worker {_worker_name()} refused this submission: {why}. Workers must run "
                              "a checkout of the same course version; update it and restart `make grade-worker`"), {}
    local = {k: v for k, v in task.items() if k != "expect"}
    local |= {"template": str(local_template()), "threads": os.environ.get("OMP_NUM_THREADS", "1")}
    return grade_one(local)


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return f"{get_worker().address} ({socket.gethostname()})"
    except (ImportError, ValueError):
        return socket.gethostname()


@functools.cache
def local_template() -> Path:
    """This worker's prepared gradebook, made from its own masters once per checkout and version.
    The processes of one machine share it; a lock makes one of them build it."""
    from autograder.authoring.release import assignments
    from autograder.grading.course_dir import prepared_template
    from autograder.grading.results import code_version
    root = Path(tempfile.gettempdir()) / f"course-grader-{os.getuid()}-{_sha(str(REPO_ROOT).encode())[:12]}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.getuid():
        raise OSError(f"{root} is not this user's own folder")
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        building = root / ".building"
        if building.exists():  # a process died while building it: start again
            shutil.rmtree(root / "templates", ignore_errors=True)
        building.touch()
        template = prepared_template(root, assignments(), code_version())
        building.unlink()
    return template


# ---------------------------------------------------------------- the instructor's side

def grade_on_cluster(grader, tasks: list[dict], stop) -> list[Result]:
    """Grade ``tasks`` (the batch's, with a ``path`` each) on the cluster at ``grader.scheduler``,
    storing each result with ``grader._collect`` as it arrives, until done or ``stop.requested``
    (Ctrl-C: the tasks left are cancelled and nothing more is recorded)."""
    from concurrent.futures import CancelledError

    from distributed import Client, KilledWorker, as_completed

    from autograder.grading.reports import progress_bar
    try:
        client = Client(grader.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise SchedulerLost(
            f"could not reach the Dask scheduler at {grader.scheduler} ({error}). Start one there with "
            "`dask scheduler` and workers with `make grade-worker SCHEDULER=...`, or leave SCHEDULER out to grade "
            "on this machine; nothing was graded.") from None
    expect = {a: fingerprint(grader.version, a) for a in sorted({t["assignment"] for t in tasks})}
    done: dict[tuple[str, str], Result] = {}
    pending, owner = list(reversed(tasks)), {}
    finished = as_completed(loop=client.loop)
    workers = Workers(client, grader, owner, lambda: len(done), len(tasks))
    bar = None

    def submit_more() -> None:  # a few tasks per grading slot in flight; the rest wait here
        window = 2 * max(1, workers.threads)
        while pending and len(owner) < window:
            task = pending.pop()
            wire = {k: task[k] for k in ("student", "assignment", "key", "origin")}
            wire |= {"notebook": Path(task["path"]).read_bytes(), "expect": expect[task["assignment"]]}
            future = client.submit(grade_remote, wire, key=f"grade-{task['assignment']}-{task['student']}-"
                                   f"{os.urandom(4).hex()}", pure=False)
            owner[future] = task
            finished.add(future)

    try:
        workers.look()
        bar = progress_bar(len(tasks), grader.progress)
        submit_more()  # queued on the scheduler even while no worker is there
        while owner and not stop.requested:
            ready = finished.next_batch(block=False)
            if not ready:
                workers.check()  # a lost worker is said; none for too long ends the run
                time.sleep(POLL)
                continue
            for future in ready:
                if stop.requested:
                    break  # what is left is cancelled below, never recorded: graded at the next run
                task = owner.pop(future)
                try:
                    result, files = future.result()
                except KilledWorker as error:
                    n = error.allowed_failures + 1
                    result, files = _failed(task, CRASHED, (
                        f"the grader worker grading this submission died {n} time{'s' if n > 1 else ''} (the last "
                        f"was {error.last_worker.address}), so it was not tried again in this run; the next run "
                        "tries again. See the workers' logs (memory? the OOM killer?)")), {}
                except CancelledError as error:
                    if getattr(error, "reason", "") == "scheduler-connection-lost" or client.status != "running":
                        raise SchedulerLost(_lost(grader, len(done), len(tasks))) from None
                    result, files = _failed(task, GRADER_ERROR, f"the cluster cancelled this task ({error})"), {}
                except Exception as error:  # e.g. a worker whose checkout cannot even load this module
                    result, files = _failed(task, GRADER_ERROR, (
                        f"a grader worker could not run the grader ({type(error).__name__}: {str(error)[:300]}); "
                        "is every worker a checkout of the same course version?")), {}
                if (result.student, result.assignment) != (task["student"], task["assignment"]):  # never trust a path
                    result, files = _failed(task, GRADER_ERROR, "a grader worker answered for another submission"), {}
                done[(result.student, result.assignment)] = grader._collect(task, result, files)
                bar.update(1)
                del future
            if pending and not stop.requested:
                submit_more()
    except SchedulerLost:
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)  # its reconnection's noise
        raise
    finally:
        if bar is not None:
            bar.close()
        with contextlib.suppress(Exception):  # a scheduler already gone: nothing to cancel
            if owner:
                client.cancel(list(owner), force=True)
        with contextlib.suppress(Exception):  # closing a client whose scheduler is gone: nothing left to do
            client.close(timeout=5)
    return list(done.values())


POLL = 0.2  # seconds between looks at the cluster while waiting for results


class Workers:
    """The cluster's grader workers as the run sees them, looked at about once a second: a worker that
    left is said in one line (the scheduler retries its submissions on the others); while none is
    connected the run says so and waits ``worker_wait()`` seconds for one, then ends with :class:`NoWorkers`."""

    def __init__(self, client, grader, owner: dict, graded, total: int):
        self.client, self.grader, self.owner, self.graded, self.total = client, grader, owner, graded, total
        self.known: dict[str, list[str]] = {}  # worker address -> the task keys it was grading
        self.threads = 0
        self.last = 0.0
        self.none_since: float | None = None

    def check(self) -> None:
        if time.monotonic() - self.last < 1.0:
            return
        self.look()
        if self.known:
            self.none_since = None
            return
        wait = worker_wait()
        if self.none_since is None:
            self.none_since = time.monotonic()
            self.grader.say(f"no grader worker is connected to the Dask scheduler at {self.grader.scheduler}; "
                            f"waiting up to {wait:g} s for one (start them with `make grade-worker "
                            f"SCHEDULER={self.grader.scheduler}`) ...")
        elif time.monotonic() - self.none_since > wait:
            graded = self.graded()
            raise NoWorkers(
                f"no grader worker connected to the Dask scheduler at {self.grader.scheduler} within {wait:g} s "
                "(COURSE_WORKER_WAIT). Start workers with `make grade-worker SCHEDULER="
                f"{self.grader.scheduler}` on the machines that grade (each a checkout of this course version), "
                "or leave SCHEDULER out to grade on this machine. "
                + (f"The {graded} submissions graded so far are kept in {self.grader.out}/results and the same "
                   "command resumes with the rest; " if graded else "Nothing was graded; ")
                + "grades.csv and the reports were not updated.")

    def look(self) -> None:
        self.last = time.monotonic()
        try:
            if self.client.status != "running":  # reconnecting: asking would wait for the scheduler
                raise OSError(f"the client is {self.client.status}")
            processing = self.client.processing()
            self.threads = sum(self.client.nthreads().values())
        except OSError as error:  # the scheduler went away
            raise SchedulerLost(_lost(self.grader, self.graded(), self.total, error)) from None
        names = {future.key: f"{t['student']}/{t['assignment']}" for future, t in self.owner.items()}
        for address in sorted(set(self.known) - set(processing)):
            held = [names[k] for k in self.known[address] if k in names]
            self.grader.say(f"grader worker {address} left the cluster "
                            f"({count(len(processing), 'worker')} still connected)"
                            + (f"; retrying {', '.join(held)} on another worker" if held else "") + ".")
        self.known = {address: list(keys) for address, keys in processing.items()}


def _failed(task: dict, status: str, message: str) -> Result:
    return Result(task["student"], task["assignment"], status, key="", origin=task["origin"], message=message)


def _lost(grader, graded: int, total: int, error: Exception | None = None) -> str:
    return (f"lost the Dask scheduler at {grader.scheduler} after {graded} of {total} submissions"
            f"{f' ({error})' if error else ''}: it stopped or the network between it and this machine failed. "
            f"The {graded} submissions graded so far are kept in {grader.out}/results; once the scheduler is back "
            "(and workers have rejoined), run the same command again and it resumes with the rest, or leave "
            "SCHEDULER out to finish on this machine. grades.csv and the reports were not updated.")


# ---------------------------------------------------------------- a cluster on this machine (tests, bench)

class Loopback:
    """A Dask scheduler and workers on 127.0.0.1, started from this environment's ``dask`` command,
    each process stopped by its pid on exit. Workers get one thread per process, as ``make grade-worker``."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None, scheduler_env: dict[str, str] | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **(env or {}))
        self.scheduler_env = scheduler_env or {}
        self.processes: list[subprocess.Popen] = []
        self.address = ""

    def _start(self, args: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        process = subprocess.Popen([str(Path(sys.executable).parent / "dask"), *args], cwd=REPO_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def start(self, workers: int = 0, nworkers: int = 1, timeout: float = 120) -> "Loopback":
        """The scheduler, then ``workers`` worker commands of ``nworkers`` processes each."""
        file = self.folder / "scheduler.json"
        scheduler = self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", str(file)], "scheduler", self.env | self.scheduler_env)
        deadline = time.monotonic() + timeout
        while not self.address:
            try:
                self.address = json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Dask scheduler did not start: {self.log('scheduler')}") from None
                time.sleep(0.2)
        for _ in range(workers):
            self.add_worker(nworkers)
        if workers:
            self.wait_for_workers(workers * nworkers, deadline - time.monotonic())
        return self

    def add_worker(self, nworkers: int = 1) -> subprocess.Popen:
        """One ``dask worker`` command: a single process without a nanny (its pid is the worker's),
        or ``nworkers`` processes under a nanny."""
        layout = ["--no-nanny"] if nworkers == 1 else ["--nworkers", str(nworkers)]
        return self._start(["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                            *layout], f"worker-{len(self.processes)}", self.env)

    def wait_for_workers(self, n: int, timeout: float = 120) -> None:
        from distributed import Client
        with Client(self.address, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=max(1.0, timeout))

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):  # workers first, then the scheduler
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: the command and its children
                except ProcessLookupError:
                    pass
                process.wait()

    def __enter__(self) -> "Loopback":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
