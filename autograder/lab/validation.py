"""Validate, as the course's learners see it: progress, then "k of n checks passed".

Stock nbgrader 0.9.6 validates a notebook by running it in a fresh kernel and answers with the
failed cells only; its JupyterLab button sends one request, shows "Validating..." until the whole
notebook ran (06: minutes) and never says how many checks passed. ``CourseValidator`` counts them
(``tally``, ``summary``: "8 of 11 checks passed in 95 s; 1 written answer is still empty.").

The course's own Validate button (lab/labextensions/pytorch-course-validate, a hand-written JupyterLab
extension; the student faces disable nbgrader's button) follows a run through this module's endpoints:

- ``POST <base_url>course/validate`` with ``{"path": ...}`` starts ``python -m autograder.lab.validation
  --progress ROOT PATH`` in a separate process and answers at once with the run's id; a click on a
  notebook whose validation still runs joins that run;
- ``GET <base_url>course/validate/<id>`` answers ``{"done": false, "executed": 12, "cells": 37,
  "seconds": 40.2, ...}`` while it runs (the process writes one JSON line per executed cell,
  ``ProgressExecute``, nbclient's ``on_cell_executed``), then adds nbgrader's answer, the tally and the
  summary line (``outcome``). The button shows "Validating… 12/37 cells", then a dialog that starts
  with the summary and lists the failed cells. Finished runs are forgotten a minute after they are
  fetched, or after ten minutes; at most ``MAX_RUNNING`` run at once on one server.

nbgrader's own paths keep working, with the same count:

- its endpoint (``assignments/validate``, the Assignment List's Validate): the first failed cell starts
  with the comment ``# 8 of 11 checks passed in 95 s; this cell and the 2 below failed (hidden checks run
  only at grading).``; when every check passes, its own "Success! Your notebook passes all the tests.";
- ``nbgrader validate`` on the command line prints the same summary line.

Stock nbgrader runs the whole notebook inside the Jupyter server's only event loop, so the server
answers nothing else meanwhile (saving, the learner's own kernel, other users of a shared server).
Both endpoints run it in a separate process (``python -m autograder.lab.validation ROOT PATH``), from the
server's working folder and with its root, so the child does exactly what nbgrader's handler does.

``install()`` is called from the repository's nbgrader_config.py, which both the JupyterLab server
extension (on every Validate click) and the ``nbgrader`` command line read. A server that reads
nbgrader_config.py only at the first click (no Formgrader, which reads it at start) would run that
first click the stock way: enable this module as a server extension too
(``"jpserver_extensions": {"autograder.lab.validation": true}``, as lab/ and hub/ faces do), which also
serves course/validate.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

STARTED = time.perf_counter()  # before the heavy imports: a separate validation process counts its start-up

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from nbgrader import utils
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
from nbgrader.validator import Validator
from tornado import web
from traitlets import List

from autograder.judging.polling import PolledReplies


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


class ProgressExecute(PolledReplies, Execute):
    """nbgrader's Execute without the reply stall (``autograder.judging.polling``: the course's widget cells would
    otherwise hold a validation for the cell timeout at random) that, when ``progress`` is set, writes one
    JSON line to it before the first cell and after each executed code cell: ``{"executed": 3, "cells": 37}``."""

    progress = None  # a text stream: the validation process's stdout, with --progress

    def preprocess(self, nb, resources=None, km=None):
        # The cells nbclient will run: it skips blank code cells and those tagged skip-execution.
        self._cells = sum(cell.cell_type == "code" and bool(cell.source.strip())
                          and self.skip_cells_with_tag not in cell.metadata.get("tags", []) for cell in nb.cells)
        self._executed = 0
        self._report()
        return super().preprocess(nb, resources, km)

    def on_cell_executed(self, **kwargs):  # nbclient's hook, after every executed cell, failed ones included
        super().on_cell_executed(**kwargs)
        self._executed += 1
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress.write(json.dumps({"executed": self._executed, "cells": self._cells}) + "\n")
            self.progress.flush()


class CourseValidator(Validator):
    """nbgrader's Validator, with "k of n checks passed" in its answer (see the module's docstring)."""

    preprocessors = List([CheckCellMetadata, ClearOutput, ProgressExecute])
    counts: Tally | None = None
    seconds: float = 0.0
    started: float | None = None  # when the learner's wait began, if before validate() (a separate process)
    note_in_failed_cell = True  # the summary as a comment atop the first failed cell (nbgrader's dialog)
    last: "CourseValidator | None" = None  # the latest validation (the separate process reads its tally)

    def _get_failed_cells(self, nb):
        # Called once on the executed notebook: the one place the validator sees every cell's result.
        self.counts = tally(nb)
        return super()._get_failed_cells(nb)

    def validate(self, filename: str):
        self.counts = None
        CourseValidator.last = self
        start = self.started if self.started is not None else time.perf_counter()
        results = super().validate(filename)
        self.seconds = time.perf_counter() - start
        failed = results.get("failed")
        if failed and self.counts is not None and self.note_in_failed_cell:
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
    @web.authenticated
    async def post(self):
        try:
            path = self.get_argument("path")
        except web.MissingArgumentError:
            path = self.get_json_body()["path"]
        child = await _validation_process(str(self.root_dir), str(path))
        answer, _ = await child.communicate()
        if child.returncode != 0 or not answer.strip():
            answer = json.dumps(process_failed(child.returncode)).encode()
        self.finish(answer)

    post.course = True
    return post


async def _validation_process(root_dir: str, path: str, *options: str, **kwargs):
    """``python -m autograder.lab.validation [options] ROOT PATH``, its answer on a pipe. It starts in the server's
    own working folder (where nbgrader_config.py was found) with the same root, so it does exactly what
    nbgrader's handler does, path checks included."""
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "autograder.lab.validation", *options, root_dir,
                                                path, cwd=os.getcwd(), stdout=asyncio.subprocess.PIPE, **kwargs)


