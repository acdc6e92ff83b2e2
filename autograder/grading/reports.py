"""What a grading run writes: grades.csv, the class report, the intake log."""
from __future__ import annotations

import sys
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

# A submission a stopped run did not get to: shown as such (never as missing, never with an older
# file's grade), stored nowhere, graded at the next run.
NOT_GRADED = "not graded yet"


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` all at once: a run stopped midway leaves the old file, never half a new one."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _cell_value(grade) -> float | str:
    """A cell's score for the gradebook export; '' while a written answer awaits a human."""
    if grade.manual_score is not None:
        return grade.manual_score + (grade.extra_credit or 0)
    if grade.needs_manual_grade:
        return ""
    return (grade.auto_score or 0) + (grade.extra_credit or 0)


def _columns(main, assignments: list[str]) -> dict[str, list[str]]:
    with main.gradebook() as gb:
        return {a: [c.name for c in gb.find_notebook(a, a).grade_cells] for a in assignments}


def scores(main, results) -> dict[tuple[str, str], dict[str, float | str]]:
    """(student, assignment) -> {grade_id: score} read back from the merged gradebook."""
    table = {}
    with main.gradebook() as gb:
        for r in results:
            if r.status == NOT_GRADED:
                continue  # no scores yet: its cells stay empty
            notebook = gb.find_submission_notebook(r.assignment, r.assignment, r.student)
            table[(r.student, r.assignment)] = {g.name: _cell_value(g) for g in notebook.grades}
    return table


def write_grades_csv(path: Path, main, results) -> None:
    assignments = sorted({r.assignment for r in results})
    columns = _columns(main, assignments)
    table = scores(main, results)
    by_student: dict[str, dict[str, object]] = {}
    for r in results:
        by_student.setdefault(r.student, {})[r.assignment] = r
    header = ["student", "status", "total", "max"]
    for a in assignments:
        header += [f"{a} total", f"{a} status"] + [f"{a}:{gid}" for gid in columns[a]]
    with main.gradebook() as gb:
        max_of = {a: float(gb.find_assignment(a).max_score) for a in assignments}
    rows = []
    for student in sorted(by_student):
        row = {"student": student}
        total, statuses = 0.0, []
        for a in assignments:
            r = by_student[student].get(a)
            values = table.get((student, a), {})
            subtotal = sum(v for v in values.values() if v != "")
            total += subtotal
            status = r.status if r else "missing"
            if status != "graded":
                statuses.append(f"{a}: {status}")
            row[f"{a} total"] = _fmt(subtotal)
            row[f"{a} status"] = status
            for gid in columns[a]:
                value = values.get(gid, "" if status == NOT_GRADED else 0.0)
                row[f"{a}:{gid}"] = value if value == "" else _fmt(value)
        row["status"] = "; ".join(statuses) or "graded"
        row["total"] = _fmt(total)
        row["max"] = _fmt(sum(max_of.values()))
        rows.append(row)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=header, quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    write_whole(path, text.getvalue())


def _fmt(value: float) -> str:
    return f"{value:g}"


AWAITING = "awaiting grading"


def exercise_rows(columns: list[str], scored: list[dict[str, float | str]], maxima: dict[str, float]) -> list[str]:
    """The report's table rows for one assignment: per cell, its mean and failure rate over the
    submitted notebooks; a written answer that still waits for a person says so instead of a mean."""
    rows = []
    for gid in columns:
        values = [cells.get(gid, "") for cells in scored]
        waiting = sum(v == "" for v in values)
        numeric = [v for v in values if v != ""]
        top = maxima.get(gid, 0.0)
        if waiting:
            rows.append(f"| {gid} | {top:g} | {AWAITING} ({waiting} of {len(values)}) | |")
        elif not numeric:
            rows.append(f"| {gid} | {top:g} | no submissions | |")
        else:
            failed = sum(v < top for v in numeric) / len(numeric)
            rows.append(f"| {gid} | {top:g} | {mean(numeric):.2f} | {failed:.0%} |")
    return rows


def write_class_report(out: Path, main, results) -> None:
    assignments = sorted({r.assignment for r in results})
    columns = _columns(main, assignments)
    table = scores(main, results)
    with main.gradebook() as gb:
        course_max = sum(float(gb.find_assignment(a).max_score) for a in assignments)
    students = sorted({r.student for r in results})
    lines = ["# Class report", "", f"{len(students)} students, "
             f"{sum(r.status not in ('missing', NOT_GRADED) for r in results)} submissions graded"
             + (f" ({count(sum(r.status == NOT_GRADED for r in results), 'submission')} {NOT_GRADED})"
                if any(r.status == NOT_GRADED for r in results) else "") + ". Means and failure rates are over "
             "the submitted notebooks; a written answer counts once a person has scored it.", ""]
    for a in assignments:
        submitted = [r for r in results if r.assignment == a and r.status not in ("missing", NOT_GRADED)]
        maxima = {gid: cell.max for r in results if r.assignment == a for gid, cell in r.cells.items()}
        lines += [f"## {a}", "", "| exercise | max | mean | failure rate |", "|---|---|---|---|"]
        lines += exercise_rows(columns[a], [table[(r.student, a)] for r in submitted], maxima)
        lines.append("")
    totals = [sum(v for (s, _), cells in table.items() if s == student for v in cells.values() if v != "")
              for student in students]
    waiting = any(v == "" for cells in table.values() for v in cells.values())
    slow = sorted((r for r in results if r.seconds), key=lambda r: r.seconds, reverse=True)[:10]
    lines += ["## Slowest submissions", "", "| student | assignment | seconds | status |", "|---|---|---|---|"]
    lines += [f"| {r.student} | {r.assignment} | {r.seconds:.1f} | {r.status} |" for r in slow]
    lines += ["", "![Distribution of totals](totals.png)", ""]
    write_whole(out / "report.md", "\n".join(lines))
    plot_totals(out / "totals.png", totals, course_max, waiting)


def plot_totals(path: Path, totals: list[float], course_max: float, waiting: bool = False) -> None:
    import matplotlib.pyplot as plt
    fig = totals_figure(totals, course_max, waiting)
    partial = path.with_name(f".{path.name}.partial.png")
    fig.savefig(partial, dpi=100, metadata={"Software": None})
    os.replace(partial, path)
    plt.close(fig)


def totals_figure(totals: list[float], course_max: float, waiting: bool = False):
    """Histogram of the students' course totals on the whole scale, 0 to the maximum, which is marked;
    the students axis counts whole students."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    top = max([course_max, *totals, 1.0])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(totals, bins=min(20, max(5, int(top))), range=(0, top), color="#4c72b0", edgecolor="white")
    ax.axvline(course_max, color="#c44e52", linestyle="--", linewidth=1.5)
    ax.annotate(f"maximum {course_max:g}", xy=(course_max, 1), xycoords=("data", "axes fraction"),
                xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", color="#c44e52")
    ax.set_xlim(0, top * 1.02)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("course total" + (" (written answers awaiting grading not counted yet)" if waiting else ""))
    ax.set_ylabel("students")
    ax.set_title(f"Distribution of totals ({len(totals)} students)", loc="left")
    fig.tight_layout()
    return fig


def count(n: int, noun: str) -> str:
    """'1 submission', '2 submissions'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


@dataclass
class RunCounts:
    """What one run did with its folder: submissions found, graded now, unchanged (results kept),
    and not graded because the run was stopped."""
    folder: str = ""
    found: int = 0
    graded: int = 0
    kept: int = 0
    stopped: int = 0


def run_summary(results, run: RunCounts) -> list[str]:
    """The run in two sentences, the same on the terminal and in intake.txt: what this run did with
    its folder, then the class as grades.csv shows it (earlier runs' folders included), by status."""
    first = (f"This run: {count(run.found, 'submission')} in {run.folder}: {run.graded} run through the grader, "
             f"{run.kept} unchanged since the last run (results kept)")
    if run.stopped:
        first += f", {run.stopped} {NOT_GRADED} (stopped by Ctrl-C: run the same command again to grade them)"
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    students = len({r.student for r in results})
    second = (f"The class in grades.csv: {count(students, 'student')}; by notebook: "
              + (", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none") + ".")
    return [first + ".", second]


def write_intake(path: Path, intake, results, run: RunCounts) -> None:
    from autograder.judging.sandbox import describe
    lines = [f"Protection: {describe()}", ""]
    lines += run_summary(results, run) + [""]
    lines += ["Problems with the input:"] + [f"- {p}" for p in intake.problems] if intake.problems else ["No problems with the input."]
    lines += ["", "Statuses:"] + [f"- {r.student}/{r.assignment}: {r.status}" + (f" ({r.message})" if r.message else "")
                                  for r in results]
    write_whole(path, "\n".join(lines) + "\n")


def problems_summary(intake, out: Path, shown: int = 5) -> list[str]:
    """The input's problems for the terminal: how many, the first few, where the rest are."""
    if not intake.problems:
        return []
    lines = [f"{count(len(intake.problems), 'problem')} with the input (every one in {out}/intake.txt):"]
    lines += [f"- {p}" for p in intake.problems[:shown]]
    if len(intake.problems) > shown:
        lines.append(f"- ... and {len(intake.problems) - shown} more in {out}/intake.txt")
    return lines


def progress_bar(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="grading", unit="submission", disable=not enabled, file=sys.stderr,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")
