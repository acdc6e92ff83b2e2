"""Run a notebook the way grading runs it, and say which checks passed.

Fresh kernel, top to bottom, the grader's per-cell timeout, and the grader's warning policy
(text on stderr is not a failure; only an error is). Used by the test suite on the masters
and by students through ``make check NB=...`` or ``coursekit.self_check()``.

    python -m autograder.lab.check NOTEBOOK.ipynb [--timeout S] [--progress]

Exit status: 0 when every test cell passed, 1 when one failed, 2 when the notebook could not run.
It prints only what a student needs: a line per check, "cell k of n" on stderr while a long notebook
runs (--progress), "not written yet" for a stub that ran, and no kernel start-up chatter.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.authoring import cells
from autograder.settings import cell_timeout
from autograder.judging.executor import CourseClient
from autograder.grading.preprocessors import ExplainBlankAnswers

PROGRESS_EVERY = 10.0  # seconds between "cell k of n" lines: a short notebook prints none


@dataclass
class CheckResult:
    grade_id: str
    points: float
    passed: bool
    message: str


def execute(path: Path | str, timeout: int | None = None, progress=None) -> tuple[nbformat.NotebookNode, float]:
    """Execute a copy of the notebook in a fresh kernel, in the notebook's folder. ``progress``, a file,
    gets a "cell k of n" line when a cell starts PROGRESS_EVERY seconds or more after the last line."""
    path = Path(path).resolve()
    nb = nbformat.read(str(path), as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    start = last = time.perf_counter()

    def on_cell_start(cell, cell_index):
        nonlocal last
        now = time.perf_counter()
        if progress is not None and now - last >= PROGRESS_EVERY and cell_index in code:
            print(f"  ... cell {code.index(cell_index) + 1} of {len(code)} ({now - start:.0f} s)", file=progress,
                  flush=True)
            last = now

    client = CourseClient(nb, timeout=timeout or cell_timeout(), kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, record_timing=False, on_cell_start=on_cell_start,
                            # ipykernel's start-up warnings (TCP without encryption) tell a student nothing
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    ExplainBlankAnswers().preprocess(nb, {})  # a stub that ran says "not written yet", as in feedback
    return nb, time.perf_counter() - start


def _error_text(output) -> str:
    if output.get("ename") == "NotImplementedError" and "not written yet" in output.get("evalue", ""):
        return output["evalue"]  # explained above: the exception's name adds nothing
    return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()


def checks(nb: nbformat.NotebookNode) -> list[CheckResult]:
    """One result per autograded test cell: passed unless the cell raised."""
    results = []
    for cell in nb.cells:
        if not cells.is_test(cell):
            continue
        meta = cells.meta(cell)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        results.append(CheckResult(meta.get("grade_id", "?"), float(meta.get("points", 0)),
                                   not errors, _error_text(errors[0]) if errors else ""))
    return results


def first_error_outside_tests(nb: nbformat.NotebookNode) -> str | None:
    """The first error raised by a cell that is not a test cell (setup, answer, example)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cells.is_test(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index} ({cells.grade_id(cell) or 'no id'}): {_error_text(output)}"
    return None


def report(path: Path | str, timeout: int | None = None, out=sys.stdout, progress=None) -> int:
    path = Path(path)
    if not path.is_file():
        print(f"error: {path} does not exist. Give the name or path of your notebook, for example "
              "01_tensors or work/01_tensors/01_tensors.ipynb.", file=sys.stderr)
        return 2
    try:
        nb, seconds = execute(path, timeout, progress)
    except Exception as error:  # unreadable JSON, kernel that died...
        print(f"error: {path} could not be run: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    results = checks(nb)
    passed = sum(r.passed for r in results)
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        print(f"  {mark} {r.grade_id} ({r.points:g} pt){'' if r.passed else ': ' + r.message}", file=out)
    other = first_error_outside_tests(nb)
    if other:
        print(f"  note: {other}", file=out)
    print(f"{path.name}: {passed} of {len(results)} visible checks passed in {seconds:.0f} s; "
          f"hidden checks run at grading (`make feedback NB={path.stem}` runs them now, as the grader does).",
          file=out)
    return 0 if passed == len(results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell (default: the grader's)")
    parser.add_argument("--progress", action="store_true", help='"cell k of n" lines on stderr while it runs')
    args = parser.parse_args(argv)
    return report(args.notebook, args.timeout, progress=sys.stderr if args.progress else None)


if __name__ == "__main__":
    sys.exit(main())
