"""Validate says "k of n checks passed": nbgrader's button and `nbgrader validate` (a comment atop the first
failed cell), and the course's own button (lab/labextensions/pytorch-course-validate), which follows the run
through course/validate with progress."""
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import labserver
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils

from autograder.settings import REPO_ROOT
from autograder.authoring import masters
from autograder.lab import validation
from autograder.grading.preprocessors import NOT_WRITTEN_USED
from autograder.judging.polling import PolledReplies
from autograder.lab.validation import ProgressExecute, Run, Tally, outcome, summary, tally


def _graded(cell, grade_id, points, solution=False):
    cell.metadata["nbgrader"] = {"grade": True, "solution": solution, "grade_id": grade_id, "points": points,
                                 "locked": not solution, "schema_version": 3}
    return cell


def test_tally_counts_checks_and_blank_written_answers():
    failed = _graded(new_code_cell("check()", outputs=[new_output("error", ename="CheckFailed", evalue="no",
                                                                  traceback=["CheckFailed: no"])]), "test_a", 2)
    passed = _graded(new_code_cell("check()", outputs=[new_output("stream", name="stdout", text="ok\n")]), "test_b", 1)
    noisy = _graded(new_code_cell("check()", outputs=[new_output("stream", name="stderr", text="warn\n")]), "test_c", 1)
    blank = _graded(new_markdown_cell("YOUR ANSWER HERE"), "written_a", 1, solution=True)
    blank.metadata.nbgrader["checksum"] = utils.compute_checksum(blank)
    answered = _graded(new_markdown_cell("An answer."), "written_b", 1, solution=True)
    answered.metadata.nbgrader["checksum"] = "released-stub"
    plain = new_code_cell("x = 1")
    counts = tally(new_notebook(cells=[plain, failed, passed, noisy, blank, answered]))
    assert counts == Tally(passed=1, checks=3, blank_written=1)  # nbgrader fails a test cell that writes to stderr
    assert summary(counts, 95.4) == "1 of 3 checks passed in 95 s; 1 written answer is still empty."
    assert summary(Tally(11, 11, 0), 3) == "11 of 11 checks passed in 3 s."


def test_a_run_follows_the_progress_lines_then_takes_the_answer():
    run = Run("a/a.ipynb", Path("/nowhere/a/a.ipynb"))
    state = run.state()
    assert (state["done"], state["executed"], state["cells"], state["path"]) == (False, 0, None, "a/a.ipynb")
    assert "answer" not in state and "summary" not in state
    for line in (b'{"executed": 0, "cells": 3}\n', b"a stray line from the kernel\n", b'{"executed": 2, "cells": 3}\n'):
        run.feed(line)
    state = run.state()
    assert (state["done"], state["executed"], state["cells"]) == (False, 2, 3)
    run.feed(b'{"executed": 3, "cells": 3}\n')
    run.feed(json.dumps(outcome({"success": True, "value": {}}, Tally(2, 2, 0), 14.24)) + "\n")
    run.finish(0)
    state = run.state()
    assert state["done"] and (state["executed"], state["cells"]) == (3, 3)
    assert state["summary"] == "2 of 2 checks passed in 14 s."
    assert state["tally"] == {"passed": 2, "checks": 2, "blank_written": 0, "seconds": 14.2}
    assert state["answer"] == {"success": True, "value": {}}
    assert state["seconds"] == run.state()["seconds"], "a finished run's clock stops"


def test_a_run_whose_process_failed_says_so():
    run = Run("a/a.ipynb", Path("/nowhere/a/a.ipynb"))
    run.feed(b'{"executed": 0, "cells": 3}\n')
    run.finish(1)
    state = run.state()
    assert state["done"] and state["summary"] is None and state["tally"] is None
    assert state["answer"]["success"] is False and "exit status 1" in state["answer"]["value"]


def test_finished_runs_are_forgotten_after_a_while_and_beyond_the_newest_few(monkeypatch):
    monkeypatch.setattr(validation, "RUNS", {})
    finished = []
    for i in range(validation.KEEP_AT_MOST + 3):
        run = Run(f"{i}.ipynb", Path(f"/nowhere/{i}.ipynb"))
        run.finish(0)
        validation.RUNS[run.id] = run
        finished.append(run)
    finished[-1].expires = time.monotonic() - 1  # fetched a while ago
    running = Run("running.ipynb", Path("/nowhere/running.ipynb"))
    validation.RUNS[running.id] = running
    validation._forget_old_runs()
    assert set(validation.RUNS.values()) == {running, *finished[3:-1]}


