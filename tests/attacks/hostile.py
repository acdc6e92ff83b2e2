"""Generic hostile kernels (issue 24): transports written once, run against every test cell.

Each kernel answers the judge's requests the way a student who has read the grader would, without
knowing the answer for the inputs it is sent. To be as strong as possible, it first asks an honest
kernel (the master's solution) what it would answer, then keeps everything a student could know
without solving the exercise (the kinds of names, errors, booleans, strings, dtypes, shapes) and
garbles every number. A judge that lets the kernel's account become part of a reference passes some
of these; a judge that computes every expected value from its own data fails all of them.

- ``nan``: fills every argument with NaN in place, answers NaN (and zeros, False, "" elsewhere);
- ``zeros``: zeroes every argument in place, answers zeros (False, "");
- ``echo``: answers with references to its arguments, untouched (``return x``);
- ``constant``: reports every argument changed to a constant and answers with a reference to it;
- ``replay``: answers random tensors and floats while replaying every observation of the master
  (bools, strings, Python ints such as shapes and counts, None): a forged "autograd ran";
- ``degenerate``: like ``replay``, with every tensor and float zero (a model whose weights are all zero);
- ``visible``: answers the master's values for the inputs of the visible tests, ``replay`` otherwise.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import torch

from coursekit import probes, wire

ATTACKS = ("nan", "zeros", "echo", "constant", "replay", "degenerate", "visible")


def _fill(value, mode: str, generator: torch.Generator):
    """``value`` with every number replaced; structure, types, shapes and observations kept."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.dtype.is_floating_point or t.dtype.is_complex:
            if mode == "nan":
                out = torch.full_like(t, math.nan)
            elif mode in ("zeros", "degenerate"):
                out = torch.zeros_like(t)
            elif mode == "constant":
                out = torch.full_like(t, 3.0)
            else:
                out = torch.randn(t.shape, generator=generator, dtype=torch.float64).to(t.dtype).to(t.device)
        elif t.dtype == torch.bool:
            out = torch.zeros_like(t) if mode not in ("replay", "degenerate") else (torch.rand(t.shape, generator=generator) < 0.5).to(t.device)
        else:
            out = (torch.zeros_like(t) if mode in ("nan", "zeros", "degenerate") else torch.full_like(t, 3) if mode == "constant"
                   else torch.randint(0, 10, t.shape, generator=generator, dtype=t.dtype).to(t.device))
        if type(value) is torch.nn.Parameter:
            out = torch.nn.Parameter(out, requires_grad=value.requires_grad)
        elif value.requires_grad and out.dtype.is_floating_point:
            out.requires_grad_()
        if value.grad is not None and out.is_leaf:
            out.grad = _fill(value.grad, mode, generator)
        return out
    if isinstance(value, np.ndarray):
        return np.asarray(_fill(torch.from_numpy(np.array(value, copy=True)), mode, generator).numpy(), dtype=value.dtype)
    if type(value) is float:
        return {"nan": math.nan, "zeros": 0.0, "degenerate": 0.0, "constant": 3.0}.get(mode, float(torch.randn(1, generator=generator)))
    if type(value) is int:
        return {"nan": 0, "zeros": 0, "constant": 3}.get(mode, value)  # replay: shapes and counts are known
    if type(value) is bool:
        return False if mode in ("nan", "zeros") else value
    if type(value) is str:
        return "" if mode in ("nan", "zeros") else value
    if type(value) is list:
        return [_fill(v, mode, generator) for v in value]
    if type(value) is tuple:
        return tuple(_fill(v, mode, generator) for v in value)
    if type(value) is dict:
        return {k: _fill(v, mode, generator) for k, v in value.items()}
    return value  # None, dtype, device, Size, generators: what a student knows without solving anything


def _poison_in_place(args: list, mode: str, generator: torch.Generator) -> list:
    """What the kernel reports its arguments became: the same objects, filled in place where possible."""
    out = []
    for a in args:
        if isinstance(a, torch.Tensor) and not a.requires_grad:
            with torch.no_grad():
                a.copy_(_fill(a, mode, generator))
            out.append(a)
        else:
            out.append(_fill(a, mode, generator))
    return out


class Hostile:
    """A transport for the judge: ``honest`` is the master's namespace behind the plain-data boundary."""

    def __init__(self, attack: str, namespace: dict, visible: set[str] | None = None):
        self.attack, self.namespace, self.visible = attack, namespace, visible or set()
        self.generator = torch.Generator().manual_seed(24)
        self.seen: set[str] = set()  # request fingerprints, recorded while running the visible tests

    def request(self, payload: bytes) -> bytes:
        honest = probes.respond(payload, self.namespace)
        request = wire.decode(payload)
        op = request.get("op")
        reply = wire.decode(honest)
        if op == "lookup":
            names = reply.get("names", {})
            for name, info in names.items():
                if info.get("kind") == "value":
                    info["value"] = _fill(info["value"], "replay" if self.attack == "visible" else self.attack, self.generator)
            return wire.encode(reply)
        fingerprint = hashlib.sha256(payload).hexdigest()
        self.seen.add(fingerprint)
        if "error" in reply:
            return honest  # raising is always open to a student; the judge decides what an error is worth
        if self.attack == "visible":
            return honest if fingerprint in self.visible else self._garbled(request, reply, "replay")
        return self._garbled(request, reply, self.attack)

    def _garbled(self, request: dict, reply: dict, mode: str) -> bytes:
        args, kwargs = list(request.get("args", [])), dict(request.get("kwargs", {}))
        result = wire.decode(reply["result"])
        if mode in ("echo", "constant") and args:
            reported = args if mode == "echo" else [_fill(a, "constant", self.generator) for a in args]
            first = reported[0]
            return wire.encode({"result": wire.encode(first, refs={id(first): 0}), "args": reported,
                                "kwargs": kwargs})
        fill = "replay" if mode in ("echo", "constant") else mode
        reported = _poison_in_place(args, fill, self.generator) if mode in ("nan", "zeros") else args
        kw = {k: (_poison_in_place([v], fill, self.generator)[0] if mode in ("nan", "zeros") else v)
              for k, v in kwargs.items()}
        garbled = _fill(_strip_refs(result, args, kwargs), fill, self.generator)
        return wire.encode({"result": wire.encode(garbled), "args": reported, "kwargs": kw})


def _strip_refs(value, args, kwargs):
    if isinstance(value, wire.Ref):
        return args[value.index] if type(value.index) is int else kwargs[value.index]
    if type(value) is list:
        return [_strip_refs(v, args, kwargs) for v in value]
    if type(value) is tuple:
        return tuple(_strip_refs(v, args, kwargs) for v in value)
    if type(value) is dict:
        return {k: _strip_refs(v, args, kwargs) for k, v in value.items()}
    return value