def process_failed(returncode) -> dict:
    return {"success": False, "value": f"the validation process failed (exit status {returncode}); "
                                       "the Jupyter server's terminal shows why."}


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def learner_message(raw_error: str) -> str:
    """A failed cell's error as the one line written for the learner (its traceback's last line); a released
    stub's bare NotImplementedError says what it means, as the feedback pages do."""
    from autograder.grading.preprocessors import NOT_WRITTEN_USED
    lines = [line.strip() for line in ANSI.sub("", raw_error or "").splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return f"NotImplementedError: {NOT_WRITTEN_USED}" if last.rstrip(":") == "NotImplementedError" else last


def outcome(answer: dict, counts: Tally | None, seconds: float) -> dict:
    """The course button's final answer: nbgrader's answer (each failed cell with its one-line ``message``),
    the tally and the summary line (both None when the notebook did not run through: a changed cell type,
    an error before the checks)."""
    value = answer.get("value")
    if answer.get("success") and isinstance(value, dict):
        failed = [dict(cell, message=learner_message(cell.get("raw_error", ""))) for cell in value.get("failed", [])]
        answer = dict(answer, value=dict(value, failed=failed)) if failed else answer
    if counts is None:
        return {"answer": answer, "tally": None, "summary": None}
    return {"answer": answer, "tally": dict(asdict(counts), seconds=round(seconds, 1)),
            "summary": summary(counts, seconds)}


# ---- The course's Validate button: POST course/validate starts a run, GET course/validate/<id> follows it ----

MAX_RUNNING = 3       # validations at once on one user's server (each runs a whole notebook)
KEEP_UNFETCHED = 600  # seconds a finished run waits for its answer to be fetched
KEEP_FETCHED = 60     # ... and stays once fetched, for other clicks that joined it
KEEP_AT_MOST = 10     # finished runs kept at once (the oldest go first)
ANSWER_LIMIT = 64 * 2**20  # the longest line the process may write (its answer lists failed cells' sources)
RUNS: dict[str, "Run"] = {}  # this server's runs, by id


class Run:
    """One validation in its own process (``python -m autograder.lab.validation --progress ROOT PATH``), as
    the button sees it: progress lines while it runs, then the answer."""

    def __init__(self, path: str, target: Path):
        self.id = secrets.token_hex(8)
        self.path, self.target = path, target
        self.started = time.monotonic()
        self.executed, self.cells = 0, None  # cells: known once the kernel is about to run the first one
        self.result: dict | None = None
        self.ended: float | None = None
        self.expires = float("inf")
        self.task: asyncio.Task | None = None

    @property
    def done(self) -> bool:
        return self.ended is not None

    def feed(self, line: bytes | str) -> None:
        """One line of the process's stdout: progress, or the final answer (``outcome``)."""
        try:
            message = json.loads(line)
        except ValueError:
            return
        if isinstance(message, dict) and "answer" in message:
            self.result = message
        elif isinstance(message, dict) and "executed" in message:
            self.executed, self.cells = message["executed"], message["cells"]

    def finish(self, returncode) -> None:
        self.ended = time.monotonic()
        self.expires = self.ended + KEEP_UNFETCHED
        if self.result is None:
            self.result = outcome(process_failed(returncode), None, 0)

    def state(self) -> dict:
        now = self.ended if self.done else time.monotonic()
        state = {"id": self.id, "path": self.path, "done": self.done, "executed": self.executed,
                 "cells": self.cells, "seconds": round(now - self.started, 1)}
        return dict(state, **self.result) if self.done else state


async def _follow(run: Run, root_dir: str) -> None:
    child = None
    try:
        child = await _validation_process(root_dir, run.path, "--progress", limit=ANSWER_LIMIT)
        async for line in child.stdout:
            run.feed(line)
        await child.wait()
    except Exception:
        logging.getLogger("autograder.lab.validation").exception("validation of %s", run.path)
        if child is not None and child.returncode is None:
            child.kill()
            await child.wait()
    finally:
        run.finish(child.returncode if child is not None else None)


def _forget_old_runs() -> None:
    now = time.monotonic()
    finished = sorted((run for run in RUNS.values() if run.done), key=lambda run: run.ended)
    for run in finished[:-KEEP_AT_MOST] + [run for run in finished[-KEEP_AT_MOST:] if run.expires < now]:
        del RUNS[run.id]


class StartValidation(APIHandler):
    """POST {"path": "00_getting_started/00_getting_started.ipynb"}: the run's state, at once. A click on a
    notebook whose validation is still running joins that run."""

    auth_resource = "kernels"  # it runs the notebook's code, as a kernel does

    def initialize(self, root_dir: str) -> None:
        self.root_dir = root_dir

    @web.authenticated
    @authorized
    async def post(self):
        path = (self.get_json_body() or {}).get("path")
        if not isinstance(path, str) or not path:
            raise web.HTTPError(400, 'send the notebook\'s path: {"path": "folder/notebook.ipynb"}')
        root = Path(self.root_dir).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):  # the same check as nbgrader's handler
            raise web.HTTPError(403, "Access denied: path outside allowed directory")
        if not target.is_file():
            raise web.HTTPError(404, f"no notebook at {path}")
        _forget_old_runs()
        run = next((r for r in RUNS.values() if r.target == target and not r.done), None)
        if run is None:
            if sum(not r.done for r in RUNS.values()) >= MAX_RUNNING:
                raise web.HTTPError(429, f"{MAX_RUNNING} validations are already running: wait for one to finish")
            run = Run(path, target)
            RUNS[run.id] = run
            run.task = asyncio.create_task(_follow(run, str(root)))
        self.finish(json.dumps(run.state()))


