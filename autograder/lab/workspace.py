"""The student's workspace: a private copy of course/ that updates never overwrite.

course/ is generated and tracked, so students do not work there. `make lab` calls ``sync``,
which copies each released notebook into work/ (git-ignored) the first time, and afterwards
leaves the student's file alone until the release itself changes. Then the new release is
written with the student's answers merged in (answer cells, code and written, matched by
nbgrader grade_id), after a timestamped backup of the old file.

To know what changed, work/.releases/ keeps the release each workspace notebook was made from.
An answer the student never touched (still the old release's text) takes the new release's
text, so a corrected stub or prompt reaches the student; anything the student wrote is kept, and
cells the student added come along after the graded cell they followed. Backups go to
work/backups/<notebook>/<date>.ipynb: a folder of their own, with names the file browser shows whole.

    python -m autograder.lab.workspace [--course course] [--work work]
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.settings import COURSE, REPO_ROOT
from autograder.authoring import cells

WORK = REPO_ROOT / "work"
RELEASES = ".releases"  # inside the workspace: the release each notebook was last synced from
BACKUPS = "backups"  # inside the workspace: the student's files as they were before each update


@dataclass
class SyncReport:
    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)  # merged into a new release
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # unreadable student files, left alone
    lines: list[str] = field(default_factory=list)  # one line per file that changed or needs attention


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # never a half-written notebook, even if interrupted


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _answers(nb: dict) -> dict[str, dict]:
    """Answer cells (code and written) by grade_id."""
    return {cells.grade_id(c): c for c in nb.get("cells", [])
            if cells.kind(c) == cells.ANSWER and cells.grade_id(c)}


def merge(new_release: dict, student: dict, old_release: dict | None) -> tuple[dict, list[str]]:
    """The new release with the student's answers in it; also the grade_ids of answers that have no
    place in the new release (they stay in the backup only)."""
    mine = _answers(student)
    before = _answers(old_release) if old_release else {}
    merged = copy.deepcopy(new_release)
    for cell in merged["cells"]:
        if cells.kind(cell) != cells.ANSWER:
            continue
        ident = cells.grade_id(cell)
        if ident not in mine:
            continue
        written = _source(mine[ident])
        untouched = ident in before and written == _source(before[ident])
        if not untouched:
            cell["source"] = written
            if cell.get("cell_type") == "code":
                cell["outputs"] = copy.deepcopy(mine[ident].get("outputs", []))
                cell["execution_count"] = mine[ident].get("execution_count")
    if old_release:
        _carry_own_cells(merged, student, old_release)
    dropped = sorted(set(mine) - set(_answers(new_release)))
    return merged, dropped


def _carry_own_cells(merged: dict, student: dict, old_release: dict) -> None:
    """Cells the student added (scratch work, notes) go into the merged notebook after the same graded
    cell they followed; a cell is the student's when the old release had no cell with its text."""
    released = {_source(c) for c in old_release.get("cells", [])}
    own: dict[str | None, list[dict]] = {}
    anchor = None  # the grade_id of the last graded cell seen, None before the first
    for cell in student["cells"]:
        if cells.grade_id(cell):
            anchor = cells.grade_id(cell)
        elif _source(cell).strip() and _source(cell) not in released:
            own.setdefault(anchor, []).append(copy.deepcopy(cell))
    if not own:
        return
    result = []
    if None in own:  # before any graded cell: keep them near the top, after the title
        result, rest = merged["cells"][:1] + own.pop(None), merged["cells"][1:]
    else:
        rest = merged["cells"]
    for cell in rest:
        result.append(cell)
        result.extend(own.pop(cells.grade_id(cell), []) if cells.grade_id(cell) else [])
    for leftover in own.values():  # their graded cell is gone from the course: at the end
        result.extend(leftover)
    merged["cells"] = result


def _backup_path(work: Path, notebook: Path, now: dt.datetime) -> Path:
    """work/backups/01_tensors/2026-12-02_093000.ipynb: the date is the name, so no two look alike."""
    folder = work / BACKUPS / notebook.stem
    stamp = now.strftime("%Y-%m-%d_%H%M%S")
    candidate, n = folder / f"{stamp}{notebook.suffix}", 1
    while candidate.exists():
        candidate, n = folder / f"{stamp}-{n}{notebook.suffix}", n + 1
    return candidate


