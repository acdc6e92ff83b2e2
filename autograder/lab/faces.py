"""The two faces of the course's JupyterLab: the student's (`make lab`) and the instructor's (`make formgrader`).

Each face is a Jupyter configuration folder under lab/, added to JUPYTER_CONFIG_PATH:

- lab/student: the workspace work/ with the course's Validate button (progress, then "k of n checks
  passed": lab/labextensions/pytorch-course-validate and autograder/lab/validation.py) instead of nbgrader's;
  no Formgrader, Create Assignment, course list or Assignment List (no exchange is set up locally), no
  Jupyter news pop-up;
- lab/instructor: the repository, with Formgrader and Create Assignment on grading/'s gradebook
  (the one `make autograde` fills), created on start when missing; nbgrader's own Validate button.

A JupyterHub (or any other launcher) reuses a face with ``lab_environment(face)`` or by putting the
folder on JUPYTER_CONFIG_PATH. A hub with a real exchange passes its own folder in ``overrides``: folders
earlier on the path win, so its labconfig/page_config.json with
``{"disabledExtensions": {"@jupyter/nbgrader:assignment-list": false}}`` and a jupyter_server_config.json
enabling ``nbgrader.server_extensions.assignment_list`` bring the Assignment List back.

    python -m autograder.lab.faces student|instructor [jupyter lab options...]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from autograder.settings import COURSE, REPO_ROOT
from autograder.authoring.nbgrader_course import COURSE_ID

LAB_CONFIG = REPO_ROOT / "lab"
FACES = ("student", "instructor")
STUDENT_START = "00_getting_started/00_getting_started.ipynb"


def config_dir(face: str) -> Path:
    if face not in FACES:
        raise ValueError(f"Unknown lab face {face!r}: choose one of {', '.join(FACES)}.")
    return LAB_CONFIG / face


def lab_environment(face: str, env: dict[str, str] | None = None,
                    overrides: list[Path | str] = ()) -> dict[str, str]:
    """``env`` (default: this process's) with the face's configuration folder first on JUPYTER_CONFIG_PATH,
    after ``overrides`` (folders whose settings win over the face's)."""
    env = dict(os.environ if env is None else env)
    paths = [str(p) for p in overrides] + [str(config_dir(face))] + [
        p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    # lab/ is also a Jupyter data folder: its nbconvert/templates/base/mathjax.html.j2 makes Formgrader's
    # pages load MathJax from this server (jupyter-server-mathjax) instead of a CDN, and labextensions/
    # holds the course's Validate button.
    data = [str(LAB_CONFIG)] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(data))
    return env


def lab_arguments(face: str, root_dir: Path | str | None = None) -> list[str]:
    """`jupyter lab` options for a face (the caller adds --no-browser, ports and the like)."""
    if face == "student":
        root = Path(root_dir) if root_dir else REPO_ROOT / "work"
        args = [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{STUDENT_START}"]
    else:
        # The formgrader needs the course (nbgrader_config.py's root) inside the server's root.
        root = Path(root_dir) if root_dir else REPO_ROOT
        args = [f"--ServerApp.root_dir={root}", "--LabApp.default_url=/lab"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    return args


# Where autograder.grading.nbgrader_config.configure puts the gradebook (tests/lab/test_jupyterlab.py checks they agree); read
# here without building nbgrader's configuration, which imports the whole grader (seconds on a busy machine).
GRADEBOOK = "grading/gradebook.db"  # and the exchange beside it, grading/exchange


def prepare_gradebook(root: Path | str = REPO_ROOT) -> Path:
    """Create grading/gradebook.db (or upgrade an old one), so Formgrader works on a fresh checkout."""
    from nbgrader.api import Gradebook

    # nbgrader shells out to `alembic`: this interpreter's environment must come first on PATH.
    tools = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != tools:
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
    path = Path(root).resolve() / GRADEBOOK
    db_url = f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        from nbgrader import dbutil
        dbutil.upgrade(db_url)  # a gradebook from an older nbgrader
    with Gradebook(db_url, COURSE_ID):
        pass
    # nbgrader's exchange for Release and Collect on this machine (autograder.grading.nbgrader_config points there): anyone may
    # create in it, the sticky bit keeps users from removing each other's folders, as nbgrader's docs set it up.
    exchange = path.parent / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o1777)
    return path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in FACES:
        print(f"usage: python -m autograder.lab.faces {'|'.join(FACES)} [jupyter lab options...]", file=sys.stderr)
        return 2
    face, extra = argv[0], argv[1:]
    if face == "student":
        from autograder.lab.workspace import WORK, sync
        report = sync(COURSE, WORK)
        if report.created:
            print(f"Your workspace is {WORK.relative_to(REPO_ROOT)}/ ({len(report.created)} new notebook(s) "
                  f"from course/); `make lab` never overwrites it.")
        for line in report.lines:
            print(line)
    else:
        print(f"Gradebook: {prepare_gradebook().relative_to(REPO_ROOT)}")
    command = [str(Path(sys.executable).parent / "jupyter"), "lab", *lab_arguments(face), *extra]
    os.chdir(REPO_ROOT)  # nbgrader reads nbgrader_config.py from the server's working folder
    os.execve(command[0], command, lab_environment(face))
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
