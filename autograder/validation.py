"""nbgrader's Validate, as the course's learners see it: "k of n checks passed".

Stock nbgrader 0.9.6 validates a notebook by running it in a fresh kernel and answers with the
failed cells only; JupyterLab's Validate dialog lists those and never says how many checks
passed. ``CourseValidator`` counts them and puts one summary line in the answer:

- some checks fail: the first failed cell in the dialog starts with the comment
  ``# 8 of 11 checks passed in 95 s; this cell and the 2 below failed (hidden checks run only at grading).``
  (the dialog's layout is fixed by nbgrader's lab extension: a list of failed cells, each as
  "The following cell failed:", its source and its error; the summary rides on the first one);
- every check passes: the dialog's own "Success! Your notebook passes all the tests.";
- ``nbgrader validate`` on the command line prints the same summary line.

The lab extension cannot show progress: its button sends one request and shows "Validating..."
until the single answer comes back (nbgrader's server handler runs the whole notebook before it
answers). The summary says how long the run took, so learners know what to expect next time.

Stock nbgrader also runs that whole notebook inside the Jupyter server's only event loop, so the
server answers nothing else meanwhile (saving, the learner's own kernel, other users of a shared
server). The course's handler runs the same validation in a separate process
(``python -m autograder.validation ROOT PATH``) and awaits it.

``install()`` is called from the repository's nbgrader_config.py, which both the JupyterLab server
extension (on every Validate click) and the ``nbgrader`` command line read. A server that reads
nbgrader_config.py only at the first click (no Formgrader, which reads it at start) would run that
first click the stock way: enable this module as a server extension too
(``"jpserver_extensions": {"autograder.validation": true}``) so every click, the first included,
runs apart.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from types import SimpleNamespace

STARTED = time.perf_counter()  # before the heavy imports: a separate validation process counts its start-up

from nbgrader import utils
from nbgrader.validator import Validator


@dataclass
class Tally:
    passed: int = 0
    checks: int = 0
    blank_written: int = 0  # written answers (graded by a person) still as released


def tally(nb) -> Tally:
    """Count an executed notebook's autograded checks (test cells) and blank written answers."""
    counts = Tally()
    for cell in nb.cells:
        if not utils.is_grade(cell):
            continue
        score, top = utils.determine_grade(cell)
        if utils.is_solution(cell):  # an answer a person grades: nbgrader scores it 0 only while blank
            counts.blank_written += score == 0
        elif cell.cell_type == "code":
            counts.checks += 1
            counts.passed += score is not None and score >= top
    return counts


def summary(counts: Tally, seconds: float) -> str:
    """One line, e.g. '8 of 11 checks passed in 95 s; 1 written answer is still empty.'"""
    text = f"{counts.passed} of {counts.checks} checks passed in {seconds:.0f} s"
    if counts.blank_written:
        answers = "written answer is" if counts.blank_written == 1 else "written answers are"
        text += f"; {counts.blank_written} {answers} still empty"
    return text + "."


class CourseValidator(Validator):
    """nbgrader's Validator, with "k of n checks passed" in its answer (see the module's docstring)."""

    counts: Tally | None = None
    seconds: float = 0.0
    started: float | None = None  # when the learner's wait began, if before validate() (a separate process)

    def _get_failed_cells(self, nb):
        # Called once on the executed notebook: the one place the validator sees every cell's result.
        self.counts = tally(nb)
        return super()._get_failed_cells(nb)

    def validate(self, filename: str):
        self.counts = None
        start = self.started if self.started is not None else time.perf_counter()
        results = super().validate(filename)
        self.seconds = time.perf_counter() - start
        failed = results.get("failed")
        if failed and self.counts is not None:
            line = summary(self.counts, self.seconds)
            more = len(failed) - 1
            follow = f"this cell and the {more} below failed" if more else "this cell failed"
            note = f"# {line[:-1]}; {follow} (hidden checks run only at grading).\n\n"
            failed[0]["source"] = note + failed[0]["source"]
        return results

    def _print_num_failed(self, num_failed: int) -> None:
        # `nbgrader validate` on the command line: the same summary before the failed cells.
        if self.counts is not None:
            self.stream.write(summary(self.counts, self.seconds) + "\n")
        super()._print_num_failed(num_failed)


def install() -> None:
    """Make nbgrader's Validate use ``CourseValidator``: the JupyterLab server extension's handler
    and the ``nbgrader validate`` command each look the class up by name in their own module when
    they run, after reading nbgrader_config.py, which calls this. In the server, the handler's POST
    also moves to a separate process. Modules not yet imported are left alone (nothing heavy is
    imported here)."""
    for name in ("nbgrader.server_extensions.validate_assignment.handlers", "nbgrader.apps.validateapp"):
        module = sys.modules.get(name)
        if module is not None:
            module.Validator = CourseValidator
    handlers = sys.modules.get("nbgrader.server_extensions.validate_assignment.handlers")
    if handlers is not None and not getattr(handlers.ValidateAssignmentHandler.post, "course", False):
        handlers.ValidateAssignmentHandler.post = _post_in_a_separate_process(handlers)


def _post_in_a_separate_process(handlers):
    from tornado import web

    @web.authenticated
    async def post(self):
        try:
            path = self.get_argument("path")
        except web.MissingArgumentError:
            path = self.get_json_body()["path"]
        # The server's own working folder (where nbgrader_config.py was found) and the same root:
        # the child does exactly what nbgrader's handler does, path checks included.
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "autograder.validation", str(self.root_dir), str(path),
            cwd=os.getcwd(), stdout=asyncio.subprocess.PIPE)
        answer, _ = await child.communicate()
        if child.returncode != 0 or not answer.strip():
            answer = json.dumps({"success": False, "value": f"the validation process failed (exit status "
                                 f"{child.returncode}); the Jupyter server's terminal shows why."}).encode()
        self.finish(answer)

    post.course = True
    return post


def _jupyter_server_extension_points():
    return [{"module": "autograder.validation"}]


def _load_jupyter_server_extension(serverapp) -> None:
    import nbgrader.server_extensions.validate_assignment.handlers  # noqa: F401 (install() patches it)
    install()
    serverapp.log.info("autograder.validation: Validate counts checks and runs in a separate process")


def validate_like_the_server(root_dir: str, path: str) -> dict:
    """nbgrader's own handler code (``validate_notebook``: path checks, config, error answers),
    run outside the server; reads nbgrader_config.py from the working folder, as the server does."""
    from nbgrader.server_extensions.validate_assignment import handlers
    server = SimpleNamespace(root_dir=root_dir, log=logging.getLogger("validate"),
                             load_config=lambda: handlers.ValidateAssignmentHandler.load_config(None))
    return handlers.ValidateAssignmentHandler.validate_notebook(server, path)


def main(argv: list[str] | None = None) -> int:
    root_dir, path = argv if argv is not None else sys.argv[1:3]
    CourseValidator.started = STARTED
    answer_to = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the answer and nothing else
        answer = validate_like_the_server(root_dir, path)
    answer_to.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
