"""The instructor's pipeline: intake, parallel autograde, merged gradebook, outputs."""
import csv
import io
import os
import time
import zipfile

import nbformat
import pytest

from autograder.authoring import masters
from autograder.grading.batch import Grader
from autograder.grading.intake import collect, match_assignment

A = "00_getting_started"
ASSIGNMENTS = ["00_getting_started", "01_tensors", "02_autograd"]


def _write(path, nb, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    if mtime:
        os.utime(path, (mtime, mtime))


# ---------------------------------------------------------------- intake (fast, no grading)

def test_match_assignment_tolerates_download_suffixes():
    assert match_assignment("01_tensors.ipynb", ASSIGNMENTS) == "01_tensors"
    assert match_assignment("01_tensors (1).ipynb", ASSIGNMENTS) == "01_tensors"
    assert match_assignment("smithj_123_456_01_tensors-2.ipynb", ASSIGNMENTS) == "01_tensors"
    assert match_assignment("01_Tensors-checkpoint.ipynb", ASSIGNMENTS) == "01_tensors"
    assert match_assignment("tensors.ipynb", ASSIGNMENTS) is None
    assert match_assignment("homework.ipynb", ASSIGNMENTS) is None


def test_flat_lms_download_with_zips(tmp_path):
    nb = masters.student_copy(A)
    raw = io.StringIO()
    nbformat.write(nb, raw)
    flat = tmp_path / "download"
    flat.mkdir()
    _write(flat / f"smithj_1234_5678_{A}.ipynb", nb, mtime=time.time() - 100)
    with zipfile.ZipFile(flat / "doej_99_submission.zip", "w") as archive:
        archive.writestr(f"{A}.ipynb", raw.getvalue())
        archive.writestr("notes.docx", b"not a notebook")
    (flat / "leej_77_broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    _write(flat / "roej_5_homework.ipynb", nb)
    (flat / "README").write_text("from the LMS")
    intake = collect(flat, ASSIGNMENTS, tmp_path / "work")
    assert sorted(intake.submissions) == [("doej", A), ("smithj", A)]
    assert intake.submissions[("doej", A)].origin == f"doej_99_submission.zip!{A}.ipynb"
    problems = "\n".join(intake.problems)
    assert "bad archive: leej_77_broken.zip" in problems and "nothing in it was used" in problems
    assert "wrong notebook name: roej_5_homework.ipynb" in problems
    assert "unknown file: doej_99_submission.zip!notes.docx" in problems
    assert "unknown file: README" in problems
    assert "roej" in intake.students  # named, so reported missing rather than forgotten


def test_a_custom_pattern_reads_other_lms_names(tmp_path):
    _write(tmp_path / f"{A}--s123456.ipynb", masters.student_copy(A))
    intake = collect(tmp_path, ASSIGNMENTS, tmp_path / "work", pattern=r".*--(?P<student>s\d+)")
    assert list(intake.submissions) == [("s123456", A)]


def test_zip_escaping_its_folder_is_rejected_whole(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    with zipfile.ZipFile(folder / "evil_1.zip", "w") as archive:
        archive.writestr(f"{A}.ipynb", "{}")
        archive.writestr("../../escape.ipynb", "{}")
    intake = collect(folder, ASSIGNMENTS, tmp_path / "work")
    assert not intake.submissions and "points outside the archive" in intake.problems[0]
    assert not (tmp_path / "escape.ipynb").exists()


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="make autograde SUBMISSIONS="):
        collect(tmp_path / "nope", ASSIGNMENTS, tmp_path / "work")


# ---------------------------------------------------------------- the whole pipeline

def _batch(folder):
    _write(folder / "perfect" / f"{A}.ipynb", masters.student_copy(A))
    _write(folder / "blank" / f"{A}.ipynb", masters.student_copy(A, solve=False))
    _write(folder / "partial" / f"{A}.ipynb", masters.student_copy(
        A, {"digit_counts": "def digit_counts(labels):\n    return torch.bincount(labels)"}))
    (folder / "absent").mkdir(parents=True)
    (folder / "absent" / "will-submit-later.txt").write_text("sorry")
    _write(folder / "syntax" / f"{A}.ipynb", masters.student_copy(A, {"fahrenheit": "def to_fahrenheit(c) return c"}))
    _write(folder / "twice" / f"{A}.ipynb", masters.student_copy(A, solve=False), mtime=time.time() - 3600)
    _write(folder / "twice" / f"{A} (1).ipynb", masters.student_copy(A))
    text = io.StringIO()
    nbformat.write(masters.student_copy(A), text)
    with zipfile.ZipFile(folder / "zipped_4711_submission.zip", "w") as archive:  # an LMS's flat download
        archive.writestr(f"{A}.ipynb", text.getvalue())


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _grades(rows):
    """student -> (fahrenheit, digit_counts, written, status), as EXPECTED lists them."""
    return {s: (r[f"{A}:test_fahrenheit"], r[f"{A}:test_digit_counts"], r[f"{A}:written_hidden_tests"],
                r[f"{A} status"]) for s, r in rows.items()}


EXPECTED = {  # student: (fahrenheit, digit_counts, written, status)
    "perfect": ("2", "2", "", "graded"),
    "blank": ("0", "0", "0", "graded"),
    "partial": ("2", "0", "", "graded"),
    "absent": ("0", "0", "0", "missing"),
    "syntax": ("0", "2", "", "graded"),
    "twice": ("2", "2", "", "graded"),
    "zipped": ("2", "2", "", "graded"),
}


@pytest.mark.slow
def test_batch_graded_in_parallel_gives_expected_grades(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "grading"
    _batch(submissions)
    results = Grader(out, workers=2, progress=False).run(submissions)
    assert len(results) == 7
    rows = _rows(out / "grades.csv")
    assert _grades(rows) == EXPECTED
    assert rows["perfect"]["total"] == "4" and rows["perfect"]["max"] == "5"
    assert rows["absent"]["status"] == f"{A}: missing"
    intake = (out / "intake.txt").read_text()
    assert "duplicate: twice/00_getting_started" in intake and "unknown file: absent/will-submit-later.txt" in intake

    # feedback for every graded submission, without the code of hidden tests
    master = masters.load(masters.master_path(A))
    hidden_lines = [l.strip() for e in master.exercises.values()
                    for l in e.tests.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
                    if len(l.strip()) > 20]
    feedback = sorted(out.glob("feedback/*/*/*.html"))
    assert (out / "feedback" / "mathjax" / "MathJax.js").is_file(), "the pages' maths, opened from disk"
    assert len(feedback) == 6
    for page in feedback:
        html = page.read_text()
        assert "Hidden tests ran here" in html
        leaked = [l for l in hidden_lines if l in html or l.replace('"', "&quot;") in html]
        assert not leaked, f"{page}: hidden test code leaked: {leaked[:2]}"
    partial = (out / "feedback" / "partial" / A / f"{A}.html").read_text()
    assert "the result always has 10 counts" in partial, "the failure message (with its hint) reaches the student"
    assert (out / "report.md").read_text().count("| test_") == 2 and (out / "totals.png").stat().st_size > 1000

    # a manual grade given in formgrader survives a forced regrade
    from autograder.grading.course_dir import Workspace
    with Workspace(out).gradebook() as gb:
        grade = gb.find_grade("written_hidden_tests", A, A, "perfect")
        grade.manual_score = 1.0
        gb.db.commit()
    first = (out / "grades.csv").read_text()
    Grader(out, workers=2, progress=False).run(submissions, force=True)
    second = _rows(out / "grades.csv")
    assert second["perfect"][f"{A}:written_hidden_tests"] == "1" and second["perfect"]["total"] == "5"
    page = (out / "feedback" / "perfect" / A / f"{A}.html").read_text()
    assert "Score: 5.0 / 5.0" in page, "the feedback page shows the manual score once given"
    second["perfect"][f"{A}:written_hidden_tests"], second["perfect"]["total"] = "", "4"
    second["perfect"][f"{A} total"] = "4"
    assert second == _rows_from_text(first), "a forced regrade changed grades"

    # unchanged input: nothing is regraded and grades.csv is byte-identical
    before = (out / "grades.csv").read_bytes()
    start = time.perf_counter()
    Grader(out, workers=2, progress=False).run(submissions)
    assert time.perf_counter() - start < 15, "an unchanged batch should come from the cache"
    assert (out / "grades.csv").read_bytes() == before
    assert "0 run through the grader, 6 unchanged" in (out / "intake.txt").read_text()


def _rows_from_text(text):
    return {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
