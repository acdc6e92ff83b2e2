"""What a student authors is inert wherever the course shows it (issue 25): the feedback page and
Formgrader's page of a submission, as HTML (fast) and in Chromium (a payload that ran would mark the page).

The submission (tests/attacks/inert.py) carries script in a markdown cell, in the written answer, in
text/html, text/markdown, SVG and JavaScript outputs, in image metadata and in widget state.
"""
from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import labserver
from autograder.judging import sandbox
from autograder.grading.nbgrader_config import make_config
from labserver import CHROMIUM, CHROMIUM_FLAGS, SHOTS
from tests.attacks import inert

A, STUDENT = "00_getting_started", "mallory"
# nbgrader's formgrade template shows or hides the student's name with these
FORMGRADER_OWN = {"toggle_name(true);", "toggle_name(false);"}
FEEDBACK = f"grading/feedback/{STUDENT}/{A}/{A}.html"


class _Elements(HTMLParser):
    """Every element's tag and attributes, and the text of each script element."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.elements, self.scripts, self._in_script = [], [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def assert_inert(page: str) -> _Elements:
    """No payload can run: none inside a script, an attribute, an SVG or a frame; no handlers, no javascript: URLs."""
    found = _Elements(page)
    assert not [s for s in found.scripts if "pwned" in s], "a student's script is on the page"
    for tag, attrs in found.elements:
        handlers = [name for name, value in attrs.items() if name.startswith("on") and value not in FORMGRADER_OWN]
        assert not handlers, f"<{tag}> has event handlers {handlers}"
        assert not any("pwned" in (value or "") or "javascript:" in (value or "").lower()
                       for value in attrs.values()), f"<{tag} {attrs}> carries a payload"
        assert tag not in ("svg", "iframe", "object", "embed", "base", "form"), f"<{tag}> from a student"
    assert "<script>window.pwned" not in page
    return found


def _png_shown(found: _Elements, png: str) -> bool:
    return any(tag == "img" and attrs.get("src", "").startswith("data:image/png;base64," + png[:100])
               for tag, attrs in found.elements)


@pytest.fixture(scope="module")
def payloads():
    return inert.payload_notebook()


@pytest.fixture(scope="module")
def course(tmp_path_factory, payloads):
    """A fresh checkout whose gradebook holds the payload submission as autograding leaves it, and its
    feedback page made by nbgrader generate_feedback, as `make autograde` runs it. Returns the checkout
    and the submission's notebook id (Formgrader's page takes it)."""
    from autograder.grading.course_dir import Workspace
    checkout = labserver.fresh_checkout(tmp_path_factory.mktemp("checkout"))
    ws = Workspace(checkout / "grading", root=checkout)
    ws.prepare([A])
    with ws.gradebook() as gradebook:
        gradebook.add_student(STUDENT)
        gradebook.add_submission(A, STUDENT)
        notebook_id = gradebook.find_submission_notebook(A, A, STUDENT).id
    graded = ws.autograded_path(A, STUDENT)
    graded.parent.mkdir(parents=True)
    nbformat.write(payloads, str(graded))
    result = ws.api.generate_feedback(A, STUDENT, force=True)
    assert result["success"], result.get("log")
    return checkout, notebook_id


def _feedback(checkout: Path) -> str:
    return (checkout / FEEDBACK).read_text()


def _png(payloads) -> str:
    return next(o.data["image/png"] for c in payloads.cells if c.cell_type == "code"
                for o in c.get("outputs", []) if "image/png" in o.get("data", {}))


def test_feedback_page_is_inert(course, payloads):
    page = _feedback(course[0])
    found = assert_inert(page)
    assert _png_shown(found, _png(payloads)), "the student's plot is still shown"
    assert inert.MATHS in page and "$x^2 + 1$" in page, "the maths is still there for MathJax"
    assert "<b>html</b>" in page and "<strong>markdown output</strong>" in page, "safe HTML still renders"
    assert "&lt;script&gt;window.pwned_md_script" in page, "a student's script is shown as text"
    # the page's own policy runs only the course's MathJax loader, by hash
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, policy
    assert sum(s.startswith("'sha256-") for s in script_src) == len(found.scripts) == 1, (policy, found.scripts)


def test_formgrader_page_is_inert(payloads):
    """Formgrader's own exporter: a plain HTMLExporter with the course's configuration and its formgrade template."""
    import copy
    from nbconvert.exporters import HTMLExporter
    resources = {"assignment_id": A, "notebook_id": A, "submission_id": "x", "index": 0, "total": 1,
                 "base_url": "", "student": STUDENT, "last_name": None, "first_name": None, "notebook_path": "x"}
    page, _ = HTMLExporter(config=make_config(), template_name="formgrade").from_notebook_node(
        copy.deepcopy(payloads), resources=resources)
    found = assert_inert(page)
    assert _png_shown(found, _png(payloads)) and inert.MATHS in page


def test_the_submission_carries_every_payload(payloads):
    text = nbformat.writes(payloads)
    assert all(f"window.pwned_{name}=1" in text for name in inert.PAYLOADS)


@pytest.mark.slow
@pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap is not installed: `make sandbox` installs it as root")
def test_graded_payloads_stay_inert(tmp_path, payloads):
    """Graded for real (sandboxed kernel, judge, nbgrader): the kernel's own displays keep every payload in
    the graded notebook, the score is the answers' own, and the feedback page is inert."""
    from autograder.grading.batch import Grader
    submissions = tmp_path / "submissions" / STUDENT
    submissions.mkdir(parents=True)
    inert.write(submissions / f"{A}.ipynb")
    (result,) = Grader(tmp_path / "grading", workers=1, progress=False).run(tmp_path / "submissions")
    with open(tmp_path / "grading" / "grades.csv", newline="") as handle:
        (row,) = csv.DictReader(handle)
    got = (float(row[f"{A}:test_fahrenheit"]), float(row[f"{A}:test_digit_counts"]), row[f"{A} status"])
    assert got == inert.CASES["script-payloads"][1:], (got, result.message)
    graded = (tmp_path / "grading" / "autograded" / STUDENT / A / f"{A}.ipynb").read_text()
    assert all(f"pwned_{name}" in graded for name in ("html_script", "svg_onload", "javascript", "png_width"))
    found = assert_inert((tmp_path / "grading" / FEEDBACK.removeprefix("grading/")).read_text())
    assert _png_shown(found, _png(payloads)), "the plot the kernel displayed is shown"


