"""Start the course's JupyterLab faces for tests, exactly as `make lab` / `make formgrader` do, but headless.

Each server runs from a fresh copy of the checkout (tracked and new files, no grading/, no work/), with
that copy first on PYTHONPATH, so `autograder` and nbgrader_config.py see the copy as the repository:
a fresh checkout, without touching the real one. HOME and the runtime folder are temporary too.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from autograder.settings import REPO_ROOT

START_TIMEOUT = 120
# The browser tests drive Debian's Chromium (`make browser` installs it); Playwright's own downloads are not used.
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or REPO_ROOT / "build" / "browser-shots")
# No network, no first-run screens, no background traffic; a fresh profile per run (user_data_dir).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fresh_checkout(dest: Path) -> Path:
    """Copy the repository's files as git sees them (no ignored ones: no .venv, data/, grading/, work/)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file() and not name.startswith(("tests/", "docs/")):
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def free_port() -> int:
    """A port free on 127.0.0.1 now (the one place tests pick ports: labs, hubs, a closed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    process: subprocess.Popen
    url: str
    token: str
    root: Path
    log: Path

    def get(self, path: str, timeout: float = 10):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(face: str, checkout: Path, home: Path) -> LabServer:
    """`python -m autograder.lab.faces FACE` in ``checkout``, on 127.0.0.1 and a free port; waits until it answers."""
    port, token = free_port(), secrets.token_hex(16)
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               PYTHONPATH=str(checkout), JUPYTER_CONFIG_DIR=str(home / ".jupyter"))
    env.setdefault("COURSE_DATA", str(REPO_ROOT / "data"))  # the copy has no data/: use the prepared MNIST
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("JPY_SESSION_NAME", None)
    log = home / f"{face}-server.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "autograder.lab.faces", face, "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"],
            cwd=checkout, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(process, f"http://127.0.0.1:{port}", token, checkout, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            server.get("/api/status")
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"JupyterLab ({face}) did not start on {server.url}:\n{server.output()}")
            time.sleep(0.3)
