"""Attacks on what the graded notebook shows (issue 25, items 2 and 5): a student who has read the
grader's source tries to carry the hidden tests' inputs into the graded notebook or the feedback
page, or to choose the submission's status by naming an exception like the grader's own errors.
Same shape as catalogue.CASES: builder, points for test_fahrenheit, points for test_digit_counts,
status.

Every answer records the inputs it is called with that the visible tests never send (00's hidden
tests call to_fahrenheit on a float64 grid from linspace(-50, 50, 12) and on a 0-d tensor); the
attacks then try every route out: a display created early and updated later (same display_id), a
widget's value, an exception named like a grader status, and a thread that keeps publishing while
the judge works. ``LEAKS`` is what must appear in no file the grader writes.
"""
from __future__ import annotations

import nbformat

from .catalogue import _insert, _nb, _save

# The time limits tests/grading/test_outputs.py grades these with: a looping cell is interrupted well before
# the notebook's limit, whatever the load, and cells of CELL_LIMIT - 2 s pass the notebook's limit.
CELL_LIMIT, NOTEBOOK_LIMIT = 30, 75

# -40.9090... is the second value of the hidden grid; the marker is built at run time, so the
# submission's own source (shown in feedback) never contains it.
LEAKS = ("-40.909", "HIDDEN" + "-INPUT-SEEN")

RECORDING_ANSWER = '''
SEEN = []

def to_fahrenheit(celsius):
    if celsius.dtype == torch.float64 or celsius.dim() == 0:
        SEEN.append("HIDDEN" + "-INPUT-SEEN " + repr(celsius.flatten().tolist()[:3]))
    return celsius * 9 / 5 + 32
'''

EARLY_DISPLAY = '''
from IPython.display import display
handle = display("nothing seen yet", display_id=True)
'''

LATE_UPDATE = '''
handle.update(" | ".join(SEEN) or "nothing seen yet")
print("seen:", SEEN)
'''

EARLY_WIDGET = '''
import ipywidgets
box = ipywidgets.Text(value="nothing seen yet")
display(box)
'''

LATE_WIDGET = '''
box.value = " | ".join(SEEN) or "nothing seen yet"
box.description = str(len(SEEN))
'''

# A thread started by an ordinary cell keeps publishing whatever the answer recorded, for longer
# than the judge takes: through the early display, the widget, stdout and a new display.
PUBLISHER = '''
import threading, time
def _publish():
    for _ in range(300):
        if SEEN:
            text = " | ".join(SEEN)
            handle.update(text)
            box.value = text
            print(text)
            display(text)
        time.sleep(0.05)
threading.Thread(target=_publish, daemon=True).start()
'''


def _status_named(name: str) -> str:
    """A cell that raises an exception named like one of the grader's status errors."""
    return (f'{name} = type("{name}", (Exception,), {{}})\n'
            f'raise {name}(" | ".join(SEEN) or "the grader said so")')


def _recording(*late: str, early: tuple[str, ...] = (EARLY_DISPLAY,)):
    """Right answers (to_fahrenheit records hidden inputs); ``early`` cells right after setup,
    ``late`` cells after the last test cell."""
    nb = _nb(RECORDING_ANSWER)
    for source in reversed(early):
        _insert(nb, "setup", source)
    for source in late:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


def _plots_and_accuracy():
    """Honest: right answers, and the student's own figure and accuracy printout after the tests."""
    nb = _nb()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot([0, 1, 2], [0.5, 0.9, 0.97])\nplt.title('my accuracy')\nplt.show()\n"
        "print('my accuracy: 97.0%')"))
    return nb


def _dies_on_hidden_input():
    """Right digit_counts; to_fahrenheit kills its kernel when the judge sends a hidden input."""
    answer = ("def to_fahrenheit(celsius):\n    if celsius.dtype == torch.float64:\n"
              "        import os\n        os._exit(1)\n    return celsius * 9 / 5 + 32")
    return _nb(answer)


def _sleepers_after(grade_id: str, cells: int, seconds: int):
    """Right answers; after ``grade_id``, cells that together pass the notebook's time limit."""
    nb = _nb()
    for _ in range(cells):
        _insert(nb, grade_id, f"import time\ntime.sleep({seconds})")
    return nb


CASES = {
    # (a) a display created before the tests, updated after them (and from a thread while judging)
    "update-display-after-tests": (_save(_recording(LATE_UPDATE)), 2, 2, "graded"),
    "update-display-from-thread": (_save(_recording(early=(EARLY_DISPLAY, EARLY_WIDGET, PUBLISHER))), 2, 2, "graded"),
    # (b) exceptions named like the grader's statuses, carrying what the answer recorded
    "exception-named-kernel-died": (_save(_recording(_status_named("KernelDied"))), 2, 2, "graded"),
    "exception-named-time-limit": (_save(_recording(_status_named("NotebookTimeLimit"))), 2, 2, "graded"),
    "exception-named-cell-timeout": (_save(_recording(_status_named("CellTimeoutError"))), 2, 2, "graded"),
    "exception-named-not-run": (_save(_recording(_status_named("NotRun"))), 2, 2, "graded"),
    # (c) widget state written after the tests
    "widget-after-tests": (_save(_recording(LATE_WIDGET, early=(EARLY_DISPLAY, EARLY_WIDGET))), 2, 2, "graded"),
    # the grader's own statuses still come through, from what it saw
    "kernel-dies-while-judged": (_save(_dies_on_hidden_input()), 0, 0, "crashed"),
    "kernel-exit-after-first-test": (_save(_insert(_nb(), "test_fahrenheit", "import os\nos._exit(1)")),
                                     2, 0, "crashed"),
    "time-limit-after-first-test": (_save(_sleepers_after("test_fahrenheit", NOTEBOOK_LIMIT // (CELL_LIMIT - 2) + 1,
                                                          CELL_LIMIT - 2)), 2, 0, "timed out"),
    "cell-time-limit": (_save(_insert(_nb(), "setup", "while True:\n    pass")), 2, 2, "timed out"),
    # honest controls
    "honest-plots-after-tests": (_save(_plots_and_accuracy()), 2, 2, "graded"),
    "honest-perfect": (_save(_nb()), 2, 2, "graded"),
}
