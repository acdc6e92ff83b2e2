"""The executor's reply stall (jupyter/nbclient#312): after a cell that displays an ipywidget,
nbclient sometimes missed the kernel's execute_reply until the cell timeout. The project's
executor waits in short slices; this stress test fails if any widget cell waits longer than the
kernel's own work on it plus 2 s, over 500 widget-cell executions."""
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.executor import CourseClient

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


def test_a_large_judge_request_crosses_in_well_under_a_second():
    """The judge's request rides as a binary buffer beside a one-line execute request: the 16 MB of images
    06's hidden test sends took IPython 7 s to parse on a quiet machine when they were written into the
    code; as a buffer, 0.04 s quiet and 2.3 s on a loaded CI run."""
    import torch

    from autograder.executor import GradingExecute, KernelTransport
    from coursekit import wire

    images = torch.randn(5000, 1, 28, 28)
    request = wire.encode({"op": "probe", "name": "_sum_probe", "source": "def _sum_probe(x):\n    return x.sum()\n",
                           "args": [images], "kwargs": {}})
    client = GradingExecute(timeout=60)
    client.nb, client.resources = new_notebook(), {}
    with client.setup_kernel():
        start = time.perf_counter()
        answer = wire.decode(KernelTransport(client).request(request))
        seconds = time.perf_counter() - start
    assert torch.allclose(wire.decode(answer["result"]), images.sum())
    assert torch.equal(answer["args"][0], images)  # what became of the argument comes back too
    assert seconds < 5, f"a 16 MB request took {seconds:.1f} s"
