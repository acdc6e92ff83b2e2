"""Every master notebook follows the course guide's anatomy (docs/AUTHORING.md)."""
import re

import nbformat
import pytest

from autograder.authoring import masters
from autograder.authoring.builders import CONTEXT_TAG
from autograder.authoring.release import assignments

# Minimum autograded exercises: the guide's rule, relaxed for the short getting-started notebook
# and the MNIST notebook, whose exercises are larger.
MIN_EXERCISES = {"00_getting_started": 2, "06_mnist_cnn": 6}
POINTS = {"00_getting_started": (2, 10)}
MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def _load(assignment):
    return nbformat.read(str(masters.master_path(assignment)), as_version=4)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("assignment", assignments())
def test_anatomy(assignment):
    nb = _load(assignment)
    cells = nb.cells
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "start with a title"
    code = [c for c in cells if c.cell_type == "code"]
    assert _meta(code[0]).get("grade_id") == "setup" and _meta(code[0]).get("locked"), \
        "the first code cell is the locked setup cell (grade_id 'setup')"
    ids = [_meta(c)["grade_id"] for c in cells if "grade_id" in _meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade ids: {sorted(i for i in ids if ids.count(i) > 1)}"

    answers = {i[3:] for i in ids if i.startswith("ex_")}
    tests = {i[5:] for i in ids if i.startswith("test_")}
    assert answers == tests, f"answers without tests {answers - tests}, tests without answers {tests - answers}"
    assert len(answers) >= MIN_EXERCISES.get(assignment, 8), f"only {len(answers)} autograded exercises"

    points = sum(float(_meta(c).get("points", 0)) for c in code if _meta(c).get("grade"))
    low, high = POINTS.get(assignment, (10, 20))
    assert low <= points <= high, f"{points} autograded points, the guide asks for {low}-{high}"
    written = [c for c in cells if c.cell_type == "markdown" and _meta(c).get("grade") and _meta(c).get("solution")]
    assert written, "at least one manually graded written answer"

    for cell in code:
        meta = _meta(cell)
        assert not cell.get("outputs") and cell.get("execution_count") is None, "commit notebooks without outputs"
        gid = meta.get("grade_id", "")
        if gid.startswith("test_"):
            assert meta.get("locked") and meta.get("points", 0) > 0, f"{gid}: locked, with points"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{gid} has no hidden tests"
        if gid.startswith("ex_"):
            assert "### BEGIN SOLUTION" in cell.source, f"{gid} has no solution region"
        if gid == "setup" or gid.startswith(("ex_", "test_")) or CONTEXT_TAG in cell.metadata.get("tags", []):
            assert not MAGIC.search(cell.source), f"{gid or 'a context cell'}: no IPython magics (the catalogue execs it)"
