"""The judge and its wire format, in-process and in seconds (no kernel, no bubblewrap)."""
import json
import struct

import numpy as np
import pytest
import torch

from autograder.judging import judge as judge_module
from autograder.authoring.masters import load, master_path
from autograder.judging.harness import run_exercise
from autograder.judging.judge import InProcess, Judge, _free_names
from coursekit import checks, probes, wire

A = "00_getting_started"


# ------------------------------------------------------------------------------ the wire format

def test_round_trip_keeps_values_types_and_gradients():
    p = torch.nn.Parameter(torch.randn(2, 3))
    p.grad = torch.ones(2, 3)
    leaf = torch.arange(4.0).requires_grad_()
    value = {"a": [p, (1, 2.5, "s", None, True, b"raw")], "dtype": torch.float64, "device": torch.device("cpu"),
             "size": torch.Size([2, 3]), "array": np.arange(6).reshape(2, 3), "scalar": np.float32(1.5),
             "big": 2**80, "nan": float("nan"), "complex": 1 - 2j, "leaf": leaf, "t": torch.randn(3, 4).t()}
    back = wire.decode(wire.encode(value))
    assert type(back["a"][0]) is torch.nn.Parameter and torch.equal(back["a"][0], p)
    assert torch.equal(back["a"][0].grad, p.grad)
    assert back["a"][1] == (1, 2.5, "s", None, True, b"raw") and type(back["a"][1]) is tuple
    assert back["dtype"] is torch.float64 and back["size"] == torch.Size([2, 3]) and back["big"] == 2**80
    assert np.array_equal(back["array"], value["array"]) and back["scalar"] == np.float32(1.5)
    assert back["nan"] != back["nan"] and back["complex"] == 1 - 2j
    assert back["leaf"].requires_grad and back["leaf"].is_leaf
    assert back["t"].stride() == value["t"].stride() and torch.equal(back["t"], value["t"])
    assert back["t"]._base is None  # a fresh tensor, not a view of the message buffer


@pytest.mark.parametrize("value", [object(), lambda: 1, torch.nn.Linear(2, 2), np.array(["a"], dtype=object),
                                   torch.ones(2, device="meta"), torch.ones(2).to_sparse(), {1, 2}])
