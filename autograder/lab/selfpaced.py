"""Learners working alone: feedback from the instructor's grader, then model answers on request.

``make feedback NB=01_tensors`` grades a copy of the learner's notebook with the class grader itself
(``batch.Grader``: the sandbox, the judge, hidden checks, the same feedback page), as a class of one
student in ``work/.grading/``, prints the scores and opens the feedback page in a browser when there
is one. Nothing here decides a score: it is the grader's ``Result`` and page, as ``make autograde``
would give for the same file. A notebook graded before and unchanged since comes from the grader's
own cache.

``make answers NB=01_tensors`` writes the master's answer cells (solutions/ ships in the repository)
with each exercise's statement into ``work/answers/01_tensors_answers.ipynb``, never into course/.

    python -m autograder.lab.selfpaced feedback NB [--work work]
    python -m autograder.lab.selfpaced answers NB [--work work]

Exit status: 0 when the notebook was graded (whatever its score) or the answers written, 1 when it
could not be graded (not a readable notebook, over a cap, the grader's own failure), 2 for a slip (no such notebook, not one of the course's), 130 when Ctrl-C stopped it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
import webbrowser
from pathlib import Path

from autograder.authoring import cells, masters
from autograder.grading.results import GRADED, GRADER_ERROR, INVALID, TOO_LARGE, WRONG_ASSIGNMENT
from autograder.lab.workspace import WORK, resolve

STUDENT = "you"  # the class of one: its only student id (never shown on the page)
GRADING = ".grading"  # inside the workspace: the grader's folder for the learner's notebooks (hidden in the lab)
ANSWERS = "answers"  # inside the workspace: the model answers, written on request
EXIT_GRADED, EXIT_NOT_GRADED, EXIT_SLIP, EXIT_STOPPED = 0, 1, 2, 130
UNGRADED = (INVALID, TOO_LARGE, WRONG_ASSIGNMENT, GRADER_ERROR)  # the statuses where no cell of the notebook ran


class Slip(Exception):
    """A learner's slip (no such notebook, a file that is not one of the course's): the message says what to do."""


def find_notebook(notebook: str | Path, work: Path) -> tuple[Path, str]:
    """The learner's notebook file and its assignment (the grader's own reading of the file name)."""
    from autograder.grading.intake import match_assignment
    from autograder.authoring.release import assignments
    try:
        path = resolve(notebook, work)
    except FileNotFoundError as error:
        raise Slip(str(error)) from None
    if not path.is_file():
        raise Slip(f"{path} does not exist. Give the name of a notebook of your workspace (for example "
                   f"01_tensors, meaning {work}/01_tensors/01_tensors.ipynb) or the path of an existing "
                   "notebook file; `make lab` creates the workspace.")
    assignment = match_assignment(path.name, assignments())
    if assignment is None:
        raise Slip(f"{path.name} is not named like one of the course's notebooks ({', '.join(assignments())}), "
                   "so the grader cannot tell which notebook it is. Keep the name the course gave it (the "
                   "grader uses the name, as when you submit), or rename a copy: make feedback "
                   "NB=path/to/01_tensors.ipynb.")
    return path, assignment


def untouched_answers(path: Path, assignment: str) -> tuple[int, int] | None:
    """(answers still as released, all answers) of the learner's file; None when it cannot be read (the
    grader then says why). Answers are read as the workspace's updates read them."""
    from autograder.lab.workspace import _answers, _read, _source
    try:
        mine, released = _answers(_read(path)), _answers(_read(masters.released_path(assignment)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return sum(g in mine and _source(mine[g]) == _source(c) for g, c in released.items()), len(released)


def notes(path: Path, assignment: str, saved: str) -> list[str]:
    """What the learner should know before the grading starts: a missing sandbox, an unwritten notebook."""
    from autograder.judging.sandbox import bwrap
    found = []
    if not bwrap():
        found.append("bubblewrap, the grader's sandbox, is not installed here, so your notebook is graded without "
                     "it: the same checks, but your code runs with your own files and the network in reach, and a "
                     "notebook that only works because of them would lose points in your instructor's grading. Run "
                     "`make sandbox` (it installs bubblewrap as root, or says how) to grade exactly as the "
                     "instructor's grader.")
    blank = untouched_answers(path, assignment)
    if blank and blank[0] == blank[1]:
        found.append(f"{path.name} has no answer written yet: every answer cell is still as the course gave it "
                     f"(saved at {saved}). It is graded anyway and scores 0. Write your answers, save the notebook "
                     "(Ctrl-S) and run this command again.")
    return found


def feedback_page(out: Path, assignment: str) -> Path:
    """Where the grader writes the page (batch.Grader: feedback/<student>/<assignment>/<assignment>.html)."""
    return out / "feedback" / STUDENT / assignment / f"{assignment}.html"


def grade(notebook: str | Path, work: Path | str = WORK, out=None):
    """Grade a copy of the learner's notebook as ``make autograde`` does; the grader's Result."""
    from autograder.grading.batch import Grader
    from autograder.grading.reports import NOT_GRADED
    work = Path(work).resolve()
    path, assignment = find_notebook(notebook, work)
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%H:%M on %d %b")
    say = lambda text="": print(text, file=out or sys.stdout, flush=True)  # noqa: E731
    for note in notes(path, assignment, saved):
        say(f"note: {note}\n")
    say(f"Grading {path} (saved at {saved}) as your instructor's grader does: a fresh kernel in the grader's "
        "sandbox, every cell top to bottom, the visible and the hidden checks. About as long as Run All, "
        "plus about a minute the first time.")
    grading = work / GRADING
    grading.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="submitted-", dir=grading) as folder:
        copy = Path(folder) / STUDENT / f"{assignment}.ipynb"  # a copy: the learner's file is never touched
        copy.parent.mkdir()
        shutil.copyfile(path, copy)
        # The class grader's default workers (one per core), so one BLAS thread per kernel as in `make autograde`:
        # the page prints the thread count, and a page equal to the instructor's is the point.
        grader = Grader(grading, progress=False)
        result = next(r for r in grader.run(folder) if (r.student, r.assignment) == (STUDENT, assignment))
    if result.status == NOT_GRADED:  # Ctrl-C: an older page may still be there, and it is not this file's
        say(f"\nStopped before {assignment} was graded; nothing was recorded. Run the same command again.")
        return result
    if result.status in UNGRADED:  # no cell ran: per-cell zeros would only hide the reason
        say(f"\n{assignment} was not graded ({result.status}): {result.message}. Save it again from "
            f"JupyterLab, or take your last good copy from work/backups/, then run this command again.")
        return result
    say(f"\n{assignment}: " + summary(result, assignment))
    page = feedback_page(grading, assignment)
    if not page.is_file():
        say(f"\nNo feedback page was made: {result.message or result.status}.")
        return result
    say(f"\nFeedback page (each check's message, as your instructor's grader gives it): {page.as_uri()}")
    if open_in_browser(page):
        say("(opened in your browser)")
    say(f"Model answers, best read after you have tried: make answers NB={assignment}")
    return result


def summary(result, assignment: str) -> str:
    """The grader's scores, a line per graded cell in the notebook's order; written answers are a person's to score."""
    import nbformat
    master = nbformat.read(str(masters.master_path(assignment)), as_version=4).cells
    order = [cells.grade_id(c) for c in master if cells.grade_id(c) in result.cells]
    written = {cells.grade_id(c) for c in master if cells.is_written(c)}
    auto = [g for g in order if g not in written]
    got, most = (sum(result.cells[g].auto or 0 for g in auto), sum(result.cells[g].max for g in auto))
    lines = [f"{got:g} of {most:g} autograded points"
             + ("" if result.status == GRADED else f" ({result.status}: {result.message})")]
    for grade_id in order:
        cell = result.cells[grade_id]
        if grade_id in auto:
            lines.append(f"  {'ok  ' if cell.auto == cell.max else 'LOST'} {grade_id}: {cell.auto or 0:g} of {cell.max:g}")
        elif cell.needs_manual:
            lines.append(f"  ...  {grade_id}: a written answer ({cell.max:g} pt), scored by a person in a class; "
                         f"compare yours with the model answer (make answers NB={assignment})")
        else:
            lines.append(f"  LOST {grade_id}: a written answer ({cell.max:g} pt), not written yet")
    return "\n".join(lines)


def open_in_browser(page: Path) -> bool:
    """Open the page where there is a browser to open it in: never with BROWSER=none, nor on a Linux
    machine without a display (a terminal on a server), where Python would start a text browser."""
    if os.environ.get("BROWSER", "").strip().lower() == "none":
        return False
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        return webbrowser.open(page.as_uri())
    except webbrowser.Error:
        return False


_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def model_answers(assignment: str):
    """A notebook of the master's answer cells, each after its exercise's statement (the markdown cell
    before it), with no nbgrader metadata: a page to read, not something to grade or submit."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    master = nbformat.read(str(masters.master_path(assignment)), as_version=4)
    book = new_notebook(metadata={"kernelspec": master.metadata.get("kernelspec", {})})
    book.cells.append(new_markdown_cell(
        f"# Model answers · {assignment}\n\nBest read after you have tried the exercises yourself and run "
        f"`make feedback NB={assignment}`: an answer read first teaches much less than one you struggled "
        "with. These are the course master's answers; other correct answers exist and score the same."))
    statement = ""
    for cell in master.cells:
        if cell.cell_type == "markdown" and cells.kind(cell) != cells.ANSWER:
            statement = cell.source
        elif cells.kind(cell) == cells.ANSWER:
            # the statement once, before the first answer it introduces; then which answer cell follows
            label = f"**Model answer** (`{cells.grade_id(cell)}`):"
            book.cells.append(new_markdown_cell(f"{statement}\n\n---\n{label}" if statement else label))
            statement = ""
            if cell.cell_type == "code":
                book.cells.append(new_code_cell(_MARKER.sub("", cell.source)))
            else:
                book.cells.append(new_markdown_cell(cell.source))
    return book


def write_answers(notebook: str | Path, work: Path | str = WORK, out=None) -> Path:
    """Write the model answers of ``notebook`` (a name, or the learner's file) into work/answers/."""
    import nbformat
    from autograder.authoring.release import assignments
    work = Path(work).resolve()
    # a notebook's own name needs no file of the learner's; anything else is read as the learner's notebook
    assignment = str(notebook) if str(notebook) in assignments() else find_notebook(notebook, work)[1]
    target = work / ANSWERS / f"{assignment}_answers.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(model_answers(assignment), str(target))
    tried = feedback_page(work / GRADING, assignment).is_file()
    print(f"Model answers of {assignment}: {target}\nThey are best read after trying the exercises yourself"
          + ("." if tried else f" and getting feedback on your attempt: make feedback NB={assignment}."),
          file=out or sys.stdout)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Feedback and model answers for a learner working alone.")
    parser.add_argument("action", choices=("feedback", "answers"))
    parser.add_argument("notebook", help="a notebook of your workspace by name (01_tensors) or a path")
    parser.add_argument("--work", default=str(WORK), help="your workspace (default: work/)")
    args = parser.parse_args(argv)
    from autograder.grading.intake import InputError
    try:
        if args.action == "answers":
            write_answers(args.notebook, args.work)
            return 0
        from autograder.grading.reports import NOT_GRADED
        status = grade(args.notebook, args.work).status
        return EXIT_NOT_GRADED if status in UNGRADED else EXIT_STOPPED if status == NOT_GRADED else EXIT_GRADED
    except (Slip, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SLIP


if __name__ == "__main__":
    sys.exit(main())
