"""The judge: runs the master's test cells in a process that never runs student code.

Points come from here alone. For each test cell the judge executes, in its own process, the
master's setup and context cells and then the master's test cell (never the submission's copy).
Every name the test takes from an answer cell is a stand-in (``Remote``): calling it sends the
arguments as plain data (``coursekit.wire``) to the student's kernel through a ``transport``, and
what comes back is plain data again: the result, and what became of the arguments (values, grad),
which the judge copies into its own objects so "was the input modified" checks still work. Probe
functions marked ``@student_side`` run in the kernel the same way (see ``coursekit.probes``).

The safety argument in one sentence: the checks, the expected values and the hidden tests' code
live only in this process, and the student's process can only send bytes that decode to numbers,
strings and tensors, so to pass a check it has to send the right values.

Transports: ``InProcess`` (a namespace in this process, every value round-tripped through the
wire format: the fast path of the catalogues and unit tests) and the grader's kernel transport
(``autograder.executor``).
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import symtable
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from coursekit import probes, wire

from . import cells
from .config import not_written
from .exercises import load


class KernelGone(Exception):
    """The student's kernel died or was killed while a test talked to it."""


class StudentCodeError(Exception):
    """The student's code raised an exception of a kind the judge does not rebuild."""


class AuthoringError(Exception):
    """A test cell asks for something the judge cannot do (a bug in the master, not the student's)."""


@dataclass
class Verdict:
    grade_id: str
    passed: bool
    message: str = ""


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
MESSAGE_LIMIT = 600


def answer_names(nb) -> set[str]:
    """Top-level names the answer cells define: what a test cell takes from the student."""
    names: set[str] = set()
    for cell in nb.cells:
        if cells.kind(cell) != cells.ANSWER or cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            names.add(leaf.id)
    return names


def _free_names(source: str) -> set[str]:
    """Names the cell reads from outside itself: read at top level without being assigned there,
    or global in one of its functions. A function's own locals never count."""
    table = symtable.symtable(source, "<test>", "exec")
    top = {s.get_name(): s for s in table.get_symbols()}
    free = {n for n, s in top.items() if s.is_referenced() and not s.is_assigned() and not s.is_imported()}
    stack = list(table.get_children())
    while stack:
        scope = stack.pop()
        stack += scope.get_children()
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if symbol.is_global() and symbol.is_referenced() and not (name in top and top[name].is_assigned()):
                free.add(name)
    return free


