"""The wrong-answer catalogue: function-level, in-process, seconds per notebook.

For every exercise of every master notebook: the solution passes its tests (visible and
hidden), the released blank stub fails them, each catalogued mistake fails them, and each
catalogued correct alternative (what a strong student or the PyTorch documentation would
write instead of the master) passes them. Catalogues live in tests/catalogue/cNN_topic.py
as ``NOTEBOOK``, ``MISTAKES``, ``ALTERNATIVES`` and ``METHOD``.

A mistake loses every point, except those listed in ``METHOD`` (exercise -> labels): answers whose
values are right but computed by a way the exercise rules out (a banned function, derivatives by hand
where autograd is asked for). Only probes see how an answer was computed, and a kernel can forge what
they report, so such an answer loses exactly the method's share (``coursekit.checks.METHOD_SHARE``).
"""
import importlib
import pkgutil

import pytest

from autograder.authoring import masters
from autograder.judging import harness
from autograder.authoring.release import assignments
from coursekit.checks import METHOD_SHARE

import tests.catalogue as catalogue_pkg

MIN_MISTAKES = 2
MIN_ALTERNATIVES = 2


def _catalogues() -> dict:
    found = {}
    for info in pkgutil.iter_modules(catalogue_pkg.__path__):
        module = importlib.import_module(f"tests.catalogue.{info.name}")
        found[module.NOTEBOOK] = (module.MISTAKES, getattr(module, "ALTERNATIVES", {}), getattr(module, "METHOD", {}))
    return found


_FOUND = _catalogues()
CATALOGUES = {notebook: found[0] for notebook, found in _FOUND.items()}
ALTERNATIVES = {notebook: found[1] for notebook, found in _FOUND.items()}
METHOD = {notebook: found[2] for notebook, found in _FOUND.items()}
_BOOKS: dict = {}


def book(assignment):
    if assignment not in _BOOKS:
        _BOOKS[assignment] = masters.load(masters.master_path(assignment))
    return _BOOKS[assignment]


def _cases():
    for assignment in assignments():
        for name in masters.load(masters.master_path(assignment)).exercises:
            yield assignment, name


CASES = list(_cases())
MISTAKE_CASES = [(a, n, label) for a, n in CASES for label in CATALOGUES.get(a, {}).get(n, {})]
ALTERNATIVE_CASES = [(a, n, label) for a, n in CASES for label in ALTERNATIVES.get(a, {}).get(n, {})]


@pytest.mark.parametrize("assignment", assignments())
def test_every_exercise_has_a_catalogue(assignment):
    names = set(book(assignment).exercises)
    catalogue = CATALOGUES.get(assignment)
    assert catalogue is not None, f"tests/catalogue has no file for {assignment}"
    assert set(catalogue) <= names, f"catalogue names unknown exercises: {set(catalogue) - names}"
    thin = {n: len(catalogue.get(n, {})) for n in names if len(catalogue.get(n, {})) < MIN_MISTAKES}
    assert not thin, f"exercises with fewer than {MIN_MISTAKES} catalogued mistakes: {thin}"


@pytest.mark.parametrize("assignment", assignments())
def test_every_exercise_accepts_alternatives(assignment):
    names = set(book(assignment).exercises)
    alternatives = ALTERNATIVES.get(assignment, {})
    assert set(alternatives) <= names, f"ALTERNATIVES names unknown exercises: {set(alternatives) - names}"
    thin = {n: len(alternatives.get(n, {})) for n in names if len(alternatives.get(n, {})) < MIN_ALTERNATIVES}
    assert not thin, f"exercises with fewer than {MIN_ALTERNATIVES} catalogued correct alternatives: {thin}"


@pytest.mark.parametrize("assignment,name", CASES, ids=[f"{a}::{n}" for a, n in CASES])
def test_solution_passes(assignment, name):
    outcome = harness.run_exercise(book(assignment), name)
    assert outcome.passed, outcome.message


@pytest.mark.parametrize("assignment,name", CASES, ids=[f"{a}::{n}" for a, n in CASES])
def test_blank_stub_fails(assignment, name):
    outcome = harness.run_exercise(book(assignment), name, masters.blank_answer(assignment, name))
    assert not outcome.passed, "the released stub passes its own tests"


@pytest.mark.parametrize("assignment,name,label", MISTAKE_CASES,
                         ids=[f"{a}::{n}::{m}" for a, n, m in MISTAKE_CASES])
def test_mistake_loses_points(assignment, name, label):
    outcome = harness.run_exercise(book(assignment), name, CATALOGUES[assignment][name][label])
    assert not outcome.passed, f"the mistake '{label}' passes every test of {name}"
    if label in METHOD[assignment].get(name, ()):
        assert outcome.share == 1 - METHOD_SHARE, (
            f"'{label}' computes the right values another way: it should lose only the method's share "
            f"({outcome.share:.2f} of the points; {outcome.message})")
    else:
        assert outcome.share == 0, f"the mistake '{label}' earns {outcome.share:.2f} of the points: {outcome.message}"


@pytest.mark.parametrize("assignment", assignments())
def test_method_mistakes_are_catalogued_mistakes(assignment):
    method = METHOD.get(assignment, {})
    unknown = {(n, label) for n, labels in method.items() for label in labels
               if label not in CATALOGUES[assignment].get(n, {})}
    assert not unknown, f"METHOD names mistakes the catalogue does not have: {unknown}"


@pytest.mark.parametrize("assignment,name,label", ALTERNATIVE_CASES,
                         ids=[f"{a}::{n}::{m}" for a, n, m in ALTERNATIVE_CASES])
def test_alternative_keeps_full_marks(assignment, name, label):
    outcome = harness.run_exercise(book(assignment), name, ALTERNATIVES[assignment][name][label])
    assert outcome.passed, f"the correct alternative '{label}' fails {name}: {outcome.message}"
