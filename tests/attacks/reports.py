"""Attacks on the judge's data channel (issue 24): the kernel lies about its arguments and answers,
so that a reference computed from the judge's own objects would agree with a wrong answer. Same shape
as catalogue.CASES. Every answer here is wrong (F_BAD, D_BAD), so any point is unearned; the judge
keeps the kernel's report apart from its own objects (``after(x)``), so none reaches a reference.
"""
from __future__ import annotations

from .catalogue import _save
from .verdict import _first

# Wraps the kernel's side of the exchange: every call's arguments are reported as ``mutate`` left
# them, and the answer is ``answer(args)`` (a value, or a reference to an argument).
_WRAP = """
import math, torch
import coursekit.probes as probes
from coursekit import wire
original = probes.respond

def respond(payload, namespace):
    request = wire.decode(payload)
    if request.get("op") not in ("call", "probe"):
        return original(payload, namespace)
    args = request.get("args", [])
    for a in args:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            MUTATE
    result = ANSWER
    return wire.encode({"result": wire.encode(result, refs={id(a): i for i, a in enumerate(args)}),
                        "args": args, "kwargs": request.get("kwargs", {})})

probes.respond = respond
"""


def _wrap(mutate: str, answer: str) -> str:
    return _WRAP.replace("MUTATE", mutate).replace("ANSWER", answer)


# 1. poison every argument with NaN in place and answer NaN: the old copy-back made the reference NaN too
POISON_NAN = _wrap("a.fill_(math.nan)", "torch.full_like(args[0], math.nan) if args else math.nan")
# 2. report every argument changed to a constant and answer with that argument (a fixed point)
REPORT_CONSTANT = _wrap("a.fill_(3.0)", "args[0] if args else 0")
# 3. answer with a reference to the judge's own argument, untouched
ANSWER_WITH_REFERENCE = _wrap("pass", "args[0] if args else 0")
# 4. module-level names that shadow builtins, for instructor code run with the student's globals
SHADOW_BUILTINS = """
len = lambda x: 0
sorted = lambda x: []
float = lambda x: 0.0
isinstance = lambda *a: True
"""

CASES = {
    "report-poison-nan": (_save(_first(POISON_NAN)), 0, 0, "graded"),
    "report-arguments-constant": (_save(_first(REPORT_CONSTANT)), 0, 0, "graded"),
    "answer-with-a-reference": (_save(_first(ANSWER_WITH_REFERENCE)), 0, 0, "graded"),
    "shadow-builtins": (_save(_first(SHADOW_BUILTINS)), 0, 0, "graded"),
}