def test_only_plain_data_crosses(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def test_a_tensor_subclass_is_refused_with_a_message():
    class Sneaky(torch.Tensor):
        def __eq__(self, other):
            return True
    with pytest.raises(wire.WireError, match="subclass of torch.Tensor"):
        wire.encode(torch.ones(2).as_subclass(Sneaky))


def _message(header, buffers=()):
    head = json.dumps(header).encode()
    table = json.dumps([len(b) for b in buffers]).encode()
    return struct.pack("<II", len(head), len(table)) + head + table + b"".join(buffers)


@pytest.mark.parametrize("message", [
    b"", b"\x80\x04\x95 a pickle", _message({"~": "pickle", "data": "cos\nsystem\n"}),
    _message({"~": "tensor", "dtype": "float32", "shape": [4], "device": "cpu", "rg": False, "buf": 0}, [b"\0" * 8]),
    _message({"~": "tensor", "dtype": "object", "shape": [1], "device": "cpu", "rg": False, "buf": 0}, [b"\0" * 8]),
    _message({"~": "ndarray", "dtype": "|O", "shape": [1], "buf": 0}, [b"\0" * 8]),
    _message({"~": "bytes", "buf": 3}), _message([[[[[[]]]]]] * 2)[:-1],
    _message({"~": "dict", "items": [[[1], 2]]}),
])
def test_malformed_or_hostile_bytes_are_refused(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_messages_over_the_limit_are_refused():
    with pytest.raises(wire.WireError, match="larger"):
        wire.encode(torch.zeros(2**20), limit=2**20)


# ------------------------------------------------------------------------------ the judge

def _student(source: str) -> InProcess:
    book = load(master_path(A))
    namespace = {"__name__": "__main__"}
    exec(book.setup, namespace)
    exec(source, namespace)
    return InProcess(namespace)


def test_a_right_answer_passes_and_a_wrong_one_fails_with_the_learners_message():
    judge = Judge(master_path(A))
    right = judge.run_test("test_fahrenheit", _student("def to_fahrenheit(c):\n    return c * 9 / 5 + 32"))
    wrong = judge.run_test("test_fahrenheit", _student("def to_fahrenheit(c):\n    return c * 2 + 30"))
    assert right.passed, right.message
    assert not wrong.passed and "to_fahrenheit([0, 100, -40])" in wrong.message


def test_in_place_changes_are_seen_through_after():
    judge = Judge(master_path(A))
    verdict = judge.run_test("test_fahrenheit", _student("def to_fahrenheit(c):\n    c.mul_(1.8).add_(32)\n    return c"))
    assert not verdict.passed and "the input after the call" in verdict.message


class _Scripted:
    """A kernel that answers every call with what ``answer(request)`` builds, as plain data."""

    def __init__(self, answer):
        self.answer = answer

    def request(self, payload: bytes) -> bytes:
        request = wire.decode(payload)
        if request["op"] == "lookup":
            return wire.encode({"names": {n: {"kind": "callable"} for n in request["names"]}})
        return wire.encode(self.answer(request))


def _run(test_source: str, answer) -> "judge_module.Verdict":
    judge = Judge(master_path(A))
    judge.student_names = judge.student_names | {"f"}
    judge.tests["test_x"] = test_source
    return judge.run_test("test_x", _Scripted(answer))


def test_the_kernels_report_of_its_arguments_never_reaches_the_judges_objects():
    # The kernel says it filled x with NaN and answers NaN: the old copy-back turned the reference
    # x * 2 into NaN too, and NaN == NaN passed. The judge's x must stay the judge's.
    def poison(request):
        x = request["args"][0]
        nan = torch.full_like(x, float("nan"))
        return {"result": wire.encode(nan), "args": [nan], "kwargs": {}}
    verdict = _run("x = torch.arange(4.0)\nexpect_close(f(x), x * 2, name='f(x)')", poison)
    assert not verdict.passed and "f(x)" in verdict.message
    ok = _run("from coursekit.probes import after\nx = torch.arange(4.0)\nview = x.view(2, 2)\nf(x)\n"
              "assert torch.equal(x, torch.arange(4.0)) and torch.equal(view, torch.arange(4.0).view(2, 2))\n"
              "assert torch.isnan(after(x)).all() and after(x) is not x", poison)
    assert ok.passed, ok.message


def test_an_answer_that_refers_to_an_argument_is_the_kernels_report_not_the_judges_object():
    def echo(request):  # ``return x``, untouched: a Ref to argument 0, reported unchanged
        return {"result": wire.encode(request["args"][0], refs={id(request["args"][0]): 0}),
                "args": request["args"], "kwargs": {}}
    verdict = _run("from coursekit.probes import after\nx = torch.ones(3)\ny = f(x)\n"
                   "assert y is not x and y is after(x) and torch.equal(y, x)", echo)
    assert verdict.passed, verdict.message
    # A fixed point cannot be steered: the kernel reports x changed and answers with it; the
    # reference still comes from the judge's own x.
    def steer(request):
        moved = torch.zeros_like(request["args"][0])
        return {"result": wire.encode(moved, refs={id(moved): 0}), "args": [moved], "kwargs": {}}
    verdict = _run("x = torch.ones(3)\nexpect_close(f(x), x.exp(), name='f(x)')", steer)
    assert not verdict.passed


def test_a_probe_sees_real_builtins_and_the_course_imports_not_the_students_names():
    judge = Judge(master_path(A))
    judge.tests["test_probe"] = ("from coursekit.probes import student_side\n"
                                 "@student_side\ndef _p(x):\n    return len(x), float(sorted([2, 1])[0]), "
                                 "type(torch).__name__, to_fahrenheit(x)\n"
                                 "n, one, kind, out = _p(torch.zeros(3))\n"
                                 "assert n == 3 and one == 1.0 and kind == 'module', (n, one, kind)\n"
                                 "expect_close(out, torch.full((3,), 32.0), name='probe')")
    honest = judge.run_test("test_probe", _student("def to_fahrenheit(c):\n    return c * 1.8 + 32"))
    assert honest.passed, honest.message
    shadowed = ("len = lambda x: 0\nfloat = lambda x: 7.0\nsorted = lambda x: [5]\ntorch = None\n"
                "def to_fahrenheit(c):\n    return c * 1.8 + 32")
    verdict = judge.run_test("test_probe", _student(shadowed))
    assert verdict.passed, verdict.message  # the student's len, float, sorted and torch never reached the probe


def test_a_blank_answer_says_what_to_do_and_a_missing_name_says_so():
    judge = Judge(master_path(A))
    blank = judge.run_test("test_fahrenheit", _student("def to_fahrenheit(c):\n    raise NotImplementedError()"))
    assert "not written yet" in blank.message and "NotImplementedError()" in blank.message
    missing = judge.run_test("test_fahrenheit", _student("def fahrenheit(c):\n    return c * 1.8 + 32"))
    assert not missing.passed and "to_fahrenheit" in missing.message and "rename" in missing.message


def test_rebinding_names_in_the_students_namespace_changes_nothing():
    attack = ("import torch\nDEVICE = torch.device('meta')\nexpect_close = lambda *a, **k: None\n"
              "def to_fahrenheit(c):\n    return c * 2 + 30")
    assert not Judge(master_path(A)).run_test("test_fahrenheit", _student(attack)).passed


def test_the_students_exception_keeps_a_builtin_type_and_its_line():
    error = judge_module._rebuilt_error("f", {"type": "ShapeError", "message": "bad", "where": "line 3 of your cell",
                                             "mro": ["ShapeError", "ValueError", "Exception"]})
    assert type(error) is ValueError and "line 3 of your cell" in str(error)
    assert type(judge_module._rebuilt_error("f", {"type": "Weird", "mro": ["Weird", "BaseException"]})) \
        is judge_module.StudentCodeError


def test_forged_answers_fail_closed():
    judge = Judge(master_path(A))

    class Forger:
        def __init__(self, answer):
            self.answer = answer

        def request(self, payload):
            return self.answer

    for answer in (b"junk", wire.encode([1, 2]), wire.encode({"names": {"to_fahrenheit": {"kind": "callable"}}})):
        assert not judge.run_test("test_fahrenheit", Forger(answer)).passed


def test_probes_must_not_close_over_the_judges_variables():
    judge = Judge(master_path(A))
    judge.tests["test_probe"] = ("from coursekit.probes import student_side\n"
                                 "def outer(k):\n    @student_side\n    def _p():\n        return k\n    return _p()\n"
                                 "outer(3)")
    verdict = judge.run_test("test_probe", _student(""))
    assert not verdict.passed and "pass it as an argument" in verdict.message


def test_a_probe_runs_beside_the_students_code_and_returns_plain_data():
    judge = Judge(master_path(A))
    judge.tests["test_probe"] = ("from coursekit.probes import student_side\n"
                                 "@student_side\ndef _p(x):\n    return to_fahrenheit(x), type(x).__name__\n"
                                 "out, kind = _p(torch.zeros(2))\n"
                                 "expect_close(out, torch.full((2,), 32.0), name='probe')\nassert kind == 'Tensor'")
    assert judge.run_test("test_probe", _student("def to_fahrenheit(c):\n    return c * 1.8 + 32")).passed
    assert probes._judge is None, "the judge's switch must not stay on"


def test_a_failed_method_check_costs_only_the_methods_share_and_the_values_still_decide():
    judge = Judge(master_path(A))
    # a probe's observation of how the answer was computed, then the values
    judge.tests["test_method"] = (
        "from coursekit.probes import student_side\nfrom coursekit import checks\n"
        "@student_side\ndef _p(x):\n    return to_fahrenheit(x), 'mul' in to_fahrenheit.__code__.co_names\n"
        "out, used_mul = _p(torch.zeros(2))\n"
        "checks.expect_method(used_mul, 'to_fahrenheit should call mul.')\n"
        "expect_close(out, torch.full((2,), 32.0), name='to_fahrenheit')")
    method_and_values = judge.run_test("test_method", _student("def to_fahrenheit(c):\n    return c.mul(1.8) + 32"))
    values_only = judge.run_test("test_method", _student("def to_fahrenheit(c):\n    return c * 1.8 + 32"))
    neither = judge.run_test("test_method", _student("def to_fahrenheit(c):\n    return c * 2 + 30"))
    method_only = judge.run_test("test_method", _student("def to_fahrenheit(c):\n    return c.mul(2) + 30"))
    assert (method_and_values.passed, method_and_values.share) == (True, 1.0)
    assert not values_only.passed and values_only.share == 1 - checks.METHOD_SHARE > 0.5
    assert "values are right, but to_fahrenheit should call mul" in values_only.message
    assert (neither.share, method_only.share) == (0, 0), "the method alone earns nothing"
    assert checks._method_failures is None, "outside the judge a method check raises again"
    with pytest.raises(checks.CheckFailed, match="should call mul"):
        checks.expect_method(False, "to_fahrenheit should call mul.")


def test_only_free_names_are_fetched_from_the_student():
    names = _free_names("x = f(3)\ndef g(order):\n    start = 1\n    return order + start + h(2) + x\n"
                        "y = [train_x for _ in range(2)]")
    assert {"f", "h", "train_x"} <= names and not {"x", "order", "start", "y"} & names


def test_judged_and_unjudged_runs_agree_on_the_masters_of_00():
    book = load(master_path(A))
    for name in book.exercises:
        assert run_exercise(book, name, judged=True).passed and run_exercise(book, name, judged=False).passed
