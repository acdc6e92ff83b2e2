"""What a student sees (issue 26): feedback pages typeset their maths opened from disk and say "awaiting
grading" for answers nobody has scored; `make check` prints only what a student needs; 01's profiler
taste writes no error box on a CPU-only machine."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.settings import REPO_ROOT
from autograder.authoring import cells
from autograder.grading import feedback
from autograder.lab import check
from labserver import CHROMIUM, CHROMIUM_FLAGS, SHOTS

A, STUDENT, WRITTEN = "01_tensors", "ada", "written_view_vs_reshape"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """01 as autograding leaves it: every test cell scored in the gradebook, the written answer not yet."""
    from autograder.grading.course_dir import Workspace
    ws = Workspace(tmp_path_factory.mktemp("grading"))
    ws.prepare([A])
    with ws.gradebook() as gradebook:
        gradebook.add_student(STUDENT)
        gradebook.add_submission(A, STUDENT)
        for grade in gradebook.find_submission_notebook(A, A, STUDENT).grades:
            if grade.name != WRITTEN:
                grade.auto_score = grade.max_score
        gradebook.db.commit()
    graded = ws.autograded_path(A, STUDENT)
    graded.parent.mkdir(parents=True)
    graded.write_bytes((REPO_ROOT / "course" / A / f"{A}.ipynb").read_bytes())
    return ws


def _page(ws) -> str:
    result = ws.api.generate_feedback(A, STUDENT, force=True)
    assert result["success"], result.get("log")
    return (ws.folder / "feedback" / STUDENT / A / f"{A}.html").read_text()


def _shown(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_unscored_written_answer_awaits_grading(graded):
    shown = _shown(_page(graded))
    assert "Written response (awaiting grading, 2.0 points)" in shown, "the table of contents says so"
    assert "Student's answer awaiting grading, 2.0 points" in shown, "and the answer's heading"
    assert "1 written answer awaiting grading" in shown, "and the page's total"
    assert "Score: 0.0 / 2.0" not in shown
    assert "Test cell (Score: 1.0 / 1.0)" in shown, "scored cells keep their score"
    with graded.gradebook() as gradebook:  # the instructor grades it in Formgrader
        gradebook.find_grade(WRITTEN, A, A, STUDENT).manual_score = 1.5
        gradebook.db.commit()
    shown = _shown(_page(graded))
    assert "Written response (Score: 1.5 / 2.0)" in shown and "awaiting" not in shown


@pytest.mark.browser
def test_feedback_page_typesets_maths_from_disk(graded):
    """The page as a student opens the file, offline: MathJax from feedback/mathjax/, under the page's CSP."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) or set COURSE_CHROMIUM")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    _page(graded)
    shipped = feedback.ship_mathjax(graded.folder / "feedback")
    assert shipped == graded.folder / "feedback" / "mathjax" and (shipped / "MathJax.js").is_file()
    url = (graded.folder / "feedback" / STUDENT / A / f"{A}.html").as_uri()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            blocked, fetched = [], []
            page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
            page.on("request", lambda r: fetched.append(r.url))
            page.goto(url)
            page.locator(".MathJax").first.wait_for(timeout=60_000)
            page.screenshot(path=str(SHOTS / "feedback-from-disk.png"))
            typeset = page.locator(".MathJax").count()
            raw = page.evaluate("document.body.innerText.includes('begin{pmatrix}')")
        finally:
            browser.close()
    assert typeset >= 5, typeset
    assert not raw, "TeX left untypeset"
    # MathJax's HTML-CSS output probes web-font support with a font at about:blank, which the policy refuses
    # (as it does served by Jupyter); nothing that MathJax needs is refused
    assert not [b for b in blocked if "about:blank" not in b], blocked
    away = [u for u in fetched if not u.startswith(("file:", "data:", "about:blank"))]
    assert not away, f"offline means nothing fetched from a server: {away}"
    assert any(u.endswith("/feedback/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe") for u in fetched)


def _tiny_notebook(path):
    """A stub, the test cell that calls it, and a few plain cells."""
    test = new_code_cell("assert double(2) == 4")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "test_double",
                                 "points": 1, "schema_version": 3}
    nb = new_notebook(cells=[new_markdown_cell("# Tiny"), new_code_cell("def double(x):\n    raise NotImplementedError()"),
                             test, new_code_cell("x = 1"), new_code_cell("y = 2")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    assert cells.is_test(test)
    return path


def test_check_prints_what_a_student_needs(tmp_path, capfd, monkeypatch):
    import io
    monkeypatch.setattr(check, "PROGRESS_EVERY", 0.0)  # a line for every cell, as a long notebook gets
    out, progress = io.StringIO(), io.StringIO()
    status = check.report(_tiny_notebook(tmp_path / "tiny.ipynb"), out=out, progress=progress)
    assert status == 1
    report = out.getvalue()
    assert "FAIL test_double (1 pt): an exercise this cell uses is not written yet" in report, report
    assert "NotImplementedError:" not in report
    assert "`make feedback NB=tiny` runs them now" in report, "the way to the hidden checks, for a learner alone"
    assert re.findall(r"cell (\d) of 4", progress.getvalue()) == ["1", "2", "3", "4"], progress.getvalue()
    assert "without encryption" not in capfd.readouterr().err, "the kernel's start-up warning"


def test_check_names_a_work_path(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "autograder.lab.check", str(tmp_path / "nope.ipynb")],
                             capture_output=True, text=True, cwd=REPO_ROOT)
    assert missing.returncode == 2 and "work/01_tensors/01_tensors.ipynb" in missing.stderr
    assert "course/" not in missing.stderr


def test_profiler_taste_is_quiet_without_a_gpu():
    """01's profiler lines, as released, on a machine without a GPU: the busiest operation, nothing on stderr."""
    nb = nbformat.read(str(REPO_ROOT / "course" / A / f"{A}.ipynb"), as_version=4)
    source = next(c.source for c in nb.cells if "torch.profiler.profile" in c.source)
    block = re.search(r"# torch\.profiler:.*?\n\n", source, re.DOTALL).group(0)
    env = os.environ | {"CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", "import os, torch\n" + block], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0 and "busiest operation" in done.stdout, done.stderr
    assert done.stderr.strip() == "", done.stderr
