"""Re-run a graded notebook's checks in a clean Python process, where the kernel's tricks don't work.

nbgrader trusts the kernel: a test cell passes when its output shows no error. A student's
code runs in that same kernel first, so it can hide errors (patching IPython's traceback
display, ``sys.excepthook``), or neuter the checks (``torch.testing.assert_close = ...``,
redefining ``expect_close``). This module runs the autograded notebook again, cell by cell,
with plain ``exec`` in a fresh interpreter (inside the same sandbox), and decides pass/fail
itself:

- a test cell passes only if executing it raises nothing;
- before each test cell, the check helpers are bound afresh into the namespace, and the
  guarded functions (the course checks, ``torch.testing``, comparison functions, builtins the
  checks rely on) are verified to be the originals, code objects included; a test cell run
  after tampering fails.

The grader keeps a test cell's points only when the kernel run and this run both pass it.

    python -m autograder.recheck NOTEBOOK.ipynb RESULT.json
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import signal
import sys

GUARDED = [("builtins", n) for n in ("isinstance", "type", "exec", "compile", "len", "abs", "float",
                                       "AssertionError", "Exception", "BaseException", "bool")]
GUARDED += [("torch.testing", "assert_close"), ("torch", "equal"), ("torch", "allclose"), ("torch", "isclose"),
            ("math", "isclose")]
CHECKS_MODULE = "coursekit.checks"


class _NoIPython:
    """Enough of get_ipython() for course notebooks: magics run their code once or do nothing."""

    def __init__(self, namespace: dict):
        self.user_ns = namespace

    def run_line_magic(self, name, line, *args, **kwargs):
        if name in ("time", "timeit") and line.strip():
            exec(compile(line, "<magic>", "exec"), self.user_ns)

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        if name in ("time", "timeit", "capture"):
            exec(compile(cell, "<magic>", "exec"), self.user_ns)

    def system(self, *args, **kwargs):
        return None

    getoutput = system

    def __getattr__(self, name):  # anything else a notebook may call: a harmless no-op
        return lambda *args, **kwargs: None


def _resolve(module: str, name: str):
    return getattr(sys.modules[module], name)


def _snapshot(checks) -> dict:
    import torch  # noqa: F401  (the guarded modules must be loaded)
    import torch.testing  # noqa: F401
    import math  # noqa: F401
    table = {(m, n): _resolve(m, n) for m, n in GUARDED}
    for name in checks.__all__:
        table[(CHECKS_MODULE, name)] = getattr(checks, name)
    return {key: (obj, getattr(obj, "__code__", None)) for key, obj in table.items()}


def _tampered(snapshot: dict) -> list[str]:
    changed = []
    for (module, name), (obj, code) in snapshot.items():
        current = getattr(sys.modules.get(module), name, None)
        if current is not obj or getattr(current, "__code__", None) is not code:
            changed.append(f"{module}.{name}")
    return changed


def _alarm(signum, frame):
    raise TimeoutError("cell ran past the time limit")


def run(path: str, cell_timeout: int, report=lambda results: None) -> dict:
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager
    import coursekit.checks as checks

    nb = nbformat.read(path, as_version=4)
    snapshot = _snapshot(checks)
    fresh = {name: getattr(checks, name) for name in checks.__all__}
    namespace: dict = {"__name__": "__main__"}
    namespace["get_ipython"] = lambda: _NoIPython(namespace)
    namespace["display"] = lambda *args, **kwargs: None
    transform = TransformerManager().transform_cell
    results: dict[str, dict] = {}
    signal.signal(signal.SIGALRM, _alarm)
    tests = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.get("nbgrader", {}).get("solution")]
    for cell in nb.cells[: (tests[-1] + 1) if tests else 0]:  # cells after the last test cannot change a grade
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        grade_id = meta.get("grade_id", "")
        if is_test:
            changed = _tampered(snapshot)
            if changed:
                results[grade_id] = {"passed": False, "message": f"the checks were tampered with: {', '.join(changed[:3])}"}
                continue
            namespace.update(fresh)  # rebind the check helpers the test cell uses
        try:
            source = transform(cell.source)
            signal.alarm(cell_timeout)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(source, f"<{grade_id or 'cell'}>", "exec"), namespace)
            signal.alarm(0)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: the run goes on
            signal.alarm(0)
            if is_test:
                results[grade_id] = {"passed": False, "message": f"{type(error).__name__}: {str(error)[:300]}"}
            continue
        if is_test:
            changed = _tampered(snapshot)
            results[grade_id] = ({"passed": False, "message": f"the checks were tampered with: {', '.join(changed[:3])}"}
                                 if changed else {"passed": True, "message": ""})
            report(results)  # kept even if a later cell kills the process
    return results


def main(argv: list[str]) -> int:
    notebook, out = argv[0], argv[1]
    timeout = int(os.environ.get("COURSE_CELL_TIMEOUT", "300"))
    # The grader sends a one-time token on stdin; results without it are not accepted.
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    write, truncate, seek = os.write, os.ftruncate, os.lseek  # bound now, before student code runs

    def report(results: dict) -> None:
        data = json.dumps({"token": token, "results": results}).encode()
        seek(fd, 0, 0)
        truncate(fd, 0)
        write(fd, data)

    report(run(notebook, timeout, report))
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
