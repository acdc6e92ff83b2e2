"""One nbgrader course directory for grading: a gradebook, released assignments, submissions.

The masters in solutions/ stay where they are (read-only); everything nbgrader writes
(gradebook.db, submitted/, autograded/, feedback/, release/) lives under one folder, so a
grading run can use grading/ or a scratch folder of its own.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.settings import REPO_ROOT
from autograder.grading.nbgrader_config import make_config


@dataclass
class CellGrade:
    grade_id: str
    auto_score: float | None
    manual_score: float | None
    max_score: float
    needs_manual_grade: bool

    @property
    def score(self) -> float:
        if self.manual_score is not None:
            return self.manual_score
        return self.auto_score or 0.0


class GradingError(RuntimeError):
    """nbgrader could not grade a submission; the message carries its log."""


class Workspace:
    def __init__(self, folder: Path | str, root: Path = REPO_ROOT):
        self.folder = Path(folder).resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = make_config(root, grading_dir=self.folder)
        self.config.CourseDirectory.release_directory = str(self.folder / "release")
        self.db_url = self.config.CourseDirectory.db_url
        self.course_id = self.config.CourseDirectory.course_id
        self._api = None

    @property
    def api(self):
        if self._api is None:
            from nbgrader.apps import NbGraderAPI
            self._api = NbGraderAPI(config=self.config)
        return self._api

    def gradebook(self):
        from nbgrader.api import Gradebook
        return Gradebook(self.db_url, self.course_id)

    def prepare(self, assignments: list[str]) -> None:
        """Record each assignment's cells (hidden tests included) in the gradebook."""
        for assignment in assignments:
            result = self.api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise GradingError(f"generate_assignment {assignment} failed:\n{result.get('log', '')}")

    def submission_path(self, assignment: str, student: str) -> Path:
        return self.folder / "submitted" / student / assignment / f"{assignment}.ipynb"

    def submit(self, assignment: str, student: str, notebook: Path | str) -> Path:
        dest = self.submission_path(assignment, student)
        if dest.parent.exists():
            shutil.rmtree(dest.parent)
        dest.parent.mkdir(parents=True)
        shutil.copyfile(notebook, dest)
        return dest

    def autograde(self, assignment: str, student: str) -> dict[str, CellGrade]:
        result = self.api.autograde(assignment, student, force=True, create=True)
        if not result["success"]:
            raise GradingError(result.get("log", "") + result.get("error", ""))
        return self.grades(assignment, student)

    def grades(self, assignment: str, student: str) -> dict[str, CellGrade]:
        with self.gradebook() as gb:
            notebook = gb.find_submission_notebook(assignment, assignment, student)
            return {g.name: CellGrade(g.name, g.auto_score, g.manual_score, g.max_score, g.needs_manual_grade)
                    for g in notebook.grades}

    def autograded_path(self, assignment: str, student: str) -> Path:
        return self.folder / "autograded" / student / assignment / f"{assignment}.ipynb"


def prepared_template(out: Path, assignments: list[str], version: str) -> Path:
    """A prepared gradebook (every assignment's cells) under ``out``/templates, that each worker's scratch
    folder copies; made once per version of the masters and of the grader's code."""
    from autograder.authoring.masters import master_path
    from autograder.grading.results import _sha
    sources = b"".join(master_path(a).read_bytes() for a in assignments)
    template = out / "templates" / _sha(sources, version.encode())[:16]
    if not (template / "gradebook.db").exists():
        shutil.rmtree(out / "templates", ignore_errors=True)  # older masters' templates
        # Built aside and moved into place whole: a run stopped midway never leaves half a template.
        building = template.with_name(template.name + ".building")
        Workspace(building).prepare(assignments)
        building.rename(template)
    return template
