import os
import socket
import threading

import pytest

# Tests never download: a test that needs MNIST uses the copy `make data` prepared.
os.environ.setdefault("COURSE_DEVICE", "auto")

# The suite runs notebooks two at a time (pytest -n 2) on 2 cores: one BLAS thread per kernel,
# or the OpenMP threads of parallel kernels stall each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture
def canary_socket(tmp_path):
    """A Unix socket under the test's own folder that records every connection made to it: the target of
    attacks that try to make the grader follow a link (judging/test_sandbox.py, grading/test_bounds.py)."""
    path = tmp_path / "canary.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                seen.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, seen
    stop.set()
    thread.join()
    server.close()
