"""Executing notebooks: nbclient without the reply stall, and grading's execution with the judge.

``CourseClient`` is nbclient's NotebookClient with ``PolledReplies`` (``autograder.judging.polling``: the
fix of jupyter/nbclient#312), for ``make check``, the test suite and the benchmarks.

``GradingExecute`` is nbgrader's Execute for grading, in two phases on one sandboxed kernel:

1. the student's phase: every cell that is not a test cell runs in order, and its outputs and the
   widget state are kept as the student would see them; the kernel has seen no test input yet;
2. the judging phase: the judge (``autograder.judging.judge``) judges the test cells in notebook order
   against the kernel's final definitions, through ``KernelTransport``. Nothing the kernel says
   here reaches the notebook: ``async_probe`` reads only the single answer to each request, and the
   widget state was frozen at the end of phase 1. Only the judge's verdicts are written.

A notebook time limit kills the sandbox; it covers both phases. When the kernel dies or runs out of
time at cell k of phase 1, a fresh sandboxed kernel reruns the cells before k (its outputs thrown
away) and the test cells before k are judged there, so they keep their points as before.
Statuses come from what the grader saw (``GRADING_KEY`` in the notebook's metadata), never from
names the student's code can choose.
"""
from __future__ import annotations

import base64
import copy
import textwrap
import threading
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute
from nbformat.v4 import new_output
from traitlets import Integer

from coursekit.probes import MIME

from autograder.authoring import cells
from autograder.judging.judge import KernelGone, StudentCodeError, judge_for
from autograder.judging.polling import PolledReplies
from autograder.judging.sandbox import KERNEL_DIED, NOT_RUN, TIME_LIMIT, SandboxedKernelManager, kill_sandbox

# The notebook metadata key where this executor records what it saw (grading/results.py reads it). It is
# written last, over anything the submission carried: a status never comes from output text or an
# exception's name, which the student's code chooses.
GRADING_KEY = "course_grading"


class CourseClient(PolledReplies, NotebookClient):
    """nbclient's NotebookClient without the stall: ``make check``, the test suite, benchmarks."""


class ProbeTimeout(StudentCodeError):
    """The student's code did not answer the judge within the cell time limit."""


class KernelTransport:
    """The judge's line to the kernel: one silent, history-free execution per request, answered
    through a single display message. Everything that comes back is only bytes to decode."""

    def __init__(self, client: "GradingExecute"):
        self.client = client

    def request(self, payload: bytes) -> bytes:
        return run_sync(self.client.async_probe)(payload)


