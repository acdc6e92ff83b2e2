"""Attacks on the verdict (issue 14): a student who has read the grader's source tries to make wrong
answers pass from inside the notebook. Same shape as catalogue.CASES: builder, points for
test_fahrenheit, points for test_digit_counts, status. Every answer here is wrong (F_BAD, D_BAD)
unless it says otherwise, so any point is unearned.

The judge runs test cells outside the kernel, so none of these reaches it; they are kept as the
families a determined student tries first, and as regression tests for the boundary.
"""
from __future__ import annotations

from .catalogue import D_BAD, F_BAD, _insert, _nb, _save


def _first(code: str, *, wrong: bool = True):
    """``code`` in a cell right after setup, with both answers wrong (or right)."""
    nb = _nb(F_BAD, D_BAD) if wrong else _nb()
    return _insert(nb, "setup", code)


def _tagged_tests():
    nb = _nb(F_BAD, D_BAD)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    return nb


REBIND_NAMES = """
import torch
DEVICE = torch.device("meta")
expect_close = expect_tensor = lambda *a, **k: None
torch.testing.assert_close = lambda *a, **k: None
"""

PATCH_HELPERS = """
import coursekit.checks as checks
for name in dir(checks):
    if name.startswith(("expect", "_fail", "_same", "_shape")):
        setattr(checks, name, lambda *a, **k: None)
checks.CheckFailed = type("CheckFailed", (Exception,), {})
"""

PATCH_INTERNALS = """
import torch, math
torch.equal = torch.allclose = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
math.isclose = lambda *a, **k: True
import torch.testing._comparison as comparison
comparison.assert_equal = lambda *a, **k: None
"""

FORGE_CHANNEL = """
import base64, pickle, os
from IPython.display import publish_display_data
import coursekit.probes as probes

def serve(payload_b64):
    # answer every request of the grader with a pickle that would run code, then with junk
    evil = base64.b64encode(pickle.dumps(os.getpid)).decode()
    publish_display_data({probes.MIME: evil})
    publish_display_data({probes.MIME: "not base64 at all"})

probes.serve = serve
"""

FORGE_ANSWERS = """
import coursekit.probes as probes
from coursekit import wire
original = probes.respond

def respond(payload, namespace):
    # answer with the arguments themselves, as if every function were the identity
    request = wire.decode(payload)
    if request.get("op") != "call":
        return original(payload, namespace)
    args = request.get("args", [])
    return wire.encode({"result": wire.encode(args[0] if args else None), "args": args,
                        "kwargs": request.get("kwargs", {})})

probes.respond = respond
"""

WALK_FRAMES = """
import gc, sys
def _neuter():
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "expect_close" in obj and obj is not globals():
            obj["expect_close"] = lambda *a, **k: None
    frame = sys._getframe()
    while frame:
        frame.f_globals.setdefault("passed", True)
        frame = frame.f_back
_neuter()
"""

IPYTHON_HOOKS = """
ip = get_ipython()
def _skip_tests(lines):
    text = "".join(lines)
    return ["pass\\n"] if "expect" in text or "serve(" in text else lines
ip.input_transformers_cleanup.append(_skip_tests)
ip.events.register("pre_run_cell", lambda info: None)
ip.set_custom_exc((Exception,), lambda *a, **k: None)
ip.showtraceback = lambda *a, **k: None
"""

FAKE_OUTPUTS = """
print("All checks passed.")
from IPython.display import display
display({"text/plain": "All checks passed."}, raw=True)
"""


CASES = {
    "rebind-device-and-helpers": (_save(_first(REBIND_NAMES)), 0, 0, "graded"),
    "patch-check-helpers": (_save(_first(PATCH_HELPERS)), 0, 0, "graded"),
    "patch-library-internals": (_save(_first(PATCH_INTERNALS)), 0, 0, "graded"),
    "forge-result-channel": (_save(_first(FORGE_CHANNEL, wrong=False)), 0, 0, "graded"),
    "forge-answers-as-identity": (_save(_first(FORGE_ANSWERS)), 0, 0, "graded"),
    "walk-frames-and-gc": (_save(_first(WALK_FRAMES)), 0, 0, "graded"),
    "ipython-hooks": (_save(_first(IPYTHON_HOOKS)), 0, 0, "graded"),
    "tags-on-test-cells": (_save(_tagged_tests()), 0, 0, "graded"),
    "fake-passing-output": (_save(_first(FAKE_OUTPUTS)), 0, 0, "graded"),
    # honest: right answers, with the hooks a tidy student might register anyway
    "honest-with-hooks": (_save(_first("get_ipython().events.register('post_run_cell', lambda r: None)",
                                       wrong=False)), 2, 2, "graded"),
}
