"""Check a notebook from inside it, exactly as grading will run it.

    from coursekit import self_check
    self_check()               # save first: it checks the file on disk
    self_check("01_tensors")   # a notebook of your workspace (work/) by name, from anywhere

It starts a fresh kernel in a separate process (your open notebook is not disturbed), runs
the saved notebook top to bottom with the grader's time limits, and prints how many visible
checks pass. Same as ``make check NB=...`` in a terminal.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _current_notebook() -> Path | None:
    # JupyterLab (jupyter_server 2) tells the kernel which notebook it belongs to.
    name = os.environ.get("JPY_SESSION_NAME")
    if not name:
        return None
    path = Path(name)
    if path.is_file():
        return path.resolve()
    local = Path.cwd() / path.name  # the kernel runs in the notebook's folder
    return local if local.is_file() else None


def _named_notebook(notebook: str | os.PathLike) -> Path:
    path = Path(notebook)
    if path.is_file():
        return path
    from autograder.lab.workspace import resolve  # a name such as "01_tensors": the workspace's copy
    return resolve(path)


def self_check(notebook: str | os.PathLike | None = None) -> bool:
    """Run ``notebook`` (default: the one this kernel belongs to) as the grader will; True if all pass."""
    path = _named_notebook(notebook) if notebook else _current_notebook()
    if path is None:
        raise ValueError("self_check() could not tell which notebook this is. Save it, then call "
                         "self_check('01_tensors.ipynb') with its file name.")
    result = subprocess.run([sys.executable, "-m", "autograder.lab.check", str(path)],
                            capture_output=True, text=True)
    print(result.stdout.rstrip())
    if result.returncode == 2:
        print(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "the notebook could not run")
    return result.returncode == 0
