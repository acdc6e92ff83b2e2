"""Grading under attack: every bad submission ends in a grade or a clear status, none scores
what it did not earn, and the rest of the batch is unharmed. Needs the bubblewrap sandbox."""
import csv
import socket
import threading

import pytest

from autograder import REPO_ROOT, sandbox
from autograder.grade import Grader
from tests.attacks.catalogue import A, CASES

pytestmark = pytest.mark.slow


@pytest.fixture
def loopback_server():
    """A server an attacker's cell would fetch the answer from; it counts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn)
            conn.sendall(b"def to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


@pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap is not installed: `make setup` installs it as root")
def test_catalogue_of_bad_submissions(tmp_path, monkeypatch, loopback_server):
    port, connections = loopback_server
    out = tmp_path / "grading"
    host_tmp_target = tmp_path / "pwned-host.txt"
    ctx = {"port": port, "targets": [str(out / "pwned.txt"), str(REPO_ROOT / "pwned.txt"), str(host_tmp_target),
                                     str(REPO_ROOT / "solutions" / "pwned.txt")]}
    submissions = tmp_path / "submissions"
    for student, (build, *_expected) in CASES.items():
        (submissions / student).mkdir(parents=True)
        build(submissions / student / f"{A}.ipynb", ctx)

    monkeypatch.setenv("COURSE_CELL_TIMEOUT", "10")
    monkeypatch.setenv("COURSE_NOTEBOOK_TIMEOUT", "30")
    Grader(out, workers=2, progress=False).run(submissions)

    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    got = {s: (float(r[f"{A}:test_fahrenheit"]), float(r[f"{A}:test_digit_counts"]), r[f"{A} status"])
           for s, r in rows.items()}
    expected = {s: (float(f), float(d), status) for s, (_, f, d, status) in CASES.items()}
    wrong = {s: {"got": got.get(s), "expected": expected[s]} for s in expected if got.get(s) != expected[s]}
    assert not wrong, f"misgraded: {wrong}"

    assert not connections, "a student's cell reached a server on the host's loopback"
    for target in ctx["targets"]:
        assert not (tmp_path / target).exists() and not __import__("pathlib").Path(target).exists(), \
            f"a student's cell wrote {target}"
    # no feedback page balloons with the megabytes a student printed
    sizes = {p.parent.parent.name: p.stat().st_size for p in out.glob("feedback/*/*/*.html")}
    assert sizes and max(sizes.values()) < 2_000_000, sizes
    intake = (out / "intake.txt").read_text()
    assert intake.count(f"/{A}:") == len(CASES), "every submission has a status line"
