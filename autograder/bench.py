"""The project's benchmarks, measured side by side in one run, written to docs/BENCHMARKS.md.

    python -m autograder.bench [--quick] [--out docs/BENCHMARKS.md]

1. MNIST time-to-accuracy: the course's reference CNN and recipe (taken from the 06 master, not
   copied), the classic small network, and the pytorch/examples network, each for its fixed budget
   on the same tensors in the same process.
2. Course run time: every master executed top to bottom in a fresh kernel.
3. Grading throughput: one synthetic batch graded by stock `nbgrader autograde` (one after another)
   and by our pipeline (sandbox, judge, feedback) with 1 worker and with one per core, in a local
   pool and through a loopback Dask cluster of the same size (the scheduler's per-task overhead).
4. Set-up cost: a fresh `make setup`'s install into a new virtual environment, and a second run.

``--quick`` (CI) runs a reduced version of each, so the code cannot rot: its figures mean nothing.
Machines are noisy: the tables report medians of repeats and ratios taken in the same run.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.settings import REPO_ROOT
from autograder.authoring import masters
from autograder.authoring.release import assignments

QUICK_IMAGES = 640  # --quick trains on this many MNIST images


def machine() -> str:
    import torch
    cpu = "unknown CPU"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or cpu
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} cores, {cpu}, {gpu}, torch {torch.__version__}, Python {platform.python_version()}"


# ---------------------------------------------------------------- 1. MNIST

def _course_mnist() -> dict:
    """The 06 master's setup and solutions (MnistCNN, train_one_epoch, evaluate), executed."""
    book = masters.load(masters.master_path("06_mnist_cnn"))
    namespace: dict = {"__name__": "__bench__"}
    exec(compile(book.setup, "<06:setup>", "exec"), namespace)
    for source in book.context:
        exec(compile(source, "<06:context>", "exec"), namespace)
    for name in ("cnn", "train_one_epoch", "evaluate"):
        exec(compile(book.exercises[name].answer, f"<06:ex_{name}>", "exec"), namespace)
    return namespace


def _examples_net(nn, F):
    class ExamplesNet(nn.Module):  # pytorch/examples mnist/main.py, the network and its recipe
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
            self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
            self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = self.fc2(self.dropout2(F.relu(self.fc1(torch_flatten(self.dropout1(x))))))
            return F.log_softmax(x, dim=1)

    import torch
    torch_flatten = lambda t: torch.flatten(t, 1)  # noqa: E731
    return ExamplesNet


def _classic_net(nn, F):
    class ClassicNet(nn.Module):  # conv 1->10->20 (5x5), Dropout2d, fc 320->50->10
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
            self.drop = nn.Dropout2d()
            self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.drop(self.conv2(x)), 2))
            x = F.dropout(F.relu(self.fc1(x.flatten(1))), training=self.training)
            return F.log_softmax(self.fc2(x), dim=1)
    return ClassicNet


def bench_mnist(quick: bool, seeds: int) -> list[dict]:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    ns = _course_mnist()
    device, sync = ns["DEVICE"], ns["synchronize"]
    train_x, train_y = ns["load_mnist"](train=True, device=device)
    test_x, test_y = ns["load_mnist"](train=False, device=device)
    limit = QUICK_IMAGES if quick else len(train_x)  # quick: 10 batches of 64, enough to exercise every path
    x, y = train_x[:limit], train_y[:limit]

    def run(name, make_model, make_opt, make_sched, seed, channels_last=False):
        ns["seed_everything"](seed)
        model = make_model().to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = make_opt(model)
        scheduler = make_sched(optimizer) if make_sched else None
        sync(device)
        start = time.perf_counter()
        ns["train_one_epoch"](model, optimizer, x, y, 64, generator=torch.Generator().manual_seed(seed),
                              scheduler=scheduler)
        sync(device)
        seconds = time.perf_counter() - start
        _, accuracy = ns["evaluate"](model, test_x, test_y)
        return {"name": name, "seed": seed, "seconds": seconds, "accuracy": accuracy}

    steps = math.ceil(len(x) / 64)
    rows = []
    for seed in range(seeds):
        rows.append(run("course reference (MnistCNN, AdamW + one-cycle)", ns["MnistCNN"],
                        lambda m: torch.optim.AdamW(m.parameters(), lr=0.01),
                        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=steps), seed, True))
    rows.append(run("classic small network (SGD 0.01, momentum 0.5)", _classic_net(nn, F),
                    lambda m: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.5), None, 0))
    rows.append(run("pytorch/examples network (Adadelta 1.0)", _examples_net(nn, F),
                    lambda m: torch.optim.Adadelta(m.parameters(), lr=1.0), None, 0))
    return rows


# ---------------------------------------------------------------- 2. course run time

