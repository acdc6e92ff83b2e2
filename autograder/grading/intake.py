"""Find the submissions in what an instructor downloaded, and report everything else.

Two layouts are accepted:

- a folder per student: ``<student_id>/<assignment>.ipynb`` (nbgrader's own ``submitted/`` too,
  ``<student_id>/<assignment>/<assignment>.ipynb``);
- an LMS's flat download: files whose names carry the student id, matched by ``pattern``
  (a regular expression with a ``student`` group), notebooks or zip archives of notebooks.

Nothing is dropped silently: every file ends up either as a submission or in ``problems``
(unknown notebook names, duplicates where the newest wins, unreadable archives, stray files).
A zip archive that cannot be read whole is rejected whole, never half-used. A folder with no
submission, or one that looks like a single student's (notebooks named like the assignments, with
no student id), is refused (``refuse_unusable``) rather than graded into a wrong class.
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
    folder: Path = Path()
    unowned: list[str] = field(default_factory=list)  # named like an assignment, with no student id

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
    intake = Intake(folder=folder)
    regex = re.compile(pattern)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__MACOSX" for part in rel.parts):
            continue  # hidden files and macOS metadata are not submissions
        if path.suffix.lower() in (".zip", ".ipynb") and _unowned(rel, assignments, regex):
            intake.unowned.append(str(rel))
        elif path.suffix.lower() == ".zip":
            _read_zip(path, rel, assignments, workdir, regex, intake)
        elif path.suffix.lower() == ".ipynb":
            _place(rel, path, str(rel), path.stat().st_mtime, assignments, regex, intake)
        elif _is_collect_timestamp(rel, assignments):
            continue  # nbgrader collect's record of when the student submitted, beside the notebook
        else:
            if len(rel.parts) > 1:  # a student folder without a notebook still names a student
                intake.students.add(rel.parts[0])
            intake.problems.append(f"unknown file: {rel} (not a notebook or a zip archive), ignored")
    return intake


def _unowned(rel: Path, assignments: list[str], regex: re.Pattern) -> bool:
    """A file whose student id would really be part of an assignment's name: a notebook named
    like the assignment directly in the folder ("01_tensors.ipynb", "01_tensors (1).ipynb"), or an
    assignment's own folder taken for a student's (nbgrader's <assignment>/<assignment>.ipynb)."""
    if len(rel.parts) > 1:
        return rel.parts[0] in assignments
    name = rel.name.lower()
    for assignment in assignments:
        if name.startswith(assignment.lower()):
            match = regex.match(rel.name)
            return match is None or match.end("student") <= len(assignment)
    return False


class InputError(ValueError):
    """A submissions folder that would grade into a wrong class; nothing was graded or written."""


def refuse_unusable(intake: Intake, assignments: list[str]) -> None:
    """Raise InputError for a folder that looks like one student's, or that holds no submission."""
    folder = intake.folder
    example = assignments[1] if len(assignments) > 1 else assignments[0]
    layouts = (f"SUBMISSIONS must be the folder that holds one folder per student ({folder}/<student_id>/"
               f"{example}.ipynb) or your LMS's flat download (files named <student_id>_..._{example}.ipynb)")
    if intake.unowned:
        more = len(intake.unowned) - 3
        shown = ", ".join(intake.unowned[:3]) + (f" and {more} more" if more > 0 else "")
        raise InputError(
            f"{folder} looks like one student's folder, not a class: it holds {shown}, named like the "
            f"assignments with no student id, so the grader cannot tell whose they are. {layouts}. To grade one "
            f"student, put their folder in a class folder under their id (mkdir -p class && cp -r {folder} "
            "class/<student_id>) and pass that: make autograde SUBMISSIONS=class. Nothing was graded or written.")
    if not intake.submissions:
        more = len(intake.problems) - 3
        found = ("; what it holds instead: " + "; ".join(intake.problems[:3])
                 + (f" (and {more} more)" if more > 0 else "")) if intake.problems else ""
        raise InputError(
            f"{folder} holds no submission of this course's notebooks ({', '.join(assignments)}){found}. "
            f"{layouts}; if the submissions are in a subfolder, pass that one. Nothing was graded, and the "
            "grading folder (grades.csv, report.md) was left as it was.")


# What nbgrader's submit writes beside the notebook and collect keeps (<student>/<assignment>/..., the hub's
# layout): when the student handed in, and the secret that names their feedback page in the exchange.
COLLECT_TIMESTAMP = "timestamp.txt"
COLLECT_SECRET = "submission_secret.txt"
COLLECT_RECORDS = (COLLECT_TIMESTAMP, COLLECT_SECRET)


def _is_collect_timestamp(rel: Path, assignments: list[str]) -> bool:
    return len(rel.parts) == 3 and rel.name in COLLECT_RECORDS and rel.parts[1] in assignments


def collect_records(intake: Intake) -> dict:
    """nbgrader collect's records of each submission, as bytes ({(student, assignment): {name: bytes}}), where
    both are there. nbgrader's release_feedback needs them beside the feedback page, and the student's
    fetch_feedback finds the page by the secret (the grader's batch keeps them there)."""
    records = {}
    for (student, assignment), sub in intake.submissions.items():
        files = [sub.path.parent / name for name in COLLECT_RECORDS]
        if sub.path.parent.name == assignment and all(f.is_file() and not f.is_symlink() for f in files):
            with open(files[0], "rb") as stamp, open(files[1], "rb") as secret:
                records[student, assignment] = {COLLECT_TIMESTAMP: stamp.read(100), COLLECT_SECRET: secret.read(1000)}
    return records


def submitted_times(intake: Intake) -> dict:
    """When each submission was handed in, where ``nbgrader collect`` says so (timestamp.txt beside the
    notebook, the workshop hub's layout). Formgrader counts a submission as autograded only when the
    gradebook has the same time, so without it the hub's instructor would see every score as 0."""
    from nbgrader.utils import parse_utc
    times = {}
    for (student, assignment), sub in intake.submissions.items():
        stamp = sub.path.parent / COLLECT_TIMESTAMP
        if sub.path.parent.name == assignment and stamp.is_file():
            try:
                times[student, assignment] = parse_utc(stamp.read_text(encoding="utf-8").strip()[:100])
            except (ValueError, OverflowError, UnicodeDecodeError):
                pass  # an unreadable time is not worth a submission: graded without it
    return times


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


# A zip archive is checked before anything is extracted: the sizes its directory declares (which
# bound what reading can produce), and how much they expand. Notebooks compress about 3-10 times.
ZIP_MAX_TOTAL = 256 * 2**20
ZIP_MAX_MEMBER = 64 * 2**20
ZIP_MAX_RATIO = 100


def _check_sizes(members: list[zipfile.ZipInfo]) -> None:
    total = sum(m.file_size for m in members)
    if total > ZIP_MAX_TOTAL:
        raise zipfile.BadZipFile(f"it would expand to {total / 2**20:.0f} MiB, more than the "
                                 f"{ZIP_MAX_TOTAL // 2**20} MiB the grader accepts")
    for m in members:
        if m.file_size > ZIP_MAX_MEMBER:
            raise zipfile.BadZipFile(f"member {m.filename} would expand to {m.file_size / 2**20:.0f} MiB")
        if m.file_size > 2**20 and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1):
            raise zipfile.BadZipFile(f"member {m.filename} expands {m.file_size // max(m.compress_size, 1)} times "
                                     "(a zip bomb?)")


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path | None) -> None:
    """Stream one member to ``dest`` (or nowhere), never past its declared size."""
    written = 0
    sink = None
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        sink = open(dest, "xb")
    try:
        with archive.open(member) as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                written += len(chunk)
                if written > member.file_size:
                    raise zipfile.BadZipFile(f"member {member.filename} is larger than it says")
                if sink:
                    sink.write(chunk)
    finally:
        if sink:
            sink.close()


def _read_zip(path: Path, rel: Path, assignments: list[str], workdir: Path, regex: re.Pattern,
              intake: Intake) -> None:
    target = workdir / "unzipped" / re.sub(r"[^A-Za-z0-9._-]", "_", str(rel))
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            _check_sizes(members)
            for member in members:
                name = Path(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise zipfile.BadZipFile(f"member {member.filename} points outside the archive")
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            for member in members:  # only notebooks are written; every member is read (CRC checked)
                keep = Path(member.filename).suffix.lower() == ".ipynb"
                _extract(archive, member, target / member.filename if keep else None)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        shutil.rmtree(target, ignore_errors=True)
        intake.problems.append(f"bad archive: {rel}: {error}; nothing in it was used. Ask the student "
                               "(or the LMS) for a fresh copy")
        owner = _student_of(rel, regex)
        if owner and STUDENT_ID.match(owner):
            intake.students.add(owner)  # named, so reported missing rather than forgotten
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
