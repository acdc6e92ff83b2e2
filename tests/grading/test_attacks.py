"""Grading under attack: every bad submission ends in a grade or a clear status, none scores what it
did not earn, nothing it leaves behind reaches the host, the hidden tests or the rest of the batch.

One batch holds the general catalogue (tests/attacks/catalogue.py), the attacks on the verdict
(verdict.py, issue 14), on the boundary (boundary.py, issue 15) and on the judge's data channel
(reports.py, issue 24), next to honest students.
Every target is a canary or decoy under the test's temporary folder. Needs the bubblewrap sandbox.
"""
import csv
import os
import socket
import threading
from pathlib import Path

import pytest

from autograder.judging import sandbox
from autograder.grading.batch import Grader
from tests.attacks import boundary, catalogue, reports, verdict
from tests.attacks.catalogue import A

pytestmark = pytest.mark.slow

CASES = {**catalogue.CASES, **verdict.CASES, **boundary.CASES, **reports.CASES}
DISK_BOUND = 100 * 2**20  # what grading/ may hold after this batch of ~50 submissions
CELL_LIMIT, NOTEBOOK_LIMIT = catalogue.CELL_LIMIT, catalogue.NOTEBOOK_LIMIT


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


def _canaries(folder: Path) -> dict[Path, tuple[bytes, int]]:
    """Decoys of what an attacker wants: a master with solutions, a gradebook, a system file."""
    folder.mkdir()
    made = {}
    for name, text in (("master-decoy.ipynb", '{"cells": [], "note": "SOLUTIONS DECOY"}'),
                       ("gradebook-decoy.db", "GRADEBOOK DECOY"), ("passwd-decoy", "root:x:0:0:decoy")):
        path = folder / name
        path.write_text(text)
        path.chmod(0o644)
        made[path] = (path.read_bytes(), path.stat().st_mode)
    return made


@pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap is not installed: `make sandbox` installs it as root")
def test_batch_of_attacks(tmp_path, monkeypatch, loopback_server, capfd):
    port, connections = loopback_server
    out = tmp_path / "grading"
    canaries = _canaries(tmp_path / "canaries")
    targets = [str(out / "pwned.txt"), str(tmp_path / "pwned-host.txt"), str(tmp_path / "canaries" / "pwned.txt")]
    ctx = {"port": port, "targets": targets, "canaries": [str(p) for p in canaries]}
    submissions = tmp_path / "submissions"
    for student, (build, *_expected) in CASES.items():
        (submissions / student).mkdir(parents=True)
        build(submissions / student / f"{A}.ipynb", ctx)

    # Limits well below the defaults, yet roomy enough for torch's import on a loaded 2-core CI machine.
    monkeypatch.setenv("COURSE_CELL_TIMEOUT", str(CELL_LIMIT))
    monkeypatch.setenv("COURSE_NOTEBOOK_TIMEOUT", str(NOTEBOOK_LIMIT))
    results = {r.student: r for r in Grader(out, workers=2, progress=False).run(submissions)}

    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    got = {s: (float(r[f"{A}:test_fahrenheit"]), float(r[f"{A}:test_digit_counts"]), r[f"{A} status"])
           for s, r in rows.items()}
    expected = {s: (float(f), float(d), status) for s, (_, f, d, status) in CASES.items()}
    wrong = {s: {"got": got.get(s), "expected": expected[s], "message": results[s].message if s in results else ""}
             for s in expected if got.get(s) != expected[s]}
    assert not wrong, f"misgraded: {wrong}"

    # nothing reached the host
    assert not connections, "a student's cell reached a server on the host's loopback"
    for target in targets:
        assert not Path(target).exists(), f"a student's cell wrote {target}"
    for path, (content, mode) in canaries.items():
        assert path.read_bytes() == content and path.stat().st_mode == mode, f"canary {path.name} changed"

    # the grading folder holds exactly the files the grader writes, none of them leaking hidden tests
    written = [p for kind in ("autograded", "feedback", "logs") for p in (out / kind).rglob("*")
               if not p.is_relative_to(out / "feedback" / "mathjax")]  # the course's MathJax, copied once
    assert all(not p.is_symlink() for p in written), "a symbolic link in the grading folder"
    files = [p for p in written if p.is_file()]
    assert {p.name for p in files} <= {f"{A}.ipynb", f"{A}.html", f"{A}.log"}, sorted({p.name for p in files})
    for path in files:
        text = path.read_text(errors="replace")
        leaked = [m for m in boundary.HIDDEN_MARKERS if m in text]
        assert not leaked, f"hidden-test code {leaked} in {path.relative_to(out)}"
        assert "DECOY" not in text, f"a canary's content reached {path.relative_to(out)}"
    pages = {p.parent.parent.name: p.stat().st_size for p in out.glob("feedback/*/*/*.html")}
    assert pages and max(pages.values()) < 2_000_000, sorted(pages.items(), key=lambda kv: -kv[1])[:3]
    used = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    assert used < DISK_BOUND, f"grading/ holds {used / 2**20:.0f} MiB"

    # stderr went to the student's log, cleaned, never to the instructor's terminal
    log = (out / "logs" / "stderr-escapes" / A / f"{A}.log").read_text()
    assert "graded 999" in log and "\x1b" not in log
    assert "graded 999" not in capfd.readouterr().err
    # an atexit handler cannot hold the batch: the kernel is killed, not asked to stop, so the handler
    # never runs (a graceful shutdown would run it and wait 5 s for it before signalling)
    assert results["atexit-sleep"].seconds < NOTEBOOK_LIMIT
    assert "ATEXIT HANDLER RAN" not in (out / "logs" / "atexit-sleep" / A / f"{A}.log").read_text()
    intake = (out / "intake.txt").read_text()
    assert "bad archive: zip-bomb/" in intake and "expand" in intake
    assert not (out / "work" / "unzipped").exists() or \
        sum(p.stat().st_size for p in (out / "work").rglob("*") if p.is_file()) < 2**20
    assert intake.count(f"/{A}:") == len(CASES), "every submission has a status line"