def bench_course(quick: bool) -> dict[str, tuple[float, list[str]]]:
    """assignment -> (seconds, failed checks) for each master in a fresh kernel."""
    from autograder.lab.check import checks, execute
    times = {}
    for assignment in (["00_getting_started"] if quick else assignments()):
        nb, seconds = execute(masters.master_path(assignment))
        times[assignment] = (seconds, [r.grade_id for r in checks(nb) if not r.passed])
    return times


# ---------------------------------------------------------------- 3. grading throughput

def _batch(folder: Path, students: int, chosen: list[str]) -> int:
    import nbformat
    count = 0
    for i in range(students):
        for assignment in chosen:
            nb = masters.student_copy(assignment, solve=(i % 2 == 0))  # half right, half blank
            path = folder / f"student{i:02d}" / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(path))
            count += 1
    return count


def _stock_nbgrader(batch: Path, chosen: list[str], scratch: Path) -> float:
    """Stock nbgrader: its own course directory, its default preprocessors, one submission after another."""
    course = scratch / "stock"
    (course / "source").mkdir(parents=True)
    for assignment in chosen:
        shutil.copytree(REPO_ROOT / "solutions" / assignment, course / "source" / assignment)
    for student in sorted(p.name for p in batch.iterdir()):
        for assignment in chosen:
            dest = course / "submitted" / student / assignment
            dest.mkdir(parents=True)
            shutil.copy(batch / student / f"{assignment}.ipynb", dest)
    # the one change from stock: a cell timeout the course's notebooks can live with
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = 300\n")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    for assignment in chosen:
        subprocess.run(nbgrader + ["generate_assignment", assignment, "--force"], cwd=course, env=env,
                       check=True, capture_output=True)
    prepared = time.perf_counter()
    for assignment in chosen:
        subprocess.run(nbgrader + ["autograde", assignment, "--force"], cwd=course, env=env,
                       check=True, capture_output=True)
    return time.perf_counter() - prepared, prepared - start


def bench_grading(quick: bool, scratch: Path, students: int, course: dict) -> dict:
    from autograder.grading.batch import Grader
    from autograder.lab.check import execute
    chosen = list(course)
    batch = scratch / "batch"
    n = _batch(batch, students, chosen)
    # Executing alone, the baseline of the overhead: the best of two runs of each notebook, so that
    # one run's hiccup (see docs/BENCHMARKS.md) does not flatter the graders.
    repeats = 1 if quick else 2  # quick: the code paths only, no figure worth a second run
    solved = sum(min([course[a][0]] + [execute(masters.master_path(a))[1] for _ in range(repeats - 1)]) for a in chosen)
    blanks = students // 2  # student 0 solves, student 1 submits the blank release, and so on
    blank = sum(min(execute(masters.released_path(a))[1] for _ in range(repeats)) for a in chosen) if blanks else 0.0
    exec_alone = solved * math.ceil(students / 2) + blank * blanks
    stock, stock_prepare = _stock_nbgrader(batch, chosen, scratch)
    figures = {"submissions": n, "assignments": chosen, "execute alone": exec_alone, "stock": stock,
               "prepare stock": stock_prepare}
    cores = os.cpu_count() or 1
    for workers in [cores] if quick else sorted({1, cores}):
        grader = Grader(scratch / f"ours-{workers}", workers=workers, progress=False)
        start = time.perf_counter()
        grader.template()  # the one-time preparation, timed apart as stock's generate_assignment is
        prepared = time.perf_counter()
        grader.run(batch, force=True)
        figures[_ours(workers)] = time.perf_counter() - prepared
        figures["prepare ours"] = prepared - start
    from autograder.grading.cluster import Loopback, local_template
    with Loopback(scratch / "dask", env={"TMPDIR": str(scratch)}) as cluster:
        cluster.start(workers=1, nworkers=cores)
        from distributed import Client
        with Client(cluster.address, set_as_default=False) as client:
            client.run(local_template)  # each worker's one-time preparation, not a per-task cost
        grader = Grader(scratch / "ours-dask", workers=cores, progress=False, scheduler=cluster.address)
        grader.template()
        start = time.perf_counter()
        grader.run(batch, force=True)
        figures[_ours(cores, "loopback Dask cluster, ")] = time.perf_counter() - start
    figures["dask workers"] = cores
    return figures


def _ours(workers: int, how: str = "") -> str:
    return f"ours, {how}{workers} worker{'s' if workers > 1 else ''}"


# ---------------------------------------------------------------- 4. set-up cost

def bench_setup(quick: bool, scratch: Path) -> dict:
    def du(path: Path) -> float:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**30

    def make(venv: Path) -> float:
        start = time.perf_counter()
        subprocess.run(["make", "-C", str(REPO_ROOT), "setup", f"VENV={venv}"], check=True, capture_output=True)
        return time.perf_counter() - start

    figures = {}
    if not quick:
        venv = scratch / "fresh-venv"
        figures["fresh install (s)"] = make(venv)
        figures["fresh install (GiB)"] = du(venv)
        figures["second run (s)"] = make(venv)
    else:
        figures["second run (s)"] = make(REPO_ROOT / ".venv")
    return figures


