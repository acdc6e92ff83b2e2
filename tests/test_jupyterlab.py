"""`make lab`'s server: JupyterLab starts headless on 127.0.0.1, serves the course, stops."""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder import REPO_ROOT

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.mark.slow
def test_lab_serves_the_course_notebook(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), HOME=str(tmp_path))
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.root_dir=course"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = _get(f"{base}/api/status", token)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode(errors="replace") if server.poll() is not None else ""
                    pytest.fail(f"JupyterLab did not start on {base}: {output[-2000:]}")
                time.sleep(0.5)
        status, body = _get(f"{base}/api/contents/00_getting_started/00_getting_started.ipynb", token)
        model = json.loads(body)
        assert status == 200 and model["type"] == "notebook"
        assert model["content"]["cells"][0]["source"].startswith("# 00")
        status, body = _get(f"{base}/lab/tree/00_getting_started/00_getting_started.ipynb", token)
        assert status == 200 and b"JupyterLab" in body
        # the nbgrader server extension is loaded (its assignment list answers)
        status, _ = _get(f"{base}/api/config/nbgrader", token)
        _, extensions = _get(f"{base}/lab/api/extensions", token)
        assert any(e["name"].startswith("@jupyter/nbgrader") or "nbgrader" in e["name"]
                   for e in json.loads(extensions)), "the nbgrader lab extension is not installed"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    with pytest.raises(OSError):  # stopped: nothing answers on the port any more
        _get(f"{base}/api/status", token)