def test_outcome_without_a_tally_keeps_nbgraders_answer():
    """A changed cell type or an error before the checks ran: nbgrader's answer alone."""
    answer = {"success": True, "value": {"type_changed": [{"source": "x", "old_type": "code", "new_type": "markdown"}]}}
    assert outcome(answer, None, 0) == {"answer": answer, "tally": None, "summary": None}
    partial = outcome({"success": True, "value": {"failed": []}}, Tally(8, 11, 1), 95.4)
    assert partial["summary"] == "8 of 11 checks passed in 95 s; 1 written answer is still empty."


def test_validation_executes_without_the_reply_stall():
    """Validate runs the course's widget cells too: its executor waits in short slices like every other one."""
    assert issubclass(ProgressExecute, PolledReplies)


def test_each_failed_cell_comes_with_the_one_line_message_for_the_learner():
    stub = "\n".join(["\x1b[0;31m----------\x1b[0m", "\x1b[0;31mNotImplementedError\x1b[0m  Traceback (most recent call last)",
                      "Cell In[6], line 2", "----> 2 f = to_fahrenheit(c)", "\x1b[0;31mNotImplementedError\x1b[0m: "])
    check = "\x1b[0;31mCheckFailed\x1b[0m: to_fahrenheit([0, 100, -40]): expected 212.0, got 100.0"
    failed = [{"source": "a", "raw_error": stub}, {"source": "b", "raw_error": check},
              {"source": "c", "raw_error": "You did not provide a response."}]
    got = outcome({"success": True, "value": {"failed": failed}}, Tally(0, 2, 1), 3)["answer"]["value"]["failed"]
    assert got[0]["message"] == f"NotImplementedError: {NOT_WRITTEN_USED}"
    assert got[1]["message"] == "CheckFailed: to_fahrenheit([0, 100, -40]): expected 212.0, got 100.0"
    assert got[2]["message"] == "You did not provide a response."
    assert got[0]["raw_error"] == stub  # the whole error stays, folded in the dialog