def sync(course: Path | str = COURSE, work: Path | str = WORK, now: dt.datetime | None = None) -> SyncReport:
    """Bring every released notebook of ``course`` into ``work`` without losing an answer."""
    course, work = Path(course).resolve(), Path(work).resolve()
    if not course.is_dir():
        raise FileNotFoundError(f"No course folder at {course}. Run `make release` (instructors) or check "
                                f"out the repository again: course/ holds the released notebooks.")
    now = now or dt.datetime.now()
    report = SyncReport()
    for release_path in sorted(course.glob("*/*.ipynb")):
        relative = release_path.relative_to(course)
        mine_path, kept_path = work / relative, work / RELEASES / relative
        release_bytes = release_path.read_bytes()
        shown = mine_path.relative_to(work.parent) if work.parent in mine_path.parents else mine_path
        if not mine_path.exists():
            mine_path.parent.mkdir(parents=True, exist_ok=True)
            mine_path.write_bytes(release_bytes)
            kept_path.parent.mkdir(parents=True, exist_ok=True)
            kept_path.write_bytes(release_bytes)
            report.created.append(mine_path)
            continue
        if kept_path.exists() and kept_path.read_bytes() == release_bytes:
            report.unchanged.append(mine_path)
            continue
        if mine_path.read_bytes() == release_bytes:  # never opened: nothing of the student's to keep
            kept_path.parent.mkdir(parents=True, exist_ok=True)
            kept_path.write_bytes(release_bytes)
            report.unchanged.append(mine_path)
            continue
        try:
            student = _read(mine_path)
            student["cells"]  # noqa: B018 (a notebook has cells; anything else is not one)
        except (ValueError, KeyError, TypeError):
            report.skipped.append(mine_path)
            report.lines.append(f"{shown}: not a readable notebook, so the course update was not applied to it. "
                                f"Fix or rename it, then run `make lab` again.")
            continue
        old_release = _read(kept_path) if kept_path.exists() else None
        merged, dropped = merge(_read(release_path), student, old_release)
        backup = _backup_path(work, mine_path, now)
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(mine_path, backup)
        _write(mine_path, merged)
        kept_path.parent.mkdir(parents=True, exist_ok=True)
        kept_path.write_bytes(release_bytes)
        report.updated.append(mine_path)
        extra = f" (answers {', '.join(dropped)} are no longer in the course)" if dropped else ""
        report.lines.append(f"{shown}: updated to the new course version with your answers kept{extra}; "
                            f"your previous file is saved as {backup.relative_to(work.parent)}")
    return report


def resolve(notebook: str | Path, work: Path | str | None = None) -> Path:
    """A notebook path, or a name in the workspace: ``01_tensors`` means work/01_tensors/01_tensors.ipynb."""
    path = Path(notebook)
    if path.suffix == ".ipynb" or path.exists():
        return path
    work = Path(work or WORK)
    matches = sorted(work.glob(f"{path.name}*/{path.name}*.ipynb"))
    matches = [m for m in matches if m.parent.name == m.stem]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(sorted(p.stem for p in work.glob("*/*.ipynb") if p.parent.name == p.stem)) or "none yet"
    raise FileNotFoundError(f"No single notebook named {str(notebook)!r} in {work} (there: {names}). Give a "
                            f"name such as 01_tensors or a path such as work/01_tensors/01_tensors.ipynb; "
                            f"`make lab` creates the workspace.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create or update the student workspace from course/.")
    parser.add_argument("--course", default=str(COURSE), help="released notebooks (default: course/)")
    parser.add_argument("--work", default=str(WORK), help="the student's workspace (default: work/)")
    parser.add_argument("--which", metavar="NB", help="print the path of notebook NB in the workspace, then stop")
    args = parser.parse_args(argv)
    if args.which is not None:
        try:
            print(resolve(args.which, args.work))
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 2
        return 0
    try:
        report = sync(args.course, args.work)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    if report.created:
        print(f"Workspace {args.work}: {len(report.created)} new notebook(s) copied from the course.")
    for line in report.lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