class InProcess:
    """A student namespace in this process; requests and answers still cross as bytes."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def request(self, payload: bytes) -> bytes:
        return probes.respond(payload, self.namespace)


class Judge:
    """Judges one assignment: ``run_test(grade_id, transport)`` gives a ``Verdict``."""

    def __init__(self, master: Path | str):
        import nbformat
        nb = nbformat.read(str(master), as_version=4)
        book = load(Path(master))
        self.setup, self.context = book.setup, book.context
        self.student_names = answer_names(nb)
        self.tests = {cells.grade_id(c): c.source for c in nb.cells if cells.kind(c) == cells.TEST}
        self._transport = None
        self._source = ""
        self._label = ""

    def has_hidden(self, grade_id: str) -> bool:
        return HIDDEN_BEGIN in self.tests.get(grade_id, "")

    # -- running a test ---------------------------------------------------------------------------
    def run_test(self, grade_id: str, transport) -> Verdict:
        source = self.tests.get(grade_id)
        if source is None:
            return Verdict(grade_id, False, f"{grade_id} is not a test of this assignment")
        namespace = self._fresh_namespace()
        self._transport, self._source, self._label = transport, source, f"<{grade_id}>"
        probes._judge = self
        try:
            with _quiet():
                self._bind_student_names(source, namespace)
                exec(compile(source, self._label, "exec"), namespace)
        except KernelGone:
            raise
        except Exception as error:  # a failed check, the student's error, or data that makes no sense
            return Verdict(grade_id, False, _message(error))
        finally:
            probes._judge = None
            self._transport = None
        return Verdict(grade_id, True)

    def _fresh_namespace(self) -> dict:
        # Setup and context run afresh for every test: nothing a student's answer did to one test's
        # objects (through copied-back arguments) can reach another test.
        namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        with _quiet():
            exec(compile(self.setup, "<setup>", "exec"), namespace)
            for i, source in enumerate(self.context):
                exec(compile(source, f"<context {i}>", "exec"), namespace)
        return namespace

    def _bind_student_names(self, source: str, namespace: dict) -> None:
        wanted = sorted(_free_names(source) & self.student_names)
        if not wanted:
            return
        answer = self._exchange({"op": "lookup", "names": wanted}, "looking up your definitions")
        found = answer.get("names") if type(answer) is dict else None
        if type(found) is not dict:
            raise StudentCodeError("the kernel's answer was not understood")
        for name in wanted:
            info = found.get(name)
            kind = info.get("kind") if type(info) is dict else None
            if kind == "value":
                namespace[name] = info.get("value")
            elif kind in ("callable", "object"):
                namespace[name] = Remote(self, name)
            else:
                namespace.pop(name, None)  # missing: the test raises NameError on its own

    # -- talking to the kernel ----------------------------------------------------------------------
    def _exchange(self, request: dict, what: str) -> Any:
        try:
            payload = wire.encode(request)
        except wire.WireError as error:
            raise AuthoringError(f"{what}: the test passes something that cannot cross to the student's "
                                 f"kernel ({error}); do this step inside a @student_side probe") from None
        answer = self._transport.request(payload)
        try:
            return wire.decode(answer, device_map=_device_map)
        except wire.WireError as error:
            raise StudentCodeError(f"{what}: the kernel's answer was not understood ({error})") from None

    def call(self, request: dict, args: tuple, kwargs: dict, what: str) -> Any:
        reply = self._exchange(request | {"args": list(args), "kwargs": dict(kwargs)}, what)
        if type(reply) is not dict:
            raise StudentCodeError(f"{what}: the kernel's answer was not understood")
        if "error" in reply:
            raise _rebuilt_error(what, reply["error"])
        after_args, after_kwargs, result = reply.get("args"), reply.get("kwargs"), reply.get("result")
        if type(after_args) is not list or len(after_args) != len(args) or type(after_kwargs) is not dict \
                or set(after_kwargs) != set(kwargs) or type(result) is not bytes:
            raise StudentCodeError(f"{what}: the kernel's answer was not understood")
        for original, after in zip(args, after_args):
            _copy_back(original, after, what)
        for key, original in kwargs.items():
            _copy_back(original, after_kwargs[key], what)
        try:
            value = wire.decode(result, device_map=_device_map)
        except wire.WireError as error:
            raise StudentCodeError(f"{what}: the result was not understood ({error})") from None
        return _resolve_refs(value, args, kwargs)

    def remote_probe(self, function):
        """``@student_side`` inside a test the judge runs: the function will run in the kernel."""
        code = function.__code__
        if code.co_filename != self._label:
            raise AuthoringError(f"probe {function.__name__} must be defined in the test cell that uses it")
        if code.co_freevars:
            raise AuthoringError(f"probe {function.__name__} uses {', '.join(code.co_freevars)} from the "
                                 "enclosing function; pass it as an argument")
        source = _function_source(self._source, code.co_firstlineno, function.__name__)
        return Probe(self, function.__name__, source)


@functools.lru_cache(maxsize=16)
def _cached_judge(path: str, mtime: float) -> Judge:
    return Judge(path)


def judge_for(master: Path | str) -> Judge:
    """One Judge per master file (reloaded when the file changes)."""
    path = Path(master).resolve()
    return _cached_judge(str(path), path.stat().st_mtime)


class Remote:
    """A name from the student's answer cells; calling it runs the student's code in the kernel."""

    def __init__(self, judge: Judge, path: str):
        self._judge, self._path = judge, path

    def __getattr__(self, attribute: str) -> "Remote":
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return Remote(self._judge, f"{self._path}.{attribute}")

    def __call__(self, *args, **kwargs):
        return self._judge.call({"op": "call", "path": self._path}, args, kwargs, self._path)

    def __repr__(self) -> str:
        return f"<your {self._path}>"


class Probe:
    def __init__(self, judge: Judge, name: str, source: str):
        self._judge, self.__name__, self._source = judge, name, source

    def __call__(self, *args, **kwargs):
        request = {"op": "probe", "name": self.__name__, "source": self._source}
        return self._judge.call(request, args, kwargs, _probe_label(self.__name__))


def _probe_label(name: str) -> str:
    return "your code (" + name.strip("_").removesuffix("probe").strip("_").replace("_", " ") + ")"


def _function_source(cell_source: str, first_line: int, name: str) -> str:
    for node in ast.walk(ast.parse(cell_source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if start == first_line:
                lines = cell_source.splitlines()[node.lineno - 1:node.end_lineno]
                return textwrap.dedent("\n".join(lines)) + "\n"
    raise AuthoringError(f"could not find the source of probe {name}")


def _device_map(device: str) -> torch.device:
    target = torch.device(device)
    if target.type == "cuda":
        if not torch.cuda.is_available():
            raise wire.WireError("a CUDA tensor arrived on a machine without CUDA")
        index = target.index or 0
        if index >= torch.cuda.device_count():
            raise wire.WireError(f"a tensor on {device}, which does not exist")
        return torch.device("cuda", index)
    if target.type != "cpu":
        raise wire.WireError(f"a tensor on {device}")
    return target


def _copy_back(original: Any, after: Any, what: str) -> None:
    """Make the judge's argument look as the student's code left its copy."""
    if isinstance(original, torch.Tensor):
        if not isinstance(after, torch.Tensor) or after.shape != original.shape or after.dtype != original.dtype:
            raise StudentCodeError(f"{what} changed the shape or dtype of an argument in place")
        with torch.no_grad():
            if not torch.equal(original, after.to(original.device)):
                original.copy_(after)
        if original.is_leaf:
            if after.requires_grad != original.requires_grad and original.dtype.is_floating_point:
                original.requires_grad_(after.requires_grad)
            original.grad = None if after.grad is None else after.grad.to(original.device)
    elif isinstance(original, np.ndarray):
        if type(after) is not np.ndarray or after.shape != original.shape or after.dtype != original.dtype:
            raise StudentCodeError(f"{what} changed the shape or dtype of an array argument in place")
        if original.flags.writeable and not np.array_equal(original, after, equal_nan=True):
            np.copyto(original, after)
    elif isinstance(original, torch.Generator):
        if type(after) is not torch.Generator:
            raise StudentCodeError(f"{what}: the kernel's answer was not understood")
        original.set_state(after.get_state())
    elif isinstance(original, (list, tuple)):
        if type(after) is not type(original) and not (isinstance(original, tuple) and type(after) is tuple):
            raise StudentCodeError(f"{what} replaced a list argument with something else")
        if len(after) != len(original):
            if isinstance(original, list):
                original[:] = after  # appended to or removed from the list: take its new contents
                return
            raise StudentCodeError(f"{what}: the kernel's answer was not understood")
        for a, b in zip(original, after):
            _copy_back(a, b, what)
    elif isinstance(original, dict):
        if type(after) is not dict:
            raise StudentCodeError(f"{what}: the kernel's answer was not understood")
        for key in list(original):
            if key in after:
                _copy_back(original[key], after[key], what)
        if set(after) != set(original):
            original.clear()
            original.update(after)


def _resolve_refs(value: Any, args: tuple, kwargs: dict) -> Any:
    if isinstance(value, wire.Ref):
        key = value.index
        if type(key) is int and 0 <= key < len(args):
            return args[key]
        if type(key) is str and key in kwargs:
            return kwargs[key]
        raise StudentCodeError("the kernel's answer was not understood (reference)")
    if type(value) is list:
        return [_resolve_refs(v, args, kwargs) for v in value]
    if type(value) is tuple:
        return tuple(_resolve_refs(v, args, kwargs) for v in value)
    if type(value) is dict:
        return {k: _resolve_refs(v, args, kwargs) for k, v in value.items()}
    return value


_REBUILT = {name: getattr(builtins, name) for name in dir(builtins)
            if isinstance(getattr(builtins, name), type) and issubclass(getattr(builtins, name), Exception)}


def _rebuilt_error(what: str, error: Any) -> Exception:
    """The student's exception, rebuilt from plain data: a builtin type keeps its type (so a test
    that expects a ValueError still sees one); anything else becomes StudentCodeError."""
    if type(error) is not dict:
        return StudentCodeError(f"{what}: the kernel's answer was not understood")
    kind = str(error.get("type", "Exception"))[:80]
    message = str(error.get("message", ""))[:300]
    where = str(error.get("where", ""))[:80]
    if kind == "NotImplementedError":
        text = not_written(what)
    elif kind == "UnsendableResult":
        text = f"{what} returned something the grader cannot check: {message}"
    else:
        text = f"{what} raised {kind}: {message}" + (f" ({where})" if where else "")
    mro = error.get("mro") if type(error.get("mro")) is list else [kind]
    rebuilt = next((_REBUILT[str(m)](text) for m in mro if str(m) in _REBUILT and str(m) != "Exception"),
                   StudentCodeError(text))
    rebuilt.from_student = True  # its text is already the whole message
    return rebuilt


def _message(error: BaseException) -> str:
    if isinstance(error, NameError):
        text = f"{error} (did you rename or delete it, or skip the cell that defines it?)"
    elif isinstance(error, (AssertionError, StudentCodeError)) or getattr(error, "from_student", False):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " [...]"


@contextlib.contextmanager
def _quiet():
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield
