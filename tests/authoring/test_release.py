"""course/ is what `make release` makes from solutions/, and it gives nothing away."""
import filecmp

import nbformat
import pytest

from autograder.settings import REPO_ROOT
from autograder.authoring import release
from autograder.authoring.release import assignments

LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "MARK SCHEME")


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    release.generate(root=REPO_ROOT, release_dir=out)
    return out


def test_course_matches_a_fresh_release(fresh_release):
    committed = sorted(p.relative_to(REPO_ROOT / "course") for p in (REPO_ROOT / "course").rglob("*") if p.is_file())
    generated = sorted(p.relative_to(fresh_release) for p in fresh_release.rglob("*") if p.is_file())
    assert committed == generated, "course/ and solutions/ list different files: run `make release`"
    stale = [str(p) for p in committed if not filecmp.cmp(REPO_ROOT / "course" / p, fresh_release / p, shallow=False)]
    assert not stale, f"course/ is stale, run `make release`: {stale}"


def test_release_is_deterministic(fresh_release, tmp_path):
    release.generate(root=REPO_ROOT, release_dir=tmp_path)
    for path in fresh_release.rglob("*.ipynb"):
        assert path.read_bytes() == (tmp_path / path.relative_to(fresh_release)).read_bytes(), path.name


@pytest.mark.parametrize("assignment", assignments())
def test_student_copy_hides_solutions_and_hidden_tests(assignment):
    nb = nbformat.read(str(REPO_ROOT / "course" / assignment / f"{assignment}.ipynb"), as_version=4)
    master = nbformat.read(str(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    assert not [m for m in LEAKS if m in text]
    hidden, visible = [], []
    for cell in master.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            before, rest = cell.source.split("### BEGIN HIDDEN TESTS", 1)
            block, after = rest.split("### END HIDDEN TESTS", 1)
            hidden.append(block)
            visible += [before, after]
        else:
            visible.append(cell.source)
    visible_text = "\n".join(visible)
    for block in hidden:
        for line in (l.strip() for l in block.splitlines()):
            # a distinctive hidden line (one the master does not also show) must not reach the release
            if len(line) > 25 and line not in visible_text:
                assert line not in text, f"hidden test line leaked into course/: {line}"
    for cell in nb.cells:
        assert not cell.get("outputs"), "released notebooks carry no outputs"
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source
