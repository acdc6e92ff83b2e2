"""Grading on a Dask cluster: a real scheduler and workers on 127.0.0.1 (random ports, stopped by pid)."""
import json
import os
import shutil
import signal
import threading
import time

import pytest

from autograder.authoring import masters
from autograder.grading.cluster import Loopback, SchedulerLost, fingerprint, grade_remote
from autograder.grading.batch import Grader
from autograder.grading.results import CRASHED, GRADER_ERROR, code_version

from test_grading import EXPECTED, A, _batch, _grades, _rows, _write

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def worker_tmp(tmp_path_factory):
    """The workers' temporary folder, shared by this file's clusters so the workers' template is built once."""
    return tmp_path_factory.mktemp("worker-tmp")


@pytest.fixture
def cluster(tmp_path, worker_tmp):
    started = []

    def start(workers, **scheduler_env):
        env = {f"DASK_DISTRIBUTED__SCHEDULER__{k.upper()}": str(v) for k, v in scheduler_env.items()}
        c = Loopback(tmp_path / f"cluster-{len(started)}", env={"TMPDIR": str(worker_tmp)}, scheduler_env=env)
        started.append(c)
        return c.start(workers)

    try:
        yield start
    finally:
        for c in started:
            c.stop()
        assert all(p.poll() is not None for c in started for p in c.processes)


def _kill_in_background(c, choose, log):
    """In the background: once ``choose(client)`` names one of ``c``'s processes by pid, SIGKILL it."""
    from distributed import Client

    def run():
        with Client(c.address, set_as_default=False) as client:
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                pid = choose(client)
                if pid:
                    assert pid in {p.pid for p in c.processes}, "only a process this test started is killed"
                    os.kill(pid, signal.SIGKILL)
                    log.append(pid)
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _busy_worker(when=lambda: True):
    """The pid of a worker process that is grading, once ``when()`` holds."""
    def choose(client):
        busy = [addr for addr, keys in client.processing().items() if keys] if when() else []
        return busy and client.run(os.getpid, workers=busy[:1])[busy[0]]
    return choose


def test_cluster_grades_exactly_like_the_local_pool(tmp_path, cluster):
    submissions = tmp_path / "submissions"
    _batch(submissions)
    c = cluster(2)
    remote = Grader(tmp_path / "remote", workers=2, progress=False, scheduler=c.address)
    remote.run(submissions)
    # the grades test_grading.py requires of the local pool for this very batch (grading it a second time
    # here, locally, to compare would cost a minute and a half of CI)
    assert _grades(_rows(tmp_path / "remote" / "grades.csv")) == EXPECTED
    assert sorted(p.parts[-3] for p in (tmp_path / "remote").glob("feedback/*/*/*.html")) == \
        sorted(s for s, (*_, status) in EXPECTED.items() if status == "graded")
    # unchanged input: the cluster is not even asked
    c.stop()
    again = Grader(tmp_path / "remote", workers=2, progress=False, scheduler=c.address)
    again.run(submissions)
    assert again.graded_now == 0


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(tmp_path, cluster, capsys):
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    _batch(submissions)
    for student in ("syntax", "twice", "zipped_4711_submission.zip"):  # a shorter batch: 3 to grade, 1 absent
        path = submissions / student
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    c = cluster(2)
    killed = []
    killer = _kill_in_background(c, _busy_worker(lambda: any((out / "results").glob("*/*.json"))), killed)
    grader = Grader(out, workers=2, progress=True, scheduler=c.address)
    results = grader.run(submissions)
    killer.join(5)
    assert killed, "no worker was grading after the first result came back"
    lost = [line for line in capsys.readouterr().err.splitlines() if "left the cluster" in line]
    assert len(lost) == 1 and "(1 worker still connected)" in lost[0], lost  # said once, in one line
    assert sum(p.poll() is None for p in c.processes) == 2, "the scheduler and one worker remain"
    expected = {s: v for s, v in EXPECTED.items() if s in ("perfect", "blank", "partial", "absent")}
    assert [(r.student, r.status) for r in results] == sorted((s, v[3]) for s, v in expected.items())
    assert grader.graded_now == 3
    stored = sorted((out / "results").glob("*/*.json"))
    assert [p.parent.name for p in stored] == ["blank", "partial", "perfect"]  # one each
    assert all(json.loads(p.read_text())["student"] == p.parent.name for p in stored)
    rows = _rows(out / "grades.csv")
    assert sorted(rows) == sorted(expected)
    assert _grades(rows) == expected
    assert "3 run through the grader" in (out / "intake.txt").read_text()


def test_refusals_crashes_and_a_lost_scheduler_end_with_a_clear_word(tmp_path, cluster):
    c = cluster(1, allowed_failures=0)
    # a worker whose master differs refuses, naming it
    from distributed import Client
    task = {"student": "s", "assignment": A, "key": "k", "origin": "", "notebook": b"{}",
            "expect": fingerprint(code_version(), A) | {"master": "0" * 64}}
    with Client(c.address, set_as_default=False) as client:
        result, files = client.submit(grade_remote, task, pure=False).result()
    assert result.status == GRADER_ERROR and not files
    assert f"master of {A} (solutions/{A}/{A}.ipynb) differs" in result.message

    # an instructor whose code differs from the worker's: the submission ends as a grader error
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    _write(submissions / "perfect" / f"{A}.ipynb", masters.student_copy(A))
    grader = Grader(out, workers=1, progress=False, scheduler=c.address)
    grader.version = "f" * 64
    [result] = grader.run(submissions)
    assert result.status == GRADER_ERROR and "grader/coursekit code" in result.message
    assert "refused" in result.message and "same course version" in result.message
    assert "grader error" in _rows(out / "grades.csv")["perfect"][f"{A} status"]

    # a submission whose grading kills its worker (allowed-failures=0 here) ends as crashed, not retried forever
    killed = []
    killer = _kill_in_background(c, _busy_worker(), killed)
    [result] = Grader(out, workers=1, progress=False, scheduler=c.address).run(submissions)
    killer.join(5)
    assert killed and result.status == CRASHED
    assert "the grader worker grading this submission died 1 time" in result.message and result.key == ""

    # the scheduler going away (here with the task queued, no worker left) stops the run with a clear
    # message; results stored so far stay for the next run
    stored = (out / "results" / "perfect" / f"{A}.json").read_bytes()
    killed = []
    killer = _kill_in_background(c, lambda client: client.run_on_scheduler(
        lambda dask_scheduler: len(dask_scheduler.tasks)) and c.processes[0].pid, killed)
    with pytest.raises(SchedulerLost, match="lost the Dask scheduler") as lost:
        Grader(out, workers=1, progress=False, scheduler=c.address).run(submissions)
    killer.join(5)
    assert killed == [c.processes[0].pid]
    assert "graded so far are kept" in str(lost.value) and "run the same command again" in str(lost.value)
    assert (out / "results" / "perfect" / f"{A}.json").read_bytes() == stored
