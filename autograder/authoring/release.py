"""Regenerate the student notebooks in course/ from the masters in solutions/.

Runs real ``nbgrader generate_assignment`` for every assignment, with a throw-away
gradebook, so the result depends on solutions/ alone: twice in a row gives no diff.

    python -m autograder.authoring.release [ASSIGNMENT ...]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from autograder.settings import REPO_ROOT


def assignments(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name for p in (root / "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")) and not p.name.startswith("."))


def generate(assignment_ids: list[str] | None = None, root: Path = REPO_ROOT,
             release_dir: Path | None = None) -> list[Path]:
    """Write the released notebooks; return their paths. Raises RuntimeError on failure."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from autograder.authoring.nbgrader_course import configure_course

    root = Path(root).resolve()
    wanted = assignment_ids or assignments(root)
    with tempfile.TemporaryDirectory(prefix="course-release-") as scratch:
        config = configure_course(Config(), root, grading_dir=scratch)
        if release_dir is not None:
            config.CourseDirectory.release_directory = str(Path(release_dir).resolve())
        api = NbGraderAPI(config=config)
        for assignment in wanted:
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n"
                                   f"{result.get('error', '')}\n{result.get('log', '')}")
    out = Path(release_dir or root / "course").resolve()
    if assignment_ids is None:  # a full release also removes assignments that no longer exist
        for stale in out.iterdir() if out.exists() else []:
            if stale.is_dir() and stale.name not in wanted:
                shutil.rmtree(stale)
    return sorted(path for a in wanted for path in (out / a).glob("*.ipynb"))


def main(argv: list[str]) -> int:
    try:
        for path in generate(argv or None):
            print(f"released {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
