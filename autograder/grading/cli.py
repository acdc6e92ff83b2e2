"""Grade a class: ``make autograde SUBMISSIONS=<folder>`` runs this.

    python -m autograder.grading.cli SUBMISSIONS [--out grading] [--workers N] [--force] [--pattern REGEX]
                               [--scheduler tcp://host:8786]

Submissions are read from an instructor's folder or LMS download (``autograder.grading.intake``), graded
in parallel by real ``nbgrader autograde`` with student code sandboxed and test cells judged
outside the student's process (``autograder.grading.worker``, ``autograder.judging.judge``), merged into one
gradebook and written out (``autograder.grading.batch``, ``autograder.grading.reports``):

- ``grades.csv``: a row per student; per exercise, per notebook and course totals; statuses;
- ``feedback/<student>/<assignment>/<assignment>.html``: scores and failure messages, no hidden tests;
- ``report.md`` and ``totals.png``: per-exercise means and failure rates, the distribution of totals,
  the slowest submissions; ``intake.txt``: what was found and every problem with the input;
- ``logs/<student>/<assignment>/<assignment>.log``: what the student's kernel wrote to stderr.

A submission is graded again only when its file, its master, the grader's code or a limit changed
(``--force`` regrades everything); manual scores given in formgrader survive regrading. Another
folder (late submissions) merges into the class already in ``--out``. An empty folder, or one
student's folder, is refused with exit status 2; Ctrl-C saves what finished and exits with 130.
"""
from __future__ import annotations

import argparse
import sys

from autograder.settings import REPO_ROOT
from autograder.grading.batch import Grader
from autograder.grading.cluster import ClusterError
from autograder.grading.intake import DEFAULT_PATTERN, InputError

__all__ = ["Grader", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade a folder of submissions with nbgrader, in parallel.")
    parser.add_argument("submissions", help="folder: <student_id>/<notebook>.ipynb, or an LMS's flat download")
    parser.add_argument("--out", default=str(REPO_ROOT / "grading"), help="output folder (default: grading/)")
    parser.add_argument("--workers", type=int, default=None, help="parallel graders (default: one per core)")
    parser.add_argument("--force", action="store_true", help="regrade submissions that did not change")
    parser.add_argument("--pattern", default=DEFAULT_PATTERN,
                        help="regular expression with a 'student' group, matched on flat file names")
    parser.add_argument("--scheduler", default=None,
                        help="grade on the Dask cluster of this scheduler (tcp://host:8786) instead of this machine")
    args = parser.parse_args(argv)
    try:
        from autograder.judging.sandbox import describe
        print(f"protection: {describe()}", file=sys.stderr)
        grader = Grader(args.out, args.workers, args.pattern, scheduler=args.scheduler)
        results = grader.run(args.submissions, force=args.force)
    except (FileNotFoundError, InputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # Ctrl-C before grading began (reading the folder): nothing was written
        print("\nstopped by Ctrl-C before grading began; nothing was graded or written.", file=sys.stderr)
        return 130
    from autograder.grading.reports import problems_summary, run_summary
    for line in run_summary(results, grader.counts):  # the same lines as at the top of intake.txt
        print(line)
    for line in problems_summary(grader.intake, grader.out):
        print(line)
    print(f"Grades: {args.out}/grades.csv; report: {args.out}/report.md; every problem: {args.out}/intake.txt; "
          f"the grader's warnings: {args.out}/grader.log")
    return 130 if grader.counts.stopped else 0


if __name__ == "__main__":
    sys.exit(main())
