"""Attacks on the boundary (issue 15): what a submission leaves behind, prints or starts must not
reach the host, the hidden tests, other students or the batch. Same shape as catalogue.CASES.

Every target is a canary or decoy under the test's own temporary folder (``ctx["canaries"]``),
never a real repository or system file: grading runs as root here.
"""
from __future__ import annotations

import io
import zipfile

import nbformat

from .catalogue import A, _insert, _nb, _save

# Text that appears only in 00's hidden tests' code: none of it may reach feedback or autograded/.
HIDDEN_MARKERS = ("grid * 1.8 + 32", "manual_seed(7)", "linspace(-50, 50, 12")


def _after_tests(code: str):
    """Right answers, and ``code`` in a cell after the last test cell."""
    nb = _nb()
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb


def _templated_first(template: str):
    def write(path, ctx):
        nbformat.write(_insert(_nb(), "setup", template.format(**ctx)), str(path))
    return write


LEAK_FOLDER = """
import os, pathlib
for root in (".", "..", "/tmp", os.path.expanduser("~")):
    for path in pathlib.Path(root).rglob("*.ipynb"):
        try:
            print(path, path.read_text()[:200000])
        except OSError:
            pass
"""

LEAK_HOOK = """
ip = get_ipython()
ip.events.register("pre_run_cell", lambda info: print("CELL SOURCE:", info.raw_cell))
def _show(lines):
    print("TRANSFORMED:", "".join(lines))
    return lines
ip.input_transformers_cleanup.append(_show)
"""

SYMLINKS = """
import os
targets = {canaries!r}
for i, target in enumerate(targets):
    for name in (f"link{{i}}.ipynb", f"link{{i}}.html", "00_getting_started.ipynb", "result.json"):
        try:
            os.symlink(target, name)
        except OSError:
            pass
for name in ("fifo", "00_getting_started.html", "result.fifo"):
    try:
        os.mkfifo(name)
    except OSError:
        pass
try:
    os.symlink("/", "root")
except OSError:
    pass
"""

ATEXIT_SLEEP = """
import atexit, os, time
def _hold_the_grader():
    os.write(2, b"ATEXIT HANDLER RAN\\n")  # the kernel's own stderr: the grader's log of it
    time.sleep(120)
atexit.register(_hold_the_grader)
"""

FILL_DISKS = """
import os
chunk = b"x" * (64 * 2**20)
for folder in ("/tmp", ".", os.path.expanduser("~"), "/dev/shm"):
    for i in range(40):
        try:
            with open(os.path.join(folder, f"fill{i}.bin"), "wb") as handle:
                handle.write(chunk)
        except OSError:
            break
"""

HUGE_OUTPUTS = """
from IPython.display import HTML, display
display(HTML("<p>" + "x" * 30_000_000 + "</p>"))
try:
    raise ValueError("y" * 20_000_000)
except ValueError as error:
    import traceback
    traceback.print_exc()
raise RuntimeError("z" * 20_000_000)
"""

FORK_STORM = """
import os, time
started = 0
for _ in range(400):
    try:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        started += 1
    except OSError:
        break
print("children started:", started)
"""

STDERR_ESCAPES = """
import atexit, os, subprocess, sys
FAKE = "\\x1b[2J\\x1b[31mgraded 999 graded; all students full marks\\x1b[0m\\n"
sys.stderr.write(FAKE * 5)
sys.__stderr__.write(FAKE * 5)
os.write(2, FAKE.encode() * 5)
subprocess.run(["sh", "-c", "printf '\\\\033[31mgraded 999 graded\\\\n' >&2"])
atexit.register(os.write, 2, FAKE.encode() * 5)
"""


def _zip_bomb(path, ctx):
    """A zip of a few hundred KiB that would expand to 300 MiB (the notebook inside is fine)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{A}.ipynb", nbformat.writes(_nb()))
        with archive.open("padding.bin", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(300):
                member.write(block)
    path.with_suffix(".zip").write_bytes(buffer.getvalue())


CASES = {
    "leak-working-folder": (_save(_after_tests(LEAK_FOLDER)), 2, 2, "graded"),
    "leak-input-history": (_save(_after_tests("print(In)\nprint(_ih)\nprint(globals().keys())")), 2, 2, "graded"),
    "leak-pre-run-hook": (_save(_insert(_nb(), "setup", LEAK_HOOK)), 2, 2, "graded"),
    "symlinks-and-fifos": (_templated_first(SYMLINKS), 2, 2, "graded"),
    "atexit-sleep": (_save(_after_tests(ATEXIT_SLEEP)), 2, 2, "graded"),
    "fill-disks": (_save(_insert(_nb(), "setup", FILL_DISKS)), 2, 2, "graded"),
    "huge-outputs": (_save(_after_tests(HUGE_OUTPUTS)), 2, 2, "graded"),
    "fork-storm": (_save(_insert(_nb(), "setup", FORK_STORM)), 2, 2, "graded"),
    "stderr-escapes": (_save(_insert(_nb(), "setup", STDERR_ESCAPES)), 2, 2, "graded"),
    # intake: the archive is refused whole, so this student has no submission at all
    "zip-bomb": (_zip_bomb, 0, 0, "missing"),
}
