"""Mutation testing of the masters: how many small wrong versions of each solution its tests reject.

    python -m autograder.judging.mutants 01_tensors [--exercise standardise] [--jobs 2] [--timeout 60]
    make mutants NB=01_tensors

Each mutant is the master's answer with one small change (an operator, a comparison, a constant, a
keyword argument dropped, a statement removed), judged exactly as grading judges a submission
(``harness``: the judge runs the test cell, hidden tests included). A mutant is *killed* when the
exercise fails, when the answer raises, or when it runs past ``--timeout``. What survives is printed
with its change: either the tests miss a requirement, or the change does not alter behaviour (an
equivalent mutant: ``x.sum(dim=-1)`` for ``dim=1`` on a matrix). The score is killed / scored, where
the survivors not scored are of two kinds, each listed with its reason:

- mutants that change only the device (``device=``, ``map_location=`` or a ``.to(device)`` statement
  dropped) when no GPU is present: on the CPU lane CPU is every default, so only the CUDA lane
  (``COURSE_DEVICE=cuda``), where the tests check devices, can tell them apart;
- ``EQUIVALENT`` below: changes that keep the behaviour whatever the input, each with the reason;
- every survivor of an exercise in ``OUTCOME_ONLY``, whose contract is an outcome (a trained model's
  accuracy) that many recipes reach: a mutant that still trains to it is a correct answer.

Speed: the setup and context cells run once per notebook; every mutant runs in a forked copy of that
process, so a mutant can neither see nor spoil another one's state.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

from autograder.authoring.masters import Notebook, load, master_path
from autograder.judging.harness import answer_and_test, prepared

# One entry per kind of change: ast node class -> what it becomes.
SWAPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.And: ast.Or, ast.Or: ast.And,
}


# (notebook, exercise, change) -> why the change cannot alter what the answer does.
EQUIVALENT: dict[tuple[str, str, str], str] = {
    ("03_custom_functions", "check_gradients", "0 -> 1"):
        "the seed of the local generator: the statement asks for a seeded generator, not for one seed",
    ("03_custom_functions", "numpy_softplus", "drop keyword dtype="):
        "NumPy keeps float32 and float64 through logaddexp and exp, and autograd hands backward x's dtype",
    ("04_nn", "init_kaiming", "drop keyword nonlinearity="):
        "kaiming_normal_'s default is leaky_relu with a=0, whose gain is ReLU's, sqrt(2)",
    ("04_nn", "cross_entropy", "drop keyword dim="):
        "log_softmax without dim picks dim=1 for the (N, C) logits the statement allows",
    ("04_nn", "tiny_cnn", "28 -> 29"):
        "the default image size: 28 and 29 both give 28 -> 14 -> 12 -> 6, the same network",
    ("04_nn", "save_and_reload", "drop keyword weights_only="):
        "torch.load's default is weights_only=True (since torch 2.6)",
    ("05_optim", "warmup_cosine", "drop keyword end_factor="):
        "the master passes LinearLR's default, end_factor=1.0",
    ("05_optim", "checkpoint", "drop keyword weights_only="):
        "torch.load's default is weights_only=True (since torch 2.6)",
    # 06 MnistCNN: its only booleans are bias=False and inplace=True (the architecture is the student's choice)
    ("06_mnist_cnn", "cnn", "False -> True"): "a convolution's bias before BatchNorm is cancelled by it",
    ("06_mnist_cnn", "cnn", "drop keyword bias="): "a convolution's bias before BatchNorm is cancelled by it",
    ("06_mnist_cnn", "cnn", "True -> False"): "an in-place ReLU changes memory use, not values",
    ("06_mnist_cnn", "cnn", "drop keyword inplace="): "an in-place ReLU changes memory use, not values",
    ("06_mnist_cnn", "evaluate", "drop keyword dtype="):
        "a float32 count of correct answers is exact up to 2**24 examples",
    ("06_mnist_cnn", "predict", "drop keyword dim="):
        "softmax without dim picks dim=1 for the (N, 10) logits predict_digits always has",
}
# (notebook, exercise) -> why its survivors are correct answers.
OUTCOME_ONLY: dict[tuple[str, str], str] = {
    ("06_mnist_cnn", "final_model"): "the contract is an accuracy (98.5 % on the test set, 90 % on distorted "
                                     "digits); the seed, learning rate, batch size and layer options of the "
                                     "recipe are the student's to choose",
}
DEVICE_ONLY = ("drop keyword device=", "drop keyword map_location=")


@dataclass
class Mutant:
    exercise: str
    line: int
    change: str
    source: str


class _Mutator(ast.NodeTransformer):
    """Walks a tree in a fixed order; the ``target``-th possible change is made, the others counted."""

    def __init__(self, target: int = -1):
        self.target, self.seen, self.made = target, 0, None

    def _here(self, node, change: str) -> bool:
        hit = self.seen == self.target
        if hit:
            self.made = (getattr(node, "lineno", 0), change)
        self.seen += 1
        return hit

    def _swap(self, node, op_field: str):
        op = getattr(node, op_field)
        if type(op) in SWAPS and self._here(node, f"{type(op).__name__} -> {SWAPS[type(op)].__name__}"):
            setattr(node, op_field, SWAPS[type(op)]())
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._swap(node, "op")

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        return self._swap(node, "op")

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        return self._swap(node, "op")

    def visit_Compare(self, node):
        self.generic_visit(node)
        op = node.ops[0]
        if type(op) in SWAPS and self._here(node, f"{type(op).__name__} -> {SWAPS[type(op)].__name__}"):
            node.ops = [SWAPS[type(op)](), *node.ops[1:]]
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Not, ast.USub)) and self._here(node, f"drop {type(node.op).__name__}"):
            return node.operand
        return node

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, bool):
            if self._here(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, (int, float)):
            new = value + 1 if value in (0, 1) or isinstance(value, int) else value * 2
            if self._here(node, f"{value!r} -> {new!r}"):
                return ast.copy_location(ast.Constant(new), node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        for i, keyword in enumerate(list(node.keywords)):
            if keyword.arg and self._here(node, f"drop keyword {keyword.arg}="):
                node.keywords = node.keywords[:i] + node.keywords[i + 1:]
        return node

    def _drop_statements(self, body):
        kept = []
        for stmt in body:
            droppable = isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)) and not (
                isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))  # docstrings
            if droppable and self._here(stmt, f"remove `{ast.unparse(stmt)[:60]}`"):
                kept.append(ast.copy_location(ast.Pass(), stmt))
            else:
                kept.append(stmt)
        return kept

    def generic_visit(self, node):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, field, self._drop_statements(body))
        return super().generic_visit(node)


def device_only(mutant: Mutant) -> bool:
    """Does the mutant change only which device a value lives on?"""
    return mutant.change in DEVICE_ONLY or (
        mutant.change.startswith("remove `") and mutant.change.rstrip("`").endswith(".to(device)"))


def unscored(assignment: str, mutant: Mutant, cuda: bool) -> str | None:
    """Why a survivor is not counted against the tests (None: it is)."""
    if not cuda and device_only(mutant):
        return "changes only the device: told apart on the CUDA lane"
    if (assignment, mutant.exercise) in OUTCOME_ONLY:
        return OUTCOME_ONLY[assignment, mutant.exercise]
    return EQUIVALENT.get((assignment, mutant.exercise, mutant.change))


def mutants_of(source: str, exercise: str = "") -> list[Mutant]:
    """Every single-change mutant of ``source``, in a fixed order."""
    counter = _Mutator()
    counter.visit(ast.parse(source))
    found = []
    for target in range(counter.seen):
        mutator = _Mutator(target)
        tree = ast.fix_missing_locations(mutator.visit(ast.parse(source)))
        if mutator.made:
            found.append(Mutant(exercise, *mutator.made, ast.unparse(tree)))
    return found


def _passes(book: Notebook, name: str, answer: str, namespace: dict, judged: bool) -> bool:
    """Run in a forked child: does ``answer`` pass exercise ``name``? Anything it raises kills it."""
    try:
        return answer_and_test(book, name, answer, namespace, judged).passed
    except BaseException:
        return False


def survivors(book: Notebook, mutants: list[Mutant], jobs: int = 2, timeout: float = 60,
              judged: bool = True) -> list[Mutant]:
    """The mutants that pass their exercise, each judged in a forked child of a process that ran the
    notebook's setup and context cells once. A child that runs past ``timeout`` is killed: the
    mutant is killed too (grading would stop it at its time limit)."""
    import torch
    torch.set_num_threads(1)  # before any work: OpenMP's thread pool does not survive fork()
    namespace = prepared(book)
    if judged:
        from autograder.judging.judge import judge_for
        judge_for(book.path)  # read once here, not in every child
    alive, running, queue = [], {}, list(mutants)
    while queue or running:
        while queue and len(running) < jobs:
            mutant = queue.pop(0)
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: one byte, then gone without running the parent's exit handlers
                os.close(read)
                os.write(write, b"1" if _passes(book, mutant.exercise, mutant.source, namespace, judged) else b"0")
                os._exit(0)
            os.close(write)
            running[read] = (pid, mutant, time.monotonic() + timeout)
        ready, _, _ = select.select(list(running), [], [], 0.5)
        for fd in list(running):
            pid, mutant, deadline = running[fd]
            if fd in ready or time.monotonic() > deadline:
                answer = os.read(fd, 1) if fd in ready else b""
                if not answer:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(fd)
                del running[fd]
                if answer == b"1":
                    alive.append(mutant)
    return alive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mutation testing of a master's exercises.")
    parser.add_argument("assignment", help="a notebook of solutions/, e.g. 01_tensors")
    parser.add_argument("--exercise", action="append", help="only this exercise (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants judged at once")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a mutant counts as killed")
    args = parser.parse_args(argv)
    path = master_path(args.assignment)
    if not path.is_file():
        print(f"error: no master {path}; name a folder of solutions/, e.g. 01_tensors", file=sys.stderr)
        return 2
    book = load(path)
    names = args.exercise or list(book.exercises)
    import torch
    cuda = torch.cuda.is_available()
    total = killed = 0
    print("| exercise | mutants | killed | not scored | score |\n|---|---|---|---|---|")
    left, excused = [], []
    for name in names:
        mutants = mutants_of(book.exercises[name].answer, name)
        alive = survivors(book, mutants, args.jobs, args.timeout)
        reasons = [(m, unscored(args.assignment, m, cuda)) for m in alive]
        skip = [(m, why) for m, why in reasons if why]
        excused += skip
        left += [m for m, why in reasons if not why]
        scored = len(mutants) - len(skip)
        total, killed = total + scored, killed + len(mutants) - len(alive)
        score = (len(mutants) - len(alive)) / scored if scored else 1.0
        print(f"| {name} | {len(mutants)} | {len(mutants) - len(alive)} | {len(skip)} | {score:.0%} |", flush=True)
    print(f"| **{args.assignment}** | | **{killed}** of **{total}** scored | | **{killed / max(total, 1):.1%}** |")
    if excused:
        print("\nSurvivors not scored (they cannot change behaviour on this lane):")
        for m, why in excused:
            print(f"  {m.exercise}, line {m.line}: {m.change} ({why})")
    if left:
        print("\nSurvivors (a requirement the tests miss, or a change that alters nothing):")
        for m in left:
            print(f"  {m.exercise}, line {m.line}: {m.change}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
