"""The executor's reply stall (jupyter/nbclient#312): after a cell that displays an ipywidget,
nbclient sometimes missed the kernel's execute_reply until the cell timeout. The project's
executor waits in short slices; this stress test fails if any widget cell waits longer than the
kernel's own work on it plus 2 s, over 500 widget-cell executions."""
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.judging.executor import CourseClient

pytestmark = pytest.mark.slow

KERNELS, CELLS = 5, 100
WIDGET = "interact(lambda x: x * x, x=(0, 10))"


class TimedClient(CourseClient):
    """Records, per cell, the client's wall time around each execution."""

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        start = time.perf_counter()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            cell.metadata["client_seconds"] = time.perf_counter() - start


def _kernel_seconds(cell) -> float:
    from dateutil.parser import isoparse
    timing = cell.metadata["execution"]
    return (isoparse(timing["iopub.status.idle"]) - isoparse(timing["iopub.status.busy"])).total_seconds()


def test_no_widget_cell_waits_for_its_timeout(tmp_path):
    worst = []
    for _ in range(KERNELS):
        nb = new_notebook(cells=[new_code_cell("from ipywidgets import interact")]
                          + [new_code_cell(WIDGET) for _ in range(CELLS)])
        TimedClient(nb, timeout=30, kernel_name="python3", record_timing=True,
                    resources={"metadata": {"path": str(tmp_path)}}).execute()
        for cell in nb.cells[1:]:
            assert any(o.get("output_type") == "display_data" for o in cell.outputs), "the widget was not displayed"
            worst.append(cell.metadata["client_seconds"] - _kernel_seconds(cell))
    assert len(worst) == KERNELS * CELLS >= 500
    assert max(worst) < 2.0, f"a widget cell waited {max(worst):.1f} s beyond its own work"


def test_a_large_judge_request_rides_beside_the_code_not_in_it():
    """The judge's request rides as a binary buffer beside a one-line execute request: the 16 MB of images
    06's hidden test sends took IPython 7 s to parse on a quiet machine when they were written into the
    code; as a buffer, 0.7 s quiet and up to 6 s on a loaded 2-core CI run. What is sent is checked, not how
    long it took: a timing bound either flakes under load or is too loose to tell the two designs apart."""
    import torch

    from autograder.judging.executor import GradingExecute, KernelTransport
    from coursekit import wire

    images = torch.randn(5000, 1, 28, 28)
    request = wire.encode({"op": "probe", "name": "_sum_probe", "source": "def _sum_probe(x):\n    return x.sum()\n",
                           "args": [images], "kwargs": {}})
    client = GradingExecute(timeout=60)
    client.nb, client.resources = new_notebook(), {}
    with client.setup_kernel():
        sent, send = [], client.kc.session.send

        def recording(stream, msg, *args, **kwargs):
            if isinstance(msg, dict) and msg.get("msg_type") == "execute_request":
                sent.append((msg["content"]["code"], [len(b) for b in kwargs.get("buffers") or []]))
            return send(stream, msg, *args, **kwargs)

        client.kc.session.send = recording
        transport = KernelTransport(client)
        transport.request(wire.encode({"op": "probe", "name": "_one", "source": "def _one():\n    return 1\n",
                                       "args": [], "kwargs": {}}))  # the kernel's first request imports torch
        sent.clear()
        start = time.perf_counter()
        answer = wire.decode(transport.request(request))
        seconds = time.perf_counter() - start
    assert torch.allclose(wire.decode(answer["result"]), images.sum())
    assert torch.equal(answer["args"][0], images)  # what became of the argument comes back too
    [(code, buffers)] = sent
    assert len(code) < 200 and buffers == [len(request)], (code[:200], buffers)
    print(f"a {len(request) / 2**20:.0f} MB judge request took {seconds:.2f} s")


def _watchdog(seconds, kill):
    """Ends a kernel that the code under test failed to stop, so that a wrong implementation fails the
    test instead of hanging it."""
    import threading
    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    return timer


def test_a_judge_request_cannot_outlive_its_limit_by_keeping_iopub_busy():
    """The kernel prints without pause while it works on the judge's request: the per-request limit
    still holds (it was once checked only when a poll of IOPub came back empty)."""
    from autograder.judging.executor import GradingExecute, KernelTransport, ProbeTimeout
    from autograder.judging.sandbox import kill_sandbox
    from coursekit import wire

    busy = ("def _busy_probe():\n    import time\n    while True:\n"
            "        print('still working', flush=True)\n        time.sleep(0.005)\n")
    request = wire.encode({"op": "probe", "name": "_busy_probe", "source": busy, "args": [], "kwargs": {}})
    warm_up = wire.encode({"op": "lookup", "names": ["x"]})
    client = GradingExecute(timeout=120)
    client.nb, client.resources = new_notebook(), {}
    with client.setup_kernel():
        KernelTransport(client).request(warm_up)  # the kernel imports torch for its first request
        client.timeout = 3
        timer = _watchdog(60, lambda: kill_sandbox(client.km.provisioner.process))
        start = time.perf_counter()
        with pytest.raises(ProbeTimeout):
            KernelTransport(client).request(request)
        seconds = time.perf_counter() - start
        timer.cancel()
    assert seconds < 15, f"the request ran {seconds:.0f} s past a 3 s limit"


