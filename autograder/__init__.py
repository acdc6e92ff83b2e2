"""The grading layer: nbgrader configuration, release, exercise harness and the batch grader."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO_ROOT / "solutions"
COURSE = REPO_ROOT / "course"
