"""The lab as a student and an instructor see it, in a real browser (Debian's Chromium through Playwright).

The student lab (`make lab`) and the instructor lab (`make formgrader`) start from a fresh copy of the
checkout, headless on 127.0.0.1 (tests/labserver.py). Screenshots go to $BROWSER_SHOTS (default
build/browser-shots/). `make browser` installs Chromium; Playwright's own browser downloads are not used.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

import labserver
from autograder.settings import SOLUTIONS
from autograder.authoring import cells
from labserver import CHROMIUM, CHROMIUM_FLAGS, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "00_getting_started/00_getting_started.ipynb"
INSTRUCTOR_TOOLS = re.compile(r"Formgrader|Create Assignment|Assignment List|Nbgrader", re.I)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return labserver.fresh_checkout(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) or set COURSE_CHROMIUM")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()  # ends the browser process Playwright started


def _shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _answer(grade_id: str) -> str:
    """The master's solution for an answer cell, without nbgrader's markers."""
    nb = json.loads((SOLUTIONS / NOTEBOOK).read_text())
    source = next("".join(c["source"]) for c in nb["cells"] if cells.grade_id(c) == grade_id)
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def _cell(page, text):
    return page.locator(".jp-Notebook .jp-Cell").filter(has_text=text).first


def _run(page, text):
    cell = _cell(page, text)
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    return cell


def _replace_source(page, text, new_source):
    cell = _cell(page, text)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(new_source)  # typed text would be re-indented by the editor


def _validate(page, progress_shot, result_shot) -> str:
    """Click the course's Validate button (nbgrader's own is disabled in the student face), see its progress
    ("Validating… 3/12 cells") and return the text of its result dialog."""
    assert page.locator(".validate-button").count() == 0, "nbgrader's Validate button is disabled here"
    button = page.locator(".jp-Toolbar-item").filter(has=page.locator(".course-validate-button"))
    button.filter(has_text=re.compile(r"^\s*Validate\s*$")).wait_for(timeout=30_000)
    button.click()
    button.filter(has_text=re.compile(r"Validating… \d+/\d+ cells")).wait_for(timeout=180_000)
    _shot(page, progress_shot)
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=300_000)
    result = dialog.locator(".jp-Dialog-body").inner_text()
    _shot(page, result_shot)
    dialog.locator("button").filter(has_text="Ok").first.click()
    dialog.wait_for(state="hidden", timeout=10_000)
    return result.strip()


def test_student_lab(checkout, browser, tmp_path):
    release = (checkout / "course" / NOTEBOOK).read_bytes()
    server = labserver.start("student", checkout, tmp_path / "home")
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/lab/tree/{NOTEBOOK}?token={server.token}")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
        page.locator(".jp-Notebook").filter(has_text="Getting started").wait_for(timeout=30_000)
        _shot(page, "student-1-opened")

        # instructor tools are nowhere: menu bar, sidebars, command palette
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "File" in menus and not any(INSTRUCTOR_TOOLS.search(m) for m in menus), menus
        tabs = [t.get_attribute("title") or t.inner_text() for t in page.locator(".jp-SideBar .lm-TabBar-tab").all()]
        assert not any(INSTRUCTOR_TOOLS.search(t or "") for t in tabs), tabs
        palette = page.locator(".lm-CommandPalette-input")
        for attempt in range(3):  # the modal palette closes when focus moves (a busy lab may still be settling)
            page.locator(".lm-MenuBar-itemLabel").filter(has_text="View").click()
            page.locator(".lm-Menu-itemLabel").filter(has_text="Command Palette").first.click()
            palette.wait_for(timeout=10_000)
            try:
                palette.fill("assignment", timeout=10_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        page.wait_for_timeout(500)
        found = page.locator(".lm-CommandPalette-itemLabel").all_inner_texts()
        assert not any(INSTRUCTOR_TOOLS.search(item) for item in found), found
        page.keyboard.press("Escape")

        # run the setup cell, then an example, and see its output
        _run(page, "from coursekit import DEVICE")
        example = _run(page, "x lives on")
        example.locator(".jp-OutputArea-output").filter(has_text="x lives on").wait_for(timeout=120_000)
        _shot(page, "student-2-ran-a-cell")

        # Validate before answering: nothing passes yet, and the dialog lists the failed cells
        result = _validate(page, "student-3-validating-blank", "student-3-validated-blank")
        assert re.match(r"0 of 2 checks passed in \d+ s; 1 written answer is still empty\.", result), result
        assert result.count("The following cell failed:") >= 2, result
        assert "to_fahrenheit" in result and "digit_counts" in result, result  # the failed test cells
        # each failure is the one line written for the learner; the traceback stays folded under "Full error"
        assert "an exercise this cell uses is not written yet" in result, result
        assert "Traceback" not in result and "Full error" in result, result

        # answer both exercises and save: the workspace file changes, course/ does not
        _replace_source(page, "def to_fahrenheit", _answer("ex_fahrenheit"))
        _replace_source(page, "def digit_counts", _answer("ex_digit_counts"))
        written = page.locator(".jp-MarkdownCell").filter(has_text="YOUR ANSWER HERE").first
        written.dblclick()  # a written answer is markdown: open its editor, write, render
        written.locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text("Hidden checks use other inputs, so only a general solution passes them.")
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Control+S")
        saved = checkout / "work" / NOTEBOOK
        deadline = time.monotonic() + 30
        while "celsius * 9 / 5 + 32" not in saved.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "celsius * 9 / 5 + 32" in saved.read_text(), "Ctrl+S saved the answer in work/"
        assert "only a general solution" in saved.read_text(), "the written answer is saved too"
        assert "celsius * 9 / 5 + 32" not in (checkout / "course" / NOTEBOOK).read_text()
        _shot(page, "student-4-answered-and-saved")

        # Validate runs the saved notebook: every check passes
        result = _validate(page, "student-5-validating", "student-6-validated")
        assert re.match(r"2 of 2 checks passed in \d+ s\.", result), result
        assert not re.search(r"fail|error|empty", result, re.I), result

        # opening, running and saving never touched the tracked release
        assert (checkout / "course" / NOTEBOOK).read_bytes() == release

        # no "get notified about Jupyter news?" pop-up appeared during all this
        assert page.locator(".jp-toast-message, .Toastify__toast").filter(has_text=re.compile("news", re.I)).count() == 0
    finally:
        page.close()
        server.stop()


def _submission_with_maths(checkout: Path) -> str:
    """Record a submission of 00 in the checkout's gradebook, as autograding leaves it (without running it);
    return its notebook's id, which Formgrader's grading page takes."""
    from autograder.grading.course_dir import Workspace
    assignment, student = "00_getting_started", "alice"
    ws = Workspace(checkout / "grading", root=checkout)
    ws.prepare([assignment])
    with ws.gradebook() as gradebook:
        gradebook.add_student(student)
        gradebook.add_submission(assignment, student)
        notebook_id = gradebook.find_submission_notebook(assignment, assignment, student).id
    nb = json.loads((checkout / "course" / NOTEBOOK).read_text())
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "maths", "metadata": {},
                           "source": "The gradient: $$\\frac{\\partial L}{\\partial w} = 2(w - 1)$$"})
    graded = ws.autograded_path(assignment, student)
    graded.parent.mkdir(parents=True, exist_ok=True)
    graded.write_text(json.dumps(nb))
    return notebook_id


def test_instructor_formgrader_on_a_fresh_checkout(checkout, browser, tmp_path):
    assert not (checkout / "grading").exists() or not (checkout / "grading" / "gradebook.db").exists()
    server = labserver.start("instructor", checkout, tmp_path / "home")
    page = browser.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/formgrader?token={server.token}")
        page.get_by_text("Loading, please wait").first.wait_for(state="hidden", timeout=60_000)
        rows = page.locator("table tbody tr")
        rows.filter(has_text="01_tensors").first.wait_for(timeout=30_000)
        names = " ".join(rows.all_inner_texts())
        assert all(name in names for name in ("00_getting_started", "01_tensors", "06_mnist_cnn")), names
        _shot(page, "instructor-1-formgrader")
        assert not [e for e in errors if "MathJax" in e or "500" in e], errors
        assert "exchange directory" not in page.inner_text("body"), "Release and Collect would not work"

        # a submission to grade by hand: its page renders maths with the server's MathJax, no CDN
        submission = _submission_with_maths(checkout)
        errors.clear()
        page.goto(f"{server.url}/formgrader/submissions/{submission}")
        page.locator(".MathJax, .MathJax_Display").first.wait_for(timeout=60_000)
        assert page.evaluate("typeof MathJax") == "object"
        _shot(page, "instructor-2-formgrade-maths")
        assert not [e for e in errors if "MathJax" in e], errors

        # the instructor's lab has the Nbgrader menu with Formgrader
        page.goto(f"{server.url}/lab")
        page.locator(".lm-MenuBar-itemLabel").filter(has_text="Nbgrader").click(timeout=90_000)
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert "Formgrader" in items and "Assignment List" not in items, items
        _shot(page, "instructor-3-nbgrader-menu")
    finally:
        page.close()
        server.stop()
