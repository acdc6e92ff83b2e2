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


# The tests that take minutes (measured: the slowest durations of `make test`), started first: the two
# workers of `pytest -n 2` then end together instead of one finishing a long test alone while the other
# waits. Only the order changes; a test missing here simply runs in its usual place.
LONGEST_FIRST = [
    "tests/grading/test_attacks.py::test_batch_of_attacks",
    "tests/test_bench.py",
    "tests/grading/test_outputs.py",
    "tests/authoring/test_notebooks.py::test_master_full_marks_release_zero[06_mnist_cnn]",
    "tests/grading/test_slips.py::test_ctrl_c",
    "tests/grading/test_cluster.py",
    "tests/grading/test_grading.py::test_batch_graded",
    "tests/hub/test_hub.py",
    "tests/grading/test_slips.py::test_cluster",
]


def pytest_collection_modifyitems(items):
    def rank(item):
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))
    items.sort(key=rank)  # stable: everything else keeps its order