# A cell that keeps the grader's shell channel busy with messages that answer nothing, from a thread,
# while it never finishes itself.
SHELL_FLOOD = """
import threading, time
kernel = get_ipython().kernel
ident = kernel._parent_ident["shell"]
def flood():
    while True:
        kernel.session.send(kernel.shell_stream, "status", {"execution_state": "busy"},
                            parent={"header": {"msg_id": "not-yours"}}, ident=ident)
        time.sleep(0.005)
threading.Thread(target=flood, daemon=True).start()
time.sleep(3600)
"""


def test_a_cell_cannot_outlive_its_limit_by_keeping_the_shell_channel_busy(tmp_path):
    from nbclient.exceptions import CellExecutionError

    nb = new_notebook(cells=[new_code_cell(SHELL_FLOOD)])
    client = CourseClient(nb, timeout=3, kernel_name="python3", interrupt_on_timeout=True,
                          resources={"metadata": {"path": str(tmp_path)}})
    timer = _watchdog(60, lambda: client.km and client.km.provisioner.process.kill())
    start = time.perf_counter()
    with pytest.raises(CellExecutionError, match="KeyboardInterrupt"):
        client.execute()  # interrupted at the limit: the cell fails with KeyboardInterrupt
    seconds = time.perf_counter() - start
    timer.cancel()
    assert seconds < 30, f"the cell ran {seconds:.0f} s past a 3 s limit"


def test_a_cell_cannot_fill_the_graders_memory_with_output(tmp_path, monkeypatch):
    """What a cell prints is held in memory only up to a cap while it runs; the rest is dropped with a note."""
    from autograder.judging import polling
    monkeypatch.setattr(polling, "MAX_CELL_OUTPUT_CHARS", 1_000_000)
    nb = new_notebook(cells=[new_code_cell("for _ in range(50):\n    print('x' * 100_000, flush=True)"),
                             new_code_cell("print('next cell')")])
    CourseClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    kept = sum(len(o.get("text", "")) for o in nb.cells[0].outputs)
    assert 900_000 < kept < 1_200_000, f"{kept:,} characters of a 5,000,000-character output were kept"
    assert "was not kept" in nb.cells[0].outputs[-1]["text"]
    assert nb.cells[1].outputs[0]["text"] == "next cell\n"


METHOD_TEST = """from coursekit.probes import student_side
from coursekit.checks import expect_method

@student_side
def _uses_mul():
    return "mul" in to_fahrenheit.__code__.co_names

expect_method(_uses_mul(), "to_fahrenheit should call torch.mul.")
expect_close(to_fahrenheit(torch.tensor([0.0, 100.0])), torch.tensor([32.0, 212.0]), name="to_fahrenheit")
"""


def test_right_values_by_another_method_get_the_values_share_from_nbgrader(monkeypatch):
    """A failed method check (checks.expect_method) costs its share and no more, end to end: a sandboxed
    kernel, the executor's verdict in the test cell, and nbgrader's own reading of that cell."""
    from nbgrader.utils import determine_grade

    from autograder.authoring import cells, masters
    from autograder.judging import executor
    from autograder.judging.judge import Judge
    from coursekit import checks

    judge = Judge(masters.master_path("00_getting_started"))
    judge.tests["test_fahrenheit"] = METHOD_TEST
    monkeypatch.setattr(executor, "judge_for", lambda path: judge)
    nb = masters.student_copy("00_getting_started", {"fahrenheit": "def to_fahrenheit(c):\n    return c * 9 / 5 + 32"})
    keep = {"setup", "ex_fahrenheit", "test_fahrenheit", "ex_digit_counts", "test_digit_counts"}
    nb.cells = [c for c in nb.cells if cells.grade_id(c) in keep]
    nb, _ = executor.GradingExecute(timeout=60).preprocess(nb, {"nbgrader": {"notebook": "00_getting_started"}})
    by_id = {cells.grade_id(c): c for c in nb.cells}
    assert determine_grade(by_id["test_fahrenheit"]) == (round(2 * (1 - checks.METHOD_SHARE), 2), 2.0) == (1.33, 2.0)
    assert "values are right, but to_fahrenheit should call torch.mul" in " ".join(by_id["test_fahrenheit"].outputs[0].text.split())
    assert determine_grade(by_id["test_digit_counts"]) == (2.0, 2.0), "the master's answer keeps full marks"