# ---------------------------------------------------------------- the report

def report(quick: bool, mnist, course, grading, setup) -> str:
    import torch
    lines = [f"## {'Quick' if quick else 'Full'} run, {time.strftime('%Y-%m-%d')}", "",
             f"Machine: {machine()}. Command: `make bench{' QUICK=1' if quick else ''}`.", ""]
    if not torch.cuda.is_available():
        lines += ["GPU rows: not measured (no GPU in this run; run `COURSE_DEVICE=cuda make bench` on one).", ""]
    ours = [r for r in mnist if r["name"].startswith("course")]
    med = statistics.median(r["seconds"] for r in ours)
    lines += ["### 1. MNIST: one training budget each, same data, same process"
              + (f" (quick: {QUICK_IMAGES:,} images)" if quick else ""), "",
              "| network and recipe | seeds | training s (median) | test accuracy (min–max) | speed vs ours |",
              "|---|---|---|---|---|"]
    by_name: dict[str, list] = {}
    for r in mnist:
        by_name.setdefault(r["name"], []).append(r)
    for name, rs in by_name.items():
        secs = statistics.median(r["seconds"] for r in rs)
        accs = [r["accuracy"] for r in rs]
        lines.append(f"| {name} | {len(rs)} | {secs:.1f} | {min(accs):.2%}–{max(accs):.2%} | {secs / med:.2f}× |")
    lines += ["", "### 2. Course run time (each master, fresh kernel)", "", "| notebook | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds:.1f}{f' (FAILED: {failed})' if failed else ''} |"
              for name, (seconds, failed) in course.items()]
    lines += [f"| **total** | **{sum(s for s, _ in course.values()):.1f}** |", ""]
    n = grading["submissions"]
    base = grading["stock"]
    mix = "half solved, half blank" if n > len(grading["assignments"]) else "solved"
    lines += [f"### 3. Grading {n} submissions ({len(grading['assignments'])} notebooks, {mix})", "",
              "| grader | seconds | submissions / min | speed-up vs stock |", "|---|---|---|---|"]
    for key in [k for k in grading if k == "stock" or k.startswith("ours")]:
        lines.append(f"| {'stock nbgrader autograde, one after another' if key == 'stock' else key} | "
                     f"{grading[key]:.1f} | {60 * n / grading[key]:.1f} | {base / grading[key]:.2f}× |")
    one = grading.get("ours, 1 worker")
    if one:
        alone = grading["execute alone"]
        per, share = (one - alone) / n, one / alone - 1
        lines += ["", f"Executing the same notebooks alone takes {alone:.1f} s: " + (
            f"our per-submission overhead with one worker is {per:.1f} s ({share:.0%} of execution)" if per >= 0 else
            f"grading with one worker takes {-per:.1f} s less per submission ({share:.0%}; see How to read it, 3)")
            + ", the sandbox, the judge and the feedback pages (stock nbgrader writes none) included."]
    if "prepare ours" in grading:
        lines += ["", f"Not in the rows: the one-time preparation of the gradebook before a first run (every master's "
                  f"cells recorded), {grading['prepare ours']:.1f} s for ours and {grading['prepare stock']:.1f} s for "
                  "stock nbgrader's `generate_assignment` of every notebook; a later run reuses it until a master "
                  "or the grader changes."]
    workers = grading.get("dask workers")
    if workers:
        local, dask = grading[_ours(workers)], grading[_ours(workers, "loopback Dask cluster, ")]
        lines += ["", f"Going through a Dask scheduler costs {(dask - local) / n:+.2f} s per submission "
                  f"(({dask:.1f} − {local:.1f}) s / {n}) against the local pool with the same {workers} workers: the "
                  "notebook's bytes and the graded files travel through the scheduler on loopback (each worker's "
                  "one-time preparation of its gradebook is done before timing)."]
    lines += ["", "### 4. Set-up", "", "| step | figure |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in setup.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run for CI (its figures mean nothing)")
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "BENCHMARKS.md"))
    parser.add_argument("--seeds", type=int, default=None, help="seeds for our MNIST recipe (default 5, quick 1)")
    parser.add_argument("--students", type=int, default=None,
                        help="synthetic students in the grading batch, each submitting every notebook (default 8, quick 1)")
    args = parser.parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory(prefix="course-bench-") as scratch:
        scratch = Path(scratch)
        mnist = bench_mnist(args.quick, args.seeds or (1 if args.quick else 5))
        course = bench_course(args.quick)
        grading = bench_grading(args.quick, scratch, args.students or (1 if args.quick else 8), course)
        setup = bench_setup(args.quick, scratch)
    text = report(args.quick, mnist, course, grading, setup)
    print(text)
    if not args.quick:
        out = Path(args.out)
        head = out.read_text().split("\n## ", 1)[0] if out.exists() else "# Benchmarks\n"
        out.write_text(head.rstrip() + "\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
