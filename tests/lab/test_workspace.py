"""The student workspace (work/): created once from course/, never overwritten, updated by merging."""
import datetime as dt
import json
import shutil
import subprocess
import sys

import pytest

from autograder.settings import COURSE, REPO_ROOT
from autograder.authoring import cells
from autograder.lab import workspace as ws

NOTEBOOK = "01_tensors/01_tensors.ipynb"


@pytest.fixture
def course(tmp_path):
    """A temporary copy of two released notebooks, standing in for the checkout's course/."""
    folder = tmp_path / "course"
    for name in ("00_getting_started", "01_tensors"):
        shutil.copytree(COURSE / name, folder / name)
    return folder


def _nb(path):
    return json.loads(path.read_text())


def _answer_ids(nb, kind):
    return [cells.grade_id(c) for c in nb["cells"] if cells.kind(c) == cells.ANSWER and c["cell_type"] == kind]


def _cell(nb, grade_id):
    return next(c for c in nb["cells"] if cells.grade_id(c) == grade_id)


def _text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _set(cell, text):
    cell["source"] = text


def test_first_sync_copies_the_course_and_a_second_changes_nothing(course, tmp_path):
    work = tmp_path / "work"
    report = ws.sync(course, work)
    assert sorted(p.relative_to(work).as_posix() for p in report.created) == [
        "00_getting_started/00_getting_started.ipynb", NOTEBOOK]
    assert (work / NOTEBOOK).read_bytes() == (course / NOTEBOOK).read_bytes()
    # the student works; a sync with no course update leaves the file exactly as it is
    nb = _nb(work / NOTEBOOK)
    _set(_cell(nb, _answer_ids(nb, "code")[0]), "my answer")
    (work / NOTEBOOK).write_text(json.dumps(nb))
    before = (work / NOTEBOOK).read_bytes()
    report = ws.sync(course, work)
    assert not report.created and not report.updated and not report.lines
    assert (work / NOTEBOOK).read_bytes() == before
    assert not list((work / "01_tensors").glob("*backup*")) and not (work / "backups").exists()


def test_answers_survive_a_course_update(course, tmp_path):
    work = tmp_path / "work"
    ws.sync(course, work)
    mine = _nb(work / NOTEBOOK)
    code_ids, written_ids = _answer_ids(mine, "code"), _answer_ids(mine, "markdown")
    assert len(code_ids) >= 8 and written_ids, "01_tensors should have code and written answers"
    answered, untouched = code_ids[0], code_ids[1]
    _set(_cell(mine, answered), "def my_function():\n    return 42\n")
    _cell(mine, answered)["outputs"] = []
    _set(_cell(mine, written_ids[0]), "Because views share storage with their base.")
    mine["cells"].insert(3, {"cell_type": "code", "metadata": {}, "source": "scratch = 1",
                             "outputs": [], "execution_count": None})
    (work / NOTEBOOK).write_text(json.dumps(mine, indent=1))
    old_student_bytes = (work / NOTEBOOK).read_bytes()

    # `git pull` brings a new release: new prose, a corrected stub, the student's answered cell's stub changed too
    release = _nb(course / NOTEBOOK)
    release["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": "**New in this version.**"})
    _set(_cell(release, untouched), "# corrected stub\nraise NotImplementedError()")
    _set(_cell(release, answered), "# another stub\nraise NotImplementedError()")
    (course / NOTEBOOK).write_text(json.dumps(release, indent=1))

    now = dt.datetime(2026, 12, 2, 9, 30, 0)
    report = ws.sync(course, work, now=now)
    assert report.updated == [work / NOTEBOOK]
    assert len(report.lines) == 1 and "answers kept" in report.lines[0]
    backup = work / "backups" / "01_tensors" / "2026-12-02_093000.ipynb"
    assert "work/backups/01_tensors/2026-12-02_093000.ipynb" in report.lines[0]
    assert not list((work / "01_tensors").glob("*backup*")), "nothing beside the notebook"
    assert backup.read_bytes() == old_student_bytes, "the backup is the student's file as it was"

    merged = _nb(work / NOTEBOOK)
    assert _text(merged["cells"][1]) == "**New in this version.**", "the new release's content arrives"
    assert _text(_cell(merged, answered)) == "def my_function():\n    return 42\n"
    assert _text(_cell(merged, written_ids[0])) == "Because views share storage with their base."
    assert _text(_cell(merged, untouched)) == "# corrected stub\nraise NotImplementedError()", \
        "an answer the student never touched takes the new release's stub"
    assert [cells.grade_id(c) for c in merged["cells"] if cells.grade_id(c)] == \
        [cells.grade_id(c) for c in release["cells"] if cells.grade_id(c)], "cells follow the new release"
    sources = [_text(c) for c in merged["cells"]]
    assert sources.count("scratch = 1") == 1, "a cell the student added is kept"
    setup_at = next(i for i, c in enumerate(merged["cells"]) if cells.grade_id(c) == "setup")
    assert sources[setup_at + 1] == "scratch = 1", "after the graded cell it followed"

    # a later sync with the same release keeps everything as it is, no second backup
    after = (work / NOTEBOOK).read_bytes()
    report = ws.sync(course, work, now=now + dt.timedelta(minutes=5))
    assert not report.updated and (work / NOTEBOOK).read_bytes() == after
    assert len(list((work / "backups").rglob("*.ipynb"))) == 1


