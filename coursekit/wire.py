"""Plain data across a process boundary: the only thing the grader accepts from a student's kernel.

``encode(value)`` turns a value into bytes; ``decode(data)`` turns bytes back into a value. What can
cross: None, bool, int, float, complex, str, bytes, lists, tuples, dicts, ``torch.dtype``,
``torch.device``, ``torch.Size``, tensors (values, dtype, shape, device, requires_grad, grad;
``nn.Parameter`` stays a Parameter), NumPy arrays and scalars, and ``torch.Generator`` states.

The format is a JSON header followed by raw buffers. ``decode`` builds values from JSON and raw
bytes with an allow-list of types: nothing it reads can name a class, import a module or run
code, whoever wrote the bytes. Sizes are capped, so a hostile sender cannot exhaust memory.
"""
from __future__ import annotations

import collections
import json
import struct
from typing import Any

import numpy as np
import torch

MAX_BYTES = 256 * 2**20
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000

DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}
NUMPY_KINDS = set("biufc")  # bool, signed, unsigned, float, complex: no objects, strings or records


class WireError(ValueError):
    """A value that cannot cross, or bytes that are not a valid message."""


class Ref:
    """Stands for one of the call's own arguments (``result is x`` survives the trip)."""

    def __init__(self, index):
        self.index = index

    def __repr__(self) -> str:
        return f"Ref({self.index!r})"


# ---------------------------------------------------------------------------------------- encode

def encode(value: Any, refs: dict[int, Any] | None = None, limit: int = MAX_BYTES) -> bytes:
    """Bytes for ``value``; ``refs`` maps id(object) -> a key sent as a ``Ref`` instead of the object."""
    buffers: list[bytes] = []
    state = {"size": 0, "items": 0}

    def buffer(data: bytes) -> int:
        state["size"] += len(data)
        if state["size"] > limit:
            raise WireError(f"the value is larger than the {limit // 2**20} MiB the grader accepts")
        buffers.append(data)
        return len(buffers) - 1

    def node(v: Any, depth: int) -> Any:
        state["items"] += 1
        if depth > MAX_DEPTH or state["items"] > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        if refs and id(v) in refs and isinstance(v, (torch.Tensor, np.ndarray, list, dict, torch.Generator)):
            return {"~": "ref", "key": refs[id(v)]}
        kind = type(v)
        if v is None or kind in (bool, str):
            return v
        if kind is int:
            return v if abs(v) < 2**63 else {"~": "bigint", "s": str(v)}
        if kind is float:
            return v if v == v and abs(v) != float("inf") else {"~": "float", "s": repr(v)}
        if kind is complex:
            return {"~": "complex", "re": node(v.real, depth + 1), "im": node(v.imag, depth + 1)}
        if kind is bytes:
            return {"~": "bytes", "buf": buffer(v)}
        if kind is list:
            return [node(x, depth + 1) for x in v]
        if kind is tuple:
            return {"~": "tuple", "items": [node(x, depth + 1) for x in v]}
        if kind is dict or kind is collections.OrderedDict:  # a state_dict() is an OrderedDict
            return {"~": "dict", "items": [[node(k, depth + 1), node(x, depth + 1)] for k, x in v.items()]}
        if kind is torch.Size:
            return {"~": "size", "items": [int(x) for x in v]}
        if kind is torch.dtype:
            return {"~": "dtype", "name": _dtype_name(v)}
        if kind is torch.device:
            return {"~": "device", "type": v.type, "index": v.index}
        if kind is torch.Generator:
            return {"~": "generator", "device": str(v.device), "state": buffer(_tensor_bytes(v.get_state()))}
        if kind in (torch.Tensor, torch.nn.Parameter):
            return _tensor_node(v, kind, buffer, lambda g: node(g, depth + 1))
        if isinstance(v, torch.Tensor):
            raise WireError(f"a {kind.__module__}.{kind.__qualname__} (a subclass of torch.Tensor) cannot be "
                            "checked; return a plain torch.Tensor")
        if kind is np.ndarray or isinstance(v, np.generic):
            array = np.asarray(v)
            if array.dtype.kind not in NUMPY_KINDS:
                raise WireError(f"a NumPy array of dtype {array.dtype} cannot be checked")
            return {"~": "ndarray", "dtype": array.dtype.str, "shape": list(array.shape), "scalar": kind is not np.ndarray,
                    "buf": buffer(np.ascontiguousarray(array).tobytes())}
        raise WireError(f"a {kind.__module__}.{kind.__qualname__} object cannot be checked: only numbers, strings, "
                        "tensors, arrays and lists, tuples or dicts of them cross to the grader")

    header = json.dumps(node(value, 0), allow_nan=False, separators=(",", ":")).encode()
    table = json.dumps([len(b) for b in buffers]).encode()
    return b"".join([struct.pack("<II", len(header), len(table)), header, table, *buffers])