def test_clean_html_keeps_what_markdown_makes():
    from autograder.grading.feedback import clean_html
    kept = ('<h2 id="Part-1">Part 1</h2><p>A <a href="https://pytorch.org">link</a>, <code>x</code>, '
            '<img alt="a" src="data:image/png;base64,iVBO"></p><details><summary>Hint</summary>use <br>it</details>'
            '<table><thead><tr><th colspan="2">h</th></tr></thead></table>')
    assert clean_html(kept) == kept
    assert clean_html('<a href="javascript:alert(1)">x</a><img src="/logout"/>') == "<a>x</a><img>"
    assert clean_html('<p onclick="x()" style="color:red">t</p>') == "<p>t</p>"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium) or set COURSE_CHROMIUM")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1200, "height": 900})
        try:
            yield context
        finally:
            context.close()


def _open(page, url: str, shot: str) -> None:
    """Open ``url``, wait for MathJax to typeset the written answer's maths, see that no payload ran and the plot shows."""
    page.goto(url)
    page.wait_for_load_state("load")
    page.locator(".MathJax_Display").first.wait_for(timeout=60_000)  # the written answer's display maths
    page.locator(".MathJax").nth(1).wait_for(timeout=10_000)  # and the markdown cell's inline maths
    page.wait_for_timeout(500)  # time for a late handler (a failed image's onerror) to fire
    page.screenshot(path=str(SHOTS / f"{shot}.png"))
    ran = page.evaluate("Object.keys(window).filter(k => k.startsWith('pwned'))")
    assert ran == [], f"payloads ran: {ran}"
    assert "pwned" not in page.title(), page.title()
    plot = page.locator('img[src^="data:image/png"]').first
    assert plot.evaluate("img => img.complete && img.naturalWidth > 0"), "the student's plot is shown"


@pytest.mark.browser
def test_no_payload_runs_in_chromium(course, browser, tmp_path):
    """(a) the feedback page as the Jupyter server serves it, (b) Formgrader's page of the submission."""
    checkout, notebook_id = course
    server = labserver.start("instructor", checkout, tmp_path / "home")
    page = browser.new_page()
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    try:
        _open(page, f"{server.url}/files/{FEEDBACK}?token={server.token}", "inert-feedback")
        assert not [b for b in blocked if "MathJax" in b or "jupyter_server_mathjax" in b], blocked
        _open(page, f"{server.url}/formgrader/submissions/{notebook_id}/?token={server.token}", "inert-formgrader")
        # Formgrader's own scripts still work on the page: its grading form is there
        page.locator(".score, .comment").first.wait_for(timeout=10_000)
    finally:
        page.close()
        server.stop()
