"""Checks used by the notebooks' test cells, with messages written for a learner.

Every check raises ``CheckFailed`` (an AssertionError) with one line: what was expected,
what came back, and a hint when one is given. In a notebook that line is all the learner sees:
no traceback, no chained error. The order is always type, shape, dtype,
device, then values, so the first message names the most basic mistake.

The checks never trust the student's object: they test exact types (a Tensor subclass
with a custom ``__eq__`` is refused) and compare values with torch.testing.
"""
from __future__ import annotations

import math
from typing import Any

import torch

__all__ = [
    "CheckFailed", "expect", "expect_method", "expect_type", "expect_tensor", "expect_close",
    "expect_equal", "expect_number", "expect_raises",
]


class CheckFailed(AssertionError):
    """A test cell's check failed; the message is meant for the student."""

    def _render_traceback_(self) -> list[str]:
        # IPython (JupyterLab, nbgrader's Validate, `make check`) shows an exception through this
        # method when it has one: the learner sees the one line written for them, in red, and
        # not a traceback through the checks' own code. Grading is unaffected: the judge reads
        # the message, and the error keeps its name and text (ename, evalue) in the notebook.
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


def _fail(name: str, message: str, hint: str | None) -> None:
    text = f"{name}: {message}"
    if hint:
        text += f" Hint: {hint}"
    raise CheckFailed(text) from None  # never chain an error the check caught on its way


def _shape(t: torch.Tensor) -> tuple:
    return tuple(t.shape)


def expect(condition: Any, message: str, hint: str | None = None) -> None:
    """A plain condition; the message says what should have been true."""
    if not bool(condition):
        raise CheckFailed(message + (f" Hint: {hint}" if hint else "")) from None


# How an answer was computed (autograd ran, no banned call, a hook fired) is seen only by probes in the
# student's kernel, which can forge what they report. So a failed ``expect_method`` costs this share of
# the exercise's points and no more; the values, checked against the judge's own references, decide the
# rest. One place for the number: the judge's verdict carries it to the executor, which writes the points.
METHOD_SHARE = 1 / 3

# Set by the judge while it runs a test cell: failed method checks are collected there instead of
# raised, so the rest of the cell (the values) is still checked. None everywhere else.
_method_failures: list[str] | None = None


def expect_method(condition: Any, message: str, hint: str | None = None) -> None:
    """A check on the method, from an observation a probe reports (see ``METHOD_SHARE``).

    In JupyterLab and ``make check`` it fails like ``expect``. In the judge a failure is recorded and
    the cell goes on: correct values computed another way keep the rest of the points."""
    if bool(condition):
        return
    text = message + (f" Hint: {hint}" if hint else "")
    if _method_failures is None:
        raise CheckFailed(text) from None
    _method_failures.append(text)


def expect_type(value: Any, expected_type: type, name: str = "result", hint: str | None = None) -> None:
    """Exact type: subclasses (and their overridden operators) are refused."""
    if type(value) is not expected_type:
        _fail(name, f"expected a {expected_type.__module__}.{expected_type.__qualname__}, "
                    f"got {type(value).__module__}.{type(value).__qualname__}.", hint)


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    return a.index is None or b.index is None or a.index == b.index


def _has_values(t: torch.Tensor, name: str) -> None:
    """A tensor on the meta device (or any without storage) has no values: nothing could be compared."""
    if t.device.type == "meta" or (t.numel() and t.layout is torch.strided and t.untyped_storage().nbytes() == 0):
        raise CheckFailed(f"{name}: the tensor has no values to check (device {t.device}); "
                          "create tensors on the device of the inputs, or on DEVICE.") from None


