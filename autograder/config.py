"""nbgrader configuration for the course, built in one place.

The repository's nbgrader_config.py (read by the nbgrader command line and the JupyterLab
extension) and the course's own tools both call ``configure``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config

from . import REPO_ROOT

# nbgrader shells out to `alembic` (and kernels to `python`): make the tools of this
# interpreter's environment win even when .venv/bin is not on PATH.
_BIN = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

def cell_timeout() -> int:
    """Seconds a cell may run. Deep-learning cells train models: nbgrader's 30 s is far too short."""
    return int(os.environ.get("COURSE_CELL_TIMEOUT", "300"))


CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def not_written(what: str) -> str:
    """What a learner reads when a released stub ran: the judge and the feedback pages say it alike."""
    return f"{what} is not written yet: replace `raise NotImplementedError()` with your code."


def configure(c: Config, root: Path | str = REPO_ROOT, grading_dir: Path | str | None = None) -> Config:
    """Fill ``c`` so that source = solutions/, release = course/, grading work under grading/."""
    root = Path(root).resolve()
    grading = Path(grading_dir).resolve() if grading_dir else root / "grading"
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = "pytorch-course"
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

    c.Execute.timeout = cell_timeout()
    c.Execute.interrupt_on_timeout = True
    c.Execute.extra_arguments = ["--HistoryManager.enabled=False"]
    c.Execute.iopub_timeout = 10
    # Deleted test cells come back from the gradebook at grading time.
    c.OverwriteCells.add_missing_cells = True

    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.preprocessors import DeduplicateIds, Execute, OverwriteCells
    from .executor import GradingExecute
    from .preprocessors import (CapOutputs, DropEmptyNbgraderMetadata, ExplainBlankAnswers, ForgetUnknownCells,
                                HideHiddenTests, TestCellsMayRaise)
    from .sandbox import notebook_timeout
    c.GradingExecute.notebook_timeout = notebook_timeout()
    # Student code runs in the sandbox; test cells run in the judge (docs/SECURITY.md).
    chain = list(Autograde.class_traits()["autograde_preprocessors"].default())
    chain[chain.index(Execute)] = GradingExecute
    chain.insert(chain.index(GradingExecute) + 1, CapOutputs)
    chain.append(HideHiddenTests)  # the graded notebook keeps scores and messages, not the hidden tests' code
    c.Autograde.autograde_preprocessors = chain
    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    sanitize.insert(sanitize.index(DeduplicateIds) + 1, DropEmptyNbgraderMetadata)
    sanitize.insert(sanitize.index(OverwriteCells), ForgetUnknownCells)
    c.Autograde.sanitize_preprocessors = sanitize
    c.GenerateAssignment.preprocessors = list(
        GenerateAssignment.class_traits()["preprocessors"].default()) + [TestCellsMayRaise]
    from nbgrader.preprocessors import GetGrades
    from .feedback import FeedbackExporter, GetGradesOrAwaiting
    feedback = list(GenerateFeedback.class_traits()["preprocessors"].default())
    feedback[feedback.index(GetGrades)] = GetGradesOrAwaiting  # unscored answers read "awaiting grading"
    c.GenerateFeedback.preprocessors = [HideHiddenTests, ExplainBlankAnswers] + feedback
    c.GenerateFeedback.exporter_class = FeedbackExporter  # the same page, rendered in a fraction of the time
    # nbgrader's page, saying "awaiting grading" (lab/nbconvert/templates/course_feedback/feedback.html.j2)
    c.FeedbackExporter.template_name = "course_feedback"
    # Feedback pages load MathJax from the Jupyter server showing them, never a CDN: the course's
    # base/mathjax.html.j2 (lab/nbconvert/templates) comes before nbconvert's own.
    import nbgrader
    formgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    c.HTMLExporter.extra_template_basedirs = [str(formgrader_templates), str(REPO_ROOT / "lab" / "nbconvert" / "templates")]
    # What a student wrote is inert on every page nbconvert renders with this configuration: the feedback
    # pages and Formgrader's view of a submission, whose plain HTMLExporter reads it (autograder/feedback.py).
    c.HTMLExporter.sanitize_html = True  # nbconvert's templates then emit no JavaScript output, widget or widget state
    c.HTMLExporter.skip_svg_encoding = False  # SVG only as <img src="data:...">, where it cannot run script
    c.HTMLExporter.filters = {"clean_html": "autograder.feedback.clean_html",
                              "markdown2html": "autograder.feedback.markdown2html"}
    c.HTMLExporter.preprocessors = ["autograder.feedback.KeepInert"]
    return c


def make_config(root: Path | str = REPO_ROOT, grading_dir: Path | str | None = None) -> Config:
    return configure(Config(), root, grading_dir)