def _dtype_name(dtype: torch.dtype) -> str:
    name = str(dtype).removeprefix("torch.")
    if name not in DTYPES:
        raise WireError(f"tensors of dtype {dtype} cannot be checked")
    return name


def _tensor_bytes(t: torch.Tensor) -> bytes:
    flat = t.detach().to("cpu").contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def _tensor_node(t: torch.Tensor, kind: type, buffer, child) -> dict:
    if t.layout is not torch.strided or t.is_quantized or t.is_nested:
        raise WireError(f"a tensor with layout {t.layout} cannot be checked; return a dense tensor")
    if t.device.type not in ("cpu", "cuda"):
        raise WireError(f"a tensor on the {t.device.type} device holds no values to check; "
                        "create tensors on the device of the inputs")
    out = {"~": "tensor", "dtype": _dtype_name(t.dtype), "shape": list(t.shape), "device": str(t.device),
           "rg": bool(t.requires_grad), "param": kind is torch.nn.Parameter, "buf": buffer(_tensor_bytes(t))}
    if not t.is_contiguous() and _dense(list(t.shape), list(t.stride())):
        out["stride"] = list(t.stride())  # a transposed or permuted tensor stays so (a gapped view arrives contiguous)
    if t.is_leaf and t.grad is not None:
        out["grad"] = child(t.grad)
    return out


# ---------------------------------------------------------------------------------------- decode