class GradingExecute(PolledReplies, Execute):
    """nbgrader's Execute, sandboxed, with test cells judged outside the kernel (see module doc)."""

    notebook_timeout = Integer(900, help="wall-clock seconds for the whole notebook").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        # Killed, not asked to stop: a graceful shutdown of the sandboxed kernel took 3.4 s here even
        # when idle (1.6-2.3 s of every submission), and would run the student's atexit handlers.
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        from autograder.authoring.masters import master_path
        assignment = (resources or {}).get("nbgrader", {}).get("notebook")
        self._judge = judge_for(master_path(assignment))
        self._check_assign_resources(resources)
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        tests = [i for i in code if cells.is_test(nb.cells[i])]
        own = [i for i in code if i not in tests]
        for i in tests:
            nb.cells[i].outputs, nb.cells[i].execution_count = [], None
        # What the grader saw, the only source of a submission's status (results.execution_finding).
        self._seen = {"died": None, "time_limit": None, "cell_timeouts": []}
        stop = self._session(nb, km, own, tests, keep=True)
        if stop is not None and not stop[1]:
            earlier = [i for i in tests if i < stop[0]]
            if earlier:  # the kernel stopped in the student's phase: judge the tests before it afresh
                replay = copy.deepcopy(nb)
                self._session(replay, None, [i for i in own if i < stop[0]], earlier, keep=False, graded=nb)
        self.nb = nb
        nb.metadata[GRADING_KEY] = self._seen  # set last, over whatever the submission carried
        return nb, self.resources

    def _session(self, nb, km, run, judge, *, keep, graded=None):
        """One sandboxed kernel under the notebook time limit: run the cells ``run`` of ``nb``, then
        judge the test cells ``judge`` into ``graded`` (default ``nb``). ``keep``: this is the
        graded run (its outputs, widget state and what it saw count). Returns (index, judging)
        where the kernel stopped, or None; the cells it did not reach are marked not run."""
        graded = nb if graded is None else graded
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._timed_out, self._keep, stop = False, keep, None
        timer = threading.Timer(self.notebook_timeout, self._time_up)
        timer.daemon = True
        timer.start()
        try:
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                if keep and info:
                    nb.metadata["language_info"] = info["content"]["language_info"]
                for index in run:
                    if self._run_cell(nb.cells[index], index):
                        stop = (index, False)
                        break
                if keep:  # frozen here: the judging phase never changes what the notebook shows
                    self.set_widgets_metadata()
                for index in judge if stop is None else ():
                    if self._judge_cell(graded.cells[index]):
                        stop = (index, True)
                        break
        finally:
            timer.cancel()
        if stop is not None:
            if keep:  # a stop while judging leaves the student's cells as they ran
                later = [i for i in (judge if stop[1] else (*run, *judge)) if i > stop[0]]
                text = f"not run: {self._stopped_by()} in an earlier cell"
            else:
                later = [i for i in judge if i > stop[0]] if stop[1] else list(judge)
                text = f"not judged: {self._stopped_by()} when the cells before the first stop ran again"
            for i in later:
                graded.cells[i].outputs = [_error(NOT_RUN, text)]
        return stop

    def _time_up(self) -> None:
        self._timed_out = True
        kill_sandbox(getattr(getattr(self.km, "provisioner", None), "process", None))

    def _stopped_by(self) -> str:
        if self._timed_out:
            return f"the notebook ran past its {self.notebook_timeout} s limit"
        return "the kernel died (os._exit, a crash, or the memory limit)"

    def _stop(self, cell, label: str) -> None:
        """The kernel is gone while running or judging ``cell``: say so there, and remember it."""
        name = TIME_LIMIT if self._timed_out else KERNEL_DIED
        cell.outputs.append(_error(name, self._stopped_by()))
        if self._keep:
            self._seen["time_limit" if self._timed_out else "died"] = label

    async def _async_handle_timeout(self, timeout, cell=None):
        self._cell_timed_out = True  # the grader's own knowledge, unlike the error output it adds
        return await super()._async_handle_timeout(timeout, cell)

    def _run_cell(self, cell, index) -> bool:
        """Run one of the student's cells; True when the kernel is gone."""
        label = cells.grade_id(cell) or f"cell {index}"
        self._cell_timed_out = False
        try:
            self.execute_cell(cell, index, store_history=True)
        except CellTimeoutError:
            # Interrupted at its time limit, then silent: note it and go on. If the kernel is gone,
            # the next cell raises DeadKernelError and the run stops there.
            self._cell_timed_out = True
            cell.outputs.append(_error("CellTimeoutError", "the cell did not stop when interrupted at its time limit"))
        except DeadKernelError:
            self._stop(cell, label)
            return True
        if self._cell_timed_out and self._keep:
            self._seen["cell_timeouts"].append(label)
        return False

    def _judge_cell(self, cell) -> bool:
        """Judge one test cell; its only outputs are the verdict. True when the kernel is gone."""
        grade_id = cells.grade_id(cell)
        cell.outputs = []
        cell.execution_count = None
        try:
            verdict = self._judge.run_test(grade_id, KernelTransport(self))
        except KernelGone:
            self._stop(cell, grade_id)
            return True
        if verdict.passed:
            cell.outputs = [new_output("stream", name="stdout", text="All checks passed.\n")]
        elif verdict.share > 0:
            # Only method checks failed: nbgrader reads a number as the cell's last output as partial credit.
            points = float(cell.metadata["nbgrader"]["points"])
            earned = round(points * verdict.share, 2)
            text = textwrap.fill(verdict.message, 100)  # shown as preformatted text: wrapped here
            cell.outputs = [new_output("stream", name="stdout", text=f"{text}\n"
                                       f"This costs the method's share: {earned:g} of {points:g} points.\n"),
                            new_output("execute_result", data={"text/plain": f"{earned:g}"}, metadata={},
                                       execution_count=None)]
        else:
            cell.outputs = [_error("CheckFailed", verdict.message)]
        return False

    async def async_probe(self, payload: bytes) -> bytes:
        """Run one judge request in the kernel; return the bytes of its single answer."""
        # The payload rides as a binary buffer of the request, not inside the code (see probes.serve).
        request = self.kc.session.msg("execute_request", {
            "code": "__import__('coursekit.probes', fromlist=['serve']).serve()", "silent": True,
            "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
        self.kc.session.send(self.kc.shell_channel.socket, request, buffers=[payload])
        msg_id = request["header"]["msg_id"]
        deadline = monotonic() + (self.timeout or 300)
        answers: list[str] = []
        while True:
            # Checked on every message, not only when IOPub is quiet: a kernel that keeps IOPub busy
            # (printing, or sending messages of its own) must not outlive the limit.
            if monotonic() > deadline:
                await ensure_async(self.km.interrupt_kernel())
                raise ProbeTimeout(f"your code did not finish within the {self.timeout} s time limit")
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.poll_slice))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise KernelGone("the kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "display_data" and MIME in msg["content"].get("data", {}):
                answers = [*answers[:1], msg["content"]["data"][MIME]]  # two are as wrong as a thousand
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                break
        await self._drain_shell_reply(msg_id)
        if len(answers) != 1 or not isinstance(answers[0], str):
            raise StudentCodeError("the kernel did not answer the grader's request (your code may have "
                                   "replaced the course's helpers or broken the kernel)")
        try:
            return base64.b64decode(answers[0], validate=True)
        except ValueError:
            raise StudentCodeError("the kernel's answer was not understood") from None

    async def _drain_shell_reply(self, msg_id: str) -> None:
        deadline = monotonic() + 5
        while monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.poll_slice))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


