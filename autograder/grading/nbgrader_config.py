"""nbgrader configuration for the course, built in one place.

The repository's nbgrader_config.py (read by the nbgrader command line and the JupyterLab
extension) and the course's own tools both call ``configure``: the course directory of
authoring/nbgrader_course.py, then grading's execution, autograde chain and feedback pages.
"""
from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from autograder.authoring.nbgrader_course import configure_course
from autograder.settings import REPO_ROOT, cell_timeout, notebook_timeout


def configure(c: Config, root: Path | str = REPO_ROOT, grading_dir: Path | str | None = None) -> Config:
    """Fill ``c`` as `make release` does (configure_course), and for grading and feedback."""
    configure_course(c, root, grading_dir)
    c.Execute.timeout = cell_timeout()
    c.Execute.interrupt_on_timeout = True
    c.Execute.extra_arguments = ["--HistoryManager.enabled=False"]
    c.Execute.iopub_timeout = 10
    # Deleted test cells come back from the gradebook at grading time.
    c.OverwriteCells.add_missing_cells = True

    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.preprocessors import DeduplicateIds, Execute, OverwriteCells
    from autograder.judging.executor import GradingExecute
    from autograder.grading.preprocessors import (CapOutputs, DropEmptyNbgraderMetadata, ExplainBlankAnswers,
                                                  ForgetUnknownCells, HideHiddenTests)
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
    from nbgrader.preprocessors import GetGrades
    from autograder.grading.feedback import FeedbackExporter, GetGradesOrAwaiting
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
    # pages and Formgrader's view of a submission, whose plain HTMLExporter reads it (grading/feedback.py).
    c.HTMLExporter.sanitize_html = True  # nbconvert's templates then emit no JavaScript output, widget or widget state
    c.HTMLExporter.skip_svg_encoding = False  # SVG only as <img src="data:...">, where it cannot run script
    c.HTMLExporter.filters = {"clean_html": "autograder.grading.feedback.clean_html",
                              "markdown2html": "autograder.grading.feedback.markdown2html"}
    c.HTMLExporter.preprocessors = ["autograder.grading.feedback.KeepInert"]
    return c


def make_config(root: Path | str = REPO_ROOT, grading_dir: Path | str | None = None) -> Config:
    return configure(Config(), root, grading_dir)
