"""The judge: runs the master's test cells in a process that never runs student code.

Points come from here alone. For each test cell the judge executes, in its own process, the
master's setup and context cells and then the master's test cell (never the submission's copy).
Every name the test takes from an answer cell is a stand-in (``Remote``): calling it sends the
arguments as plain data (``coursekit.wire``) to the student's kernel through a ``transport``, and
what comes back is plain data again: the result, and what became of the arguments (values, grad).
That report is kept apart: the judge's own objects are never written to, so every expected value
a test computes, before or after the call, comes from data the judge made; a test that checks what
the student's code did to an argument asks for it explicitly with ``after(x)``. Probe functions
marked ``@student_side`` run in the kernel the same way (see ``coursekit.probes``), with the real
builtins, the course's imports and only the answer names they use as their globals.

The safety argument in one sentence: every value a check compares against is computed here from
data the judge created and never handed out, and the student's process can only send bytes that
decode to numbers, strings and tensors, which are evidence to check, never an input to a reference.

Transports: ``InProcess`` (a namespace in this process, every value round-tripped through the
wire format: the fast path of the catalogues and unit tests) and the grader's kernel transport
(``autograder.judging.executor``).
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

from coursekit import checks, probes, wire

from autograder.authoring import cells
from autograder.authoring.cells import not_written
from autograder.authoring.masters import load


class KernelGone(Exception):
    """The student's kernel died or was killed while a test talked to it."""


class StudentCodeError(Exception):
    """The student's code raised an exception of a kind the judge does not rebuild."""


class AuthoringError(Exception):
    """A test cell asks for something the judge cannot do (a bug in the master, not the student's)."""


@dataclass
class Verdict:
    """``passed``: every check held. ``share``: the fraction of the points earned, 1 when passed,
    ``1 - checks.METHOD_SHARE`` when only method checks failed (``checks.expect_method``), else 0."""
    grade_id: str
    passed: bool
    message: str = ""
    share: float = 0.0

    def __post_init__(self):
        if self.passed:
            self.share = 1.0


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
MESSAGE_LIMIT = 600


def answer_names(nb, kinds=(cells.ANSWER,)) -> set[str]:
    """Top-level names the answer cells (or cells of ``kinds``) define: what a test cell takes from the student."""
    names: set[str] = set()
    for cell in nb.cells:
        if cells.kind(cell) in kinds and cell.cell_type == "code":
            try:
                names |= _defined(cell.source)
            except SyntaxError:
                continue
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
        # What a probe may take from the student's namespace: names the notebook's own cells define
        # (answers, context helpers, ``final_model = train_final_model()``), never a student's ``len``.
        self.notebook_names = answer_names(nb, (cells.ANSWER, cells.LOCKED, cells.OTHER))
        self.tests = {cells.grade_id(c): c.source for c in nb.cells if cells.kind(c) == cells.TEST}
        self.prelude = _imports_of(self.setup)
        self._prelude_names = _defined(self.prelude)
        self._transport = None
        self._afters: dict[int, tuple[Any, Any]] = {}
        self._source = ""
        self._label = ""

    # -- running a test ---------------------------------------------------------------------------
    def run_test(self, grade_id: str, transport) -> Verdict:
        source = self.tests.get(grade_id)
        if source is None:
            return Verdict(grade_id, False, f"{grade_id} is not a test of this assignment")
        namespace = self._fresh_namespace()
        self._transport, self._source, self._label = transport, source, f"<{grade_id}>"
        self._afters = {}
        probes._judge = self
        checks._method_failures = method_failures = []
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
            checks._method_failures = None
            self._transport = None
            self._afters = {}
        if method_failures:
            text = _message(AssertionError(" ".join(dict.fromkeys(method_failures))))
            return Verdict(grade_id, False, f"Your values are right, but {text[:1].lower()}{text[1:]}",
                           share=1 - checks.METHOD_SHARE)
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
        # The kernel's account of its arguments is kept beside the judge's objects, never written into
        # them: a reference computed from ``x`` after the call still sees the judge's own ``x``.
        for original, reported in zip(args, after_args):
            _pair_afters(original, reported, self._afters)
        for key, original in kwargs.items():
            _pair_afters(original, after_kwargs[key], self._afters)
        try:
            value = wire.decode(result, device_map=_device_map)
        except wire.WireError as error:
            raise StudentCodeError(f"{what}: the result was not understood ({error})") from None
        # ``return x`` comes back as the reported state of x, a value of the kernel's: never the judge's x.
        return _resolve_refs(value, after_args, after_kwargs)

    def after(self, value: Any) -> Any:
        """What the student's code reported it left in ``value``, an argument of an earlier call of this
        test (the latest call that passed it); ``value`` itself when it was never passed."""
        pair = self._afters.get(id(value))
        return pair[1] if pair is not None and pair[0] is value else value

    def remote_probe(self, function):
        """``@student_side`` inside a test the judge runs: the function will run in the kernel."""
        code = function.__code__
        if code.co_filename != self._label:
            raise AuthoringError(f"probe {function.__name__} must be defined in the test cell that uses it")
        if code.co_freevars:
            raise AuthoringError(f"probe {function.__name__} uses {', '.join(code.co_freevars)} from the "
                                 "enclosing function; pass it as an argument")
        source = _function_source(self._source, code.co_firstlineno, function.__name__)
        student = sorted((_free_names(source) & self.notebook_names) - self._prelude_names)
        return Probe(self, function.__name__, source, student)


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
    """A ``@student_side`` function of a test; in the kernel its globals are the real builtins, the
    setup cell's imports (``Judge.prelude``) and the notebook's names it uses (``student``), never the
    rest of the student's namespace (a student's ``len`` or ``float`` cannot reach it)."""

    def __init__(self, judge: Judge, name: str, source: str, student: list[str]):
        self._judge, self.__name__, self._source, self._student = judge, name, source, student

    def __call__(self, *args, **kwargs):
        request = {"op": "probe", "name": self.__name__, "source": self._source,
                   "prelude": self._judge.prelude, "student": self._student}
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


def _imports_of(setup: str) -> str:
    """The setup cell's import statements: the course's names a probe may use, without the rest of
    the setup cell (seeding, printing)."""
    tree = ast.parse(setup)
    return "".join(ast.unparse(node) + "\n" for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


def _defined(source: str) -> set[str]:
    table = symtable.symtable(source, "<prelude>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


_TRACKED = (torch.Tensor, np.ndarray, torch.Generator, list, tuple, dict)


def _pair_afters(original: Any, reported: Any, table: dict) -> None:
    """Pair each of the judge's argument objects (and the tensors inside its lists and dicts) with the
    kernel's report of it, by identity; the judge's object is kept alive with its pair."""
    if not isinstance(original, _TRACKED):
        return
    table[id(original)] = (original, reported)
    if isinstance(original, (list, tuple)) and isinstance(reported, (list, tuple)) and len(reported) == len(original):
        for a, b in zip(original, reported):
            _pair_afters(a, b, table)
    elif isinstance(original, dict) and type(reported) is dict:
        for key, a in original.items():
            if key in reported:
                _pair_afters(a, reported[key], table)


def _resolve_refs(value: Any, args: list, kwargs: dict) -> Any:
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
