"""Executing notebooks: nbclient without the reply stall, and grading's execution with the judge.

``CourseClient`` is nbclient's NotebookClient with ``PolledReplies`` (``autograder.polling``: the
fix of jupyter/nbclient#312), for ``make check``, the test suite and the benchmarks.

``GradingExecute`` is nbgrader's Execute for grading: the kernel runs in the sandbox, test cells
are not sent to the kernel but run by the judge (``autograder.judge``), which reaches the student's
code through ``KernelTransport``; outputs of cells that ran after a hidden test are not kept;
a notebook time limit kills the sandbox; a dead kernel costs the cells after it, not the notebook.
"""
from __future__ import annotations

import base64
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

from . import cells
from .polling import PolledReplies
from .judge import KernelGone, StudentCodeError, judge_for
from .sandbox import KERNEL_DIED, NOT_RUN, TIME_LIMIT, SandboxedKernelManager, kill_sandbox

AFTER_HIDDEN = "output not kept: this cell ran after hidden tests, whose inputs the kernel had seen"


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
        from .exercises import master_path
        self._stopped_by: str | None = None
        self._timed_out = False
        self._after_hidden = False
        assignment = (resources or {}).get("nbgrader", {}).get("notebook")
        self._judge = judge_for(master_path(assignment))
        timer = threading.Timer(self.notebook_timeout, self._time_up)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            timer.cancel()

    def _time_up(self) -> None:
        self._timed_out = True
        kill_sandbox(getattr(getattr(self.km, "provisioner", None), "process", None))

    def _stop(self, cell) -> None:
        if self._timed_out:
            self._stopped_by = f"the notebook ran past its {self.notebook_timeout} s limit"
            cell.outputs.append(_error(TIME_LIMIT, self._stopped_by))
        else:
            self._stopped_by = "the kernel died (os._exit, a crash, or the memory limit)"
            cell.outputs.append(_error(KERNEL_DIED, self._stopped_by))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped_by:
            cell.outputs = [_error(NOT_RUN, f"not run: {self._stopped_by} in an earlier cell")]
            return cell, resources
        if cells.is_test(cell):
            return self._judge_cell(cell), resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            # Interrupted at its time limit, then silent: note it and go on. If the kernel is gone,
            # the next cell raises DeadKernelError and the run stops there.
            cell.outputs.append(_error("CellTimeoutError", "the cell did not stop when interrupted at its time limit"))
        except DeadKernelError:
            self._stop(cell)
        if self._after_hidden:
            errors = [o for o in cell.outputs if o.get("output_type") == "error" and o.get("ename") in STATUS_ERRORS]
            cell.outputs = [new_output("stream", name="stdout", text=AFTER_HIDDEN + "\n"), *errors]
        return cell, resources

    def _judge_cell(self, cell):
        grade_id = cells.grade_id(cell)
        cell.outputs = []
        cell.execution_count = None
        try:
            verdict = self._judge.run_test(grade_id, KernelTransport(self))
        except KernelGone:
            self._stop(cell)
            return cell
        finally:
            self._after_hidden = self._after_hidden or self._judge.has_hidden(grade_id)
        if verdict.passed:
            cell.outputs = [new_output("stream", name="stdout", text="All checks passed.\n")]
        else:
            cell.outputs = [_error("CheckFailed", verdict.message)]
        return cell

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


# Errors the grader itself writes, which decide a status and must survive output filtering.
STATUS_ERRORS = {KERNEL_DIED, TIME_LIMIT, NOT_RUN, "CellTimeoutError"}


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