def test_an_unreadable_notebook_is_left_alone(course, tmp_path):
    work = tmp_path / "work"
    ws.sync(course, work)
    (work / NOTEBOOK).write_text("{ half a notebook")
    release = _nb(course / NOTEBOOK)
    release["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "new"})
    (course / NOTEBOOK).write_text(json.dumps(release))
    report = ws.sync(course, work)
    assert report.skipped == [work / NOTEBOOK] and "not a readable notebook" in report.lines[0]
    assert (work / NOTEBOOK).read_text() == "{ half a notebook"


def test_make_lab_sync_step_prints_one_line_per_update(course, tmp_path):
    """The command `make lab` runs before it serves the workspace."""
    work = tmp_path / "work"
    command = [sys.executable, "-m", "autograder.lab.workspace", "--course", str(course), "--work", str(work)]
    first = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert "2 new notebook(s)" in first.stdout
    mine = _nb(work / NOTEBOOK)
    answer = _answer_ids(mine, "code")[2]
    _set(_cell(mine, answer), "x = 'kept'")
    (work / NOTEBOOK).write_text(json.dumps(mine))
    release = _nb(course / NOTEBOOK)
    release["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "Further reading, new."})
    (course / NOTEBOOK).write_text(json.dumps(release))
    second = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    lines = second.stdout.strip().splitlines()
    assert len(lines) == 1 and "01_tensors.ipynb: updated to the new course version" in lines[0]
    assert "saved as work/backups/01_tensors/" in lines[0]
    assert _text(_cell(_nb(work / NOTEBOOK), answer)) == "x = 'kept'"
    assert _text(_nb(work / NOTEBOOK)["cells"][-1]) == "Further reading, new."


def test_resolve_finds_workspace_notebooks_by_name(course, tmp_path):
    work = tmp_path / "work"
    ws.sync(course, work)
    assert ws.resolve("01_tensors", work) == work / NOTEBOOK
    assert ws.resolve("01", work) == work / NOTEBOOK
    assert ws.resolve("course/01_tensors/01_tensors.ipynb", work).as_posix() == "course/01_tensors/01_tensors.ipynb"
    with pytest.raises(FileNotFoundError, match="01_tensors"):
        ws.resolve("07_missing", work)


def test_work_is_git_ignored():
    result = subprocess.run(["git", "check-ignore", "-q", "work/01_tensors/01_tensors.ipynb"], cwd=REPO_ROOT)
    assert result.returncode == 0, "add /work/ to .gitignore: the workspace is the student's, not the repository's"


def test_self_check_finds_workspace_notebooks(course, tmp_path, monkeypatch):
    """coursekit.self_check() in a notebook of the workspace, and self_check("01_tensors") by name."""
    from coursekit import selfcheck
    work = tmp_path / "work"
    ws.sync(course, work)
    monkeypatch.setattr(ws, "WORK", work)
    assert selfcheck._named_notebook("01_tensors") == work / NOTEBOOK
    # in JupyterLab the kernel runs in the notebook's folder and knows the path from the server's root
    monkeypatch.chdir(work / "01_tensors")
    monkeypatch.setenv("JPY_SESSION_NAME", NOTEBOOK)
    assert selfcheck._current_notebook() == (work / NOTEBOOK).resolve()
