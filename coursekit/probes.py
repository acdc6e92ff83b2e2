"""How a test cell reaches the student's code when the grader's judge runs it.

At grading, test cells run in the judge (``autograder.judging.judge``), a process that never runs student
code. Every name a test cell takes from an answer cell is a stand-in there: calling it sends the
arguments, as plain data (``coursekit.wire``), to the student's kernel, which calls the student's
function and sends back the result and what became of the arguments. A test that needs more than
a call with plain data (build a module, run backward, hand over a function) puts that part in a
*probe*::

    @student_side
    def _relu_probe(x):
        x = x.clone().requires_grad_()
        y = MyReLU.apply(x)
        y.sum().backward()
        return y.detach(), x.grad

Everywhere else (the student's own kernel, ``make check``, the catalogues) ``student_side`` does
nothing and test cells run as plain Python. A probe only calls the student's code and reports
what it saw: reference values are computed outside probes, where the student cannot see them.
At grading a probe's globals are the real builtins, the setup cell's imports and the notebook's
names the probe uses (answers, context helpers): nothing else of the student's namespace.

The judge never writes what the kernel reports into its own objects. A test that checks what the
student's code did to an argument (modified it in place, gave it a ``.grad``) reads ``after(x)``;
``x`` itself stays as the test made it, so references computed from it are the judge's own::

    before = x.clone()
    y = standardise(x)
    expect_close(after(x), before, name="the input after standardise")

``serve`` is the kernel's side of the exchange. It runs in the student's process, so anything it
returns is only data the judge checks; it decides nothing.
"""
from __future__ import annotations

import base64
import builtins
import textwrap
import traceback
from typing import Any, Callable

from . import wire

MIME = "application/x-course-probe"

# Set by the judge in its own process only: then student_side turns probes into remote calls.
_judge = None


def student_side(function: Callable) -> Callable:
    """Mark a test's helper as the part that runs beside the student's code (see the module doc)."""
    if _judge is not None:
        return _judge.remote_probe(function)
    return function


def after(value: Any) -> Any:
    """``value`` as the student's code left it, for an argument a test passed to it.

    In the student's kernel that is ``value`` itself (changed in place, if the code did so); in the
    judge it is the kernel's report, kept apart from the judge's own ``value``."""
    if _judge is not None:
        return _judge.after(value)
    return value


# ------------------------------------------------------------------------------ the kernel's side

def handle(request: dict, namespace: dict) -> dict:
    """Answer one request against the student's ``namespace``; everything returned is plain data."""
    op = request.get("op")
    if op == "lookup":
        return {"names": {name: _describe(namespace, name) for name in request["names"]}}
    if op == "call":
        target = _resolve(namespace, request["path"])
    elif op == "probe":
        scope = _probe_scope(request, namespace)
        exec(compile(textwrap.dedent(request["source"]), f"<probe {request['name']}>", "exec"), scope)
        target = scope[request["name"]]
    else:
        raise ValueError(f"unknown request {op!r}")
    args, kwargs = list(request.get("args", [])), dict(request.get("kwargs", {}))
    result = target(*args, **kwargs)
    # The result may be one of the arguments (``return x`` after an in-place update): say which.
    refs = {id(a): i for i, a in enumerate(args)} | {id(v): k for k, v in kwargs.items()}
    return {"result": wire.encode(result, refs=refs), "args": args, "kwargs": kwargs}


def _probe_scope(request: dict, namespace: dict) -> dict:
    """Instructor code's globals: real builtins, the setup cell's imports (sent by the judge), then
    only the notebook's names the probe uses, taken from the student's namespace by name."""
    scope: dict = {"__builtins__": builtins, "__name__": "__probe__"}
    exec(compile(str(request.get("prelude", "")), "<course imports>", "exec"), scope)
    for name in request.get("student", []):
        if type(name) is str and name in namespace:
            scope[name] = namespace[name]
    return scope


def _resolve(namespace: dict, path: str) -> Any:
    head, *rest = path.split(".")
    if head not in namespace:
        raise NameError(f"name {head!r} is not defined: run the cell that defines it (did you rename it?)")
    value = namespace[head]
    for attribute in rest:
        value = getattr(value, attribute)
    return value


def _describe(namespace: dict, name: str) -> dict:
    if name not in namespace:
        return {"kind": "missing"}
    value = namespace[name]
    if callable(value):
        return {"kind": "callable"}
    try:
        wire.encode(value)
    except wire.WireError as error:
        return {"kind": "object", "why": str(error)}
    return {"kind": "value", "value": value}


def respond(payload: bytes, namespace: dict) -> bytes:
    """Decode a request, answer it, encode the answer; errors become part of the answer."""
    try:
        answer = handle(wire.decode(payload), namespace)
        return wire.encode(answer)
    except wire.WireError as error:
        return wire.encode({"error": {"type": "UnsendableResult", "message": str(error), "where": ""}})
    except BaseException as error:  # the student's code failed (or exited): report it as data
        where = _where(traceback.extract_tb(error.__traceback__))
        return wire.encode({"error": {"type": type(error).__name__, "message": str(error)[:2000], "where": where,
                                      "mro": [c.__name__ for c in type(error).__mro__]}})


def _where(frames) -> str:
    """The line of the student's (or the probe's) code where an error happened, not a library's."""
    ours = ("probes.py", "wire.py")
    for frame in reversed(frames):
        name = frame.filename
        if name.endswith(ours) or "site-packages" in name or name.startswith(("/usr/", "/root/.pyenv")):
            continue
        label = "your cell" if "ipykernel" in name or name.startswith("<ipython-input") else name
        return f"line {frame.lineno} of {label}"
    return ""


def serve() -> None:
    """Entry point the judge calls in the kernel: the request is the binary buffer attached to the
    execute request that runs this line (a payload written into the code would be parsed by IPython:
    7 s for the 16 MB of images 06's hidden test sends); the answer goes out as one display message."""
    from IPython import get_ipython
    from IPython.display import publish_display_data
    shell = get_ipython()
    buffers = shell.kernel.get_parent("shell").get("buffers") or [b""]
    reply = respond(bytes(buffers[0]), shell.user_ns)
    publish_display_data({MIME: base64.b64encode(reply).decode()})
