"""Find the submissions in what an instructor downloaded, and report everything else.

Two layouts are accepted:

- a folder per student: ``<student_id>/<assignment>.ipynb`` (nbgrader's own ``submitted/`` too,
  ``<student_id>/<assignment>/<assignment>.ipynb``);
- an LMS's flat download: files whose names carry the student id, matched by ``pattern``
  (a regular expression with a ``student`` group), notebooks or zip archives of notebooks.

Nothing is dropped silently: every file ends up either as a submission or in ``problems``
(unknown notebook names, duplicates where the newest wins, unreadable archives, stray files).
A zip archive that cannot be read whole is rejected whole, never half-used.
"""
from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Canvas: "smithjane_12345_678_01_tensors.ipynb"; Moodle: "Jane Smith_12345_assignsubmission_file_..."
# The default takes everything before the first underscore as the student id.
DEFAULT_PATTERN = r"(?P<student>[^_/\\]+)_"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@\-]*$")


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path          # where the notebook lies now (extracted from a zip if it came in one)
    origin: str         # what the instructor gave us, for the report
    mtime: float


@dataclass
class Intake:
    submissions: dict[tuple[str, str], Submission] = field(default_factory=dict)
    students: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def add(self, sub: Submission) -> None:
        self.students.add(sub.student)
        key = (sub.student, sub.assignment)
        old = self.submissions.get(key)
        if old is None:
            self.submissions[key] = sub
            return
        newer, older = (sub, old) if sub.mtime >= old.mtime else (old, sub)
        self.submissions[key] = newer
        self.problems.append(f"duplicate: {sub.student}/{sub.assignment}: kept {newer.origin} "
                             f"({_when(newer.mtime)}), ignored the older {older.origin} ({_when(older.mtime)})")


def _when(mtime: float) -> str:
    return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M:%S")


def match_assignment(filename: str, assignments: list[str]) -> str | None:
    """The assignment a notebook file name refers to, tolerating what browsers and LMSs add."""
    stem = Path(filename).name.lower()
    if stem.endswith(".ipynb"):
        stem = stem[:-6]
    stem = re.sub(r"(\s*\(\d+\)|-checkpoint|[-_ ]copy\d*|-\d+)$", "", stem)
    for assignment in sorted(assignments, key=len, reverse=True):
        if re.search(rf"(^|[^a-z0-9]){re.escape(assignment)}([^a-z0-9]|$)", stem):
            return assignment
    return None


def collect(folder: Path | str, assignments: list[str], workdir: Path | str,
            pattern: str = DEFAULT_PATTERN) -> Intake:
    """Read a submissions folder; zip archives are extracted under ``workdir``."""
    folder, workdir = Path(folder), Path(workdir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The submissions folder {folder} does not exist. Pass the folder you downloaded, laid out "
            "<student_id>/<notebook>.ipynb or as your LMS's flat download: make autograde SUBMISSIONS=path/to/folder")
    intake = Intake()
    regex = re.compile(pattern)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__MACOSX" for part in rel.parts):
            continue  # hidden files and macOS metadata are not submissions
        if path.suffix.lower() == ".zip":
            _read_zip(path, rel, assignments, workdir, regex, intake)
        elif path.suffix.lower() == ".ipynb":
            _place(rel, path, str(rel), path.stat().st_mtime, assignments, regex, intake)
        else:
            if len(rel.parts) > 1:  # a student folder without a notebook still names a student
                intake.students.add(rel.parts[0])
            intake.problems.append(f"unknown file: {rel} (not a notebook or a zip archive), ignored")
    return intake


def _student_of(rel: Path, regex: re.Pattern) -> str | None:
    if len(rel.parts) > 1:  # folder layout: the first folder is the student
        return rel.parts[0]
    match = regex.match(rel.name)
    return match.group("student") if match else None


def _place(rel: Path, path: Path, origin: str, mtime: float, assignments: list[str],
           regex: re.Pattern, intake: Intake) -> None:
    student = _student_of(rel, regex)
    if not student or not STUDENT_ID.match(student):
        intake.problems.append(f"unknown file: {origin}: no student id found in its name "
                               f"(expected <student_id>/<notebook>.ipynb or a name matching {regex.pattern!r})")
        return
    assignment = match_assignment(rel.name, assignments)
    if assignment is None:
        intake.students.add(student)
        intake.problems.append(f"wrong notebook name: {origin}: not one of {', '.join(assignments)}; "
                               "rename it to the assignment's name and grade again")
        return
    intake.add(Submission(student, assignment, path, origin, mtime))


def _read_zip(path: Path, rel: Path, assignments: list[str], workdir: Path, regex: re.Pattern,
              intake: Intake) -> None:
    target = workdir / "unzipped" / re.sub(r"[^A-Za-z0-9._-]", "_", str(rel))
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"member {bad} is corrupted")
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in members:
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise zipfile.BadZipFile(f"member {member.filename} points outside the archive")
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            archive.extractall(target)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        shutil.rmtree(target, ignore_errors=True)
        intake.problems.append(f"bad archive: {rel}: {error}; nothing in it was used. Ask the student "
                               "(or the LMS) for a fresh copy")
        return
    # The archive's own name carries the student id in a flat download.
    owner = _student_of(rel, regex)
    for member in members:
        name = Path(member.filename)
        if any(part.startswith(".") or part == "__MACOSX" for part in name.parts):
            continue
        origin = f"{rel}!{member.filename}"
        mtime = datetime(*member.date_time).timestamp()
        if name.suffix.lower() != ".ipynb":
            intake.problems.append(f"unknown file: {origin} (not a notebook), ignored")
            continue
        inner = Path(owner) / name.name if owner else name
        _place(inner, target / name, origin, mtime, assignments, regex, intake)
