"""nbgrader's course directory as authoring uses it: masters in solutions/, releases in course/.

``configure_course`` is what `make release` needs (folders, stubs, the release's preprocessors);
grading/nbgrader_config.py builds the whole configuration on top of it.
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import nbgrader.api
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets.config import Config

from autograder.authoring import cells
from autograder.authoring.cells import CODE_STUB
from autograder.settings import REPO_ROOT

COURSE_ID = "pytorch-course"

# nbgrader shells out to `alembic` (and kernels to `python`): make the tools of this
# interpreter's environment win even when .venv/bin is not on PATH.
_BIN = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def _alembic_head() -> str:
    """The gradebook schema's version, read from nbgrader's migration scripts in this process.

    nbgrader asks the `alembic heads` command for it each time it creates a gradebook: a new Python that
    imports nbgrader, 6 s of every grading folder's first run, of every release and of every test that
    grades (tests/authoring/test_nbgrader_course.py checks that both give the same version)."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(Path(nbgrader.api.__file__).parent / "alembic")).get_current_head()


nbgrader.api.get_alembic_version = functools.cache(_alembic_head)


class TestCellsMayRaise(NbGraderPreprocessor):
    """Released test cells carry the ``raises-exception`` tag, so JupyterLab's Run All (and
    nbclient) go on past a failing check: a blank notebook still shows every figure and widget
    below its first unsolved exercise. Grading is unaffected: test cells are judged there."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cells.is_test(cell):
            tags = list(cell.metadata.get("tags", []))
            if "raises-exception" not in tags:
                cell.metadata["tags"] = tags + ["raises-exception"]
        return cell, resources


def configure_course(c: Config, root: Path | str = REPO_ROOT, grading_dir: Path | str | None = None) -> Config:
    """Fill ``c`` so that source = solutions/, release = course/, grading work under grading/."""
    root = Path(root).resolve()
    grading = Path(grading_dir).resolve() if grading_dir else root / "grading"
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "course"
    # Absolute paths are kept as they are by os.path.join, so grading may live elsewhere.
    c.CourseDirectory.submitted_directory = str(grading / "submitted")
    c.CourseDirectory.autograded_directory = str(grading / "autograded")
    c.CourseDirectory.feedback_directory = str(grading / "feedback")
    c.CourseDirectory.db_url = f"sqlite:///{grading / 'gradebook.db'}"
    # A local exchange under grading/, so Formgrader's Release and Collect work on one machine (the workshop
    # hub sets its own shared exchange); nbgrader's default under /usr/local is missing on most machines.
    c.Exchange.root = str(grading / "exchange")
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

    from nbgrader.converters import GenerateAssignment
    c.GenerateAssignment.preprocessors = list(
        GenerateAssignment.class_traits()["preprocessors"].default()) + [TestCellsMayRaise]
    return c
