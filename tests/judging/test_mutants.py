"""Mutation testing of the masters (autograder/judging/mutants.py): the mutants, and that the score can fail."""
import dataclasses

import pytest

from autograder.authoring.masters import load, master_path
from autograder.judging.mutants import EQUIVALENT, OUTCOME_ONLY, Mutant, mutants_of, survivors, unscored


def test_each_mutant_makes_one_change():
    source = ("def f(a, b, flag=True):\n    '''doc'''\n    c = a + b * 2\n    if a < b and not flag:\n"
              "        return c.sum(dim=1)\n    return -c\n")
    changes = [m.change for m in mutants_of(source, "f")]
    for expected in ("Add -> Sub", "Mult -> Div", "2 -> 3", "Lt -> LtE", "And -> Or", "drop Not", "True -> False",
                     "drop keyword dim=", "drop USub", "remove `c = a + b * 2`"):
        assert expected in changes, (expected, changes)
    assert not any("doc" in c for c in changes), "a docstring is not a statement to remove"
    assert len({m.source for m in mutants_of(source)}) == len(changes), "every mutant differs from every other"
    assert all(m.source != source for m in mutants_of(source))


def test_only_device_changes_and_listed_equivalents_go_unscored():
    source = "def g(x, device):\n    y = torch.zeros(3, device=device)\n    x.to(device)\n    return x.sum(dim=0) + y\n"
    by_change = {m.change: m for m in mutants_of(source, "g")}
    on_cpu = {c for c, m in by_change.items() if unscored("nb", m, cuda=False)}
    assert on_cpu == {"drop keyword device=", "remove `x.to(device)`"}, on_cpu
    assert not any(unscored("nb", m, cuda=True) for m in by_change.values()), "the CUDA lane scores device changes"
    assert unscored("nb", by_change["drop keyword dim="], cuda=False) is None
    assert all(len(reason) > 20 for reason in [*EQUIVALENT.values(), *OUTCOME_ONLY.values()]), "each says why"
    trained = Mutant("final_model", 12, "64 -> 65", "")
    assert unscored("06_mnist_cnn", trained, cuda=True) and not unscored("06_mnist_cnn", Mutant("cnn", 1, "64 -> 65", ""), True)


@pytest.mark.slow
def test_strong_tests_kill_every_mutant_and_no_tests_kill_none():
    book = load(master_path("00_getting_started"))
    mutants = mutants_of(book.exercises["fahrenheit"].answer, "fahrenheit")
    assert len(mutants) >= 4
    assert survivors(book, mutants, jobs=2, timeout=60) == [], "the judge's tests reject every change to * 9 / 5 + 32"
    # the same mutants against a test cell that checks nothing: every one survives
    toothless = dataclasses.replace(book, exercises={"fahrenheit": dataclasses.replace(
        book.exercises["fahrenheit"], tests="pass")})
    assert survivors(toothless, mutants, jobs=2, timeout=60, judged=False) == mutants
