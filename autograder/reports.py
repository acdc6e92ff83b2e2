"""What a grading run writes: grades.csv, the class report, the intake log."""
from __future__ import annotations

import csv
from pathlib import Path
from statistics import mean


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
                value = values.get(gid, 0.0)
                row[f"{a}:{gid}"] = value if value == "" else _fmt(value)
        row["status"] = "; ".join(statuses) or "graded"
        row["total"] = _fmt(total)
        row["max"] = _fmt(sum(max_of.values()))
        rows.append(row)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)


def _fmt(value: float) -> str:
    return f"{value:g}"


def write_class_report(out: Path, main, results) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assignments = sorted({r.assignment for r in results})
    columns = _columns(main, assignments)
    table = scores(main, results)
    lines = ["# Class report", "", f"{len({r.student for r in results})} students, "
             f"{sum(r.status != 'missing' for r in results)} submissions.", ""]
    totals = []
    for a in assignments:
        graded = [r for r in results if r.assignment == a]
        lines += [f"## {a}", "", "| exercise | max | mean | failure rate |", "|---|---|---|---|"]
        for gid in columns[a]:
            maxima = [r.cells[gid].max for r in graded if gid in r.cells]
            values = [table[(r.student, a)].get(gid, "") for r in graded]
            numeric = [v for v in values if v != ""]
            top = maxima[0] if maxima else 0
            if not numeric:
                lines.append(f"| {gid} | {top:g} | awaiting manual grading | |")
                continue
            failed = sum(v < top for v in numeric) / len(numeric)
            lines.append(f"| {gid} | {top:g} | {mean(numeric):.2f} | {failed:.0%} |")
        lines.append("")
    for student in sorted({r.student for r in results}):
        totals.append(sum(v for (s, _), cells in table.items() if s == student for v in cells.values() if v != ""))
    slow = sorted((r for r in results if r.seconds), key=lambda r: r.seconds, reverse=True)[:10]
    lines += ["## Slowest submissions", "", "| student | assignment | seconds | status |", "|---|---|---|---|"]
    lines += [f"| {r.student} | {r.assignment} | {r.seconds:.1f} | {r.status} |" for r in slow]
    lines += ["", "![Distribution of totals](totals.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(totals, bins=min(20, max(5, len(totals))), color="#4c72b0", edgecolor="white")
    ax.set_xlabel("course total")
    ax.set_ylabel("students")
    ax.set_title(f"Distribution of totals ({len(totals)} students)")
    fig.tight_layout()
    fig.savefig(out / "totals.png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def write_intake(path: Path, intake, results, graded_now: int) -> None:
    from .sandbox import describe
    lines = [f"Protection: {describe()}", ""]
    lines += [f"{len(intake.submissions)} submissions from {len(intake.students)} students; "
             f"{graded_now} graded in this run, {len(intake.submissions) - graded_now} unchanged since the last run.", ""]
    lines += ["Problems with the input:"] + [f"- {p}" for p in intake.problems] if intake.problems else ["No problems with the input."]
    lines += ["", "Statuses:"] + [f"- {r.student}/{r.assignment}: {r.status}" + (f" ({r.message})" if r.message else "")
                                  for r in results]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