def decode(data: bytes, device_map=None, limit: int = MAX_BYTES) -> Any:
    """The value ``data`` encodes; tensors go to ``device_map(device_string)`` (default: as sent)."""
    if len(data) > limit + 2**20:
        raise WireError("the message is larger than the grader accepts")
    try:
        header_len, table_len = struct.unpack_from("<II", data, 0)
        header = json.loads(data[8:8 + header_len])
        sizes = json.loads(data[8 + header_len:8 + header_len + table_len])
    except (struct.error, ValueError, UnicodeDecodeError) as error:
        raise WireError(f"not a valid message ({error})") from None
    if type(sizes) is not list or not all(type(s) is int and s >= 0 for s in sizes):
        raise WireError("not a valid message (buffer table)")
    offsets, position = [], 8 + header_len + table_len
    for size in sizes:
        offsets.append((position, position + size))
        position += size
    if position != len(data):
        raise WireError("not a valid message (length)")
    view = memoryview(data)
    place = device_map or (lambda device: device)
    count = [0]

    def buf(index) -> memoryview:
        if type(index) is not int or not 0 <= index < len(offsets):
            raise WireError("not a valid message (buffer index)")
        start, end = offsets[index]
        return view[start:end]

    def node(n: Any, depth: int) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise WireError("the value is nested too deeply or has too many items")
        if n is None or type(n) in (bool, int, float, str):
            return n
        if type(n) is list:
            return [node(x, depth + 1) for x in n]
        if type(n) is not dict:
            raise WireError("not a valid message (node)")
        tag = n.get("~")
        if tag == "tuple":
            return tuple(node(x, depth + 1) for x in n["items"])
        if tag == "dict":
            out = {}
            for key, value in n["items"]:
                k = node(key, depth + 1)
                try:
                    out[k] = node(value, depth + 1)
                except TypeError:
                    raise WireError("not a valid message (unhashable key)") from None
            return out
        if tag == "ref":
            if type(n["key"]) not in (int, str):
                raise WireError("not a valid message (reference)")
            return Ref(n["key"])
        if tag == "bigint":
            return int(str(n["s"])[:400])
        if tag == "float":
            return float(str(n["s"])[:40])
        if tag == "complex":
            return complex(node(n["re"], depth + 1), node(n["im"], depth + 1))
        if tag == "bytes":
            return bytes(buf(n["buf"]))
        if tag == "size":
            return torch.Size([int(x) for x in n["items"]])
        if tag == "dtype":
            return _dtype(n["name"])
        if tag == "device":
            return torch.device(str(n["type"]), n["index"]) if n["index"] is not None else torch.device(str(n["type"]))
        if tag == "generator":
            device = place(str(n["device"]))
            generator = torch.Generator(device=device)
            generator.set_state(torch.frombuffer(bytearray(buf(n["state"])), dtype=torch.uint8))
            return generator
        if tag == "tensor":
            return _tensor(n, buf, place, lambda g: node(g, depth + 1))
        if tag == "ndarray":
            dtype = np.dtype(str(n["dtype"]))
            if dtype.kind not in NUMPY_KINDS:
                raise WireError("not a valid message (array dtype)")
            shape = tuple(int(s) for s in n["shape"])
            raw = buf(n["buf"])
            if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
                raise WireError("not a valid message (array size)")
            array = np.frombuffer(bytes(raw), dtype=dtype).reshape(shape).copy()
            return array[()] if n.get("scalar") else array
        raise WireError(f"not a valid message (unknown tag {str(tag)[:20]!r})")

    try:
        return node(header, 0)
    except WireError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as error:
        raise WireError(f"not a valid message ({type(error).__name__})") from None


def _dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise WireError(f"not a valid message (dtype {str(name)[:20]!r})")
    return DTYPES[name]


def _dense(shape: list[int], stride: list[int]) -> bool:
    """True when ``stride`` lays ``shape`` out densely without overlap (a permutation of contiguous)."""
    expected = 1
    for size, step in sorted(zip(shape, stride), key=lambda p: p[1]):
        if size > 1 and step != expected:
            return False
        expected *= max(size, 1)
    return True


def _tensor(n: dict, buf, place, child) -> torch.Tensor:
    dtype = _dtype(n["dtype"])
    shape = [int(s) for s in n["shape"]]
    if any(s < 0 for s in shape):
        raise WireError("not a valid message (shape)")
    numel = 1
    for s in shape:
        numel *= s
    raw = buf(n["buf"])
    itemsize = torch.empty((), dtype=dtype).element_size()
    if len(raw) != numel * itemsize:
        raise WireError("not a valid message (tensor size)")
    if numel:
        t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape).clone()
    else:
        t = torch.empty(shape, dtype=dtype)
    stride = n.get("stride")
    if stride is not None:
        stride = [int(s) for s in stride]
        if len(stride) != len(shape) or not _dense(shape, stride):
            raise WireError("not a valid message (stride)")
        t = torch.empty_strided(shape, stride, dtype=dtype).copy_(t)
    t = t.to(place(str(n["device"])))
    if n.get("param"):
        t = torch.nn.Parameter(t, requires_grad=bool(n["rg"]))
    elif n.get("rg"):
        if not (dtype.is_floating_point or dtype.is_complex):
            raise WireError("not a valid message (requires_grad on an integer tensor)")
        t.requires_grad_(True)
    if "grad" in n:
        grad = child(n["grad"])
        if type(grad) is not torch.Tensor or grad.shape != t.shape or grad.dtype != t.dtype:
            raise WireError("not a valid message (grad)")
        t.grad = grad.to(t.device)
    return t
