"""Attacks on the grader's own work (issue 25 items 3 and 4): a path the kernel controls, and
submissions too large for the grader to read, run or render. Same shape as catalogue.CASES:
a builder (path, ctx) and (points for test_fahrenheit, points for test_digit_counts, status).

Every target is a canary under the test's own temporary folder (``ctx["canary_socket"]``), never a
real system socket: grading runs as root here.
"""
from __future__ import annotations

import json

import nbformat

from .catalogue import A, _insert, _nb

# The grader once reached the kernel's sockets by path, through /proc/<pid>/root/run: a link left in
# place of a socket file, absolute, resolved against the host's root. Closing the kernel's stdin
# socket makes ZeroMQ on the grader's side reconnect, to whatever the path then holds.
RELINK_SOCKETS = """
import glob, os, time
for path in glob.glob("/run/k-*"):
    os.unlink(path)
    os.symlink({canary_socket!r}, path)
get_ipython().kernel.stdin_socket.close()
time.sleep(2)
"""

# 20 MB of widget state: nbclient writes it into the graded notebook's metadata.
HUGE_WIDGET = """
import ipywidgets
from IPython.display import display
display(ipywidgets.Textarea(value="w" * 20_000_000))
"""


def _relinked_sockets(path, ctx):
    nbformat.write(_insert(_nb(), "setup", RELINK_SOCKETS.format(**ctx)), str(path))


def _many_cells(path, ctx):
    """150,000 small cells (the grader once spent 195 s on them and wrote a 39 MB page)."""
    nb = json.loads(nbformat.writes(_nb()))
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "x = 1"}
    nb["cells"] += [dict(cell, id=f"c{i}") for i in range(150_000)]
    path.write_text(json.dumps(nb))


def _dense_source(path, ctx):
    """4 cells of dense source, 3 MB each (syntax highlighting once made a 60 MB page of them)."""
    nb = _nb()
    for _ in range(4):
        _insert(nb, "setup", "x = [" + "(1,2.5,'a')," * 250_000 + "]")
    nbformat.write(nb, str(path))


def _huge_widget(path, ctx):
    nbformat.write(_insert(_nb(), "setup", HUGE_WIDGET), str(path))


CASES = {
    "relinked-sockets": (_relinked_sockets, 2, 2, "graded"),
    "many-cells": (_many_cells, 0, 0, "too large"),
    "dense-source": (_dense_source, 0, 0, "too large"),
    # graded (full marks), then over the metadata cap: the scores stand, the notebook is not kept
    "huge-widget-state": (_huge_widget, 2, 2, "too large"),
}