def expect_tensor(value: Any, *, shape=None, dtype: torch.dtype | None = None,
                  device: torch.device | str | None = None, name: str = "result",
                  hint: str | None = None, requires_grad: bool | None = None) -> None:
    """Type, then shape, dtype, device and requires_grad, each only if given."""
    expect_type(value, torch.Tensor, name, hint or "return a torch.Tensor, not a list, NumPy array or number.")
    _has_values(value, name)
    if shape is not None and _shape(value) != tuple(shape):
        _fail(name, f"expected shape {tuple(shape)}, got {_shape(value)}.", hint)
    if dtype is not None and value.dtype != dtype:
        _fail(name, f"expected dtype {dtype}, got {value.dtype}.", hint)
    if device is not None and not _same_device(value.device, torch.device(device)):
        _fail(name, f"expected a tensor on {torch.device(device)}, got one on {value.device}.",
              hint or "create new tensors with device=x.device (or .to(x.device)) so they follow the input.")
    if requires_grad is not None and value.requires_grad != requires_grad:
        _fail(name, f"expected requires_grad={requires_grad}, got {value.requires_grad}.", hint)


def expect_close(actual: Any, expected: torch.Tensor, *, name: str = "result",
                 rtol: float | None = None, atol: float | None = None,
                 hint: str | None = None, check_dtype: bool = True) -> None:
    """Same type, shape, dtype and device as ``expected``, values within tolerance."""
    _has_values(expected, f"the expected value for {name}")
    expect_tensor(actual, shape=expected.shape, dtype=expected.dtype if check_dtype else None,
                  device=expected.device, name=name, hint=hint)
    a = actual.detach()
    e = expected.detach()
    if not check_dtype:
        a = a.to(e.dtype)
    try:
        torch.testing.assert_close(a, e, rtol=rtol, atol=atol, equal_nan=True)
        return
    except AssertionError:
        pass
    # Out of the except block, so torch's own message ("Tensor-likes are not close!") is not
    # chained above the learner's one line.
    diff = (a.double() - e.double()).abs() if a.numel() else torch.zeros(0)
    diff = torch.nan_to_num(diff, nan=math.inf)
    if diff.numel():
        worst = int(diff.argmax())
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), a.shape)) if a.dim() else ()
        detail = (f"values differ; the largest difference is at index {index}: "
                  f"expected {e.flatten()[worst].item():.6g}, got {a.flatten()[worst].item():.6g}.")
    else:
        detail = "values differ."
    _fail(name, detail, hint)


def expect_equal(actual: Any, expected: Any, *, name: str = "result", hint: str | None = None) -> None:
    """Exact type and equality for plain Python values (int, str, bool, tuple of those)."""
    expect_type(actual, type(expected), name, hint)
    if isinstance(expected, (tuple, list)):
        if len(actual) != len(expected):
            _fail(name, f"expected {len(expected)} items, got {len(actual)}.", hint)
        for i, (a, e) in enumerate(zip(actual, expected)):
            expect_equal(a, e, name=f"{name}[{i}]", hint=hint)
        return
    if not expected == actual:  # expected's own __eq__, never the student's
        _fail(name, f"expected {expected!r}, got {actual!r}.", hint)


def expect_number(actual: Any, expected: float, *, name: str = "result", rel: float = 1e-6,
                  abs_tol: float = 1e-8, hint: str | None = None) -> None:
    """A Python float (or int) close to ``expected``; tensors are refused (call .item()).

    By isinstance, as the statements say "a Python float": NumPy's float64 is one (a subclass), a
    bool is not a number here."""
    if not isinstance(actual, (float, int)) or isinstance(actual, bool):
        _fail(name, f"expected a Python number, got {type(actual).__qualname__}.",
              hint or "use .item() to turn a one-element tensor into a Python number.")
    if not math.isclose(float(actual), float(expected), rel_tol=rel, abs_tol=abs_tol):
        _fail(name, f"expected {expected:.6g}, got {float(actual):.6g}.", hint)


class expect_raises:
    """Context manager: the block must raise ``exc_type`` (a subclass counts)."""

    def __init__(self, exc_type: type[BaseException], name: str = "code", hint: str | None = None):
        self.exc_type, self.name, self.hint = exc_type, name, hint

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            _fail(self.name, f"expected {self.exc_type.__name__} to be raised, but nothing was raised.", self.hint)
        if not issubclass(exc_type, self.exc_type):
            return False
        return True
