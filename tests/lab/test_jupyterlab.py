"""The lab's two faces over HTTP (`make lab`, `make formgrader`), and maths without a CDN.

Servers start from a fresh copy of the checkout (tests/labserver.py), as on a new machine.
The same pages in a real browser: tests/lab/test_browser.py.
"""
import json
import re
import shutil
import urllib.error

import pytest

import labserver
from autograder.settings import COURSE, REPO_ROOT
from autograder.lab import faces

STUDENT_HIDDEN = {"@jupyter/nbgrader:menu", "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                  "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list",
                  "@jupyter/nbgrader:validate-assignment",  # the course's own Validate button replaces it
                  "@jupyterlab/apputils-extension:announcements"}
# What a page would load from another host: scripts, styles, images and frames with an absolute http(s) or
# protocol-relative address, CSS url() and @import. Links a reader may follow (<a href>) are fine.
EXTERNAL = re.compile(r"""<(?:script|link|img|iframe|embed|source)\b[^>]*?\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//"""
                      r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?\s*(?:https?:)?//""", re.I)


def _page_config(html: bytes) -> dict:
    text = html.decode()
    start = text.index('id="jupyter-config-data"')
    return json.loads(text[text.index(">", start) + 1:text.index("</script>", start)])


def _status(server, path):
    try:
        return server.get(path)[0]
    except urllib.error.HTTPError as error:
        return error.code


def test_gradebook_location_agrees_with_the_nbgrader_configuration():
    from autograder.grading.nbgrader_config import make_config
    config = make_config()
    assert config.CourseDirectory.db_url == f"sqlite:///{REPO_ROOT / faces.GRADEBOOK}"
    assert config.CourseDirectory.course_id == faces.COURSE_ID


def test_faces_are_configuration_folders_a_hub_can_reuse():
    env = faces.lab_environment("student", {"JUPYTER_CONFIG_PATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(":") == [str(REPO_ROOT / "lab" / "student"), "/elsewhere"]
    assert env["JUPYTER_PATH"].split(":")[0] == str(REPO_ROOT / "lab"), "lab/ holds the MathJax template"
    env = faces.lab_environment("student", {}, overrides=["/hub/room"])
    assert env["JUPYTER_CONFIG_PATH"].split(":") == ["/hub/room", str(REPO_ROOT / "lab" / "student")]
    disabled = json.loads((faces.config_dir("student") / "labconfig" / "page_config.json").read_text())
    assert set(disabled["disabledExtensions"]) == STUDENT_HIDDEN
    with pytest.raises(ValueError, match="student, instructor"):
        faces.config_dir("teacher")


@pytest.mark.slow
def test_student_and_instructor_labs_on_a_fresh_checkout(tmp_path):
    checkout = labserver.fresh_checkout(tmp_path / "checkout")
    assert not (checkout / "grading").exists() and not (checkout / "work").exists()

    student = labserver.start("student", checkout, tmp_path / "student-home")
    try:
        # the server's root is the workspace, made from course/ on the first start
        listing = json.loads(student.get("/api/contents")[1])
        assert sorted(item["name"] for item in listing["content"] if item["type"] == "directory") == \
            sorted(p.name for p in (checkout / "course").iterdir() if p.is_dir())
        assert (checkout / "work" / "01_tensors" / "01_tensors.ipynb").read_bytes() == \
            (checkout / "course" / "01_tensors" / "01_tensors.ipynb").read_bytes()
        config = _page_config(student.get("/lab")[1])
        assert STUDENT_HIDDEN <= set(config["disabledExtensions"]), "instructor tools must be hidden from students"
        assert config["news"] == {"disabled": True}
        assert _status(student, "/formgrader") == 404 and _status(student, "/assignments") == 404
        assert _status(student, "/static/jupyter_server_mathjax/MathJax.js") == 200
    finally:
        student.stop()

    instructor = labserver.start("instructor", checkout, tmp_path / "instructor-home")
    try:
        assert (checkout / "grading" / "gradebook.db").is_file(), "make formgrader creates the gradebook"
        status, body = instructor.get("/formgrader/api/assignments")
        assert status == 200
        assert {a["name"] for a in json.loads(body)} >= {p.name for p in (checkout / "course").iterdir() if p.is_dir()}
        config = _page_config(instructor.get("/lab")[1])
        assert "@jupyter/nbgrader:formgrader" not in config["disabledExtensions"]
        assert "@jupyter/nbgrader:create-assignment" not in config["disabledExtensions"]
        assert "@jupyter/nbgrader:assignment-list" in config["disabledExtensions"]
        page = instructor.get("/formgrader/manage_assignments")[1].decode()
        assert "Loading" in page and not EXTERNAL.search(page)
    finally:
        instructor.stop()
    with pytest.raises(OSError):  # stopped: nothing answers any more
        instructor.get("/api/status")


@pytest.mark.slow
def test_feedback_pages_load_nothing_from_other_hosts(tmp_path):
    """nbgrader generate_feedback through nbconvert, as `make autograde` runs it."""
    from autograder.grading.course_dir import Workspace
    assignment, student = "00_getting_started", "alice"
    ws = Workspace(tmp_path / "grading")
    ws.prepare([assignment])
    with ws.gradebook() as gradebook:
        gradebook.add_student(student)
        gradebook.add_submission(assignment, student)
    graded = ws.autograded_path(assignment, student)
    graded.parent.mkdir(parents=True)
    nb = json.loads((COURSE / assignment / f"{assignment}.ipynb").read_text())
    # a graded notebook that displayed widgets carries their state, which nbconvert would load from a CDN
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    nb["cells"].insert(1, {"cell_type": "markdown", "id": "maths", "metadata": {}, "source": "Maths: $\\nabla_w L = 2(w - 1)$"})
    graded.write_text(json.dumps(nb))
    result = ws.api.generate_feedback(assignment, student, force=True)
    assert result["success"], result.get("log")
    page = (tmp_path / "grading" / "feedback" / student / assignment / f"{assignment}.html").read_text()
    assert "\\nabla_w L" in page
    assert "/static/jupyter_server_mathjax/MathJax.js" in page, "maths comes from the Jupyter server"
    found = [page[max(0, m.start() - 60):m.end() + 60] for m in EXTERNAL.finditer(page)]
    assert not found, f"the feedback page loads from other hosts: {found}"
    assert "cdnjs" not in page and "unpkg" not in page