@pytest.mark.slow
def test_the_validation_process_writes_progress_lines_then_the_outcome(tmp_path):
    """``python -m autograder.lab.validation --progress ROOT PATH``: what the course's server handler reads."""
    ok = _graded(new_code_cell("assert x == 1"), "test_ok", 1)
    wrong = _graded(new_code_cell("assert x == 2, 'x is not 2'"), "test_wrong", 1)
    nb = new_notebook(cells=[new_markdown_cell("# A"), new_code_cell("x = 1"), new_code_cell("  "), ok, wrong])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "a").mkdir()
    nbformat.write(nb, str(tmp_path / "a" / "a.ipynb"))
    done = subprocess.run([sys.executable, "-m", "autograder.lab.validation", "--progress", str(tmp_path), "a/a.ipynb"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[:-1] == [{"executed": k, "cells": 3} for k in range(4)], lines  # the blank cell is not run
    final = lines[-1]
    assert final["summary"].startswith("1 of 2 checks passed in ") and final["tally"]["checks"] == 2, final
    failed = final["answer"]["value"]["failed"]
    assert [cell["source"] for cell in failed] == ["assert x == 2, 'x is not 2'"], "no summary comment in the source"
    assert "x is not 2" in failed[0]["raw_error"]


@pytest.mark.slow
def test_the_lab_validate_button_says_how_many_checks_passed_and_the_server_keeps_answering(tmp_path):
    """What JupyterLab's Validate button does, over HTTP, against a real server started as `make lab`
    starts it: from the repository (nbgrader_config.py is read), without Formgrader (so nothing reads
    that file before the first click), with the course's server extension."""
    A = "00_getting_started"
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.assignment_list": False,
        "nbgrader.server_extensions.course_list": False, "autograder.lab.validation": True}}}))
    (tmp_path / "course" / A).mkdir(parents=True)
    partial = masters.student_copy(A, {"digit_counts": "def digit_counts(labels):\n    return torch.zeros(10)"})
    nbformat.write(partial, str(tmp_path / "course" / A / f"{A}.ipynb"))
    port, token = labserver.free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), HOME=str(tmp_path),
               JUPYTER_CONFIG_PATH=str(config))
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path / 'course'}"] + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=REPO_ROOT, env=env, stdout=open(tmp_path / "server.log", "w"), stderr=subprocess.STDOUT,
        start_new_session=True)

    def call(path, body=None, timeout=600):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers={
            "Authorization": f"token {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                call("/api/status", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.5)
        answer = {}
        button = threading.Thread(target=lambda: answer.update(json.loads(call(
            "/assignments/validate", json.dumps({"path": f"{A}/{A}.ipynb"}).encode()))))
        button.start()
        waits = []
        while button.is_alive():  # meanwhile the server answers (stock nbgrader blocks it for the whole run)
            start = time.perf_counter()
            call("/api/status", timeout=600)
            waits.append(time.perf_counter() - start)
            time.sleep(1)
        button.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    log = (tmp_path / "server.log").read_text()
    assert "autograder.lab.validation: Validate counts checks" in log and "formgrader" not in log.lower(), log[-3000:]
    assert answer.get("success"), answer
    assert len(waits) >= 3 and max(waits) < 5, f"the server stalled during Validate: {waits}"
    failed = answer["value"]["failed"]
    assert len(failed) == 1 and "digit_counts" in failed[0]["source"]
    first_line = failed[0]["source"].splitlines()[0]
    assert first_line.startswith("# 1 of 2 checks passed in ") and "this cell failed" in first_line, first_line
    error = failed[0]["error"]  # the check's own line, without a traceback through the checks' code
    assert error.count("\n") == 0 and "CheckFailed" in error and "expected dtype torch.int64" in error, error


def _call(server, path, body=None, timeout=30):
    request = urllib.request.Request(server.url + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {server.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _status(server, path, body=None) -> int:
    try:
        _call(server, path, body)
    except urllib.error.HTTPError as error:
        return error.code
    return 200


@pytest.mark.slow
def test_the_course_validate_button_follows_progress_to_k_of_n(tmp_path):
    """What the course's Validate button does, over HTTP, against the student lab as `make lab` starts it
    (tests/labserver.py): POST course/validate, then poll course/validate/<id> until done."""
    A = "00_getting_started"
    checkout = labserver.fresh_checkout(tmp_path / "checkout")
    server = labserver.start("student", checkout, tmp_path / "home")
    try:
        assert _status(server, "/course/validate", {"path": "../../etc/passwd"}) == 403
        assert _status(server, "/course/validate", {"path": "no/such.ipynb"}) == 404
        assert _status(server, "/course/validate", {}) == 400
        assert _status(server, "/course/validate/0123abcd") == 404
        anonymous = urllib.request.Request(server.url + "/course/validate", data=b'{"path": "x"}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous, timeout=10)
        assert refused.value.code == 403

        folder = checkout / "work" / A  # `make lab` made work/ from course/
        nbformat.write(masters.student_copy(A, root=checkout), str(folder / "solved.ipynb"))
        wrong = {"digit_counts": "def digit_counts(labels):\n    return torch.zeros(10)"}
        nbformat.write(masters.student_copy(A, wrong, root=checkout), str(folder / "partial.ipynb"))

        solved = _call(server, "/course/validate", {"path": f"{A}/solved.ipynb"})
        assert _call(server, "/course/validate", {"path": f"{A}/solved.ipynb"})["id"] == solved["id"], "a second click joins"
        partial = _call(server, "/course/validate", {"path": f"{A}/partial.ipynb"})
        assert partial["id"] != solved["id"] and not solved["done"]
        seen = {solved["id"]: [], partial["id"]: []}
        states = {}
        deadline = time.monotonic() + 600
        while len(states) < 2:
            assert time.monotonic() < deadline, seen
            for run_id, progress in seen.items():
                if run_id not in states:
                    state = _call(server, f"/course/validate/{run_id}")
                    progress.append((state["executed"], state["cells"]))
                    if state["done"]:
                        states[run_id] = state
            time.sleep(0.3)
    finally:
        server.stop()

    for run_id, progress in seen.items():
        counts = [executed for executed, cells in progress if cells]
        total = progress[-1][1]
        assert total and counts == sorted(counts) and counts[-1] == total, progress  # rising, ending at the total
        assert len(set(counts)) > 1, progress
    good, bad = states[solved["id"]], states[partial["id"]]
    assert good["answer"] == {"success": True, "value": {}}, good
    assert good["summary"].startswith("2 of 2 checks passed in ") and good["tally"]["passed"] == 2, good
    assert bad["summary"].startswith("1 of 2 checks passed in ") and bad["tally"]["checks"] == 2, bad
    failed = bad["answer"]["value"]["failed"]
    assert len(failed) == 1 and "digit_counts" in failed[0]["source"] and not failed[0]["source"].startswith("#")
    assert "expected dtype torch.int64" in failed[0]["raw_error"], failed[0]
