"""What a notebook cell is to the grader: one answer for the whole package.

nbgrader marks cells with metadata (``grade``, ``solution``, ``locked``, ``grade_id``); the course
reads them as these kinds:

- ``TEST``: a code cell with points and no solution (visible and hidden tests; run by the judge);
- ``ANSWER``: a cell the student writes (``ex_NAME`` code, or a written answer in markdown);
- ``LOCKED``: the instructor's cell the student may not change (setup, context, statements);
- ``OTHER``: anything else (examples, demos, the student's own cells).
"""
from __future__ import annotations

TEST, ANSWER, LOCKED, OTHER = "test", "answer", "locked", "other"


def meta(cell) -> dict:
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


def grade_id(cell) -> str:
    return str(meta(cell).get("grade_id", ""))


def kind(cell) -> str:
    m = meta(cell)
    if m.get("solution"):
        return ANSWER
    if m.get("grade") and cell.get("cell_type") == "code":
        return TEST
    if m.get("locked") or m.get("grade"):
        return LOCKED
    return OTHER


def is_test(cell) -> bool:
    return kind(cell) == TEST


def is_written(cell) -> bool:
    """A written answer: graded by a human."""
    m = meta(cell)
    return bool(m.get("solution") and m.get("grade") and cell.get("cell_type") == "markdown")


CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def not_written(what: str) -> str:
    """What a learner reads when a released stub ran: the judge and the feedback pages say it alike."""
    return f"{what} is not written yet: replace `raise NotImplementedError()` with your code."
