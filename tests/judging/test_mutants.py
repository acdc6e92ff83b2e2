"""Mutation testing of the masters (autograder/judging/mutants.py): the mutants, and that the score can fail."""
import dataclasses

import pytest

from autograder.authoring.masters import load, master_path
from autograder.judging.mutants import mutants_of, survivors


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