class ValidationProgress(APIHandler):
    """GET: {"done": false, "executed": 12, "cells": 37, "seconds": 40.2, ...} while the run lasts; then
    with ``outcome``'s answer, tally and summary added."""

    auth_resource = "kernels"

    @web.authenticated
    @authorized
    def get(self, run_id: str):
        _forget_old_runs()
        run = RUNS.get(run_id)
        if run is None:
            raise web.HTTPError(404, "no such validation: finished ones are kept a few minutes")
        if run.done:
            run.expires = min(run.expires, time.monotonic() + KEEP_FETCHED)
        self.finish(json.dumps(run.state()))


def _jupyter_server_extension_points():
    return [{"module": "autograder.lab.validation"}]


def _load_jupyter_server_extension(serverapp) -> None:
    import nbgrader.server_extensions.validate_assignment.handlers  # noqa: F401 (install() patches it)
    install()
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base_url, "course/validate"), StartValidation, {"root_dir": serverapp.root_dir}),
        (url_path_join(base_url, r"course/validate/([0-9a-f]+)"), ValidationProgress),
    ])
    serverapp.log.info("autograder.lab.validation: Validate counts checks and runs in a separate process; "
                       "the course's button follows it at course/validate")


def validate_like_the_server(root_dir: str, path: str) -> dict:
    """nbgrader's own handler code (``validate_notebook``: path checks, config, error answers),
    run outside the server; reads nbgrader_config.py from the working folder, as the server does."""
    from nbgrader.server_extensions.validate_assignment import handlers
    server = SimpleNamespace(root_dir=root_dir, log=logging.getLogger("validate"),
                             load_config=lambda: handlers.ValidateAssignmentHandler.load_config(None))
    return handlers.ValidateAssignmentHandler.validate_notebook(server, path)


def main(argv: list[str] | None = None, started: float = STARTED) -> int:
    """``python -m autograder.lab.validation [--progress] ROOT PATH``: nbgrader's answer on stdout as one JSON
    object; with --progress, JSON lines: progress (``ProgressExecute``), then ``outcome``."""
    args = list(sys.argv[1:] if argv is None else argv)
    progress = "--progress" in args
    if progress:
        args.remove("--progress")
    root_dir, path = args[:2]
    CourseValidator.started = started
    answer_to = sys.stdout
    if progress:
        ProgressExecute.progress = answer_to
        CourseValidator.note_in_failed_cell = False  # the course's dialog shows the summary on its own
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the answer and nothing else
        answer = validate_like_the_server(root_dir, path)
    if progress:
        last = CourseValidator.last
        answer_to.write(json.dumps(outcome(answer, last and last.counts, last.seconds if last else 0)) + "\n")
    else:
        answer_to.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    # Run the package's copy of this module, not __main__'s: nbgrader_config.py's install() imports
    # autograder.lab.validation, and main() must set up the classes nbgrader will use.
    from autograder.lab.validation import main as package_main
    sys.exit(package_main(started=STARTED))
