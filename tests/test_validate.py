"""nbgrader's Validate (JupyterLab's button, `nbgrader validate`) says "k of n checks passed"."""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader import utils

from autograder import REPO_ROOT, exercises
from autograder.validation import CourseValidator, Tally, summary, tally


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        "nbgrader.server_extensions.course_list": False, "autograder.validation": True}}}))
    (tmp_path / "course" / A).mkdir(parents=True)
    partial = exercises.student_copy(A, {"digit_counts": "def digit_counts(labels):\n    return torch.zeros(10)"})
    nbformat.write(partial, str(tmp_path / "course" / A / f"{A}.ipynb"))
    port, token = _free_port(), secrets.token_hex(16)
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
    assert "autograder.validation: Validate counts checks" in log and "formgrader" not in log.lower(), log[-3000:]
    assert answer.get("success"), answer
    assert len(waits) >= 3 and max(waits) < 5, f"the server stalled during Validate: {waits}"
    failed = answer["value"]["failed"]
    assert len(failed) == 1 and "digit_counts" in failed[0]["source"]
    first_line = failed[0]["source"].splitlines()[0]
    assert first_line.startswith("# 1 of 2 checks passed in ") and "this cell failed" in first_line, first_line
    error = failed[0]["error"]  # the check's own line, without a traceback through the checks' code
    assert error.count("\n") == 0 and "CheckFailed" in error and "expected dtype torch.int64" in error, error
